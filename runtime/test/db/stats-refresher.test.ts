import pg from "pg";
import { Registry } from "prom-client";
import { PostgresServer } from "../../../test/helpers/postgres";
import { createPool, type ManagedPool } from "../../src/db/pool";
import { runMigrations } from "../../src/db/migrate";
import { StatsRefresher } from "../../src/db/stats-refresher";
import { METRIC } from "../../src/metrics/names";

let server: PostgresServer;
const pools: ManagedPool[] = [];
const refreshers: StatsRefresher[] = [];

beforeAll(async () => {
  server = await PostgresServer.start();
  await runMigrations({ connection: server.url() });
  const c = new pg.Client(server.url());
  await c.connect();
  await c.query(`INSERT INTO operations (status, created_at, duration)
    SELECT (ARRAY['pending','running','completed','failed'])[1 + i % 4], now() - (i || ' seconds')::interval, random() * 1000
    FROM generate_series(1, 300000) i`);
  await c.end();
}, 60_000);
afterEach(async () => {
  await Promise.allSettled(refreshers.splice(0).map((r) => r.stop()));
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await server?.destroy();
});

function pool(max = 3): ManagedPool {
  const p = createPool({
    pool: { minConnections: 0, maxConnections: max, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 2_000 },
    database: server.database(),
  });
  pools.push(p);
  p.setLimit(max);
  return p;
}

function refresher(intervalMs: number, registry?: Registry): StatsRefresher {
  const r = new StatsRefresher({ pool: pool(), intervalMs, registry });
  refreshers.push(r);
  return r;
}

async function forceDue(): Promise<void> {
  await refreshedAgo(86_400);
}

/** Two one-row views beside the seed's: one that refreshes in no time, one that cannot refresh CONCURRENTLY (no unique index). */
async function probeViews(): Promise<void> {
  const p = pool(1);
  await p.query("CREATE MATERIALIZED VIEW IF NOT EXISTS h_db_probe AS SELECT 1 AS id");
  await p.query("CREATE UNIQUE INDEX IF NOT EXISTS h_db_probe_id ON h_db_probe (id)");
  await p.query("CREATE MATERIALIZED VIEW IF NOT EXISTS h_db_no_index AS SELECT 1 AS id");
}

/** Sets the view's last refresh `seconds` before the database's now. */
async function refreshedAgo(seconds: number, view = "operation_stats"): Promise<void> {
  const p = pool(1);
  await p.query("UPDATE uaip_matview_refresh SET refreshed_at = now() - make_interval(secs => $2) WHERE view_name = $1", [
    view,
    seconds,
  ]);
}

