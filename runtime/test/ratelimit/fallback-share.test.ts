/**
 * During a Redis outage every replica falls back to counting in its own memory. Without a share, N
 * replicas admitted N x the limit. With `fallbackReplicas` (UAIP_REPLICAS_MAX, the HPA max) each
 * admits floor(limit / N), at least 1: N replicas together admit at most max(limit, N).
 */
import fc from "fast-check";
import { RateLimiter, RedisStore } from "../../src/ratelimit";
import { createRuntime } from "../../src/create-runtime";
import { loadRuntimeConfig } from "../../src/config/load";
import { RedisServer } from "../../../test/helpers/redis";

jest.setTimeout(60_000);

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(() => server.stop());

/** The bound across `replicas` replicas, stated independently of the code: floor share, never below 1 each. */
const boundAcross = (limit: number, replicas: number) => Math.max(limit, replicas);

test("3 replicas with Redis down admit at most the limit together, and each its share", async () => {
  const limit = 10;
  const replicas = 3;
  const stores = Array.from({ length: replicas }, () => new RedisStore({ url: server.url, firstConnectWaitMs: 0 }));
  const limiters = stores.map(
    (store) =>
      new RateLimiter({ windowMs: 60_000, maxRequests: limit, store, failurePolicy: "memory", fallbackReplicas: replicas }),
  );
  try {
    expect(await Promise.all(limiters.map((l) => l.ready(5_000)))).toEqual([true, true, true]);
    await server.stop();
    let admitted = 0;
    // Far more requests than the limit, spread round-robin as a load balancer would.
    for (let i = 0; i < 20 * limit; i++) {
      const r = await limiters[i % replicas]!.consume("client-1");
      expect(r.degraded).toBe(true);
      if (r.allowed) admitted++;
    }
    expect(admitted).toBeLessThanOrEqual(limit);
    // Under-admission is the price: 3 x floor(10 / 3) = 9 of the 10.
    expect(admitted).toBe(replicas * Math.floor(limit / replicas));
  } finally {
    await server.start();
    await Promise.all([...limiters, ...stores].map((x) => x.close()));
  }
});

test("property: any limit and replica count, N replicas with a failing store admit at most max(limit, N) per window", async () => {
  const down = { hit: () => Promise.reject(new Error("store down")), close: () => Promise.resolve() };
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 12 }), async (limit, replicas) => {
      const limiters = Array.from(
        { length: replicas },
        () => new RateLimiter({ windowMs: 600_000, maxRequests: limit, store: down, fallbackReplicas: replicas }),
      );
      let admitted = 0;
      for (let i = 0; i < 3 * (limit + replicas); i++) if ((await limiters[i % replicas]!.consume("k")).allowed) admitted++;
      await Promise.all(limiters.map((l) => l.close()));
      expect(admitted).toBeLessThanOrEqual(boundAcross(limit, replicas));
      // And no more refused than the floor rounding costs: at most replicas - 1 below the limit, when limit >= replicas.
      if (limit >= replicas) expect(admitted).toBeGreaterThan(limit - replicas);
    }),
    { numRuns: 60 },
  );
});

test("fallbackReplicas: 1 and up accepted, 0, fractions and strings refused by name", () => {
  const share = (fallbackReplicas: unknown) => {
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 5, fallbackReplicas: fallbackReplicas as number });
    void limiter.close();
    return limiter.fallbackLimit;
  };
  expect(share(1)).toBe(5);
  expect(share(2)).toBe(2);
  expect(share(5)).toBe(1);
  expect(share(6)).toBe(1);
  for (const bad of [0, 1.5, "3", -1]) expect(() => share(bad)).toThrow(/fallbackReplicas/);
});

test("createRuntime shares the fallback by UAIP_REPLICAS_MAX (absent: one replica, the whole limit)", async () => {
  for (const [replicas, want] of [
    [undefined, 10],
    ["4", 2],
    ["11", 1],
  ] as const) {
    const env = { UAIP_RATE_LIMIT_MAX_REQUESTS: "10", ...(replicas ? { UAIP_REPLICAS_MAX: replicas } : {}) };
    const runtime = createRuntime(loadRuntimeConfig(env));
    try {
      expect(runtime.limiter.fallbackLimit).toBe(want);
    } finally {
      await runtime.close();
    }
  }
  expect(() => loadRuntimeConfig({ UAIP_REPLICAS_MAX: "0" })).toThrow(/UAIP_REPLICAS_MAX/);
});
