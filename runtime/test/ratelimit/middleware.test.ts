import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RateLimiter } from "../../src/ratelimit/limiter";
import {
  rateLimitHandler,
  rateLimitMiddleware,
  RATE_LIMITED_CODE,
  RATE_LIMIT_UNAVAILABLE_CODE,
} from "../../src/ratelimit/middleware";
import { rateLimitHeaders } from "../../src/ratelimit/headers";
import type { RateLimitStore } from "../../src/ratelimit/types";

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const ok = (_req: IncomingMessage, res: ServerResponse) => res.end("ok");
const byHeader = (req: IncomingMessage) => String(req.headers["x-user"] ?? "");

describe("rate-limit middleware", () => {
  it("formats the draft-10 RateLimit / RateLimit-Policy fields", () => {
    expect(
      rateLimitHeaders("default", 60_000, { allowed: true, limit: 100, remaining: 42, resetMs: 29_001, retryAfterMs: 0 }),
    ).toEqual({
      "RateLimit-Policy": '"default";q=100;w=60',
      RateLimit: '"default";r=42;t=30',
    });
    expect(
      rateLimitHeaders("api", 1_000, { allowed: false, limit: 5, remaining: 0, resetMs: 1_500, retryAfterMs: 1_200 }),
    ).toMatchObject({
      "Retry-After": "2",
    });
  });

  it("node:http: passes within the limit with headers, then 429 with Retry-After", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 2, keyGenerator: byHeader, policyName: "per-user" });
    const { server, url } = await listen(rateLimitHandler(limiter, ok));
    const get = () => fetch(url, { headers: { "x-user": "alice" } });
    const first = await get();
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("ok");
    expect(first.headers.get("ratelimit-policy")).toBe('"per-user";q=2;w=60');
    expect(first.headers.get("ratelimit")).toMatch(/^"per-user";r=1;t=\d+$/);
    expect(first.headers.get("retry-after")).toBeNull();
    expect((await get()).status).toBe(200);

    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("ratelimit")).toMatch(/^"per-user";r=0;t=\d+$/);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(120);
    expect(await limited.json()).toMatchObject({ error: { code: RATE_LIMITED_CODE } });

    // Another key is unaffected.
    expect((await fetch(url, { headers: { "x-user": "bob" } })).status).toBe(200);
    // An empty key is a server-side bug: 500 with the typed code, not a silent pass.
    const bad = await fetch(url);
    expect(bad.status).toBe(500);
    expect(await bad.json()).toMatchObject({ error: { code: "UAIP_RATELIMIT_KEY_INVALID" } });
    server.close();
    await limiter.close();
  });

  it("Express-style: next() on pass, next(err) for a failing keyGenerator, 503 (not 429) when 'deny' answers for a dead store", async () => {
    const deadStore: RateLimitStore = { hit: () => Promise.reject(new Error("ECONNREFUSED")), close: async () => {} };
    const deny = new RateLimiter({
      windowMs: 1_000,
      maxRequests: 5,
      store: deadStore,
      failurePolicy: "deny",
      keyGenerator: () => "k",
    });
    const mw = rateLimitMiddleware(deny);
    const { server, url } = await listen((req, res) => mw(req, res, () => ok(req, res)));
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toMatchObject({ error: { code: RATE_LIMIT_UNAVAILABLE_CODE } });
    server.close();

    const throwing = new RateLimiter({
      windowMs: 1_000,
      maxRequests: 5,
      keyGenerator: () => {
        throw new Error("no user");
      },
    });
    const nexts: unknown[] = [];
    rateLimitMiddleware(throwing)({} as IncomingMessage, {} as ServerResponse, (err) => nexts.push(err));
    expect(nexts).toHaveLength(1);
    expect((nexts[0] as Error).message).toBe("no user");

    const passing = new RateLimiter({ windowMs: 1_000, maxRequests: 5, keyGenerator: () => "k" });
    const headers: Record<string, string> = {};
    const res2 = { setHeader: (n: string, v: string) => (headers[n] = v) } as unknown as ServerResponse;
    await new Promise<void>((resolve, reject) =>
      rateLimitMiddleware(passing)({} as IncomingMessage, res2, (err) => (err ? reject(err) : resolve())),
    );
    expect(headers.RateLimit).toBe('"default";r=4;t=2');
    await Promise.all([deny.close(), throwing.close(), passing.close()]);
  });
});
