/**
 * Each runtime case quoted in issue #21 (bad input) and item 1 of issue #24 (the seed's shapes), on
 * real Redis and PostgreSQL. Every one of these failed on the code before the one validator: a silent
 * accept, an untyped TypeError/RangeError, a NaN pool, or a breaker opened for every caller.
 */
import {
  CacheManager,
  clientAddressKey,
  ConnectionPoolManager,
  CPUProfiler,
  createPool,
  MemoryMonitor,
  MemoryStore,
  MessageBatcher,
  normalizeAddress,
  PressureGate,
  ProfileTrigger,
  RateLimiter,
  ReconnectingClient,
  RedisStore,
  ResponseCompressor,
  StatsRefresher,
  UaipError,
  WebSocketManager,
  type ManagedPool,
} from "./public-surface";
import { PostgresServer } from "../../../test/helpers/postgres";
import { RedisServer } from "../../../test/helpers/redis";

let redis: RedisServer;
let postgres: PostgresServer;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start({ max_connections: 20 })]);
}, 90_000);
afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).map((c) => c()));
});
afterAll(async () => {
  await Promise.allSettled([redis?.stop(), postgres?.destroy()]);
});

/** The typed error a call throws (or rejects with); fails the test on success or on an untyped error. */
async function refusal(call: () => unknown): Promise<UaipError & { key: string }> {
  let made: unknown;
  try {
    made = await call();
  } catch (err) {
    expect(err).toBeInstanceOf(UaipError);
    return err as UaipError & { key: string };
  }
  const m = made as { close?: () => unknown; drain?: (n: number) => unknown } | undefined;
  await (m?.drain ? m.drain(0) : m?.close?.());
  throw new Error("expected a typed refusal, the call succeeded");
}

const database = () => postgres.database();
const poolConfig = { minConnections: 1, maxConnections: 5, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 2_000 };

describe("issue #21: silent typos in the eleven classes are refused by name, with a did-you-mean", () => {
  let pool: ManagedPool;
  beforeAll(() => {
    pool = createPool({ pool: poolConfig, database: database() });
  });
  afterAll(() => pool.close());

  const strategy = { initialDelay: 10, maxDelay: 100, factor: 2 };
  it.each([
    [
      "WebSocketManager",
      () => new WebSocketManager({ maxConnections: 1, heartbeatInterval: 1_000, heartbeatIntreval: 5 } as never),
      "heartbeatInterval",
    ],
    ["MessageBatcher", () => new MessageBatcher({ broadcast: async () => undefined, batchSzie: 5 } as never), "batchSize"],
    [
      "ReconnectingClient",
      () => new ReconnectingClient({ url: "ws://127.0.0.1:1", reconnectStrategy: strategy, maxQueue: 5 } as never),
      "maxQueued",
    ],
    ["MemoryMonitor", () => new MemoryMonitor({}, { hysteresys: 0.2 } as never), "hysteresis"],
    ["PressureGate", () => new PressureGate(new MemoryMonitor({}), { retryAfterSecond: 5 } as never), "retryAfterSeconds"],
    ["ResponseCompressor", () => new ResponseCompressor({ treshold: 10 } as never), "threshold"],
    ["CPUProfiler", () => new CPUProfiler({ maxDurationMS: 10 } as never), "maxDurationMs"],
    ["ProfileTrigger", () => new ProfileTrigger({ profiler: new CPUProfiler(), tokne: "x" } as never), "token"],
    ["createPool", () => createPool({ pool: { maxConections: 5 }, database: database() } as never), "maxConnections"],
    ["ConnectionPoolManager", () => new ConnectionPoolManager(pool, { interval: 5 } as never), "intervalMs"],
    ["StatsRefresher", () => new StatsRefresher({ pool, intervalMs: 1_000, veiw: "v" } as never), "view"],
    ["clientAddressKey({ hop: 2 })", () => clientAddressKey({ hop: 2 } as never), "hops"],
  ])("%s", async (_name, build, meant) => {
    const err = await refusal(build);
    expect(err.message).toContain(`did you mean "${meant}"`);
  });

  it("lists every bad key of one object at once", async () => {
    const err = await refusal(
      () => new WebSocketManager({ maxConnections: -1, heartbeatInterval: Number.NaN, extra: 1 } as never),
    );
    for (const piece of ["maxConnections", "-1", "heartbeatInterval", "NaN", '"extra"']) expect(err.message).toContain(piece);
  });
});

