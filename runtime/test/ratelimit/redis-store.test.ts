import { createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { describeEachTopology } from "../../../test/helpers/redis-cluster";
import { RedisStore } from "../../src/ratelimit/redis-store";
import { RateLimiter } from "../../src/ratelimit/limiter";
import type { FailurePolicy } from "../../src/ratelimit/types";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(25);
  }
}

// On one redis-server and on a 3-primary Redis Cluster (issue #28). "Redis killed" is the whole
// Redis: the server, or every node of the cluster (a primary alone failing over mid-run is
// runtime/test/redis/cluster.test.ts).
describeEachTopology("RedisStore + RateLimiter against a real Redis", (redis) => {
  async function storeFor(): Promise<RedisStore> {
    const store = new RedisStore({ url: redis.url, mode: redis.mode, commandTimeoutMs: 200 });
    await store.ready();
    return store;
  }

  it("2 limiter instances, 500 concurrent consume() on one key: exactly maxRequests allowed", async () => {
    const [s1, s2] = await Promise.all([storeFor(), storeFor()]);
    const a = new RateLimiter({ windowMs: 60_000, maxRequests: 100, store: s1 });
    const b = new RateLimiter({ windowMs: 60_000, maxRequests: 100, store: s2 });
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).consume("exact")));
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(results.some((r) => r.degraded)).toBe(false);
    const rejected = results.filter((r) => !r.allowed);
    expect(rejected).toHaveLength(400);
    for (const r of rejected) {
      expect(r.remaining).toBe(0);
      expect(r.retryAfterMs).toBeGreaterThan(0);
    }
    await Promise.all([a.close(), b.close(), s1.close(), s2.close()]);
  });

  it("window reset: a refused key is admitted after retryAfterMs, and fully after resetMs", async () => {
    const store = await storeFor();
    const w = 400;
    const limiter = new RateLimiter({ windowMs: w, maxRequests: 10, store });
    const first = await Promise.all(Array.from({ length: 30 }, () => limiter.consume("reset")));
    expect(first.filter((r) => r.allowed)).toHaveLength(10);
    const refused = first.find((r) => !r.allowed)!;
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2 * w);

    await sleep(refused.retryAfterMs + 20);
    expect((await limiter.consume("reset")).allowed).toBe(true);

    const last = await limiter.consume("reset");
    await sleep(last.resetMs + 20);
    const again = await Promise.all(Array.from({ length: 30 }, () => limiter.consume("reset")));
    expect(again.filter((r) => r.allowed)).toHaveLength(10);
    await Promise.all([limiter.close(), store.close()]);
  });

  it("at the start of the next window the previous window's count still weighs: a full burst is not admitted again", async () => {
    const store = await storeFor();
    const clock = redis.client(); // one host: every node has the same clock
    // Redis' clock is the one the script windows by.
    const redisNow = async () => {
      const [sec, usec] = await clock.time();
      return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    };
    const w = 2000;
    const limit = 20;
    const burst = (key: string) => Promise.all(Array.from({ length: limit }, () => store.hit(key, w, limit)));
    const admitted = (ds: { allowed: boolean }[]) => ds.filter((d) => d.allowed).length;
    try {
      // Retried when the loaded machine oversleeps a whole window (the check then proves nothing).
      for (let attempt = 1; ; attempt++) {
        const key = `rollover-${attempt}`;
        // Fill a window early on, so the burst after the rollover lands early in the next one.
        while ((await redisNow()) % w > w / 4) await sleep(20);
        const filledAt = await redisNow();
        expect(admitted(await burst(key))).toBe(limit);
        await sleep(w - (filledAt % w) + 10);
        const before = await redisNow();
        const decisions = await burst(key);
        const after = await redisNow();
        if (Math.floor(after / w) !== Math.floor(filledAt / w) + 1) {
          if (attempt < 3) continue;
          throw new Error(`the burst missed the next window ${attempt} times (machine too slow)`);
        }
        // Sliding window: with `limit` hits in the previous window and `elapsed` ms into this one, the estimate
        // limit * (w - elapsed) / w + n must stay <= limit, so n <= limit * elapsed / w; the burst's single script
        // call ran at some elapsed between `before` and `after`.
        const low = Math.floor((limit * Math.max(0, before % w)) / w);
        const high = Math.floor((limit * (after % w)) / w);
        expect(high).toBeLessThan(limit);
        expect(admitted(decisions)).toBeGreaterThanOrEqual(before % w <= after % w ? low : 0);
        expect(admitted(decisions)).toBeLessThanOrEqual(high);
        break;
      }
    } finally {
      clock.disconnect();
      await store.close();
    }
  });

  it("two windows later nothing of the old count is left: the full limit is admitted at once", async () => {
    const store = await storeFor();
    const w = 500;
    const limit = 10;
    const burst = () => Promise.all(Array.from({ length: limit }, () => store.hit("two-windows", w, limit)));
    expect((await burst()).every((d) => d.allowed)).toBe(true);
    await sleep(2 * w + 20);
    expect((await burst()).every((d) => d.allowed)).toBe(true);
    await store.close();
  });

  it("checks of many keys sent in one tick are all decided by Redis (on a cluster: one script call per slot)", async () => {
    const store = await storeFor();
    // Each key is its own hash tag, so on a cluster they fall in different slots; one script call holding two of
    // them would be refused (CROSSSLOT), and the store rejects the checks of a refused call.
    // The store is closed either way, so a failure cannot hang the file.
    const keys = Array.from({ length: 24 }, (_, i) => `slots-${i}`);
    try {
      const first = await Promise.all(keys.map((k) => store.hit(k, 60_000, 1)));
      expect(first.map((d) => d.allowed)).toEqual(keys.map(() => true));
      // Redis kept each count: the second check of every key is refused.
      const second = await Promise.all(keys.map((k) => store.hit(k, 60_000, 1)));
      expect(second.map((d) => d.allowed)).toEqual(keys.map(() => false));
    } finally {
      await store.close();
    }
  });

  it("keys are prefixed and expire (no unbounded growth in Redis)", async () => {
    const store = await storeFor();
    const limiter = new RateLimiter({ windowMs: 1000, maxRequests: 5, store });
    const before = Date.now();
    await limiter.consume("ttl-key");
    const after = Date.now();
    // The expiry itself (PEXPIRETIME), bounded by the times around the call: a PTTL read later shrinks by the wait,
    // and a loaded machine could let the key expire before the read.
    const at = Number(await redis.admin.call("PEXPIRETIME", "{uaip:rl:ttl-key}"));
    expect(at).toBeGreaterThan(before);
    expect(at).toBeLessThanOrEqual(after + 2000);
    await Promise.all([limiter.close(), store.close()]);
  });

  it("Redis killed mid-test: each failure policy answers quickly, is flagged degraded, and recovers after restart", async () => {
    const registry = new Registry();
    const policies: FailurePolicy[] = ["allow", "deny", "memory"];
    const stores = await Promise.all(policies.map(() => storeFor()));
    const limiters = Object.fromEntries(
      policies.map((p, i) => [
        p,
        new RateLimiter({ windowMs: 60_000, maxRequests: 3, store: stores[i], failurePolicy: p, registry }),
      ]),
    ) as Record<FailurePolicy, RateLimiter>;

    for (const p of policies) expect(await limiters[p].consume(`${p}-before`)).toMatchObject({ allowed: true, remaining: 2 });

    await redis.stop();
    // Until each store's client has seen the loss. A Cluster client's status can stay "ready" with
    // every node dead (ioredis drops a node's connection, and says "close", only once every node it
    // opened has ended; a never-used node's lazy connection does not end): there, a PING failing is the sign.
    const lost = stores.map(() => false);
    await waitFor(() => {
      stores.forEach((s, i) => {
        if (s.client.status !== "ready") lost[i] = true;
        else s.client.ping().catch(() => (lost[i] = true));
      });
      return lost.every(Boolean);
    });

    // Fail fast: no offline queue, no retries. A check that waited would wait the stores' command timeout (200 ms)
    // on a timer set after this one, so it would answer after this timer fires, however late a loaded machine
    // fires both: all 15 answering first is an ordering, not a wall-clock figure.
    let timeoutPassed = false;
    const oneTimeout = setTimeout(() => (timeoutPassed = true), 200);
    const allow = await Promise.all(Array.from({ length: 5 }, () => limiters.allow.consume("k")));
    const deny = await Promise.all(Array.from({ length: 5 }, () => limiters.deny.consume("k")));
    const memory = [];
    for (let i = 0; i < 5; i++) memory.push(await limiters.memory.consume("k"));
    expect(timeoutPassed).toBe(false);
    clearTimeout(oneTimeout);

    expect(allow.every((r) => r.allowed && r.degraded && r.reason === "store_unavailable")).toBe(true);
    expect(deny.every((r) => !r.allowed && r.degraded && r.reason === "store_unavailable" && r.retryAfterMs > 0)).toBe(true);
    // The insurance store counts per process: exactly maxRequests, then a real (local) limit refusal.
    expect(memory.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(memory.every((r) => r.degraded && r.reason === "memory_fallback")).toBe(true);
    expect(limiters.deny.lastStoreError).toMatchObject({ code: "UAIP_RATELIMIT_STORE_UNAVAILABLE" });

    const errors = await registry.getSingleMetric(METRIC.rateLimitStoreErrorsTotal)!.get();
    expect(errors.values[0].value).toBe(15);
    const requests = await registry.getSingleMetric(METRIC.rateLimitRequestsTotal)!.get();
    const count = (result: string) => requests.values.find((v) => v.labels[LABEL.result] === result)?.value;
    expect(count(LABEL_VALUE.storeUnavailable)).toBe(5);
    expect(count(LABEL_VALUE.rejected)).toBe(2);

    await redis.start();
    await waitFor(() => stores.every((s) => s.client.status === "ready"));
    for (const p of policies) {
      const r = await limiters[p].consume(`${p}-after`);
      expect(r).toMatchObject({ allowed: true, remaining: 2 });
      expect(r.degraded).toBeUndefined();
      expect(limiters[p].lastStoreError).toBeUndefined();
    }
    await Promise.all([...policies.map((p) => limiters[p].close()), ...stores.map((s) => s.close())]);
  });
});

describe("RedisStore against a Redis that never answers", () => {
  it("a Redis that accepts but never answers is cut off by commandTimeout, not awaited forever", async () => {
    const sockets: Socket[] = [];
    const blackHole: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", r));
    const port = (blackHole.address() as { port: number }).port;
    const client = new Redis({
      port,
      host: "127.0.0.1",
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 100,
    });
    client.on("error", () => {});
    await waitFor(() => client.status === "ready");
    const limiter = new RateLimiter({ windowMs: 1000, maxRequests: 5, store: new RedisStore({ client }), failurePolicy: "deny" });
    // Cut off by the 100 ms command timeout: it answers before a timer of two timeouts set just before it fires
    // (timers fire in order, however late), where an unbounded wait would never answer.
    let twoTimeoutsPassed = false;
    const twoTimeouts = setTimeout(() => (twoTimeoutsPassed = true), 200);
    const result = await limiter.consume("slow");
    expect(twoTimeoutsPassed).toBe(false);
    clearTimeout(twoTimeouts);
    expect(result).toMatchObject({ allowed: false, degraded: true, reason: "store_unavailable" });
    await limiter.close();
    client.disconnect();
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => blackHole.close(r));
  });
});
