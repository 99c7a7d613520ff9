import fc from "fast-check";
import { Registry } from "prom-client";
import { MemoryStore } from "../../src/ratelimit/memory-store";
import { admits, describe as describeWindow } from "../../src/ratelimit/sliding-window";
import { RateLimiter } from "../../src/ratelimit/limiter";
import { RateLimitKeyError, RateLimitOptionsError } from "../../src/ratelimit/errors";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";
import { admittedAfter, windowState } from "../helpers/ratelimit";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

describe("sliding-window counter", () => {
  it.each([
    // prev, curr, elapsed, w, limit, admitted?
    [0, 9, 0, 1000, 10, true],
    [0, 10, 0, 1000, 10, false],
    [10, 0, 0, 1000, 10, false], // previous window fully weighted
    [10, 0, 100, 1000, 10, true], // 10 * 0.9 + 1 = 10
    [10, 1, 100, 1000, 10, false],
    [10, 4, 500, 1000, 10, true], // 10 * 0.5 + 4 + 1 = 10
    [10, 5, 500, 1000, 10, false], // 10 * 0.5 + 5 + 1 = 11
  ])("prev=%i curr=%i elapsed=%i w=%i limit=%i", (prev, curr, elapsed, w, limit, expected) => {
    expect(admits(prev, curr, elapsed, w, limit)).toBe(expected);
  });

  it("retryAfterMs is the first moment the next hit is admitted", () => {
    const w = 1000;
    for (const [prev, curr, elapsed] of [
      [10, 0, 0],
      [10, 5, 300],
      [4, 10, 700],
      [0, 10, 999],
    ]) {
      const d = describeWindow(false, prev, curr, elapsed, w, 10);
      expect(d.remaining).toBe(0);
      // Simulate the wall clock moving on by retryAfterMs and one ms less.
      const at = (delta: number) => {
        const t = elapsed + delta;
        if (t < w) return admits(prev, curr, t, w, 10);
        return admits(curr, 0, t - w, w, 10);
      };
      expect(at(d.retryAfterMs)).toBe(true);
      expect(at(d.retryAfterMs - 1)).toBe(false);
    }
  });
});

describe("sliding-window decisions, for any reachable state", () => {
  it("remaining is how many hits are admitted in a row right now", () => {
    fc.assert(
      fc.property(windowState, (s) => {
        const d = describeWindow(true, s.prev, s.curr, s.elapsed, s.w, s.limit);
        let inARow = 0;
        while (admits(s.prev, s.curr + inARow, s.elapsed, s.w, s.limit)) inARow++;
        expect(d.remaining).toBe(inARow);
        expect(d.retryAfterMs === 0).toBe(inARow > 0);
      }),
    );
  });

  it("retryAfterMs is the first moment the next hit is admitted, and resetMs when nothing is counted any more", () => {
    fc.assert(
      fc.property(windowState, (s) => {
        const d = describeWindow(false, s.prev, s.curr, s.elapsed, s.w, s.limit);
        if (d.remaining === 0) {
          expect(admittedAfter(s, d.retryAfterMs)).toBe(true);
          expect(admittedAfter(s, d.retryAfterMs - 1)).toBe(false);
        }
        // Usage is fully drained after resetMs: the window the last hit counted in and the next one are over.
        const drained = (delta: number) => {
          const t = s.elapsed + delta;
          const weight = t < s.w ? s.prev * (s.w - t) + s.curr * s.w : t < 2 * s.w ? s.curr * (2 * s.w - t) : 0;
          return weight === 0;
        };
        expect(drained(d.resetMs)).toBe(true);
        if (d.resetMs > 0) expect(drained(d.resetMs - 1)).toBe(false);
      }),
    );
  });
});

