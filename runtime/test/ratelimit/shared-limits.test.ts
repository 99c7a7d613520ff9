/**
 * Issue #10: the limiter shares its limits across replicas when asked to (the seed's `redis`
 * option is honoured), stays exact under concurrency, and a hung Redis costs nothing per request
 * once the breaker is open.
 */
import { RateLimiter, RedisStore } from "../../src/ratelimit";
import { describeEachTopology } from "../../../test/helpers/redis-cluster";

// On one redis-server and on a 3-primary Redis Cluster (issue #28); the hang is the server, or every node.
describeEachTopology("shared limits", (redis) => {
  /** EVALSHA + EVAL calls the primaries have run so far (INFO commandstats). */
  const scriptCalls = async () => {
    const calls = await redis.commandCalls();
    return (calls.get("evalsha") ?? 0) + (calls.get("eval") ?? 0);
  };

  describe("the seed's RateLimiter({ windowMs, maxRequests, keyGenerator, redis })", () => {
    it("counts in Redis, so two instances built from the seed's config share one limit", async () => {
      const seed = {
        windowMs: 60_000,
        maxRequests: 3,
        keyGenerator: () => "user-1",
        redis: { host: "127.0.0.1", port: redis.port, mode: redis.mode, commandTimeoutMs: 1_000 },
      };
      const a = new RateLimiter(seed);
      const b = new RateLimiter(seed);
      await new Promise((r) => setTimeout(r, 200)); // let both connect
      const answers: boolean[] = [];
      for (let i = 0; i < 4; i++) answers.push(await (i % 2 ? a : b).checkLimit({} as never));
      expect(answers).toEqual([true, true, true, false]);
      expect(await redis.admin.exists("{uaip:rl:user-1}")).toBe(1);
      await Promise.all([a.close(), b.close()]);
    });

    it("also takes a redis:// URL or an ioredis client; refuses redis next to store", async () => {
      // A bare URL names one node and no mode: on a cluster it goes with mode "cluster".
      const byUrl = new RateLimiter({
        windowMs: 60_000,
        maxRequests: 1,
        redis: redis.topology === "standalone" ? redis.url : { url: redis.url, mode: redis.mode },
      });
      await new Promise((r) => setTimeout(r, 200));
      expect((await byUrl.consume("url-key")).degraded).toBeUndefined();
      expect(await redis.admin.exists("{uaip:rl:url-key}")).toBe(1);
      const client = redis.client({ enableOfflineQueue: false });
      await new Promise((r) => client.once("ready", r));
      const byClient = new RateLimiter({ windowMs: 60_000, maxRequests: 1, redis: client });
      expect((await byClient.consume("client-key")).allowed).toBe(true);
      await byClient.close();
      expect(client.status).toBe("ready"); // an injected client stays open
      client.disconnect();
      const store = new RedisStore({ url: redis.url, mode: redis.mode });
      expect(() => new RateLimiter({ windowMs: 1, maxRequests: 1, store, redis: redis.url })).toThrow(
        expect.objectContaining({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key: "redis" }),
      );
      await Promise.all([byUrl.close(), store.close()]);
    });
  });

  describe("exactness across instances", () => {
    it("300 concurrent checks across two limiter instances: exactly maxRequests allowed", async () => {
      const s1 = new RedisStore({ url: redis.url, mode: redis.mode, commandTimeoutMs: 2_000 });
      const s2 = new RedisStore({ url: redis.url, mode: redis.mode, commandTimeoutMs: 2_000 });
      await Promise.all([s1.ready(), s2.ready()]);
      const a = new RateLimiter({ windowMs: 60_000, maxRequests: 37, store: s1 });
      const b = new RateLimiter({ windowMs: 60_000, maxRequests: 37, store: s2 });
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).consume("burst-300")));
      expect(results.filter((r) => r.allowed)).toHaveLength(37);
      expect(results.filter((r) => r.degraded)).toHaveLength(0);
      // Mixed keys in one batch stay independent.
      const mixed = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).consume(`k${i % 4}`)));
      for (let k = 0; k < 4; k++) expect(mixed.filter((r, i) => i % 4 === k && r.allowed)).toHaveLength(37);
      await Promise.all([a.close(), b.close(), s1.close(), s2.close()]);
    });

    it("batches the checks of one event-loop iteration, not only of one tick: each HTTP request runs in its own I/O callback", async () => {
      const store = new RedisStore({ url: redis.url, mode: redis.mode, commandTimeoutMs: 2_000 });
      await store.ready();
      try {
        const keys = Array.from({ length: 10 }, (_, i) => `iteration-${i}`);
        // One script call per iteration on one node; on a cluster one per slot of the batch (its keys must
        // share one), counted by the server itself: CLUSTER KEYSLOT of each stored key.
        const expected =
          redis.topology === "standalone"
            ? 1
            : new Set(await Promise.all(keys.map((k) => redis.admin.call("CLUSTER", "KEYSLOT", `{uaip:rl:${k}}`)))).size;
        const before = await scriptCalls();
        // Ten checks from ten callbacks of one loop phase, as ten sockets' requests parsed in one poll
        // phase are: a flush per tick (process.nextTick) sent ten script calls, one per iteration sends one.
        const decisions = await new Promise<Promise<unknown>[]>((resolve) => {
          const issued: Promise<unknown>[] = [];
          for (const key of keys)
            setImmediate(() => {
              issued.push(store.hit(key, 60_000, 5));
              if (issued.length === keys.length) resolve(issued);
            });
        });
        await Promise.all(decisions);
        expect((await scriptCalls()) - before).toBe(expected);
      } finally {
        await store.close();
      }
    });

    it("without batching (Redis Cluster mode) it is exact too", async () => {
      const s1 = new RedisStore({ url: redis.url, mode: redis.mode, commandTimeoutMs: 2_000, batching: false });
      const s2 = new RedisStore({ url: redis.url, mode: redis.mode, commandTimeoutMs: 2_000, batching: false });
      await Promise.all([s1.ready(), s2.ready()]);
      const a = new RateLimiter({ windowMs: 60_000, maxRequests: 25, store: s1 });
      const b = new RateLimiter({ windowMs: 60_000, maxRequests: 25, store: s2 });
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).consume("burst-unbatched")));
      expect(results.filter((r) => r.allowed)).toHaveLength(25);
      await Promise.all([a.close(), b.close(), s1.close(), s2.close()]);
    });
  });

  describe("a hung Redis behind the limiter", () => {
    it("opens the store's breaker: 120 checks take well under the 6 s the issue measured, answered by the failure policy", async () => {
      const store = new RedisStore({
        url: redis.url,
        mode: redis.mode,
        commandTimeoutMs: 50,
        breaker: { failureThreshold: 3, cooldownMs: 10_000 },
      });
      await store.ready();
      const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 10, store, failurePolicy: "memory" });
      redis.pause();
      /** Each check's duration: one that waited on the hung Redis lasts at least the 50 ms command timeout. */
      const timed = async (key: string, into: number[]) => {
        const t = performance.now();
        const r = await limiter.consume(key);
        into.push(performance.now() - t);
        return r;
      };
      const waited = (durations: number[]) => durations.filter((d) => d >= 50).length;
      try {
        const durations: number[] = [];
        const results = [];
        for (let i = 0; i < 120; i++) results.push(await timed("hung", durations));
        expect(store.state).toBe("open");
        // 3 timeouts of 50 ms open the breaker; the other 117 checks run at in-memory speed. Counted per check, not
        // as the run's wall time (which a loaded machine stretches): a timeout per check would be all 120.
        expect(waited(durations.slice(3))).toBeLessThanOrEqual(durations.length / 10);
        expect(results.every((r) => r.degraded)).toBe(true);
        expect(results.filter((r) => r.allowed)).toHaveLength(10);
        const open: number[] = [];
        for (let i = 0; i < 1_000; i++) await timed(`open-${i % 50}`, open);
        expect(waited(open)).toBeLessThanOrEqual(open.length / 100);
      } finally {
        redis.resume();
      }
      await Promise.all([limiter.close(), store.close()]);
    });
  });

  describe("a burst right after construction", () => {
    it("two limiters built from the seed's config and used at once still admit exactly maxRequests (checks wait for the first connection)", async () => {
      const seed = {
        windowMs: 60_000,
        maxRequests: 20,
        redis: { host: "127.0.0.1", port: redis.port, mode: redis.mode, commandTimeoutMs: 2_000 },
      };
      const a = new RateLimiter(seed);
      const b = new RateLimiter(seed);
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).consume("cold-start")));
      expect(results.filter((r) => r.allowed)).toHaveLength(20);
      expect(results.filter((r) => r.degraded)).toHaveLength(0);
      expect(await a.ready(1_000)).toBe(true);
      await Promise.all([a.close(), b.close()]);
    });

    it("a Redis that never comes up costs at most firstConnectWaitMs, then the failure policy answers", async () => {
      const limiter = new RateLimiter({
        windowMs: 1_000,
        maxRequests: 1,
        redis: { host: "127.0.0.1", port: 1, mode: redis.mode, firstConnectWaitMs: 200 },
      });
      const t = performance.now();
      const r = await limiter.consume("nowhere");
      expect(performance.now() - t).toBeLessThan(1_000);
      expect(r).toMatchObject({ allowed: true, degraded: true, reason: "memory_fallback" });
      expect(await limiter.ready(50)).toBe(false);
      await limiter.close();
    });
  });
});
