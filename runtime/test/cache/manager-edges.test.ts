/**
 * Edges of the two-tier CacheManager (issue #22): what each tier holds on both sides of each bound, and what
 * happens when exactly one Redis command fails. Real redis-server throughout; a single command is made to fail
 * with a Redis ACL user that lacks it (NOPERM: Redis answers every other command), so a failure is
 * deterministic and needs no stopped server or timing window.
 */
import fc from "fast-check";
import Redis from "ioredis";
import { Registry } from "prom-client";
import { CacheKeyError, CacheManager, CacheOptionsError, CacheValueError, type CacheManagerOptions } from "../../src/cache";
import { CACHE_OPERATION } from "../../src/cache/metrics";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";
import { useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open: CacheManager[] = [];

/** Waits for `cond` (polling every 20 ms); false after `limitMs`. */
async function eventually(cond: () => boolean | Promise<boolean>, limitMs = 5_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(20);
  }
  return false;
}

/**
 * Commands get 2 s unless a test sets its own timeout: the default 50 ms is exceeded now and then on the loaded
 * shared machine, and a command that times out is a failure the test did not ask for.
 */
const SLACK = { commandTimeoutMs: 2_000 };

/** A cache on the test's redis-server, as `user` (an ACL user) when given. Closed after each test. */
function cache(options: CacheManagerOptions = {}, user?: string): CacheManager {
  let url = fx.server.url;
  if (user) {
    const u = new URL(url);
    u.username = user;
    u.password = "pw";
    url = u.toString();
  }
  const c = new CacheManager({
    url,
    jitter: 0,
    ...options,
    config: { ...options.config, redis: { ...SLACK, ...options.config?.redis } },
  });
  open.push(c);
  return c;
}

/** An ACL user allowed every command but `denied` (e.g. "unlink", "scan", "get"). */
async function userWithout(name: string, ...denied: string[]): Promise<string> {
  await fx.raw.call("ACL", "SETUSER", name, "reset", "on", ">pw", "~*", "&*", "+@all", ...denied.map((d) => `-${d}`));
  return name;
}

/** Gives `name` the command back (the failure ends; Redis answers it again). */
async function allow(name: string, command: string): Promise<void> {
  await fx.raw.call("ACL", "SETUSER", name, `+${command}`);
}

