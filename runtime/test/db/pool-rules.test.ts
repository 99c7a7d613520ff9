import fc from "fast-check";
import { Registry } from "prom-client";
import { DbPoolClosedError, DbPoolTimeoutError, DbUnavailableError } from "../../src/db/errors";
import { registerPoolMetrics } from "../../src/db/metrics";
import { createPool, type CreatePoolOptions, type DbSettings, type ManagedPool, type PoolStats } from "../../src/db/pool";
import { RuntimeConfigError } from "../../src/errors";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";
import { silentServer } from "../helpers/silent-server";
import { REFUSED_DATABASE } from "../helpers/refused-database";

/**
 * ManagedPool's rules that need no PostgreSQL (issue #22's mutation run on runtime/src/db): its settings and
 * options, the limit's clamp, the permits a failed connect gives back, the acquire budget, the reader's
 * back-off, close() and warm(), and the pool gauges' sums. The pool points at a port nothing listens on
 * (every connect is refused at once) or at a socket that accepts and never answers (a server that does not
 * finish the handshake). pool.test.ts, pool-edges.test.ts and read-replica.test.ts check the same pool
 * against a real PostgreSQL.
 */

const pools: ManagedPool[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});

/** Every connect refused at once (ECONNREFUSED): nothing listens on port 1. */
const REFUSED: DbSettings["database"] = REFUSED_DATABASE;

function poolOf(
  pool: Partial<DbSettings["pool"]>,
  options: CreatePoolOptions = {},
  database: Partial<DbSettings["database"]> = {},
) {
  const p = createPool(
    {
      pool: { minConnections: 0, maxConnections: 6, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 2_000, ...pool },
      database: { ...REFUSED, ...database },
    },
    options,
  );
  pools.push(p);
  return p;
}

function refusal(fn: () => unknown): RuntimeConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RuntimeConfigError);
    return err as RuntimeConfigError;
  }
  throw new Error("not refused");
}

const settle = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (e: unknown) => e,
  );

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe("createPool settings: every problem at once, by path", () => {
  it("the seed's PoolConfig passed alone is refused with the form that works", () => {
    for (const seed of [{ minConnections: 1 }, { maxConnections: 5, database: REFUSED }, { idleTimeoutMillis: 1 }]) {
      const err = refusal(() => createPool(seed as unknown as DbSettings));
      expect(err.key).toBe("pool");
      expect(err.message).toContain(
        "got the seed's PoolConfig itself; pass it with the connection: createPool({ pool: poolConfig",
      );
    }
  });

  it.each([undefined, null, "postgres://h/db", 5, []])("settings that are not an object (%p) are refused by name", (settings) => {
    const err = refusal(() => createPool(settings as unknown as DbSettings));
    expect(err.message).toMatch(
      settings === undefined ? /^createPool: database: is required/ : /^createPool: options: expected an options object/,
    );
  });

  it("without a database, with unknown keys and bad values, every key is named once", () => {
    const missing = refusal(() => createPool({ pool: {} } as unknown as DbSettings));
    expect(missing.problems!.map((p) => p.key)).toEqual(["database"]);
    expect(missing.message).toBe(
      "createPool: database: is required: { host, port, name, user, password } of the PostgreSQL to connect to",
    );
    const many = refusal(() =>
      createPool({
        pool: { maxConnections: 0, minConnections: -1, idleTimeoutMillis: 2 ** 31 },
        database: { ...REFUSED, port: 70_000, hostname: "x" },
      } as unknown as DbSettings),
    );
    expect(many.problems!.map((p) => p.key).sort()).toEqual(
      ["database.hostname", "database.port", "pool.idleTimeoutMillis", "pool.maxConnections", "pool.minConnections"].sort(),
    );
    expect(many.message).toMatch(/^createPool: 5 invalid options: /);
    expect(many.message).toContain('(did you mean "host"?)');
    const top = refusal(() => createPool({ pool: {}, database: REFUSED, databse: {} } as unknown as DbSettings));
    expect(top.key).toBe("databse");
  });

  it("min <= max and durations up to 2^31 - 1 ms pass; one above either is refused with the numbers", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (max) => {
        expect(poolOf({ minConnections: max, maxConnections: max, idleTimeoutMillis: 2 ** 31 - 1 }).limit).toBe(max);
        const err = refusal(() => poolOf({ minConnections: max + 1, maxConnections: max }));
        expect(err.key).toBe("pool.minConnections");
        expect(err.message).toContain(`(${max + 1}) exceeds pool.maxConnections (${max})`);
      }),
      { numRuns: 10 },
    );
    expect(refusal(() => poolOf({ connectionTimeoutMillis: 2 ** 31 })).key).toBe("pool.connectionTimeoutMillis");
  });

  it("settings read through a replaced prototype are refused in both parts", () => {
    const err = refusal(() =>
      createPool({
        pool: Object.create({ maxConnections: 1_000 }) as DbSettings["pool"],
        database: Object.assign(Object.create({ host: "elsewhere" }) as object, REFUSED) as DbSettings["database"],
      }),
    );
    expect(err.problems!.map((p) => p.key)).toEqual(["pool.__proto__", "database.__proto__"]);
  });

  it("a pool left out gets the profile's defaults (2 to 10), and the limit starts at max(1, min)", () => {
    const p = createPool({ database: REFUSED } as unknown as DbSettings);
    pools.push(p);
    expect([p.min, p.max, p.limit]).toEqual([2, 10, 2]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), (min, extra) => {
        const q = poolOf({ minConnections: min, maxConnections: Math.max(1, min) + extra });
        expect(q.limit).toBe(Math.max(1, min));
        expect(q.stats()).toEqual({ total: 0, idle: 0, inUse: 0, waiting: 0, limit: Math.max(1, min), min, max: q.max });
      }),
      { numRuns: 15 },
    );
  });
});