describe("issue #21: per-call values are that call's typed error and never change shared state", () => {
  it("cache.set(k, v, { tll }) is refused by name", async () => {
    const cache = new CacheManager();
    cleanups.push(() => cache.close());
    const err = await refusal(() => cache.set("k", 1, { tll: 5 } as never));
    expect(err.message).toContain('did you mean "ttl"');
  });

  it("cache.set(k, v, { ttl: 1e300 }) fails alone: the breaker stays closed and the next set reaches Redis", async () => {
    const cache = new CacheManager({ redis: { host: "127.0.0.1", port: redis.port, commandTimeoutMs: 1_000 } });
    cleanups.push(() => cache.close());
    expect(await cache.ready()).toBe(true);
    // More than the breaker's failureThreshold (5) calls: had any reached Redis, the breaker would open.
    for (let i = 0; i < 8; i++) {
      const err = await refusal(() => cache.set("k", i, { ttl: 1e300 }));
      expect(err).toMatchObject({ code: "UAIP_CACHE_INVALID_OPTIONS", key: "ttl" });
      expect(err.message).toContain("1e+300");
    }
    expect(cache.l2State).toBe("closed");
    expect(await cache.set("k", "ok")).toEqual({ key: "k", complete: true });
  });

  it("getOrSet(k, 5) is a typed error naming the loader", async () => {
    const cache = new CacheManager();
    cleanups.push(() => cache.close());
    expect(await refusal(() => cache.getOrSet("k", 5 as never))).toMatchObject({ key: "loader" });
  });
});

describe("issue #21: untyped errors become typed ones, the value shown as written", () => {
  it("a BigInt option: the typed error, not 'Do not know how to serialize a BigInt'", async () => {
    const err = await refusal(() => new RateLimiter({ windowMs: 10n, maxRequests: 1 } as never));
    expect(err).toMatchObject({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key: "windowMs" });
    expect(err.message).toContain("10n");
  });

  it("a circular option value is shown, not serialised", async () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    const err = await refusal(() => new MemoryStore({ maxKeys: loop } as never));
    expect(err.message).toContain("[Circular");
  });

  it('RedisStore({ url: "not a url" })', async () => {
    const err = await refusal(() => new RedisStore({ url: "not a url" }));
    expect(err).toMatchObject({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key: "url" });
    expect(err.message).toContain('"not a url"');
  });

  it('cidrs: "10.0.0.0/8" (a string, not a list) says to wrap it', async () => {
    const err = await refusal(() => clientAddressKey({ hops: 1, cidrs: "10.0.0.0/8" as never }));
    expect(err).toMatchObject({ key: "trustedProxy.cidrs" });
    expect(err.message).toContain('["10.0.0.0/8"]');
  });

  it("normalizeAddress(123)", async () => {
    expect((await refusal(() => normalizeAddress(123 as never))).message).toContain("123");
  });
});

describe("issue #21: durations above 2^31-1 ms are refused where Node would fire them after 1 ms", () => {
  const TOO_LONG = 2 ** 32;
  it.each([
    ["MemoryMonitor memoryMonitoring.interval", () => new MemoryMonitor({ memoryMonitoring: { interval: TOO_LONG } })],
    ["MessageBatcher flushInterval", () => new MessageBatcher({ broadcast: async () => undefined, flushInterval: TOO_LONG })],
    ["WebSocketManager heartbeatInterval", () => new WebSocketManager({ maxConnections: 1, heartbeatInterval: TOO_LONG })],
    [
      "StatsRefresher intervalMs (database.statsRefreshInterval)",
      () => new StatsRefresher({ pool: createPool({ pool: poolConfig, database: database() }), intervalMs: TOO_LONG }),
    ],
    ["CacheManager memory.ttl", () => new CacheManager({ memory: { ttl: TOO_LONG } })],
  ])("%s", async (_name, build) => {
    const err = await refusal(build);
    expect(err.message).toContain(String(TOO_LONG));
    expect(err.message).toContain(String(2 ** 31 - 1));
  });
});

