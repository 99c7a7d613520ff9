/**
 * Issue #24, "what peers offer" for the cache: getEntry tells a cached null from a miss (and a stale
 * serve from both), and onEvent reports Redis errors, breaker changes, stale serves and purge failures.
 * Real redis-server throughout; the outage is the server process being killed and restarted.
 */
import { CacheManager } from "../../src/cache/manager";
import { CacheInvalidator } from "../../src/cache/invalidator";
import { CacheOptionsError } from "../../src/cache/errors";
import type { CacheEvent } from "../../src/cache/events";
import { RedisServer, useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("getEntry", () => {
  it("tells a cached null (hit) from a miss, in L1 and through Redis from another instance; get answers null for both", async () => {
    const a = new CacheManager({ url: fx.server.url, config: { redis: { keyPrefix: "entry:" } } });
    const b = new CacheManager({ url: fx.server.url, config: { redis: { keyPrefix: "entry:" } } });
    await Promise.all([a.ready(), b.ready()]);
    await a.set("absent-user", null);
    await a.set("zero", 0);
    expect(await a.getEntry("absent-user")).toEqual({ status: "hit", value: null }); // L1
    expect(await b.getEntry("absent-user")).toEqual({ status: "hit", value: null }); // L2, then L1
    expect(await b.getEntry("absent-user")).toEqual({ status: "hit", value: null });
    expect(await b.getEntry("zero")).toEqual({ status: "hit", value: 0 });
    expect(await b.getEntry("never-set")).toEqual({ status: "miss", value: undefined });
    expect(await a.get("absent-user")).toBeNull();
    expect(await a.get("never-set")).toBeNull();
    await a.delete("absent-user");
    // b drops its L1 copy when the bus message arrives.
    // Waits for the message, however slow a loaded machine is; the assertion below is what is proved.
    const deadline = Date.now() + 10_000;
    while ((await b.getEntry("absent-user")).status === "hit" && Date.now() < deadline) await sleep(10);
    expect(await b.getEntry("absent-user")).toEqual({ status: "miss", value: undefined });
    await Promise.all([a.close(), b.close()]);
  });

  it("refuses a bad staleIfErrorMs or onEvent by name; 0 (off) is accepted", () => {
    for (const bad of [-1, 1.5, Number.NaN, "100"])
      expect(() => new CacheManager({ staleIfErrorMs: bad as number })).toThrow(
        expect.objectContaining({ code: CacheOptionsError.CODE, key: "staleIfErrorMs" }),
      );
    expect(() => new CacheManager({ onEvent: "log" as never })).toThrow(expect.objectContaining({ key: "onEvent" }));
    void new CacheManager({ staleIfErrorMs: 0 }).close();
  });
});

describe("stale serves and events through a Redis outage", () => {
  it("an expired L1 copy is served as stale only while Redis is unreachable and only within staleIfErrorMs; events name each step", async () => {
    const server = await RedisServer.start();
    const events: CacheEvent[] = [];
    const ttl = 300;
    // Every stale serve below must come inside the window (from ttl after the write, for staleIfErrorMs):
    // wide enough for a Redis stop and a dozen calls on a loaded machine (1.5 s left about one second).
    const staleIfErrorMs = 5_000;
    const cache = new CacheManager({
      url: server.url,
      config: { memory: { ttl }, redis: { commandTimeoutMs: 100 } },
      jitter: 0,
      staleIfErrorMs,
      breaker: { failureThreshold: 1, cooldownMs: 200 },
      onEvent: (e) => events.push(e),
    });
    const plain = new CacheManager({ url: server.url, config: { memory: { ttl } }, jitter: 0 });
    try {
      await Promise.all([cache.ready(), plain.ready()]);
      await cache.set("item", { v: 1 });
      await cache.set("nothing", null);
      await cache.set("removed", 1);
      await plain.set("item", { v: 1 });
      await sleep(ttl + 100);
      // Redis up: the expired L1 copy is not used, Redis answers.
      expect(await cache.getEntry("item")).toEqual({ status: "hit", value: { v: 1 } });
      // The L1 copy's clock starts inside [writeStart, writeEnd]: it expires ttl later, is stale for staleIfErrorMs.
      const writeStart = performance.now();
      await cache.set("item", { v: 1 });
      const writeEnd = performance.now();
      expect(events.filter((e) => e.type !== "breaker")).toEqual([]);

      await server.stop();
      expect((await cache.delete("removed")).complete).toBe(false);
      await sleep(ttl + 100);
      const stale = await cache.getEntry("item");
      const readEnd = performance.now();
      expect(stale).toMatchObject({ status: "stale", value: { v: 1 } });
      // Its age past expiry is at most the time since the write began, less the ttl (a wrong origin, the
      // write instead of the expiry, is ttl more).
      expect((stale as { ageMs: number }).ageMs).toBeGreaterThanOrEqual(0);
      expect((stale as { ageMs: number }).ageMs).toBeLessThanOrEqual(readEnd - writeStart - ttl);
      expect(await cache.getEntry("nothing")).toMatchObject({ status: "stale", value: null });
      expect(await cache.getEntry("removed")).toEqual({ status: "miss", value: undefined }); // deleted: never stale
      expect(await cache.getEntry("never-set")).toEqual({ status: "miss", value: undefined });
      let loads = 0;
      expect(await cache.getOrSet("item", () => (loads++, { v: 2 }))).toEqual({ v: 1 });
      expect(loads).toBe(0);
      expect(await cache.get("item")).toEqual({ v: 1 });
      // Without staleIfErrorMs the same outage is a miss.
      expect(await plain.getEntry("item")).toEqual({ status: "miss", value: undefined });

      expect(events).toContainEqual({ type: "breaker", from: "closed", to: "open" });
      expect(events.some((e) => e.type === "error" && e.error instanceof Error)).toBe(true);
      expect(events).toContainEqual(expect.objectContaining({ type: "stale", key: "item" }));
      expect(events.filter((e) => e.type === "stale").map((e) => (e as { key: string }).key)).not.toContain("removed");

      // Past the stale window (its latest end is writeEnd + ttl + staleIfErrorMs): a miss, and the loader runs.
      await sleep(writeEnd + ttl + staleIfErrorMs + 10 - performance.now());
      expect(await cache.getEntry("item")).toEqual({ status: "miss", value: undefined });
      expect(await cache.getOrSet("item", () => (loads++, { v: 2 }))).toEqual({ v: 2 });
      expect(loads).toBe(1);

      await server.start();
      const deadline = Date.now() + 10_000;
      while (cache.l2State !== "closed" && Date.now() < deadline) {
        await cache.get("probe");
        await sleep(50);
      }
      const reopened = events.map((e) => e.type === "breaker" && e.to === "open").lastIndexOf(true);
      expect(events.slice(reopened)).toContainEqual(expect.objectContaining({ type: "breaker", to: "closed" }));
    } finally {
      await Promise.all([cache.close(), plain.close()]);
      await server.stop();
    }
  });

  it("a listener that throws never breaks a cache call", async () => {
    const server = await RedisServer.start();
    const cache = new CacheManager({
      url: server.url,
      config: { redis: { commandTimeoutMs: 100 } },
      onEvent: () => {
        throw new Error("logger down");
      },
    });
    try {
      await cache.ready();
      await server.stop();
      await expect(cache.get("k")).resolves.toBeNull();
      await expect(cache.set("k", 1)).resolves.toMatchObject({ complete: false });
    } finally {
      await cache.close();
    }
  });
});

describe("purge failures", () => {
  it("a failed CDN purge is reported to the cache's onEvent (or the invalidator's own)", async () => {
    const events: CacheEvent[] = [];
    const cache = new CacheManager({
      config: { cdn: { enabled: true, distributionId: "E1" } },
      onEvent: (e) => events.push(e),
    });
    const failing = {
      purge: () => Promise.reject(new Error("AccessDenied")),
    };
    const invalidator = new CacheInvalidator({ cache, purger: failing });
    const report = await invalidator.invalidate("/img/*");
    expect(report.cdn).toMatchObject({ ok: false });
    expect(events).toEqual([expect.objectContaining({ type: "purge-failed", paths: ["/img/*"] })]);
    const own: CacheEvent[] = [];
    await new CacheInvalidator({ cache, purger: failing, onEvent: (e) => own.push(e) }).invalidate("/a");
    expect(own).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(() => new CacheInvalidator({ cache, onEvent: 1 as never })).toThrow(expect.objectContaining({ key: "onEvent" }));
    await cache.close();
  });
});