describe("StatsRefresher", () => {
  it("REFRESH ... CONCURRENTLY while readers query: every read succeeds and none waits for the refresh", async () => {
    await forceDue();
    const r = refresher(60_000);
    const readers = pool(4);
    let refreshing = true;
    let readsDuringRefresh = 0;
    let slowestReadMs = 0;
    const readLoop = async () => {
      while (refreshing) {
        const t = performance.now();
        const res = await readers.query<{ n: string }>("SELECT sum(count)::text AS n FROM operation_stats");
        slowestReadMs = Math.max(slowestReadMs, performance.now() - t);
        expect(Number(res.rows[0].n) === 0 || Number(res.rows[0].n) === 300_000).toBe(true);
        readsDuringRefresh++;
      }
    };
    const loops = Array.from({ length: 3 }, readLoop);
    const started = performance.now();
    const result = await r.tick();
    const refreshMs = performance.now() - started;
    refreshing = false;
    await Promise.all(loops);
    expect(result.refreshed).toBe(true);
    expect(readsDuringRefresh).toBeGreaterThan(3);
    // A plain REFRESH takes an ACCESS EXCLUSIVE lock and readers would wait the whole refresh.
    expect(slowestReadMs).toBeLessThan(refreshMs / 2);
    expect(Number((await readers.query<{ n: string }>("SELECT sum(count)::text AS n FROM operation_stats")).rows[0].n)).toBe(
      300_000,
    );
  });

  it("two replicas ticking at once refresh once per interval: the row lock lets one in, the other skips", async () => {
    await forceDue();
    const [a, b] = [refresher(60_000), refresher(60_000)];
    const results = await Promise.all([a.tick(), b.tick()]);
    expect(results.filter((x) => x.refreshed)).toHaveLength(1);
    // Not due again within the interval, whoever asks; and on their next tick both read the same, fresh age.
    for (const next of [await a.tick(), await b.tick()]) {
      expect(next.refreshed).toBe(false);
      expect(next.ageSeconds).toBeLessThan(5);
    }
  });

  it("exports the age of the last refresh and the interval; the age keeps growing while the database is down", async () => {
    const registry = new Registry();
    await forceDue();
    const r = refresher(200, registry);
    await r.tick();
    const read = async (name: string) => (await registry.getMetricsAsJSON()).find((m) => m.name === name)!.values[0].value;
    expect(await read(METRIC.dbStatsRefreshIntervalSeconds)).toBe(0.2);
    expect(await read(METRIC.dbStatsRefreshAgeSeconds)).toBeLessThan(1);
    r.start();
    await server.stop("fast");
    try {
      await new Promise((res) => setTimeout(res, 1_200));
      // The ticks failed (database down) without throwing; the age tells the alert.
      expect(await read(METRIC.dbStatsRefreshAgeSeconds)).toBeGreaterThan(1);
    } finally {
      await server.start();
    }
    // Back: the next ticks refresh again and the age drops (polled: a loaded machine may take a while).
    const deadline = Date.now() + 10_000;
    while ((await read(METRIC.dbStatsRefreshAgeSeconds)) >= 1 && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    expect(await read(METRIC.dbStatsRefreshAgeSeconds)).toBeLessThan(1);
  }, 30_000);

  it("a tick refreshes once the last refresh is 0.9 × intervalMs old, not before; the age it reports is the database's", async () => {
    await probeViews();
    const r = new StatsRefresher({ pool: pool(), intervalMs: 60_000, view: "h_db_probe" });
    await r.tick(); // its row exists from here on
    // 0.9 × 60 s = 54 s: 51 s is not due, 57 s is (3 s either side, for a loaded machine's clock steps).
    await refreshedAgo(51, "h_db_probe");
    const early = await r.tick();
    expect(early.refreshed).toBe(false);
    expect(early.ageSeconds).toBeGreaterThanOrEqual(51);
    expect(early.ageSeconds).toBeLessThan(54);
    expect(r.ageSeconds()).toBeGreaterThanOrEqual(51);
    await refreshedAgo(57, "h_db_probe");
    const due = await r.tick();
    expect(due.refreshed).toBe(true);
    expect(due.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(due.ageSeconds).toBeLessThan(3);
  });

  it("a view with no row yet gets one and is due at once; a refresh that fails is rolled back and its connection serves on", async () => {
    await probeViews();
    const one = pool(1); // one connection: the failed tick's is the one the next statement gets
    await one.query("DELETE FROM uaip_matview_refresh WHERE view_name IN ('h_db_probe', 'h_db_no_index')");
    const probe = new StatsRefresher({ pool: one, intervalMs: 60_000, view: "h_db_probe" });
    expect((await probe.tick()).refreshed).toBe(true);
    expect((await probe.tick()).refreshed).toBe(false);
    // No unique index: REFRESH ... CONCURRENTLY is refused (55000) inside the tick's transaction.
    const broken = new StatsRefresher({ pool: one, intervalMs: 60_000, view: "h_db_no_index" });
    await expect(broken.tick()).rejects.toMatchObject({ code: "55000" });
    expect((await one.query<{ x: number }>("SELECT 1 AS x")).rows[0].x).toBe(1);
    await expect(broken.tick()).rejects.toMatchObject({ code: "55000" });
    const left = await one.query<{ epoch: boolean }>(
      "SELECT refreshed_at = 'epoch' AS epoch FROM uaip_matview_refresh WHERE view_name = 'h_db_no_index'",
    );
    expect(left.rows).toEqual([{ epoch: true }]);
  });
});