describe("issue #24 item 1: the seed's shapes work as written, or are refused by name with the form that works", () => {
  it("new ConnectionPoolManager(poolConfig) is refused, pointing to createPool", async () => {
    const err = await refusal(() => new ConnectionPoolManager(poolConfig as never));
    expect(err.message).toContain("new ConnectionPoolManager(createPool({ pool: poolConfig, database }))");
  });

  it("createPool(poolConfig) is refused with the form that works", async () => {
    expect((await refusal(() => createPool(poolConfig as never))).message).toContain("createPool({ pool: poolConfig, database:");
  });

  it("createPool({ pool: { maxConnections: 5 }, database }) takes the defaults and queries (never NaN)", async () => {
    const pool = createPool({ pool: { maxConnections: 5 }, database: database() } as never);
    cleanups.push(() => pool.close());
    expect(pool.stats()).toMatchObject({ min: 2, max: 5 });
    const r = await pool.query<{ one: number }>("SELECT 1 AS one");
    expect(r.rows[0].one).toBe(1);
  });

  it("database.hostname (a typo) is refused, not a silent 127.0.0.1", async () => {
    const { host, ...rest } = database();
    const err = await refusal(() => createPool({ pool: poolConfig, database: { ...rest, hostname: host } } as never));
    expect(err).toMatchObject({ key: "database.hostname" });
    expect(err.message).toContain('did you mean "host"');
  });

  it("min > max from code names the options", async () => {
    const err = await refusal(() =>
      createPool({ pool: { ...poolConfig, minConnections: 5, maxConnections: 1 }, database: database() }),
    );
    expect(err.key).toBe("pool.minConnections");
    expect(err.message).toMatch(/pool\.minConnections: \(5\) exceeds pool\.maxConnections \(1\)/);
  });

  it("new MessageBatcher() names the one thing it needs; with it, the seed's 100 / 100 ms defaults", async () => {
    expect(await refusal(() => new MessageBatcher())).toMatchObject({ key: "broadcast" });
    const batcher = new MessageBatcher({ broadcast: async () => undefined });
    cleanups.push(() => batcher.close());
    expect([batcher.batchSize, batcher.flushInterval]).toEqual([100, 100]);
  });

  it("a subclass with its own broadcast(batch) method (the seed's shape) needs no options", async () => {
    const sent: number[][] = [];
    class Batcher extends MessageBatcher<number> {
      async broadcast(batch: number[]): Promise<void> {
        sent.push(batch);
      }
    }
    const batcher = new Batcher();
    await batcher.addMessage(1);
    await batcher.flush();
    await batcher.close();
    expect(sent).toEqual([[1]]);
  });

  it("server-side new WebSocketManager({ maxConnections, heartbeatInterval }) works without reconnectStrategy", async () => {
    const ws = new WebSocketManager({ maxConnections: 10, heartbeatInterval: 1_000 });
    cleanups.push(() => ws.drain(0));
    expect([ws.maxConnections, ws.heartbeatInterval, ws.reconnectStrategy]).toEqual([10, 1_000, undefined]);
  });

  it('cache.delete("a:*") refuses the glob, pointing to invalidate, and loses nothing', async () => {
    const cache = new CacheManager({ redis: { host: "127.0.0.1", port: redis.port, commandTimeoutMs: 1_000 } });
    cleanups.push(() => cache.close());
    await cache.set("a:1", 1);
    const err = await refusal(() => cache.delete("a:*"));
    expect(err).toMatchObject({ code: "UAIP_CACHE_INVALID_KEY" });
    expect(err.message).toContain('cache.invalidate("a:*")');
    expect(await cache.get("a:1")).toBe(1);
    expect((await cache.invalidate("a:*")).l2).toBe(1);
    expect(await cache.get("a:1")).toBeNull();
  });
});