describe("MemoryStore", () => {
  it("admits exactly `limit` in a window, then slides (fake clock)", () => {
    const c = clock(10_000); // window start
    const store = new MemoryStore({ now: c.now });
    const results = Array.from({ length: 15 }, () => store.hitSync("k", 1000, 10));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results[0]).toEqual({ allowed: true, remaining: 9, resetMs: 2000, retryAfterMs: 0 });
    expect(results[10]).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1100 });
    c.advance(1099);
    expect(store.hitSync("k", 1000, 10).allowed).toBe(false);
    c.advance(1); // 100 ms into the next window: 10 * 0.9 = 9 used
    expect(store.hitSync("k", 1000, 10)).toMatchObject({ allowed: true, remaining: 0 });
    c.advance(2000); // two full windows later: everything drained
    expect(Array.from({ length: 12 }, () => store.hitSync("k", 1000, 10).allowed).filter(Boolean)).toHaveLength(10);
    void store.close();
  });

  it("keeps memory bounded: sweeps expired keys and caps the key count", () => {
    const c = clock(0);
    const store = new MemoryStore({ now: c.now, maxKeys: 50 });
    for (let i = 0; i < 40; i++) store.hitSync(`a${i}`, 1000, 5);
    expect(store.size).toBe(40);
    c.advance(2000);
    store.sweep();
    expect(store.size).toBe(0);
    for (let i = 0; i < 200; i++) store.hitSync(`b${i}`, 1000, 5);
    expect(store.size).toBe(50);
    void store.close();
  });
});

describe("RateLimiter options, keys and metrics", () => {
  it.each([
    [{ windowMs: 0, maxRequests: 1 }, "windowMs"],
    [{ windowMs: 1000, maxRequests: 1.5 }, "maxRequests"],
    [{ windowMs: 1000, maxRequests: 1, failurePolicy: "retry" }, "failurePolicy"],
    [{ windowMs: 1000, maxRequests: 1, keyGenerator: "ip" }, "keyGenerator"],
    [{ windowMs: 1000, maxRequests: 1, policyName: 'a"b' }, "policyName"],
  ])("rejects %j naming %s", (options, key) => {
    let error: unknown;
    try {
      new RateLimiter(options as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RateLimitOptionsError);
    expect(error).toMatchObject({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key });
    expect((error as Error).message).toContain(key);
  });

  it.each([
    ["empty", ""],
    ["too long", "x".repeat(513)],
    ["control characters", "a\nb"],
    ["not a string", undefined],
  ])("rejects a malformed key (%s) with a typed error", async (_what, key) => {
    const limiter = new RateLimiter({ windowMs: 1000, maxRequests: 1 });
    await expect(limiter.consume(key as never)).rejects.toMatchObject({ code: RateLimitKeyError.CODE });
    await limiter.close();
  });

  it("counts allowed and rejected checks, and keeps checkLimit(req) from the seed", async () => {
    const registry = new Registry();
    const limiter = new RateLimiter<{ user: string }>({
      windowMs: 60_000,
      maxRequests: 2,
      keyGenerator: (r) => r.user,
      registry,
    });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await limiter.checkLimit({ user: "u1" }));
    expect(answers).toEqual([true, true, false]);
    expect(await limiter.checkLimit({ user: "u2" })).toBe(true);
    const metric = await registry.getSingleMetric(METRIC.rateLimitRequestsTotal)!.get();
    const value = (result: string) => metric.values.find((v) => v.labels[LABEL.result] === result)?.value;
    expect(value(LABEL_VALUE.allowed)).toBe(3);
    expect(value(LABEL_VALUE.rejected)).toBe(1);
    await limiter.close();
  });

  it("two limiters on one registry add up in the shared counters, and a scrape does not double-count", async () => {
    const registry = new Registry();
    const a = new RateLimiter({ windowMs: 60_000, maxRequests: 1, registry });
    const b = new RateLimiter({ windowMs: 60_000, maxRequests: 1, registry });
    await a.consume("k");
    await a.consume("k");
    await b.consume("k");
    await registry.metrics();
    await b.consume("k");
    const text = await registry.metrics();
    expect(text).toContain(`${METRIC.rateLimitRequestsTotal}{result="allowed"} 2`);
    expect(text).toContain(`${METRIC.rateLimitRequestsTotal}{result="rejected"} 2`);
    await Promise.all([a.close(), b.close()]);
  });

  it("a store that throws synchronously is a store failure answered by the policy, never 'limit exceeded'", async () => {
    const throwing = {
      hit: () => {
        throw new Error("boom");
      },
      close: async () => {},
    };
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 2, store: throwing as never });
    const results = [await limiter.consume("k"), await limiter.consume("k"), await limiter.consume("k")];
    expect(results.map((r) => [r.allowed, r.degraded, r.reason])).toEqual([
      [true, true, "memory_fallback"],
      [true, true, "memory_fallback"],
      [false, true, "memory_fallback"],
    ]);
    await limiter.close();
  });
});