/** How many `command`s redis-server received so far, run or refused (INFO commandstats: calls + rejected_calls). */
async function calls(command: string): Promise<number> {
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+),.*rejected_calls=(\\d+)`, "m").exec(await fx.raw.info("commandstats"));
  return m ? Number(m[1]) + Number(m[2]) : 0;
}

async function counter(registry: Registry, metric: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(metric)!.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await fx.raw.flushall();
  await fx.raw.call("ACL", "DELUSER", "nounlink", "noscan", "noget", "nopub", "nosub", "noset");
});

describe("keys and options at their bounds", () => {
  it("accepts a key of exactly maxKeyLength characters and refuses one more (property over the bound)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 64 }), async (maxKeyLength) => {
        const c = new CacheManager({ maxKeyLength });
        try {
          const at = "k".repeat(maxKeyLength);
          await expect(c.set(at, 1)).resolves.toEqual({ key: at, complete: true });
          expect(c.getNow(at)).toBe(1);
          await expect(c.get(at + "k")).rejects.toThrow(CacheKeyError);
          await expect(c.set(at + "k", 1)).rejects.toThrow(CacheKeyError);
          expect(c.l1Size).toBe(1);
        } finally {
          await c.close();
        }
      }),
      { numRuns: 20 },
    );
  });

  it("delete refuses a glob and points to invalidate; a loader that is not a function is refused by name", async () => {
    const c = new CacheManager();
    try {
      for (const glob of ["a:*", "a?", "[ab]"]) {
        const error = await c.delete(glob).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CacheKeyError);
        // Names the refused call and the fix, each with the key as written.
        const message = (error as Error).message;
        expect(message).toContain(`delete(${JSON.stringify(glob)})`);
        expect(message).toContain(`invalidate(${JSON.stringify(glob)})`);
      }
      await expect(c.getOrSet("k", 5 as never)).rejects.toMatchObject({ code: CacheOptionsError.CODE, key: "loader" });
      expect(c.l1Size).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("a serializer that returns no string is a CacheValueError and stores nothing", async () => {
    const c = new CacheManager({ serializer: { serialize: () => 42 as unknown as string, deserialize: JSON.parse } });
    try {
      await expect(c.set("k", { a: 1 })).rejects.toThrow(CacheValueError);
      await expect(c.set("k", { a: 1 })).rejects.toThrow(/got object/);
      expect(c.l1Size).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("ready(): true at once without Redis, refuses a negative timeout, false after close", async () => {
    const l1Only = new CacheManager();
    expect(await l1Only.ready(0)).toBe(true);
    await expect(l1Only.ready(-1)).rejects.toMatchObject({ code: CacheOptionsError.CODE, key: "timeoutMs" });
    await l1Only.close();
    const c = cache();
    expect(await c.ready()).toBe(true);
    expect(c.l2State).toBe("closed");
    expect(l1Only.l2State).toBe("none");
  });
});

describe("L1 sizes and lifetimes", () => {
  it("maxBytes bounds the L1 by the serialised value's UTF-8 bytes, not its characters (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom("a", "é", "€"),
        async (length, count, char) => {
          const bytesPer = Buffer.byteLength(JSON.stringify(char.repeat(length)));
          // Room for exactly `count` entries, one byte short of count + 1.
          const maxBytes = bytesPer * (count + 1) - 1;
          const c = new CacheManager({ maxBytes, config: { memory: { maxSize: 1_000 } } });
          try {
            for (let i = 0; i < count + 3; i++) await c.set(`k${i}`, char.repeat(length));
            expect(c.l1Size).toBe(count);
            // The newest ones are kept.
            expect(c.getNow(`k${count + 2}`)).toBe(char.repeat(length));
          } finally {
            await c.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("the L1 copy lives min(per-call ttl, memory.ttl): a per-call ttl shorter than memory.ttl ends it early", async () => {
    const c = new CacheManager({ jitter: 0, config: { memory: { ttl: 60_000 } } });
    try {
      await c.set("short", 1, { ttl: 100 });
      await c.set("long", 2, { ttl: 120_000 });
      await c.set("default", 3);
      expect(c.getNow("short")).toBe(1);
      await sleep(250);
      expect(c.getNow("short")).toBeUndefined();
      expect(c.getNow("long")).toBe(2);
      expect(c.getNow("default")).toBe(3);
    } finally {
      await c.close();
    }
  });

  it("an expired L1 entry: without staleIfErrorMs dropped on read and not counted by a pattern invalidation; with it, kept until invalidated", async () => {
    const ttl = 100;
    const c = new CacheManager({ jitter: 0, config: { memory: { ttl } } });
    const keeping = new CacheManager({ jitter: 0, config: { memory: { ttl } }, staleIfErrorMs: 60_000 });
    try {
      for (const x of [c, keeping]) {
        await x.set("read", 1);
        await x.set("listed", 2);
      }
      await sleep(ttl + 100);
      expect(c.getNow("read")).toBeUndefined();
      expect(c.l1Size).toBe(1); // "read" dropped by the read, "listed" not read yet
      expect(await c.invalidate("*")).toEqual({ pattern: "*", l1: 0, l2: 0, complete: true });
      // With staleIfErrorMs, expired copies are kept (for an outage) until evicted.
      expect(keeping.getNow("read")).toBeUndefined();
      expect(keeping.l1Size).toBe(2);
      // ...and a pattern invalidation removes those too, so an outage can never serve an invalidated copy.
      expect(await keeping.invalidate("*")).toEqual({ pattern: "*", l1: 2, l2: 0, complete: true });
      expect(keeping.l1Size).toBe(0);
    } finally {
      await Promise.all([c.close(), keeping.close()]);
    }
  });

  it("jitter only shortens the Redis TTL, never below 1 ms: a 1 ms ttl with jitter 0.99 is always a valid PX", async () => {
    const c = cache({ jitter: 0.99, bus: false });
    expect(await c.ready()).toBe(true);
    for (let i = 0; i < 60; i++) expect(await c.set(`tiny${i}`, i, { ttl: 1 })).toEqual({ key: `tiny${i}`, complete: true });
    // PEXPIRETIME is the expiry itself (Redis' clock, this machine's): bounded by the times around each set, whatever
    // the load, where PTTL read later would shrink by the wait.
    const expiry = async (set: () => Promise<unknown>, key: string) => {
      const before = Date.now();
      await set();
      const after = Date.now();
      return { before, after, at: Number(await fx.raw.call("PEXPIRETIME", key)) };
    };
    const d = cache({ jitter: 0.3, bus: false });
    for (let i = 0; i < 20; i++) {
      const { before, after, at } = await expiry(() => d.set(`j${i}`, i, { ttl: 100_000 }), `uaip:c:j${i}`);
      expect(at).toBeLessThanOrEqual(after + 100_000);
      expect(at).toBeGreaterThanOrEqual(before + 100_000 * 0.7 - 1);
    }
    const exact = cache({ bus: false });
    const { before, after, at } = await expiry(() => exact.set("exact", 1, { ttl: 100_000 }), "uaip:c:exact");
    expect(at).toBeGreaterThanOrEqual(before + 100_000 - 1);
    expect(at).toBeLessThanOrEqual(after + 100_000);
  });

  it("exactBackfillTtl: a Redis entry without expiry (PTTL -1) is backfilled for memory.ttl", async () => {
    const c = cache({ exactBackfillTtl: true, bus: false, config: { memory: { ttl: 60_000 } } });
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:forever", JSON.stringify("v"));
    expect(await c.get("forever")).toBe("v");
    expect(c.getNow("forever")).toBe("v");
    await fx.raw.set("uaip:c:brief", JSON.stringify("w"), "PX", 150);
    expect(await c.get("brief")).toBe("w");
    await sleep(300);
    expect(c.getNow("brief")).toBeUndefined();
  });
});

describe("L2 reads", () => {
  it("concurrent misses of one key share one GET; a different key gets its own", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:hot", JSON.stringify({ n: 1 }));
    const before = await calls("get");
    const got = await Promise.all([
      ...Array.from({ length: 20 }, () => c.get("hot")),
      ...Array.from({ length: 5 }, () => c.getEntry("hot")),
      c.get("cold"),
    ]);
    expect(got.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => ({ n: 1 })));
    expect(got.slice(20, 25)).toEqual(Array.from({ length: 5 }, () => ({ status: "hit", value: { n: 1 } })));
    expect(got[25]).toBeNull();
    expect((await calls("get")) - before).toBe(2);
    // Once settled, a later miss reads Redis again.
    await fx.raw.set("uaip:c:cold", "2");
    expect(await c.get("cold")).toBe(2);
  });

  it("a read that started before a local write returns its value but does not overwrite the newer L1 copy", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:k", JSON.stringify("old"));
    const read = c.get("k");
    const write = c.set("k", "new");
    expect(await read).toBe("old");
    await write;
    expect(c.getNow("k")).toBe("new");
  });

  it("a read that settles after close() leaves the L1 empty", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:k", "1");
    const read = c.get("k");
    await c.close();
    await read;
    expect(c.l1Size).toBe(0);
  });

  it("an injected client whose command throws instead of rejecting: a failed read like any other (miss, counted, reported)", async () => {
    // A real client on the real server, its GET made to throw synchronously (as a wrapper or a broken client might).
    const real = new Redis(fx.server.url);
    const throwing = new Proxy(real, {
      get(target, property) {
        if (property === "get")
          return () => {
            throw new Error("client refused the call");
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const registry = new Registry();
    const events: { type: string; operation?: string }[] = [];
    const c = cache({ client: throwing, registry, bus: false, onEvent: (e) => events.push(e) });
    try {
      expect(await c.ready()).toBe(true);
      await fx.raw.set("uaip:c:k", "1");
      expect(await c.get("k")).toBeNull();
      expect(await c.getEntry("k")).toEqual({ status: "miss", value: undefined });
      expect(await counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: CACHE_OPERATION.get })).toBe(2);
      expect(events).toEqual([
        expect.objectContaining({ type: "error", operation: CACHE_OPERATION.get }),
        expect.objectContaining({ type: "error", operation: CACHE_OPERATION.get }),
      ]);
      // Writes do not use GET: they still reach Redis.
      expect(await c.set("k", 2)).toEqual({ key: "k", complete: true });
    } finally {
      await c.close();
      real.disconnect();
    }
  });

  it("a key read while the breaker is open is read from Redis again once it closes (no read left behind)", async () => {
    const user = await userWithout("noget", "get");
    const c = cache({ bus: false, breaker: { failureThreshold: 1, cooldownMs: 200 } }, user);
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:k", JSON.stringify("v"));
    expect(await c.get("first")).toBeNull(); // refused: the breaker opens
    expect(c.l2State).toBe("open");
    expect(await c.get("k")).toBeNull(); // skipped while open
    expect(await c.getEntry("k")).toEqual({ status: "miss", value: undefined });
    await allow(user, "get");
    await sleep(250);
    expect(await c.get("probe")).toBeNull(); // the half-open probe succeeds: closed
    expect(c.l2State).toBe("closed");
    expect(await c.get("k")).toBe("v");
  });

  it("a value Redis holds that does not deserialise is a miss and a get error, and the next write replaces it", async () => {
    const registry = new Registry();
    const c = cache({ registry, bus: false });
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:bad", "{not json");
    expect(await c.get("bad")).toBeNull();
    expect(await c.getEntry("bad")).toEqual({ status: "miss", value: undefined });
    expect(c.l1Size).toBe(0);
    expect(await counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: CACHE_OPERATION.get })).toBe(2);
    expect(
      await counter(registry, METRIC.cacheRequestsTotal, {
        [LABEL.tier]: LABEL_VALUE.tierRedis,
        [LABEL.result]: LABEL_VALUE.miss,
      }),
    ).toBe(2);
    await c.set("bad", { ok: true });
    expect(await fx.raw.get("uaip:c:bad")).toBe(JSON.stringify({ ok: true }));
  });

  it("an invalidation during a load makes the next getOrSet load again instead of joining the old one", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    for (const invalidate of [(k: string) => c.delete(k), (k: string) => c.invalidate(k), () => c.invalidate("lo*")]) {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let loads = 0;
      let keeps = 0;
      const loader = async () => {
        loads++;
        await gate;
        return loads;
      };
      const keeper = async () => {
        keeps++;
        await gate;
        return "kept";
      };
      const first = c.getOrSet("load", loader);
      const kept = c.getOrSet("keep", keeper); // a key the invalidation does not name or match
      await eventually(() => loads === 1 && keeps === 1);
      await invalidate("load");
      const second = c.getOrSet("load", loader);
      const keptAgain = c.getOrSet("keep", keeper);
      await eventually(() => loads === 2, 2_000);
      expect(loads).toBe(2);
      expect(keeps).toBe(1); // joined the load in flight
      release();
      await Promise.all([first, second, kept, keptAgain]);
      await c.delete("load");
      await c.delete("keep");
    }
  });
});

describe("an invalidation that Redis refuses (one command failing alone)", () => {
  it("a refused UNLINK queues the key; reads skip Redis for it; a later good set of the key ends the queue entry at once", async () => {
    const user = await userWithout("nounlink", "unlink");
    const c = cache({ breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    await c.set("k", "v1");
    await c.set("other", "o");
    expect(await c.delete("k")).toEqual({ key: "k", complete: false });
    expect(c.pendingInvalidations).toBe(1);
    await sleep(600); // two replays (every 250 ms), both refused: the key stays queued
    expect(c.pendingInvalidations).toBe(1);
    expect(await fx.raw.get("uaip:c:k")).toBe(JSON.stringify("v1")); // still in Redis
    expect(await c.get("k")).toBeNull(); // skipped: Redis may hold the value being removed
    expect(await c.getEntry("k")).toEqual({ status: "miss", value: undefined });
    // Other keys are still read from Redis.
    await fx.raw.set("uaip:c:fresh", JSON.stringify("f"));
    expect(await c.get("fresh")).toBe("f");
    expect(await c.invalidate("nothing-here")).toEqual({ pattern: "nothing-here", l1: 0, l2: 0, complete: false });
    expect(c.pendingInvalidations).toBe(2);
    expect(await c.set("k", "v2")).toEqual({ key: "k", complete: true });
    expect(c.pendingInvalidations).toBe(1);
    expect(await c.get("k")).toBe("v2");
  });

  it("a replay that finds the queue already empty (a later set cleared it) does not stop later replays", async () => {
    const user = await userWithout("nounlink", "unlink");
    const c = cache({ breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    expect((await c.delete("k")).complete).toBe(false);
    expect(await c.set("k", "v")).toEqual({ key: "k", complete: true }); // ends the queue entry: nothing left
    expect(c.pendingInvalidations).toBe(0);
    await sleep(400); // the replay timer set by the failed delete fires on an empty queue
    expect((await c.delete("k2")).complete).toBe(false);
    expect(c.pendingInvalidations).toBe(1);
    await allow(user, "unlink");
    expect(await eventually(() => c.pendingInvalidations === 0)).toBe(true);
  });

  it("a refused SCAN queues the pattern: reads of matching keys skip Redis, others do not; once SCAN works, the replay removes them", async () => {
    const user = await userWithout("noscan", "scan");
    const registry = new Registry();
    const c = cache({ registry, breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:p:1", '"p1"');
    await fx.raw.set("uaip:c:q:1", '"q1"');
    const r = await c.invalidate("p:*");
    expect(r).toEqual({ pattern: "p:*", l1: 0, l2: 0, complete: false });
    expect(c.pendingInvalidations).toBe(1);
    const missesBefore = await counter(registry, METRIC.cacheRequestsTotal, {
      [LABEL.tier]: LABEL_VALUE.tierRedis,
      [LABEL.result]: LABEL_VALUE.miss,
    });
    expect(await c.get("p:1")).toBeNull();
    expect(
      await counter(registry, METRIC.cacheRequestsTotal, {
        [LABEL.tier]: LABEL_VALUE.tierRedis,
        [LABEL.result]: LABEL_VALUE.miss,
      }),
    ).toBe(missesBefore + 1);
    expect(await c.get("q:1")).toBe("q1");
    await sleep(600); // refused replays keep it queued, and the retries go on
    expect(c.pendingInvalidations).toBe(1);
    await allow(user, "scan");
    expect(await eventually(() => c.pendingInvalidations === 0)).toBe(true);
    expect(await fx.raw.exists("uaip:c:p:1")).toBe(0);
    expect(await fx.raw.get("uaip:c:q:1")).toBe('"q1"');
  });

  it("replays more queued keys than one UNLINK batch takes: every one is removed from Redis and from the other instance's L1", async () => {
    const user = await userWithout("nounlink", "unlink");
    const a = cache({ breaker: { failureThreshold: 1_000_000 } }, user);
    const b = cache();
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    const n = 1_234;
    const keys = Array.from({ length: n }, (_, i) => `item:${i}`);
    for (const k of keys) await b.set(k, k);
    expect(b.l1Size).toBe(n);
    for (const k of keys) expect((await a.delete(k)).complete).toBe(false);
    expect(a.pendingInvalidations).toBe(n);
    await allow(user, "unlink");
    expect(await eventually(() => a.pendingInvalidations === 0, 10_000)).toBe(true);
    expect(await fx.raw.dbsize()).toBe(0);
    expect(await eventually(() => b.l1Size === 0)).toBe(true);
  });

  it("the queue holds 10,000 keys; one more collapses it into one whole-namespace invalidation that every read then skips", async () => {
    const user = await userWithout("nounlink", "unlink");
    // The first refused UNLINK opens the breaker for the rest of the test: later deletes fail without a round trip.
    const registry = new Registry();
    const c = cache({ registry, breaker: { failureThreshold: 1, cooldownMs: 600_000 }, bus: false }, user);
    expect(await c.ready()).toBe(true);
    const getErrors = () => counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: CACHE_OPERATION.get });
    for (let i = 0; i < 10_000; i++) await c.delete(`q${i}`);
    expect(c.pendingInvalidations).toBe(10_000);
    // Breaker open: a read of a key not queued is refused by the breaker (a get error)...
    expect(await c.get("unrelated")).toBeNull();
    expect(await getErrors()).toBe(1);
    await c.delete("q10000");
    expect(c.pendingInvalidations).toBe(1);
    // ...and once "*" is queued, every read skips Redis before the breaker is asked (no error counted).
    expect(await c.get("unrelated")).toBeNull();
    expect(await c.get("q5")).toBeNull();
    expect(await getErrors()).toBe(1);
  });
});

describe("a refused command is a counted, reported failure of its own operation", () => {
  // Each call, the command refused, and the operation its failure is counted and reported under.
  const cases = [
    ["get", "get(k)", (c: CacheManager) => c.get("k"), CACHE_OPERATION.get, true],
    ["set", "set(k)", (c: CacheManager) => c.set("k", 1), CACHE_OPERATION.set, true],
    ["unlink", "delete(k)", (c: CacheManager) => c.delete("k"), CACHE_OPERATION.delete, true],
    ["unlink", "invalidate(k)", (c: CacheManager) => c.invalidate("k"), CACHE_OPERATION.invalidate, true],
    // Each pattern invalidation's SCAN succeeds before its PUBLISH fails: never two failures in a row.
    ["publish", "invalidate(k*)", (c: CacheManager) => c.invalidate("k*"), CACHE_OPERATION.publish, false],
  ] as const;

  it.each(cases)(
    "without %s, %s fails under its own operation: counted once, one error event; once the breaker opens, skipped but counted",
    async (command, _label, call, operation, opens) => {
      const user = await userWithout("noget", command);
      const registry = new Registry();
      const events: { type: string; operation?: string; to?: string }[] = [];
      const c = cache(
        { registry, breaker: { failureThreshold: 2, cooldownMs: 600_000 }, onEvent: (e) => events.push(e as never) },
        user,
      );
      const errors = () => counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: operation });
      const errorEvents = () => events.filter((e) => e.type === "error" && e.operation === operation);
      expect(await c.ready()).toBe(true);
      expect(c.l2State).toBe("closed");
      await call(c);
      expect(await errors()).toBe(1);
      expect(errorEvents()).toEqual([
        expect.objectContaining({
          type: "error",
          operation,
          error: expect.objectContaining({ message: expect.stringMatching(/NOPERM/) }),
        }),
      ]);
      // (A queued replay that succeeds in between resets the failure count: retry until the breaker opens.)
      for (let i = 0; i < 10 && c.l2State !== "open"; i++) await call(c);
      if (!opens) {
        expect(c.l2State).toBe("closed");
        expect(await errors()).toBeGreaterThanOrEqual(11);
        return;
      }
      expect(c.l2State).toBe("open");
      expect(events.filter((e) => e.type === "breaker")).toEqual([{ type: "breaker", from: "closed", to: "open" }]);
      // Open: the next call sends nothing and reports no error event, but counts its failure.
      const sent = await calls(command);
      const counted = await errors();
      const reported = errorEvents().length;
      await call(c);
      expect(await calls(command)).toBe(sent);
      expect(errorEvents().length).toBe(reported);
      expect(await errors()).toBe(counted + 1);
    },
  );
});

describe("stale serves while GET alone is refused", () => {
  it("serves an expired L1 copy within staleIfErrorMs (age measured from its expiry), then drops it; a fresh write wins over stale", async () => {
    const user = await userWithout("noget", "get");
    const ttl = 100;
    const staleIfErrorMs = 600;
    const events: { type: string; key?: string; ageMs?: number }[] = [];
    const c = cache(
      {
        config: { memory: { ttl } },
        staleIfErrorMs,
        bus: false,
        breaker: { failureThreshold: 1_000 },
        onEvent: (e) => events.push(e as never),
      },
      user,
    );
    // No bus: plain's writes must not evict c's copies (that would be the bus working, not staleness).
    const plain = cache({ config: { memory: { ttl } }, bus: false, breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    const writeStart = performance.now();
    await c.set("item", { v: 1 });
    await c.set("w", "old");
    await plain.set("item", { v: 1 });
    const writeEnd = performance.now();
    await sleep(ttl + 100);
    const entry = await c.getEntry("item");
    const readEnd = performance.now();
    expect(entry).toMatchObject({ status: "stale", value: { v: 1 } });
    const ageMs = (entry as { ageMs: number }).ageMs;
    expect(ageMs).toBeGreaterThanOrEqual(0);
    expect(ageMs).toBeLessThanOrEqual(readEnd - writeStart - ttl);
    expect(events).toContainEqual(expect.objectContaining({ type: "stale", key: "item" }));
    expect(await c.get("item")).toEqual({ v: 1 });
    let loads = 0;
    expect(await c.getOrSet("item", () => (loads++, { v: 2 }))).toEqual({ v: 1 });
    expect(loads).toBe(0);
    // Without staleIfErrorMs the same refusal is a miss.
    expect(await plain.getEntry("item")).toEqual({ status: "miss", value: undefined });
    expect(await plain.getOrSet("item", () => (loads++, { v: 3 }))).toEqual({ v: 3 });
    expect(loads).toBe(1);

    // Written again while the refused GET was in flight: a hit, not a stale serve.
    const inFlight = c.getEntry("w");
    void c.set("w", "new");
    expect(await inFlight).toEqual({ status: "hit", value: "new" });

    // Past the window: a miss, the loader runs, and the old copy is gone from the L1.
    await sleep(writeEnd + ttl + staleIfErrorMs + 50 - performance.now());
    const sizeBefore = c.l1Size;
    expect(await c.getEntry("item")).toEqual({ status: "miss", value: undefined });
    expect(c.l1Size).toBe(sizeBefore - 1);
    expect(await c.get("item")).toBeNull();
  });
});

describe("invalidate: plain keys, escaped globs, counts", () => {
  it("a plain key reports what each tier held; an escaped glob removes only the literal key", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    await c.set("a*", 1);
    await c.set("ab", 2);
    expect(await c.invalidate("a\\*")).toEqual({ pattern: "a\\*", l1: 1, l2: 1, complete: true });
    expect(c.getNow("ab")).toBe(2);
    expect(await fx.raw.exists("uaip:c:ab")).toBe(1);
    await fx.raw.set("uaip:c:only-l2", "1");
    expect(await c.invalidate("only-l2")).toEqual({ pattern: "only-l2", l1: 0, l2: 1, complete: true });
    await c.set("both", 1);
    expect(await c.invalidate("both")).toEqual({ pattern: "both", l1: 1, l2: 1, complete: true });
    expect(await c.invalidate("both")).toEqual({ pattern: "both", l1: 0, l2: 0, complete: true });
    expect(c.pendingInvalidations).toBe(0); // complete: nothing queued
    const l1Only = new CacheManager();
    await l1Only.set("x", 1);
    expect(await l1Only.invalidate("x")).toEqual({ pattern: "x", l1: 1, l2: 0, complete: true });
    expect(await l1Only.invalidate("x")).toEqual({ pattern: "x", l1: 0, l2: 0, complete: true });
    await l1Only.close();
  });

  it("the SCAN COUNT hint is scanCount (default 1000): a small hint takes more SCAN steps for the same keys", async () => {
    const steps = async (options: CacheManagerOptions): Promise<number> => {
      for (let i = 0; i < 600; i++) await fx.raw.set(`uaip:c:s:${i}`, "1");
      const c = cache({ bus: false, ...options });
      expect(await c.ready()).toBe(true);
      const before = await calls("scan");
      expect(await c.invalidate("s:*")).toMatchObject({ l2: 600, complete: true });
      return (await calls("scan")) - before;
    };
    expect(await steps({})).toBeLessThanOrEqual(2);
    expect(await steps({ scanCount: 50 })).toBeGreaterThanOrEqual(6);
  });

  it("reads PTTL only with exactBackfillTtl", async () => {
    const c = cache({ bus: false });
    const exact = cache({ bus: false, exactBackfillTtl: true });
    await Promise.all([c.ready(), exact.ready()]);
    await fx.raw.set("uaip:c:k", "1", "PX", 60_000);
    const before = await calls("pttl");
    expect(await c.get("k")).toBe(1);
    expect(await calls("pttl")).toBe(before);
    expect(await exact.get("k")).toBe(1);
    expect(await calls("pttl")).toBe(before + 1);
  });
});

describe("namespaces, identity and connections", () => {
  it("a plain-key invalidate on A drops the key from B's L1 (the bus message names it)", async () => {
    const a = cache();
    const b = cache();
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    await b.set("k", 1);
    await b.set("other", 2);
    expect(b.getNow("k")).toBe(1);
    expect(await a.invalidate("k")).toMatchObject({ pattern: "k", complete: true });
    expect(await eventually(() => b.getNow("k") === undefined)).toBe(true);
    expect(b.getNow("other")).toBe(2);
  });

  it("each keyPrefix has its own bus channel: a write under one prefix never evicts another prefix's L1", async () => {
    const a = cache({ config: { redis: { keyPrefix: "one:" } } });
    const b = cache({ config: { redis: { keyPrefix: "two:" } } });
    const a2 = cache({ config: { redis: { keyPrefix: "one:" } } });
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    expect(await a2.ready()).toBe(true);
    expect(a.keyPrefix).toBe("one:");
    await b.set("k", "b");
    await a2.set("k", "a2");
    await a.set("k", "a");
    // a2 (same prefix) drops its copy; b (another prefix) keeps its own.
    expect(await eventually(() => a2.getNow("k") === undefined)).toBe(true);
    expect(b.getNow("k")).toBe("b");
    expect(await fx.raw.get("two:c:k")).toBe(JSON.stringify("b"));
    expect(await fx.raw.get("one:c:k")).toBe(JSON.stringify("a"));
  });

  it("instanceId: the one given, else a different random one per instance", async () => {
    const given = new CacheManager({ instanceId: "pod-7" });
    const x = new CacheManager();
    const y = new CacheManager();
    expect(given.instanceId).toBe("pod-7");
    expect(x.instanceId).not.toBe(y.instanceId);
    expect(x.instanceId.length).toBeGreaterThan(0);
    await Promise.all([given.close(), x.close(), y.close()]);
  });

  it("config.redis.host alone turns L2 on", async () => {
    const c = new CacheManager({
      config: { redis: { ...SLACK, host: "127.0.0.1", port: Number(new URL(fx.server.url).port) } },
      bus: false,
    });
    open.push(c);
    expect(c.l2State).toBe("closed");
    expect(await c.ready()).toBe(true);
    await c.set("viaHost", 1);
    expect(await fx.raw.get("uaip:c:viaHost")).toBe("1");
  });

  it("an unreachable Redis: ready() answers false at its timeout (and at once after close), its own connection errors are reported", async () => {
    const events: { type: string; operation?: string }[] = [];
    const registry = new Registry();
    const down = new CacheManager({ url: "redis://127.0.0.1:1", registry, bus: false, onEvent: (e) => events.push(e as never) });
    open.push(down);
    const t0 = performance.now();
    expect(await down.ready(300)).toBe(false);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3_000);
    expect(await eventually(() => events.some((e) => e.type === "error" && e.operation === CACHE_OPERATION.connection))).toBe(
      true,
    );
    expect(await counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: CACHE_OPERATION.connection })).toBeGreaterThan(
      0,
    );
    await down.close();
    const t1 = performance.now();
    expect(await down.ready(5_000)).toBe(false);
    expect(performance.now() - t1).toBeLessThan(1_000);
  });

  it("close() forgets queued invalidations and stops their retries", async () => {
    const user = await userWithout("nounlink", "unlink");
    const c = cache({ breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    await c.delete("k");
    expect(c.pendingInvalidations).toBe(1);
    await c.close();
    expect(c.pendingInvalidations).toBe(0);
    const unlinks = await calls("unlink");
    await sleep(600);
    expect(await calls("unlink")).toBe(unlinks);
  });
});

describe("the bus, its absence, and the end of an instance", () => {
  it("without the bus nothing is published; with it, one PUBLISH per set, delete and pattern invalidation", async () => {
    for (const bus of [false, true]) {
      const c = cache({ bus });
      expect(await c.ready()).toBe(true);
      const before = await calls("publish");
      await c.set("k", 1);
      await c.delete("k");
      await c.invalidate("k");
      await c.invalidate("k*");
      expect((await calls("publish")) - before).toBe(bus ? 4 : 0);
    }
  });

  it("a pattern invalidation whose PUBLISH is refused stays queued through refused replays, then clears", async () => {
    const user = await userWithout("nopub", "publish");
    const c = cache({ breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:p:1", "1");
    expect(await c.invalidate("p:*")).toEqual({ pattern: "p:*", l1: 0, l2: 1, complete: false });
    await sleep(600);
    expect(c.pendingInvalidations).toBe(1);
    await allow(user, "publish");
    expect(await eventually(() => c.pendingInvalidations === 0)).toBe(true);
  });

  it("a resubscribed bus (its connection was dropped) flushes the L1: invalidations sent meanwhile were lost", async () => {
    const c = cache();
    expect(await c.ready()).toBe(true);
    await c.set("k", 1);
    expect(c.l1Size).toBe(1);
    await fx.raw.client("KILL", "TYPE", "pubsub");
    expect(await eventually(() => c.l1Size === 0)).toBe(true);
    expect(await c.ready()).toBe(true);
    expect(await c.get("k")).toBe(1); // still in Redis
  });

  it("a subscriber that stops answering the heartbeat is reported (busHeartbeatMs)", async () => {
    const registry = new Registry();
    const events: { type: string; operation?: string; error?: unknown }[] = [];
    const c = cache({ registry, busHeartbeatMs: 100, onEvent: (e) => events.push(e as never) });
    expect(await c.ready()).toBe(true);
    fx.server.pause();
    try {
      await sleep(600);
    } finally {
      fx.server.resume();
    }
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "error",
        operation: CACHE_OPERATION.subscribe,
        error: expect.objectContaining({ message: expect.stringMatching(/heartbeat/) }),
      }),
    );
    expect(await counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: CACHE_OPERATION.subscribe })).toBeGreaterThan(0);
    expect(await c.ready()).toBe(true);
  });

  it("a reconnected command connection closes an open breaker", async () => {
    const user = await userWithout("nounlink", "unlink");
    const c = cache({ breaker: { failureThreshold: 1, cooldownMs: 600_000 }, bus: false }, user);
    expect(await c.ready()).toBe(true);
    await c.delete("k");
    expect(c.l2State).toBe("open");
    await allow(user, "unlink");
    await fx.raw.client("KILL", "USER", user);
    expect(await eventually(() => c.l2State === "closed")).toBe(true);
    expect(await eventually(() => c.pendingInvalidations === 0)).toBe(true);
  });

  it("an injected client's connection errors are its owner's: not reported as the cache's", async () => {
    const events: { type: string }[] = [];
    const client = new Redis("redis://127.0.0.1:1", { lazyConnect: false, retryStrategy: () => 50 });
    client.on("error", () => undefined);
    const c = new CacheManager({ client, bus: false, onEvent: (e) => events.push(e) });
    open.push(c);
    expect(c.l2State).toBe("closed"); // the injected client alone makes the L2 tier
    await sleep(300);
    expect(events).toEqual([]);
    await c.close();
    client.disconnect();
  });

  it("a delete or pattern invalidation that fails as close() runs is not queued after it", async () => {
    const user = await userWithout("noscan", "scan", "unlink");
    for (const call of [(c: CacheManager) => c.delete("k"), (c: CacheManager) => c.invalidate("p*")]) {
      const c = cache({ breaker: { failureThreshold: 1_000 } }, user);
      expect(await c.ready()).toBe(true);
      const pending = call(c);
      await c.close();
      expect((await pending).complete).toBe(false);
      expect(c.pendingInvalidations).toBe(0);
    }
  });
});

describe("settings that reach the L1, the timeouts and the connection", () => {
  it("memory.maxSize bounds the L1 entries; a read does not extend an entry's life (updateAgeOnGet off)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 10 }), async (maxSize, extra) => {
        const c = new CacheManager({ config: { memory: { maxSize } } });
        try {
          for (let i = 0; i < maxSize + extra; i++) await c.set(`k${i}`, i);
          expect(c.l1Size).toBe(Math.min(maxSize, maxSize + extra));
          expect(c.getNow(`k${maxSize + extra - 1}`)).toBe(maxSize + extra - 1);
        } finally {
          await c.close();
        }
      }),
      { numRuns: 15 },
    );
    const ttl = 400;
    const c = new CacheManager({ jitter: 0, config: { memory: { ttl } } });
    try {
      const written = performance.now();
      await c.set("k", 1);
      await sleep(ttl / 2);
      expect(c.getNow("k")).toBe(1);
      const readAt = performance.now();
      await sleep(written + ttl + 50 - performance.now());
      // Only conclusive while a refreshed entry (readAt + ttl) would still be alive.
      if (performance.now() < readAt + ttl - 20) expect(c.getNow("k")).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it("a command against a hung Redis answers within commandTimeoutMs plus one sweep (a fifth of it), not later", async () => {
    const commandTimeoutMs = 300;
    const c = cache({ bus: false, config: { redis: { commandTimeoutMs } }, breaker: { failureThreshold: 1_000 } });
    expect(await c.ready()).toBe(true);
    fx.server.pause();
    try {
      const t0 = performance.now();
      expect(await c.get("k")).toBeNull();
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(commandTimeoutMs - 5);
      // commandTimeoutMs + a sweep of commandTimeoutMs / 5, with slack for a loaded machine (a sweep of 5 x
      // commandTimeoutMs would be 1,800 ms).
      expect(took).toBeLessThan(commandTimeoutMs * 1.2 + 800);
    } finally {
      fx.server.resume();
    }
  });

  it("a pattern invalidation's SCAN step waits invalidateCommandTimeoutMs, by default max(1 s, 20 x commandTimeoutMs)", async () => {
    const timeOf = async (options: CacheManagerOptions): Promise<number> => {
      const c = cache({ bus: false, breaker: { failureThreshold: 1_000 }, ...options });
      expect(await c.ready()).toBe(true);
      fx.server.pause();
      try {
        const t0 = performance.now();
        expect((await c.invalidate("p*")).complete).toBe(false);
        return performance.now() - t0;
      } finally {
        fx.server.resume();
        await c.close();
      }
    };
    // Default with commandTimeoutMs 100: 2,000 ms (not 1,000).
    expect(await timeOf({ config: { redis: { commandTimeoutMs: 100 } } })).toBeGreaterThanOrEqual(1_990);
    const given = await timeOf({ config: { redis: { commandTimeoutMs: 100 } }, invalidateCommandTimeoutMs: 300 });
    expect(given).toBeGreaterThanOrEqual(295);
    expect(given).toBeLessThan(1_800); // the default would be 2,000
  }, 20_000);

  it("the password option authenticates the URL's user", async () => {
    await fx.raw.call("ACL", "SETUSER", "nopub", "reset", "on", ">secret", "~*", "&*", "+@all");
    const u = new URL(fx.server.url);
    u.username = "nopub";
    const c = new CacheManager({ url: u.toString(), password: "secret", bus: false, config: { redis: SLACK } });
    open.push(c);
    expect(await c.ready(5_000)).toBe(true);
    expect(await c.set("authed", 1)).toEqual({ key: "authed", complete: true });
  });
});

describe("what stays in flight, and what each tier answers on paths no other test took", () => {
  it("a read in flight never backfills over a newer local write, whatever writes and invalidations of other keys ran meanwhile (property)", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    // Each step runs in the caller's turn, before the GET sent first can be answered (one connection, in order).
    const steps = {
      setOther: () => c.set("other", 1),
      deleteOther: () => c.delete("other"),
      invalidateOther: () => c.invalidate("other"),
      patternOther: () => c.invalidate("oth*"),
    };
    type Step = keyof typeof steps;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...(Object.keys(steps) as Step[])), { maxLength: 3 }),
        fc.nat(3),
        async (others, at) => {
          await c.delete("k");
          await fx.raw.set("uaip:c:k", JSON.stringify("old"));
          const read = c.get("k");
          const sequence: (Step | "setK")[] = [...others];
          sequence.splice(Math.min(at, others.length), 0, "setK");
          const done = sequence.map((step) => (step === "setK" ? c.set("k", "new") : steps[step]()));
          expect(await read).toBe("old"); // the value Redis held when the read was sent
          await Promise.all(done);
          expect(c.getNow("k")).toBe("new");
        },
      ),
      // One step on each side of the write: every pair whose epoch changes could cancel out.
      {
        numRuns: 20,
        examples: [
          [["deleteOther"], 0],
          [["deleteOther"], 1],
          [["invalidateOther"], 1],
          [["patternOther"], 1],
        ],
      },
    );
  });

  it("a read of a key after its delete or invalidation asks Redis again instead of joining the read in flight; other keys' reads stay shared", async () => {
    const c = cache({ bus: false });
    expect(await c.ready()).toBe(true);
    const drops: [string, (k: string) => Promise<unknown>, boolean][] = [
      ["delete", (k) => c.delete(k), true],
      ["invalidate", (k) => c.invalidate(k), true],
      // A pattern's UNLINK follows its SCAN's reply: the later GET may still find the value, but it is its own GET.
      ["pattern", (k) => c.invalidate(`${k.slice(0, 2)}*`), false],
    ];
    for (const [name, drop, gone] of drops) {
      await fx.raw.set("uaip:c:key", JSON.stringify("old"));
      const gets = await calls("get");
      const first = c.get("key");
      const dropped = drop("key");
      const after = c.get("key");
      expect(await first).toBe("old");
      const value = await after;
      if (gone) expect([name, value]).toEqual([name, null]);
      await dropped;
      expect([name, (await calls("get")) - gets]).toEqual([name, 2]);
    }
    // A read of a key the pattern does not match stays shared.
    const gets = await calls("get");
    const reads = [c.get("other"), c.invalidate("ke*"), c.get("other")];
    await Promise.all(reads);
    expect((await calls("get")) - gets).toBe(1);
  });

  it("a settled load is unregistered (after a failed one the next call loads again); one an invalidation superseded leaves the newer load registered", async () => {
    const c = new CacheManager();
    try {
      // A settled load is unregistered: after a failed one, the next call loads again.
      await expect(c.getOrSet("f", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
      expect(await c.getOrSet("f", () => "up")).toBe("up");
      let failFirst!: (e: Error) => void;
      let finishSecond!: (v: string) => void;
      const first = c.getOrSet("k", () => new Promise<string>((_, reject) => (failFirst = reject)));
      await eventually(() => failFirst !== undefined);
      await c.delete("k");
      const second = c.getOrSet("k", () => new Promise<string>((resolve) => (finishSecond = resolve)));
      await eventually(() => finishSecond !== undefined);
      failFirst(new Error("first load failed"));
      await expect(first).rejects.toThrow("first load failed");
      let thirdLoads = 0;
      const third = c.getOrSet("k", () => (thirdLoads++, "third"));
      finishSecond("second");
      expect(await Promise.all([second, third])).toEqual(["second", "second"]);
      expect(thirdLoads).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("an L1 hit through get, getEntry or getOrSet is counted as one, answers a cached null, and calls no loader", async () => {
    const registry = new Registry();
    const c = new CacheManager({ registry });
    try {
      const l1 = (result: string) =>
        counter(registry, METRIC.cacheRequestsTotal, { [LABEL.tier]: LABEL_VALUE.tierMemory, [LABEL.result]: result });
      await c.set("none", null);
      await c.set("one", 1);
      // Without Redis, anything not answered from the L1 would be a miss: these come from the L1.
      expect([await c.get("none"), await c.get("one")]).toEqual([null, 1]);
      expect(await c.getEntry("none")).toEqual({ status: "hit", value: null });
      expect(await c.getEntry("one")).toEqual({ status: "hit", value: 1 });
      let loads = 0;
      expect(await c.getOrSet("none", () => (loads++, 5))).toBeNull();
      expect(await c.getOrSet("one", () => (loads++, 5))).toBe(1);
      expect(loads).toBe(0);
      expect([c.getNow("none"), c.getNow("one")]).toEqual([null, 1]);
      expect([await l1(LABEL_VALUE.hit), await l1(LABEL_VALUE.miss)]).toEqual([8, 0]);
      // A miss is counted by get, getEntry and getOrSet; getNow counts nothing for it.
      expect(c.getNow("absent")).toBeUndefined();
      expect(await c.get("absent")).toBeNull();
      expect(await c.getEntry("absent")).toEqual({ status: "miss", value: undefined });
      expect(await c.getOrSet("absent", () => (loads++, 5))).toBe(5);
      expect([await l1(LABEL_VALUE.hit), await l1(LABEL_VALUE.miss), loads]).toEqual([8, 3, 1]);
      // Without Redis a delete is complete at once: nothing to queue.
      expect(await c.delete("one")).toEqual({ key: "one", complete: true });
      expect(c.pendingInvalidations).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("a refused key or value says which, with the value as written and the serializer's own reason", async () => {
    const c = new CacheManager({
      serializer: {
        serialize: (v) => {
          if (v === "bad") throw new Error("no bad values here");
          return JSON.stringify(v);
        },
        deserialize: JSON.parse,
      },
    });
    try {
      await expect(c.get("")).rejects.toThrow(/non-empty string, got ""/);
      await expect(c.get(42 as never)).rejects.toThrow(/non-empty string, got 42/);
      const error = await c.set("k", "bad").then(
        () => undefined,
        (e: unknown) => e as Error & { cause?: unknown },
      );
      expect(error).toBeInstanceOf(CacheValueError);
      expect(error!.message).toMatch(/"k".*no bad values here/);
      expect(error!.cause).toEqual(new Error("no bad values here"));
      await expect(c.set("k", undefined)).rejects.toThrow(/got undefined/);
      await expect(c.set("k", () => 1)).rejects.toThrow(/got function/);
      expect(c.l1Size).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("ready() answers false at its timeout when the bus subscriber never answers (its PING refused)", async () => {
    const user = await userWithout("nosub", "ping");
    const c = cache({ busHeartbeatMs: 0 }, user);
    const t0 = performance.now();
    expect(await c.ready(300)).toBe(false);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3_000);
    expect(await c.set("k", 1)).toEqual({ key: "k", complete: true }); // the command connection works
  });

  it("without staleIfErrorMs a refused read is a miss, even for a key written locally while it was in flight", async () => {
    const user = await userWithout("noget", "get");
    const c = cache({ bus: false, breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    const read = c.getEntry("w");
    const write = c.set("w", "new");
    expect(await read).toEqual({ status: "miss", value: undefined });
    expect(await write).toEqual({ key: "w", complete: true });
    expect(c.getNow("w")).toBe("new");
  });

  it("invalidations refused at different times share one retry timer: one UNLINK per 250 ms, not one per call", async () => {
    const user = await userWithout("nounlink", "unlink");
    const c = cache({ bus: false, breaker: { failureThreshold: 1_000_000 } }, user);
    expect(await c.ready()).toBe(true);
    for (let i = 0; i < 4; i++) {
      expect((await c.delete(`k${i}`)).complete).toBe(false);
      await sleep(40);
    }
    const before = await calls("unlink");
    await sleep(300);
    // The first refusal's timer fires once in this window (a late timer, not at all); a timer per refused call
    // would send 4 replays.
    expect((await calls("unlink")) - before).toBeLessThanOrEqual(2);
    expect(c.pendingInvalidations).toBe(4);
  });

  it("a refused argument names the call it was given to", async () => {
    const c = new CacheManager();
    try {
      const refusals: [string, () => Promise<unknown>][] = [
        ["CacheManager.ready: timeoutMs", () => c.ready(-1)],
        ["CacheManager.set: ttl", () => c.set("k", 1, { ttl: 0 })],
        ["CacheManager.getOrSet: loader", () => c.getOrSet("k", 5 as never)],
        ["CacheManager.getOrSet: ttl", () => c.getOrSet("k", () => 1, { ttl: 1.5 })],
      ];
      for (const [where, call] of refusals) {
        const message = await call().then(
          () => "accepted",
          (e: unknown) => (e as Error).message,
        );
        expect(message.startsWith(`${where}: `)).toBe(true);
      }
    } finally {
      await c.close();
    }
  });

  it("without exactBackfillTtl a copy read from Redis lives memory.ttl, whatever the value's text", async () => {
    const c = cache({ bus: false, config: { memory: { ttl: 60_000 } } });
    expect(await c.ready()).toBe(true);
    // Values whose reply text has a digit second: read as a remaining TTL, each would live a few ms.
    const values = { n: 12, list: [5, 9], text: "a7" };
    for (const [k, v] of Object.entries(values)) {
      await fx.raw.set(`uaip:c:${k}`, JSON.stringify(v));
      expect(await c.get(k)).toEqual(v);
    }
    await sleep(40);
    for (const [k, v] of Object.entries(values)) expect(c.getNow(k)).toEqual(v);
  });

  it("close() leaves nothing behind: an empty L1, no queued key or pattern, no listener on an injected client", async () => {
    const user = await userWithout("noscan", "scan", "unlink");
    const c = cache({ breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    await c.set("a", 1);
    expect((await c.invalidate("p*")).complete).toBe(false);
    expect((await c.delete("k")).complete).toBe(false);
    expect([c.l1Size, c.pendingInvalidations]).toEqual([1, 2]);
    await c.close();
    expect([c.l1Size, c.pendingInvalidations]).toEqual([0, 0]);
    await c.close(); // idempotent

    const client = new Redis(fx.server.url);
    try {
      const listeners = () => ["ready", "error"].map((e) => client.listenerCount(e));
      const before = listeners();
      const d = new CacheManager({ client, bus: false });
      expect(await d.ready()).toBe(true);
      expect(listeners()[0]).toBeGreaterThan(before[0]);
      await d.close();
      expect(listeners()).toEqual(before);
      expect(await client.ping()).toBe("PONG"); // left open
    } finally {
      client.disconnect();
    }
  });

  it("a Redis Cluster error (CROSSSLOT) behind a read is a miss, counted under the cluster errors with its operation", async () => {
    const real = new Redis(fx.server.url);
    const crossing = new Proxy(real, {
      get(target, property) {
        if (property === "get") return () => Promise.reject(new Error("CROSSSLOT Keys in request don't hash to the same slot"));
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const registry = new Registry();
    const c = cache({ client: crossing, registry, bus: false });
    try {
      expect(await c.ready()).toBe(true);
      expect(await c.get("k")).toBeNull();
      const values = (await registry.getSingleMetric(METRIC.redisClusterErrorsTotal)!.get()).values;
      expect(values.map((v) => [v.labels[LABEL.reason], v.labels[LABEL.operation], v.value])).toEqual([
        ["CROSSSLOT", CACHE_OPERATION.get, 1],
      ]);
    } finally {
      await c.close();
      real.disconnect();
    }
  });

  it("a refused SUBSCRIBE is a bus error: counted and reported under subscribe", async () => {
    const user = await userWithout("nosub", "subscribe");
    const registry = new Registry();
    const events: { type: string; operation?: string; error?: unknown }[] = [];
    const c = cache({ registry, busHeartbeatMs: 0, onEvent: (e) => events.push(e as never) }, user);
    const subscribeErrors = () => counter(registry, METRIC.cacheErrorsTotal, { [LABEL.operation]: CACHE_OPERATION.subscribe });
    expect(await eventually(async () => (await subscribeErrors()) === 1)).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "error",
        operation: CACHE_OPERATION.subscribe,
        error: expect.objectContaining({ message: expect.stringMatching(/NOPERM/) }),
      }),
    );
    // Only the bus is refused: the cache's own commands still reach Redis.
    expect(await c.set("k", 1)).toEqual({ key: "k", complete: true });
  });

  it("a pattern or a key from another instance evicts the matching L1 copies, counted as remote invalidations", async () => {
    const registry = new Registry();
    const a = cache();
    const b = cache({ registry });
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    const remote = () => counter(registry, METRIC.cacheInvalidationsTotal, { [LABEL.operation]: CACHE_OPERATION.remote });
    await b.set("p:1", 1);
    await b.set("p:2", 2);
    await b.set("q:1", 3);
    await a.invalidate("p:*");
    expect(await eventually(async () => (await remote()) === 1)).toBe(true);
    expect([b.getNow("p:1"), b.getNow("p:2"), b.getNow("q:1")]).toEqual([undefined, undefined, 3]);
    expect(await a.delete("q:1")).toEqual({ key: "q:1", complete: true });
    expect(a.pendingInvalidations).toBe(0); // complete: nothing queued
    expect(await eventually(async () => (await remote()) === 2)).toBe(true);
    expect(b.getNow("q:1")).toBeUndefined();
  });
});

describe("the constructor's connection handling, and what a bus reconnect does to a read in flight", () => {
  it("a command is sent in its caller's turn: on a shared injected client, a read called before a write reads what was there before it", async () => {
    // A connecting client (the first connection is waited for once) and then an already-ready one (nothing to wait for).
    const client = new Redis(fx.server.url);
    try {
      const first = new CacheManager({ client, bus: false, jitter: 0, config: { redis: SLACK } });
      open.push(first);
      expect(await first.ready()).toBe(true);
      await first.get("warm"); // the first connection is settled; later reads are not deferred behind it
      // commandTimeoutMs 100: a wait for a first connection that already happened would be 1 s here, not 20 s.
      const second = new CacheManager({ client, bus: false, jitter: 0, config: { redis: { commandTimeoutMs: 100 } } });
      open.push(second);
      for (const [c, key] of [
        [first, "a"],
        [second, "b"],
      ] as const) {
        const read = c.get(key);
        // The same connection, called right after: Redis answers in the order the commands were sent.
        const write = client.set(`uaip:c:${key}`, JSON.stringify("written after the read"));
        expect([key, await read]).toEqual([key, null]);
        await write;
      }
    } finally {
      client.disconnect();
    }
  });

  it("an injected client its owner already closed is not reopened: ready() stays false", async () => {
    const client = new Redis(fx.server.url);
    const ended = new Promise((resolve) => client.once("end", resolve));
    await client.quit();
    await ended;
    const c = new CacheManager({ client, bus: false, config: { redis: SLACK } });
    open.push(c);
    expect(await c.ready(50)).toBe(false);
    expect(client.status).toBe("end");
  });

  it("the first command waits for the first connection (max(1 s, 10 x commandTimeoutMs)) rather than failing at once", async () => {
    // A Redis that takes 300 ms to answer its first INFO (the ready check): the wait is 1 s here, not 10 x 20 ms.
    fx.server.pause();
    let resumed = false;
    const resume = setTimeout(() => {
      resumed = true;
      fx.server.resume();
    }, 300);
    try {
      const c = cache({ bus: false, config: { redis: { commandTimeoutMs: 20 } } });
      const t0 = performance.now();
      await c.get("k");
      // Sent once Redis was ready: not refused by the connection before it resumed.
      expect(resumed).toBe(true);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(270);
    } finally {
      clearTimeout(resume);
      fx.server.resume();
    }
  });

  it("a read in flight while the bus resubscribed does not backfill the L1, whatever local write followed", async () => {
    const client = new Redis(fx.server.url);
    try {
      const c = new CacheManager({ client, jitter: 0, config: { redis: SLACK } });
      open.push(c);
      expect(await c.ready()).toBe(true);
      await fx.raw.set("uaip:c:k", JSON.stringify("old"));
      await c.set("seen", 1);
      // BLPOP holds the shared connection: the GET behind it stays in flight until the gate opens.
      const gate = client.blpop("gate", 5);
      const read = c.get("k");
      await fx.raw.client("KILL", "TYPE", "pubsub");
      expect(await eventually(() => c.getNow("seen") === undefined)).toBe(true); // resubscribed: L1 flushed
      const write = c.set("other", 2);
      await fx.raw.lpush("gate", "open");
      expect(await read).toBe("old");
      await Promise.all([gate, write]);
      expect(c.getNow("k")).toBeUndefined();
      expect(c.getNow("other")).toBe(2);
    } finally {
      client.disconnect();
    }
  });
});

describe("the hot path's answers and counts (get, getOrSet, set) on the paths the other tests did not check", () => {
  it("a key over maxKeyLength is refused naming its length and the bound", async () => {
    const maxKeyLength = 3;
    const c = new CacheManager({ maxKeyLength });
    try {
      const key = "k".repeat(maxKeyLength + 2);
      await expect(c.get(key)).rejects.toThrow(new RegExp(`\\b${key.length} characters.*maxKeyLength ${maxKeyLength}\\b`));
    } finally {
      await c.close();
    }
  });

  it("without Redis, a read the L1 cannot answer is a plain miss: no Redis-tier count, no expired copy served as stale", async () => {
    const registry = new Registry();
    const c = new CacheManager({ registry, staleIfErrorMs: 60_000 });
    try {
      await c.set("k", 1, { ttl: 20 });
      await sleep(40);
      // Nothing is unreachable (there is no Redis): the expired copy is not served.
      expect(await c.get("k")).toBeNull();
      expect(await c.getEntry("k")).toEqual({ status: "miss", value: undefined });
      expect(await c.getOrSet("k", () => 2)).toBe(2);
      const l2 = (result: string) =>
        counter(registry, METRIC.cacheRequestsTotal, { [LABEL.tier]: LABEL_VALUE.tierRedis, [LABEL.result]: result });
      expect([await l2(LABEL_VALUE.hit), await l2(LABEL_VALUE.miss)]).toEqual([0, 0]);
    } finally {
      await c.close();
    }
  });

  it("getOrSet answers a value only Redis holds (another instance wrote it) without calling the loader, and backfills the L1", async () => {
    const registry = new Registry();
    const c = cache({ bus: false, registry });
    expect(await c.ready()).toBe(true);
    await fx.raw.set("uaip:c:r", JSON.stringify({ v: 1 }));
    let loads = 0;
    expect(await c.getOrSet("r", () => (loads++, { v: 2 }))).toEqual({ v: 1 });
    expect(loads).toBe(0);
    expect(c.getNow("r")).toEqual({ v: 1 });
    expect(await fx.raw.get("uaip:c:r")).toBe(JSON.stringify({ v: 1 })); // not overwritten by a load
    expect(
      await counter(registry, METRIC.cacheRequestsTotal, {
        [LABEL.tier]: LABEL_VALUE.tierRedis,
        [LABEL.result]: LABEL_VALUE.hit,
      }),
    ).toBe(1);
  });

  it("a refused SET answers complete: false and queues the key; refused and skipped reads each count one Redis-tier miss", async () => {
    const user = await userWithout("noset", "set", "get", "unlink");
    const registry = new Registry();
    const c = cache({ bus: false, registry, breaker: { failureThreshold: 1_000 } }, user);
    expect(await c.ready()).toBe(true);
    const l2Misses = () =>
      counter(registry, METRIC.cacheRequestsTotal, { [LABEL.tier]: LABEL_VALUE.tierRedis, [LABEL.result]: LABEL_VALUE.miss });
    expect(await c.set("k", "new")).toEqual({ key: "k", complete: false });
    // Redis may keep an older value of k (and other instances their copy): its removal is queued.
    expect(c.pendingInvalidations).toBe(1);
    expect(c.getNow("k")).toBe("new");
    expect(await c.get("absent")).toBeNull(); // GET refused
    expect(await l2Misses()).toBe(1);
    await c.delete("k"); // UNLINK refused: k stays queued, the L1 copy is gone
    const gets = await calls("get");
    expect(await c.get("k")).toBeNull(); // skipped: Redis may hold the value being removed
    expect(await calls("get")).toBe(gets);
    expect(await l2Misses()).toBe(2);
  });

  it("exactBackfillTtl: a key Redis reports as expiring this very millisecond (PTTL 0) is backfilled for memory.ttl, not without expiry", async () => {
    const real = new Redis(fx.server.url);
    // Redis answers PTTL 0 for a key whose expiry is the current millisecond (it clamps a negative rest to 0).
    const expiring = new Proxy(real, {
      get(target, property) {
        if (property === "pttl") return () => Promise.resolve(0);
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const memoryTtl = 30;
    const c = cache({ client: expiring, exactBackfillTtl: true, bus: false, config: { memory: { ttl: memoryTtl } } });
    try {
      expect(await c.ready()).toBe(true);
      await fx.raw.set("uaip:c:now", JSON.stringify("v"));
      expect(await c.get("now")).toBe("v");
      expect(c.getNow("now")).toBe("v");
      await sleep(memoryTtl + 30);
      expect(c.getNow("now")).toBeUndefined();
    } finally {
      await c.close();
      real.disconnect();
    }
  });

  it("close() stops a pattern invalidation between its steps: nothing more is sent on the injected client it leaves open", async () => {
    const client = new Redis(fx.server.url);
    try {
      const c = new CacheManager({ client, jitter: 0, config: { redis: SLACK } });
      open.push(c);
      expect(await c.ready()).toBe(true);
      await fx.raw.set("uaip:c:p1", JSON.stringify(1));
      const publishes = await calls("publish");
      const pending = c.invalidate("p*");
      await c.close();
      expect((await pending).complete).toBe(false);
      expect(await calls("publish")).toBe(publishes);
      expect(client.status).toBe("ready"); // left open: the commands were not sent, not refused by a closed connection
    } finally {
      client.disconnect();
    }
  });
});