describe("createPool options", () => {
  it("every bad option is named at once", () => {
    const err = refusal(() =>
      poolOf({}, {
        registry: "r",
        applicationName: 5,
        detectPinning: "yes",
        onPinning: true,
        readerRetryMs: 0,
        readerRetry: 5,
      } as unknown as CreatePoolOptions),
    );
    expect(err.problems!.map((p) => p.key).sort()).toEqual(
      ["applicationName", "detectPinning", "onPinning", "readerRetry", "readerRetryMs", "registry"].sort(),
    );
  });

  it("the options error names createPool", () => {
    expect(refusal(() => poolOf({}, { readerRetryMs: 0 })).message).toMatch(/^createPool: readerRetryMs: expected an integer/);
  });

  it("the reader pool reports into the same registry with the writer's pool settings, and never counts pinning", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 30 }), fc.boolean(), async (min, extra, pin) => {
        const registry = new Registry();
        const max = Math.max(1, min) + extra;
        poolOf({ minConnections: min, maxConnections: max }, { registry, detectPinning: pin }, { readHost: "127.0.0.2" });
        // Writer and reader each: the gauges sum both pools.
        expect(await metricValue(registry, METRIC.dbPoolMaxConnections)).toBe(2 * max);
        expect(await metricValue(registry, METRIC.dbPoolLimit)).toBe(2 * Math.max(1, min));
        expect(registry.getSingleMetric(METRIC.dbPinningStatementsTotal) !== undefined).toBe(pin);
      }),
      { numRuns: 15 },
    );
  });

  it("the pool's metrics go to the registry given, and detectPinning adds its counter there only when on", async () => {
    for (const [option, setting, on] of [
      [undefined, undefined, false],
      [undefined, true, true],
      [false, true, false],
      [true, false, true],
    ] as const) {
      const registry = new Registry();
      poolOf({ detectPinning: setting }, { registry, detectPinning: option });
      expect(await metricValue(registry, METRIC.dbPoolErrorsTotal)).toBe(0);
      expect(registry.getSingleMetric(METRIC.dbPinningStatementsTotal) !== undefined).toBe(on);
    }
  });
});

