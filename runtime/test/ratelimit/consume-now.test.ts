/**
 * RateLimiter.consumeNow and the middleware's same-turn answer: a request the store can decide
 * without waiting (the in-process store, or tokens a RedisStore with reserve > 1 already holds) is
 * counted exactly as consume() would count it, and the middleware answers it in the same turn.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import fc from "fast-check";
import { RateLimiter, rateLimitMiddleware } from "../../src";
import { RedisStore } from "../../src/ratelimit";
import { scriptCalls, useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();
const WINDOW_MS = 60_000;

/** A request for the middleware: the socket address is the client key. */
const request = (address: string) => ({ headers: {}, socket: { remoteAddress: address } }) as unknown as IncomingMessage;
function response(): ServerResponse & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    headers,
    statusCode: 200,
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    end: () => undefined,
  } as unknown as ServerResponse & { headers: Record<string, string> };
}

describe("consumeNow counts like consume", () => {
  it("in process: any mix of consumeNow and consume admits exactly min(n, limit) of n requests", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
        async (limit, now) => {
          const limiter = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: limit });
          let allowed = 0;
          for (const sync of now) {
            const result = sync ? limiter.consumeNow("k") : await limiter.consume("k");
            expect(result).toBeDefined();
            if (result!.allowed) allowed++;
          }
          expect(allowed).toBe(Math.min(now.length, limit));
          await limiter.close();
        },
      ),
      { numRuns: 50 },
    );
  });

  it("a malformed key throws at once, as consume rejects", async () => {
    const limiter = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: 5 });
    expect(() => limiter.consumeNow("")).toThrow(expect.objectContaining({ code: expect.any(String) }));
    await expect(limiter.consume("")).rejects.toThrow();
    await limiter.close();
  });

  it("RedisStore with reserve 1: never decided at once (every check is Redis')", async () => {
    const store = new RedisStore({ url: fx.server.url, keyPrefix: "now1:", commandTimeoutMs: 2_000 });
    await store.ready();
    const limiter = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: 100, store });
    await limiter.consume("k");
    expect(limiter.consumeNow("k")).toBeUndefined();
    await Promise.all([limiter.close(), store.close()]);
  });

  it("RedisStore with reserve 16: held tokens answer at once, no script call, and two replicas never admit more than the limit", async () => {
    for (const limit of [1, 2, 15, 16, 17, 40]) {
      const stores = [0, 1].map(
        () => new RedisStore({ url: fx.server.url, keyPrefix: `now16-${limit}:`, commandTimeoutMs: 2_000, reserve: 16 }),
      );
      await Promise.all(stores.map((s) => s.ready()));
      const limiters = stores.map((store) => new RateLimiter({ windowMs: WINDOW_MS, maxRequests: limit, store }));
      let allowed = 0;
      let atOnce = 0;
      for (let i = 0; i < 3 * limit; i++) {
        const limiter = limiters[i % 2];
        const before = await scriptCalls(fx.raw);
        const now = limiter.consumeNow("k");
        if (now !== undefined) {
          atOnce++;
          // Decided from tokens counted earlier: no round trip.
          expect(await scriptCalls(fx.raw)).toBe(before);
          if (now.allowed) allowed++;
        } else if ((await limiter.consume("k")).allowed) allowed++;
      }
      expect(allowed).toBe(limit);
      if (limit >= 16) expect(atOnce).toBeGreaterThan(0);
      await Promise.all([...limiters.map((l) => l.close()), ...stores.map((s) => s.close())]);
    }
  });
});

describe("rateLimitMiddleware answers a request decided at once in the same turn", () => {
  it("in process: next() runs before the middleware call returns, with the RateLimit headers set", async () => {
    const limiter = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: 3 });
    const limit = rateLimitMiddleware(limiter);
    for (let i = 0; i < 3; i++) {
      const res = response();
      let passed = false;
      limit(request("10.0.0.1"), res, (err?: unknown) => {
        expect(err).toBeUndefined();
        passed = true;
      });
      expect(passed).toBe(true);
      expect(res.headers.ratelimit).toMatch(new RegExp(`r=${2 - i};`));
    }
    // The 4th is refused, also in the same turn: 429 and Retry-After, no next().
    const res = response();
    let passed = false;
    limit(request("10.0.0.1"), res, () => (passed = true));
    expect(passed).toBe(false);
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    await limiter.close();
  });

  it("Redis with reserve 1: next() comes after the round trip, as before", async () => {
    const store = new RedisStore({ url: fx.server.url, keyPrefix: "mw1:", commandTimeoutMs: 2_000 });
    await store.ready();
    const limiter = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: 10, store });
    const limit = rateLimitMiddleware(limiter);
    let passed = false;
    const done = new Promise<void>((resolve) =>
      limit(request("10.0.0.2"), response(), () => {
        passed = true;
        resolve();
      }),
    );
    expect(passed).toBe(false);
    await done;
    expect(passed).toBe(true);
    await Promise.all([limiter.close(), store.close()]);
  });
});
