import { Registry } from "prom-client";
import { describeEachTopology } from "../../../test/helpers/redis-cluster";
import {
  CacheManager,
  CacheKeyError,
  CacheOptionsError,
  CacheValueError,
  CacheClosedError,
  type CacheManagerOptions,
} from "../../src/cache";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";

async function requests(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(METRIC.cacheRequestsTotal)!;
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[`${v.labels[LABEL.tier]}:${v.labels[LABEL.result]}`] = v.value;
  return out;
}

// The same tests on one redis-server and on a 3-primary Redis Cluster (issue #28).
describeEachTopology("CacheManager", (redis) => {
  const open: CacheManager[] = [];
  const raw = () => redis.admin;

  /** A CacheManager on this topology's Redis (its `mode` merged into the given settings). */
  function cache(options: CacheManagerOptions = {}): CacheManager {
    const c = new CacheManager({
      url: redis.url,
      ...options,
      config: { ...options.config, redis: { ...options.config?.redis, mode: redis.mode } },
    });
    open.push(c);
    return c;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await redis.flush();
  });

  describe("CacheManager read path", () => {
    it("set on A is read by a fresh B from L2, then from L1 (backfill), and the counters say which tier answered", async () => {
      const registry = new Registry();
      const a = cache({ registry, config: { redis: { keyPrefix: "t1:" } } });
      const b = cache({ registry, config: { redis: { keyPrefix: "t1:" } } });
      await Promise.all([a.ready(), b.ready()]);

      await a.set("user:1", { name: "Ada", roles: ["admin"] });
      expect(await raw().get("t1:c:user:1")).toBe(JSON.stringify({ name: "Ada", roles: ["admin"] }));
      expect(await raw().pttl("t1:c:user:1")).toBeGreaterThan(0);

      expect(b.l1Size).toBe(0);
      expect(await b.get("user:1")).toEqual({ name: "Ada", roles: ["admin"] }); // L1 miss, L2 hit
      expect(b.l1Size).toBe(1);
      // Remove it from Redis behind the cache's back: B must now answer from L1 alone.
      await raw().del("t1:c:user:1");
      expect(await b.get("user:1")).toEqual({ name: "Ada", roles: ["admin"] });
      expect(await b.get("nope")).toBeNull(); // L1 miss, L2 miss

      expect(await requests(registry)).toEqual({
        [`${LABEL_VALUE.tierMemory}:${LABEL_VALUE.miss}`]: 2,
        [`${LABEL_VALUE.tierMemory}:${LABEL_VALUE.hit}`]: 1,
        [`${LABEL_VALUE.tierRedis}:${LABEL_VALUE.hit}`]: 1,
        [`${LABEL_VALUE.tierRedis}:${LABEL_VALUE.miss}`]: 1,
      });
    });

    it("caches null (negative caching) and keeps it apart from a miss in getOrSet", async () => {
      const c = cache();
      expect(await c.ready()).toBe(true); // a write before the first connection is queued, not in Redis yet
      const loader = jest.fn(async () => null);
      expect(await c.getOrSet("absent", loader)).toBeNull();
      expect(await c.getOrSet("absent", loader)).toBeNull();
      expect(loader).toHaveBeenCalledTimes(1);
      expect(await raw().get("uaip:c:absent")).toBe("null");
    });

    it("delete removes the key from both tiers", async () => {
      const c = cache();
      expect(await c.ready()).toBe(true); // a write before the first connection is queued, not in Redis yet
      await c.set("k", 1);
      await c.delete("k");
      expect(await raw().exists("uaip:c:k")).toBe(0);
      expect(await c.get("k")).toBeNull();
    });

    it("per-call ttl sets the Redis TTL; L1 never outlives memory.ttl; jitter only shortens", async () => {
      const c = cache({ config: { memory: { ttl: 80 } }, jitter: 0.5 });
      expect(await c.ready()).toBe(true); // a write before the first connection is queued, not in Redis yet
      const before = Date.now();
      await c.set("short", "v", { ttl: 10_000 });
      const after = Date.now();
      // The expiry itself (PEXPIRETIME), bounded by the times around the set: a PTTL read later shrinks by the wait.
      const at = Number(await raw().call("PEXPIRETIME", "uaip:c:short"));
      expect(at).toBeLessThanOrEqual(after + 10_000);
      expect(at).toBeGreaterThanOrEqual(before + 5_000 - 1); // jitter 0.5 shortens by at most half
      await raw().del("uaip:c:short");
      await new Promise((r) => setTimeout(r, 120)); // past memory.ttl
      expect(await c.get("short")).toBeNull();
    });

    it.each([
      [true, null],
      [false, "v"],
    ])(
      "exactBackfillTtl=%s: another instance's L1 copy of a short-ttl entry expires with Redis (or lives up to memory.ttl)",
      async (exact, expected) => {
        const a = cache();
        // No bus on B: A's own set message could otherwise arrive after B's backfill and evict it,
        // which is the bus working, not the TTL behaviour this test is about.
        const b = cache({ exactBackfillTtl: exact, jitter: 0, bus: false });
        await Promise.all([a.ready(), b.ready()]);
        await a.set("brief", "v", { ttl: 150 });
        expect(await b.get("brief")).toBe("v"); // backfilled into B's L1
        await new Promise((r) => setTimeout(r, 250));
        expect(await raw().exists("uaip:c:brief")).toBe(0);
        expect(await b.get("brief")).toBe(expected);
      },
    );

    it("connects an injected lazyConnect client", async () => {
      const client = redis.client({ lazyConnect: true });
      const c = new CacheManager({ client, bus: false });
      expect(await c.ready(5_000)).toBe(true);
      await c.set("lazy", 1);
      expect(await raw().get("uaip:c:lazy")).toBe("1");
      await c.close();
      await client.quit();
    });

    it("spreads TTLs with jitter so keys written together do not expire together", async () => {
      const c = cache({ jitter: 0.2 });
      expect(await c.ready()).toBe(true); // a write before the first connection is queued, not in Redis yet
      const before = Date.now();
      for (let i = 0; i < 20; i++) await c.set(`j${i}`, i, { ttl: 100_000 });
      const after = Date.now();
      // The expiries themselves (PEXPIRETIME): a PTTL read later shrinks by the wait, which a loaded machine stretches.
      const expiries = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => Number(await raw().call("PEXPIRETIME", `uaip:c:j${i}`))),
      );
      expect(new Set(expiries.map((t) => Math.round(t / 100))).size).toBeGreaterThan(5);
      for (const at of expiries) {
        expect(at).toBeGreaterThanOrEqual(before + 80_000 - 1);
        expect(at).toBeLessThanOrEqual(after + 100_000);
      }
    });

    it("opens its connections (commands + bus subscriber) and close() releases all of them", async () => {
      // Summed over every node: a cluster client holds a connection per node it talks to, plus the subscriber.
      const baseline = await redis.connectedClients();
      const c = cache();
      expect(await c.ready()).toBe(true);
      const opened = (await redis.connectedClients()) - baseline;
      if (redis.topology === "standalone") expect(opened).toBe(2);
      else expect(opened).toBeGreaterThanOrEqual(2);
      await c.close();
      const end = Date.now() + 2_000;
      while ((await redis.connectedClients()) !== baseline && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(await redis.connectedClients()).toBe(baseline);
    });

    it("ready() has a connection open to every primary (ioredis opens a cluster's lazily)", async () => {
      const perPrimary = async () =>
        Promise.all(
          (await redis.primaries()).map(async (n) => Number(/^connected_clients:(\d+)/m.exec(await n.info("clients"))![1])),
        );
      const before = await perPrimary();
      const c = cache({ bus: false });
      expect(await c.ready()).toBe(true);
      // Each primary gained the cache's connection before any command was routed to it.
      const after = await perPrimary();
      expect(after.map((n, i) => n - before[i])).toEqual(before.map(() => 1));
    });

    it("leaves an injected client open on close()", async () => {
      const client = redis.client();
      const c = new CacheManager({ client });
      await c.ready();
      await c.set("inj", "v");
      await c.close();
      expect(await client.get("uaip:c:inj")).toBe(JSON.stringify("v"));
      await client.quit();
    });
  });

  describe("single-flight", () => {
    it("100 concurrent getOrSet on one key call the loader once and all get its value", async () => {
      const c = cache();
      await c.ready();
      let calls = 0;
      const loader = async (): Promise<{ n: number }> => {
        calls++;
        await new Promise((r) => setTimeout(r, 30));
        return { n: calls };
      };
      const results = await Promise.all(Array.from({ length: 100 }, () => c.getOrSet("hot", loader)));
      expect(calls).toBe(1);
      for (const r of results) expect(r).toEqual({ n: 1 });
      expect(JSON.parse((await raw().get("uaip:c:hot"))!)).toEqual({ n: 1 });
    });

    it("shares a loader failure with every waiter, caches nothing, and lets the next call retry", async () => {
      const c = cache();
      const failing = jest.fn(async () => {
        await new Promise((r) => setTimeout(r, 10));
        throw new Error("db down");
      });
      const settled = await Promise.allSettled(Array.from({ length: 10 }, () => c.getOrSet("f", failing)));
      expect(failing).toHaveBeenCalledTimes(1);
      expect(settled.every((s) => s.status === "rejected" && (s.reason as Error).message === "db down")).toBe(true);
      expect(await c.getOrSet("f", async () => "ok")).toBe("ok");
    });
  });

  describe("malformed input", () => {
    it.each([
      ["empty key", (c: CacheManager) => c.get(""), CacheKeyError.CODE],
      ["non-string key", (c: CacheManager) => c.get(42 as unknown as string), CacheKeyError.CODE],
      ["key too long", (c: CacheManager) => c.set("k".repeat(2_000), 1), CacheKeyError.CODE],
      ["undefined value", (c: CacheManager) => c.set("k", undefined), CacheValueError.CODE],
      ["function value", (c: CacheManager) => c.set("k", () => 1), CacheValueError.CODE],
      [
        "circular value",
        (c: CacheManager) => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return c.set("k", o);
        },
        CacheValueError.CODE,
      ],
      ["BigInt value", (c: CacheManager) => c.set("k", 10n), CacheValueError.CODE],
      ["loader returning undefined", (c: CacheManager) => c.getOrSet("k", async () => undefined), CacheValueError.CODE],
      ["negative ttl", (c: CacheManager) => c.set("k", 1, { ttl: -5 }), CacheOptionsError.CODE],
      ["fractional ttl", (c: CacheManager) => c.getOrSet("k", () => 1, { ttl: 1.5 }), CacheOptionsError.CODE],
      ["empty pattern", (c: CacheManager) => c.invalidate(""), CacheKeyError.CODE],
    ])("rejects %s with a typed error", async (_name, call, code) => {
      const c = cache();
      await expect(call(c)).rejects.toMatchObject({ code });
      expect(await redis.dbsize()).toBe(0);
    });

    it("refuses use after close with UAIP_CACHE_CLOSED", async () => {
      const c = cache();
      await c.close();
      await expect(c.get("k")).rejects.toMatchObject({ code: CacheClosedError.CODE });
    });
  });
});