describe("setLimit", () => {
  it("clamps to [max(1, min), max], rounding down, and reports the value applied", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.oneof(fc.integer({ min: -3, max: 15 }), fc.double({ min: -3, max: 15, noNaN: true })),
        (min, extra, wanted) => {
          const max = Math.max(1, min) + extra;
          const pool = poolOf({ minConnections: min, maxConnections: max });
          let expected = Math.floor(wanted);
          if (expected < Math.max(1, min)) expected = Math.max(1, min);
          if (expected > max) expected = max;
          expect(pool.setLimit(wanted)).toBe(expected);
          expect(pool.limit).toBe(expected);
          expect(pool.stats().limit).toBe(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([Number.NaN, undefined, "3", null, Number.POSITIVE_INFINITY])(
    "refuses %p by name and keeps the limit it had",
    (wanted) => {
      const pool = poolOf({ minConnections: 1, maxConnections: 4 });
      pool.setLimit(3);
      const err = refusal(() => pool.setLimit(wanted as number));
      expect(err.key).toBe("limit");
      expect(err.message).toMatch(/^setLimit: limit: (expected|is required:) a finite number/);
      expect(pool.limit).toBe(3);
    },
  );
});

describe("permits: a connect that fails gives its permit back", () => {
  it("n requests at limit L: n - L of them queue, all fail as DbUnavailableError, and nothing stays taken", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 8 }), async (limit, n) => {
        const pool = poolOf({ maxConnections: 4 });
        pool.setLimit(limit);
        let queued = 0;
        pool.onWaiting(() => queued++);
        const results = await Promise.all(Array.from({ length: n }, (_, i) => settle(pool.query(`SELECT ${i}`))));
        for (const r of results) expect(r).toBeInstanceOf(DbUnavailableError);
        expect(queued).toBe(Math.max(0, n - limit));
        expect(pool.stats()).toMatchObject({ inUse: 0, waiting: 0, total: 0 });
        // Every permit came back: `limit` requests at once run without queueing.
        queued = 0;
        await Promise.all(Array.from({ length: limit }, () => settle(pool.query("SELECT 1"))));
        expect(queued).toBe(0);
        pool.onWaiting(undefined);
        await Promise.all([settle(pool.query("SELECT 1")), settle(pool.query("SELECT 1"))]);
        expect(queued).toBe(0);
      }),
      { numRuns: 12 },
    );
  });
});

