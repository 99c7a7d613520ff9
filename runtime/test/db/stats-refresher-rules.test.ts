import fc from "fast-check";
import { Registry } from "prom-client";
import { DbUnavailableError } from "../../src/db/errors";
import { createPool, type ManagedPool } from "../../src/db/pool";
import { StatsRefresher, type StatsRefresherOptions } from "../../src/db/stats-refresher";
import { RuntimeConfigError } from "../../src/errors";
import { METRIC } from "../../src/metrics/names";
import { silentServer } from "../helpers/silent-server";
import { REFUSED_DATABASE } from "../helpers/refused-database";

/**
 * StatsRefresher's rules that need no PostgreSQL (issue #22's mutation run on runtime/src/db): its options,
 * the age it reports before any refresh is known, its gauges, and its schedule (a tick at once, one at a time,
 * none after stop). stats-refresher.test.ts runs the refresh itself on a real PostgreSQL.
 */

const pools: ManagedPool[] = [];
const refreshers: StatsRefresher[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.allSettled(refreshers.splice(0).map((r) => r.stop()));
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});

/** A pool whose connects are refused at once (port 1), or hang until connectionTimeoutMillis (a silent server). */
function poolOf(port = 1, connectionTimeoutMillis = 2_000): ManagedPool {
  const p = createPool({
    pool: { minConnections: 0, maxConnections: 2, idleTimeoutMillis: 30_000, connectionTimeoutMillis },
    database: { ...REFUSED_DATABASE, port },
  });
  pools.push(p);
  return p;
}

function refresher(options: Partial<StatsRefresherOptions>): StatsRefresher {
  const r = new StatsRefresher({ pool: poolOf(), intervalMs: 60_000, ...options });
  refreshers.push(r);
  return r;
}

function refusal(options: unknown): RuntimeConfigError {
  try {
    refresher(options as StatsRefresherOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(RuntimeConfigError);
    return err as RuntimeConfigError;
  }
  throw new Error("not refused");
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("StatsRefresher options", () => {
  it("pool and intervalMs are required; a pool must be a ManagedPool; every problem is named at once", () => {
    const none = refusal({ pool: undefined, intervalMs: undefined });
    expect(none.problems!.map((p) => p.key)).toEqual(["pool", "intervalMs"]);
    expect(none.message).toMatch(
      /^StatsRefresher: 2 invalid options: pool: is required: a ManagedPool \(createPool\); intervalMs: /,
    );
    expect(refusal({ pool: { withClient: () => undefined } }).key).toBe("pool");
    const hinted = refusal({ interval: 5_000 });
    expect(hinted.message).toContain('the interval is "intervalMs", in ms (database.statsRefreshIntervalMs)');
  });

  it("intervalMs is a duration from 1 ms to 2^31 - 1 ms", () => {
    for (const intervalMs of [1, 2 ** 31 - 1]) expect(() => refresher({ intervalMs })).not.toThrow();
    for (const intervalMs of [0, -1, 1.5, 2 ** 31, Number.NaN]) expect(refusal({ intervalMs }).key).toBe("intervalMs");
  });

  it("a view is one unqualified SQL name: a letter or _, then letters, digits, _ or $", () => {
    const name = fc
      .tuple(fc.constantFrom(..."aZ_"), fc.string({ unit: fc.constantFrom(..."az09_$Q"), maxLength: 20 }))
      .map(([a, b]) => a + b);
    fc.assert(
      fc.property(name, (view) => expect(() => refresher({ view })).not.toThrow()),
      { numRuns: 30 },
    );
    for (const view of ["", "1stats", "public.operation_stats", "a-b", "a b", '"q"', "stats;", " stats"])
      expect(refusal({ view }).key).toBe("view");
  });
});

describe("StatsRefresher age and gauges", () => {
  it("until a refresh is known, the age counts from construction; a failed tick leaves it so; the gauges export it and the interval", async () => {
    let t = 5_000_000;
    jest.spyOn(Date, "now").mockImplementation(() => t);
    const registry = new Registry();
    const r = refresher({ intervalMs: 1_500, registry });
    expect(r.ageSeconds()).toBe(0);
    t += 2_500;
    expect(r.ageSeconds()).toBe(2.5);
    await expect(r.tick()).rejects.toBeInstanceOf(DbUnavailableError);
    expect(r.ageSeconds()).toBe(2.5);
    const read = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0].value;
    expect(await read(METRIC.dbStatsRefreshIntervalSeconds)).toBe(1.5);
    expect(await read(METRIC.dbStatsRefreshAgeSeconds)).toBe(2.5);
  });
});

describe("StatsRefresher schedule", () => {
  it("start() ticks at once and then every intervalMs, returns itself, and a second start() adds no timer; stop() ends it", async () => {
    const pool = poolOf();
    const ticks = jest.spyOn(pool, "withClient");
    const r = refresher({ pool, intervalMs: 30 });
    expect(r.start()).toBe(r);
    expect(ticks).toHaveBeenCalledTimes(1);
    expect(r.start()).toBe(r);
    expect(ticks).toHaveBeenCalledTimes(1);
    await until(() => ticks.mock.calls.length >= 3);
    await r.stop();
    const stopped = ticks.mock.calls.length;
    await new Promise((res) => setTimeout(res, 120));
    expect(ticks.mock.calls.length).toBe(stopped);
  });

  it("stop() before start(), or twice, just resolves", async () => {
    const r = refresher({});
    await expect(r.stop()).resolves.toBeUndefined();
    r.start();
    await r.stop();
    await expect(r.stop()).resolves.toBeUndefined();
  });

  it("one tick at a time: a slow tick is not overlapped by the next ones, and stop() waits for it", async () => {
    const silent = await silentServer();
    try {
      const pool = poolOf(silent.port, 300);
      const ticks = jest.spyOn(pool, "withClient");
      const r = refresher({ pool, intervalMs: 20 });
      const started = performance.now();
      r.start();
      await new Promise((res) => setTimeout(res, 120));
      // Six periods went by while the first tick waited for its connection.
      expect(ticks).toHaveBeenCalledTimes(1);
      await r.stop();
      expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    } finally {
      await silent.close();
    }
  });
});
