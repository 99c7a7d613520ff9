/**
 * rateLimitMiddleware / rateLimitHandler at their edges (issue #22, mutation survivors): what they
 * refuse at construction, the JSON answers of 429 / 503 / 500 (status, Content-Type, code, message),
 * and which skip answers skip. Real node:http server and fetch.
 */
import { createServer, IncomingMessage, type Server, ServerResponse } from "node:http";
import { Socket, type AddressInfo } from "node:net";
import { RateLimitOptionsError } from "../../src/ratelimit/errors";
import { RateLimiter } from "../../src/ratelimit/limiter";
import {
  rateLimitDecision,
  rateLimitHandler,
  rateLimitMiddleware,
  RATE_LIMITED_CODE,
  RATE_LIMIT_UNAVAILABLE_CODE,
} from "../../src/ratelimit/middleware";
import type { RateLimitStore } from "../../src/ratelimit/types";

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

const ok = (_req: IncomingMessage, res: ServerResponse) => res.end("ok");

/** The refused option's key; the message names the function refusing it. */
function refusedKey(make: () => unknown, where = "rateLimitMiddleware"): string {
  try {
    make();
  } catch (err) {
    expect(err).toBeInstanceOf(RateLimitOptionsError);
    expect((err as Error).message).toContain(`${where}: `);
    return (err as RateLimitOptionsError).key;
  }
  throw new Error("expected a RateLimitOptionsError");
}

describe("rateLimitMiddleware / rateLimitHandler refuse what cannot work, by name", () => {
  it("a limiter without consume() or keyGenerator, or none; a handler that is no function", async () => {
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 1 });
    const fn = () => undefined;
    for (const bad of [undefined, {}, { consume: fn }, { keyGenerator: fn }, { consume: 1, keyGenerator: fn }])
      expect(refusedKey(() => rateLimitMiddleware(bad as never))).toBe("limiter");
    expect(refusedKey(() => rateLimitHandler(limiter, "handler" as never), "rateLimitHandler")).toBe("handler");
    expect(refusedKey(() => rateLimitHandler(limiter, undefined as never), "rateLimitHandler")).toBe("handler");
    expect(refusedKey(() => rateLimitMiddleware(limiter, { skip: 5 } as never))).toBe("skip");
    // A duck-typed limiter with both is accepted.
    expect(typeof rateLimitMiddleware({ consume: fn, keyGenerator: fn, consumeNow: fn } as never)).toBe("function");
    await limiter.close();
  });
});

describe("the JSON answers", () => {
  it("429: application/json, the limit and window in the message; 503 for 'deny' on a dead store", async () => {
    const limiter = new RateLimiter({ windowMs: 7_000, maxRequests: 1, keyGenerator: () => "k" });
    const dead: RateLimitStore = { hit: () => Promise.reject(new Error("ECONNREFUSED")), close: async () => {} };
    const deny = new RateLimiter({
      windowMs: 7_000,
      maxRequests: 1,
      store: dead,
      failurePolicy: "deny",
      keyGenerator: () => "k",
    });
    const a = await serve(rateLimitHandler(limiter, ok));
    const b = await serve(rateLimitHandler(deny, ok));
    expect((await fetch(a.url)).status).toBe(200);
    const limited = await fetch(a.url);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("application/json");
    expect(await limited.json()).toEqual({
      error: { code: RATE_LIMITED_CODE, message: expect.stringMatching(/rate limit of 1 requests per 7000 ms exceeded/) },
    });
    const unavailable = await fetch(b.url);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("content-type")).toBe("application/json");
    expect(await unavailable.json()).toEqual({
      error: { code: RATE_LIMIT_UNAVAILABLE_CODE, message: expect.stringContaining("temporarily unavailable") },
    });
    await Promise.all([stop(a.server), stop(b.server), limiter.close(), deny.close()]);
  });

  it("500 from rateLimitHandler: the error's code, or UAIP_INTERNAL for an error without one", async () => {
    const throwing = new RateLimiter({
      windowMs: 1_000,
      maxRequests: 1,
      keyGenerator: () => {
        throw new Error("no user");
      },
    });
    const { server, url } = await serve(rateLimitHandler(throwing, ok));
    const res = await fetch(url);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ error: { code: "UAIP_INTERNAL", message: "rate limiter failed" } });
    await Promise.all([stop(server), throwing.close()]);
  });

  it("rateLimitDecision: headers always, a refusal only over the limit; a throwing keyGenerator throws at once", async () => {
    const limiter = new RateLimiter<{ user: string }>({ windowMs: 60_000, maxRequests: 1, keyGenerator: (r) => r.user });
    const first = await rateLimitDecision(limiter, { user: "u" });
    expect(first.refusal).toBeUndefined();
    expect(Object.keys(first.headers).sort()).toEqual(["RateLimit", "RateLimit-Policy"]);
    const second = await rateLimitDecision(limiter, { user: "u" });
    expect(second.refusal?.status).toBe(429);
    expect(second.headers["Retry-After"]).toBeDefined();
    const throwing = new RateLimiter<{ user: string }>({
      windowMs: 60_000,
      maxRequests: 1,
      keyGenerator: () => {
        throw new Error("sync");
      },
    });
    expect(() => rateLimitDecision(throwing, { user: "u" })).toThrow("sync");
    await Promise.all([limiter.close(), throwing.close()]);
  });
});

describe("skip", () => {
  it.each([
    ["true", true, true],
    ["a promise of true", Promise.resolve(true), true],
    ["false", false, false],
    ["a promise of false", Promise.resolve(false), false],
    // Only `true` skips: a truthy non-boolean is counted like any request.
    ["1", 1, false],
    ["a promise of 'yes'", Promise.resolve("yes"), false],
  ] as const)("skip answering %s", async (_what, answer, skipped) => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 5, keyGenerator: () => "k" });
    const { server, url } = await serve(rateLimitHandler(limiter, ok, { skip: () => answer as never }));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit") === null).toBe(skipped);
    expect((await limiter.get("k")).remaining).toBe(skipped ? 5 : 4);
    await Promise.all([stop(server), limiter.close()]);
  });

  it("a skip that rejects answers 500 with the error's code, counting nothing", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 5, keyGenerator: () => "k" });
    const failure = Object.assign(new Error("allow-list down"), { code: "ALLOWLIST_DOWN" });
    const { server, url } = await serve(rateLimitHandler(limiter, ok, { skip: () => Promise.reject(failure) }));
    const res = await fetch(url);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: "ALLOWLIST_DOWN" } });
    expect((await limiter.get("k")).remaining).toBe(5);
    await Promise.all([stop(server), limiter.close()]);
  });
});

describe("decided within the call when nothing needs waiting for", () => {
  it("a synchronous skip answer (true or false) with an in-process store: next() has run when the middleware returns", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 5, keyGenerator: () => "k" });
    for (const answer of [true, false]) {
      const middleware = rateLimitMiddleware(limiter, { skip: () => answer });
      const req = new IncomingMessage(new Socket());
      const res = new ServerResponse(req);
      const calls: unknown[] = [];
      middleware(req, res, (err?: unknown) => calls.push(err));
      expect(calls).toStrictEqual([undefined]); // once, without an error
      // Counted only when not skipped.
      expect(res.hasHeader("ratelimit")).toBe(!answer);
    }
    expect((await limiter.get("k")).remaining).toBe(4);
    await limiter.close();
  });

  it("rateLimitHandler's refusal of a non-function handler says what it expects", () => {
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 1 });
    expect(() => rateLimitHandler(limiter, 42 as never)).toThrow(/a function \(req, res\) => void/);
    void limiter.close();
  });
});