describe("the acquire budget (connectionTimeoutMillis) against a server that never answers", () => {
  let hole: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    hole = await silentServer();
  });
  afterAll(async () => {
    await hole.close();
  });

  it("the connect times out with DbPoolTimeoutError, and so does the request queued behind it, within the same budget", async () => {
    const pool = poolOf({ connectionTimeoutMillis: 100 }, {}, { port: hole.port });
    pool.setLimit(1);
    let queued = 0;
    pool.onWaiting(() => queued++);
    const first = settle(pool.query("SELECT 1"));
    const second = settle(pool.query("SELECT 2"));
    expect(queued).toBe(1);
    expect(pool.stats().waiting).toBe(1);
    // The second's own wait and the first's connect are armed with the same 100 ms: it either gets the first's
    // permit when that connect times out, with its budget spent by then, or its wait ends first (which of two
    // equal timers fires first is up to the load). Either way it fails with the same budget, never a fresh one.
    // (pool-edges.test.ts has a request time out in the queue, behind a connection that is held.)
    const [a, b] = (await Promise.all([first, second])) as DbPoolTimeoutError[];
    for (const err of [a, b]) {
      expect(err).toBeInstanceOf(DbPoolTimeoutError);
      expect(err.timeoutMs).toBe(100);
    }
    // Ours or pg's own connect timer (both armed at the full budget for the first) may fire first.
    const CONNECT_TIMED_OUT = /opening a new connection did not finish in time|did not complete the connection handshake/;
    expect(a.message).toMatch(CONNECT_TIMED_OUT);
    expect(b.message).toMatch(new RegExp(`${CONNECT_TIMED_OUT.source}|waited behind 0 other requests for one of 1 connections`));
    expect(pool.stats().waiting).toBe(0);
  });

  it("a request let through by a raised limit connects with what is left of its budget, not a fresh one", async () => {
    const timeoutMs = 400;
    const pool = poolOf({ connectionTimeoutMillis: timeoutMs }, {}, { port: hole.port });
    pool.setLimit(1);
    const first = settle(pool.query("SELECT 1"));
    const started = performance.now();
    const second = settle(pool.query("SELECT 2"));
    const third = settle(pool.query("SELECT 3"));
    await new Promise((r) => setTimeout(r, timeoutMs / 2));
    expect(pool.stats().waiting).toBe(2);
    // One more permit lets exactly one more request through.
    pool.setLimit(2);
    expect(pool.stats().waiting).toBe(1);
    const err = (await second) as DbPoolTimeoutError;
    const took = performance.now() - started;
    expect(err.message).toContain("opening a new connection did not finish in time");
    // Its budget ran from when it asked: about timeoutMs in all (a fresh budget would be 1.5 × timeoutMs).
    expect(took).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(took).toBeLessThan(timeoutMs * 1.4);
    await Promise.all([first, third]);
  });

  it("after a shrink, a permit given back goes to a queued request only once the connections taken are within the limit", async () => {
    const timeoutMs = 300;
    const pool = poolOf({ connectionTimeoutMillis: timeoutMs }, {}, { port: hole.port });
    pool.setLimit(3);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const taken = [settle(pool.query("SELECT 1"))];
    await sleep(100);
    taken.push(settle(pool.query("SELECT 2")));
    await sleep(100);
    taken.push(settle(pool.query("SELECT 3")));
    const queued = settle(pool.query("SELECT 4"));
    expect(pool.stats().waiting).toBe(1);
    pool.setLimit(1);
    // The first connect gave up at ~300 ms and the second at ~400 ms: 3, then 2 taken, above the limit of 1.
    await sleep(150);
    expect(pool.stats().waiting).toBe(1);
    await sleep(100);
    expect(pool.stats().waiting).toBe(1);
    await Promise.all([...taken, queued]);
    expect(pool.stats().waiting).toBe(0);
  });

  it("a read whose reader fails because the pool is closing is not retried on the writer", async () => {
    const registry = new Registry();
    const pool = poolOf({ connectionTimeoutMillis: 100 }, { registry }, { port: hole.port, readHost: "127.0.0.1" });
    const read = settle(pool.read("SELECT 1"));
    await pool.close();
    expect(await read).toBeInstanceOf(DbPoolTimeoutError);
    expect(await metricValue(registry, METRIC.dbReaderFallbacksTotal)).toBe(0);
  });

  it("close() fails the queued requests with DbPoolClosedError, refuses new ones, and is idempotent", async () => {
    const registry = new Registry();
    const pool = poolOf({ connectionTimeoutMillis: 100 }, { registry }, { port: hole.port });
    pool.setLimit(1);
    const first = settle(pool.query("SELECT 1"));
    const queued = [settle(pool.query("SELECT 2")), settle(pool.query("SELECT 3"))];
    expect(await metricValue(registry, METRIC.dbPoolLimit)).toBe(1);
    const closing = pool.close();
    for (const r of await Promise.all(queued)) expect(r).toBeInstanceOf(DbPoolClosedError);
    await expect(pool.query("SELECT 4")).rejects.toBeInstanceOf(DbPoolClosedError);
    // The closed pool leaves the gauges.
    expect(await metricValue(registry, METRIC.dbPoolLimit)).toBe(0);
    await pool.close();
    await first;
    await closing;
  });
});

describe("warm", () => {
  it("opens exactly min connections (each refused here, so each counted as an error), whatever the limit", async () => {
    for (const [min, limit] of [
      [0, 1],
      [0, 3],
      [1, 4],
      [2, 2],
      [3, 5],
    ]) {
      const registry = new Registry();
      const pool = poolOf({ minConnections: min, maxConnections: 6 }, { registry });
      pool.setLimit(limit);
      await pool.warm();
      expect(await metricValue(registry, METRIC.dbPoolErrorsTotal)).toBe(min);
    }
  });

  it("does nothing once closed", async () => {
    const registry = new Registry();
    const pool = poolOf({ minConnections: 2 }, { registry });
    await pool.close();
    await pool.warm();
    expect(await metricValue(registry, METRIC.dbPoolErrorsTotal)).toBe(0);
  });
});