describe("without Redis", () => {
  const open: CacheManager[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it("bounds L1 by bytes when maxBytes is set", async () => {
    const c = new CacheManager({ maxBytes: 1_000 }); // L1 only
    open.push(c);
    for (let i = 0; i < 10; i++) await c.set(`big${i}`, "x".repeat(300));
    expect(c.l1Size).toBeLessThanOrEqual(3);
    expect(await c.get("big9")).toBe("x".repeat(300));
    expect(await c.get("big0")).toBeNull();
  });

  it("works as an in-process cache when no Redis is configured", async () => {
    const c = new CacheManager();
    open.push(c);
    expect(c.l2State).toBe("none");
    expect(await c.getOrSet("a", () => 42)).toBe(42);
    expect(await c.get("a")).toBe(42);
    expect(await c.invalidate("*")).toEqual({ pattern: "*", l1: 1, l2: 0, complete: true });
  });

  it.each([
    [{ config: { redis: { port: 70_000 } } }, "config.redis.port"],
    [{ config: { memory: { maxSize: 0 } } }, "config.memory.maxSize"],
    [{ config: { redis: { bogus: 1 } } }, "config.redis.bogus"],
    [{ jitter: 1.5 }, "jitter"],
    [{ maxBytes: -1 }, "maxBytes"],
  ])("rejects bad options %j naming %s", (options, key) => {
    expect(() => new CacheManager(options as never)).toThrow(expect.objectContaining({ code: CacheOptionsError.CODE, key }));
  });
});