describe("the reader's back-off", () => {
  it("a reader that is down is tried once per readerRetryMs: reads go to the writer until then, counted once", async () => {
    const registry = new Registry();
    const now = jest.spyOn(Date, "now");
    let t = 1_000_000;
    now.mockImplementation(() => t);
    const pool = poolOf({}, { registry, readerRetryMs: 200 }, { readHost: "127.0.0.2" });
    expect(pool.hasReader).toBe(true);
    const fallbacks = () => metricValue(registry, METRIC.dbReaderFallbacksTotal);
    expect(await fallbacks()).toBe(0);
    // The reader is refused, then the writer is too: the writer's error is the one thrown.
    expect(await settle(pool.read("SELECT 1"))).toBeInstanceOf(DbUnavailableError);
    expect(await fallbacks()).toBe(1);
    t += 199;
    expect(await settle(pool.withReadClient((c) => c.query("SELECT 1")))).toBeInstanceOf(DbUnavailableError);
    expect(await fallbacks()).toBe(1);
    t += 1;
    expect(await settle(pool.read("SELECT 1"))).toBeInstanceOf(DbUnavailableError);
    expect(await fallbacks()).toBe(2);
  });

  it("without readHost there is no reader and no fallback counter; reads go to the writer", async () => {
    const registry = new Registry();
    const pool = poolOf({}, { registry });
    expect(pool.hasReader).toBe(false);
    expect(await settle(pool.read("SELECT 1"))).toBeInstanceOf(DbUnavailableError);
    expect(registry.getSingleMetric(METRIC.dbReaderFallbacksTotal)).toBeUndefined();
  });

  it("a closed pool's read fails with DbPoolClosedError, never falling back", async () => {
    const registry = new Registry();
    const pool = poolOf({}, { registry }, { readHost: "127.0.0.2" });
    await pool.close();
    expect(await settle(pool.read("SELECT 1"))).toBeInstanceOf(DbPoolClosedError);
    expect(await metricValue(registry, METRIC.dbReaderFallbacksTotal)).toBe(0);
  });
});

describe("registerPoolMetrics: the gauges sum every pool of a registry", () => {
  const stats = fc.record({
    total: fc.nat(20),
    idle: fc.nat(20),
    inUse: fc.nat(20),
    waiting: fc.nat(50),
    limit: fc.nat(20),
    min: fc.nat(5),
    max: fc.nat(20),
  });

  it("in use, idle, waiting, max and limit are sums over the pools still registered", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stats, { minLength: 1, maxLength: 4 }), fc.nat(3), async (all, drop) => {
        const registry = new Registry();
        const other = new Registry();
        const handles = all.map((s) => registerPoolMetrics(registry, { stats: (): PoolStats => s }));
        registerPoolMetrics(other, { stats: (): PoolStats => ({ ...all[0], waiting: 1_000 }) });
        const check = async (live: PoolStats[]) => {
          const sum = (k: keyof PoolStats) => live.reduce((n, s) => n + s[k], 0);
          expect(await metricValue(registry, METRIC.dbPoolConnections, { [LABEL.state]: LABEL_VALUE.inUse })).toBe(sum("inUse"));
          expect(await metricValue(registry, METRIC.dbPoolConnections, { [LABEL.state]: LABEL_VALUE.idle })).toBe(sum("idle"));
          expect(await metricValue(registry, METRIC.dbPoolWaitingRequests)).toBe(sum("waiting"));
          expect(await metricValue(registry, METRIC.dbPoolMaxConnections)).toBe(sum("max"));
          expect(await metricValue(registry, METRIC.dbPoolLimit)).toBe(sum("limit"));
        };
        await check(all);
        const gone = drop % all.length;
        handles[gone].unregister();
        await check(all.filter((_, i) => i !== gone));
        expect(await metricValue(other, METRIC.dbPoolWaitingRequests)).toBe(1_000);
      }),
      { numRuns: 30 },
    );
  });

  it("errors start at 0 and count one by one; each hold is observed in seconds", async () => {
    const registry = new Registry();
    const source = { stats: (): PoolStats => ({ total: 0, idle: 0, inUse: 0, waiting: 0, limit: 1, min: 0, max: 1 }) };
    const a = registerPoolMetrics(registry, source);
    const b = registerPoolMetrics(registry, source);
    expect(await metricValue(registry, METRIC.dbPoolErrorsTotal)).toBe(0);
    a.countError();
    b.countError();
    a.countError();
    expect(await metricValue(registry, METRIC.dbPoolErrorsTotal)).toBe(3);
    a.observeHold(0.25);
    b.observeHold(1.5);
    const hold = (await registry.getSingleMetric(METRIC.dbPoolHoldSeconds)!.get()).values as {
      metricName?: string;
      value: number;
    }[];
    expect(hold.find((v) => v.metricName === `${METRIC.dbPoolHoldSeconds}_count`)?.value).toBe(2);
    expect(hold.find((v) => v.metricName === `${METRIC.dbPoolHoldSeconds}_sum`)?.value).toBe(1.75);
  });
});
