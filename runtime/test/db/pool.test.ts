import pg from "pg";
import { Registry } from "prom-client";
import { PostgresServer } from "../../../test/helpers/postgres";
import { createPool, type DbSettings, type ManagedPool } from "../../src/db/pool";
import { ConnectionPoolManager } from "../../src/db/manager";
import { DbConnectionLimitError, DbPoolTimeoutError, DbUnavailableError } from "../../src/db/errors";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";

let server: PostgresServer;
const pools: ManagedPool[] = [];

beforeAll(async () => {
  server = await PostgresServer.start({ max_connections: 60 });
}, 60_000);
afterEach(async () => {
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await server?.destroy();
});

function settings(pool: Partial<DbSettings["pool"]> = {}, database: Partial<DbSettings["database"]> = {}): DbSettings {
  return {
    pool: { minConnections: 1, maxConnections: 5, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 2_000, ...pool },
    database: { ...server.database(), ...database },
  };
}

function track(pool: ManagedPool): ManagedPool {
  pools.push(pool);
  return pool;
}

/** pg_stat_activity rows matching `where` (an admin connection, so it does not count itself as any role's). */
async function countSessions(where: string, params: unknown[]): Promise<number> {
  const c = new pg.Client(server.url());
  await c.connect();
  try {
    const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${where}`, params);
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

/** Sessions of `application_name` as PostgreSQL sees them: the ground truth for leaks and ceilings. */
const sessions = (applicationName: string) => countSessions("application_name = $1", [applicationName]);
/** Sessions of `role` running a query right now (connected and past authentication). */
const activeSessionsOf = (role: string) => countSessions("usename = $1 AND state = 'active'", [role]);

async function gaugeValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  if (!value) throw new Error(`${name}${JSON.stringify(labels)} not exported`);
  return value.value;
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("createPool: pg.Pool behind an adaptive limit, with metrics", () => {
  it("runs queries and exports connections by state, waiting and max that move under load", async () => {
    const registry = new Registry();
    const pool = track(
      createPool(settings({ minConnections: 2, maxConnections: 4 }), { registry, applicationName: "metrics-load" }),
    );
    pool.setLimit(4);
    expect((await pool.query<{ x: number }>("SELECT 1 AS x")).rows[0].x).toBe(1);
    expect(await gaugeValue(registry, METRIC.dbPoolMaxConnections)).toBe(4);
    expect(await gaugeValue(registry, METRIC.dbPoolWaitingRequests)).toBe(0);

    // 10 queries that each hold a connection for 300 ms: 4 run, 6 wait.
    const load = Promise.all(Array.from({ length: 10 }, () => pool.query("SELECT pg_sleep(0.3)")));
    await waitFor(async () => (await gaugeValue(registry, METRIC.dbPoolConnections, { [LABEL.state]: LABEL_VALUE.inUse })) === 4);
    expect(await gaugeValue(registry, METRIC.dbPoolWaitingRequests)).toBe(6);
    await load;
    expect(await gaugeValue(registry, METRIC.dbPoolConnections, { [LABEL.state]: LABEL_VALUE.inUse })).toBe(0);
    expect(await gaugeValue(registry, METRIC.dbPoolConnections, { [LABEL.state]: LABEL_VALUE.idle })).toBe(4);
    expect(await gaugeValue(registry, METRIC.dbPoolWaitingRequests)).toBe(0);
    expect(await sessions("metrics-load")).toBe(4);
  });

  it("exports the time each connection was held, not the time spent waiting for it", async () => {
    const registry = new Registry();
    const pool = track(createPool(settings({ minConnections: 1, maxConnections: 1 }), { registry }));
    // One connection, two statements of 0.6 s: the second waits 0.6 s, then holds its connection 0.6 s.
    await Promise.all([pool.query("SELECT pg_sleep(0.6)"), pool.query("SELECT pg_sleep(0.6)")]);
    const hold = (await registry.getMetricsAsJSON()).find((m) => m.name === METRIC.dbPoolHoldSeconds)!;
    const values = hold.values as { metricName?: string; labels: Record<string, string | number>; value: number }[];
    const bucket = (le: number) => values.find((v) => v.metricName?.endsWith("_bucket") && v.labels.le === le)!.value;
    const count = values.find((v) => v.metricName?.endsWith("_count"))!.value;
    expect(count).toBe(2);
    // Both held their connection at least 0.6 s (nothing under 0.5 s) and under 1 s: with the wait, the second would be ≥ 1.2 s.
    expect(bucket(0.5)).toBe(0);
    expect(bucket(1)).toBe(2);
  });

  it("rejects with DbPoolTimeoutError when no connection frees up within connectionTimeoutMillis", async () => {
    const pool = track(createPool(settings({ minConnections: 0, maxConnections: 1, connectionTimeoutMillis: 200 })));
    const holder = pool.query("SELECT pg_sleep(1)");
    const started = Date.now();
    const err = await pool.query("SELECT 1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbPoolTimeoutError);
    expect((err as DbPoolTimeoutError).code).toBe("UAIP_DB_POOL_TIMEOUT");
    expect((err as Error).message).toMatch(/200 ms .*UAIP_POOL_CONNECTION_TIMEOUT_MS/);
    expect(Date.now() - started).toBeLessThan(1_000);
    await holder;
    // The timed-out request left nothing behind: the pool still serves.
    expect((await pool.query<{ x: number }>("SELECT 2 AS x")).rows[0].x).toBe(2);
    expect(pool.stats().waiting).toBe(0);
  });

  it("passes SQL errors through unchanged and keeps the connection", async () => {
    const pool = track(createPool(settings({ maxConnections: 1 })));
    const err = await pool.query("SELECT * FROM no_such_table").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(pg.DatabaseError);
    expect((err as pg.DatabaseError).code).toBe("42P01");
    expect(pool.stats().total).toBe(1);
    expect((await pool.query<{ x: number }>("SELECT 3 AS x")).rows[0].x).toBe(3);
  });
});

describe("ConnectionPoolManager.optimizePool", () => {
  it("grows toward max while requests wait, never above max (checked in pg_stat_activity), and shrinks to min when idle", async () => {
    const registry = new Registry();
    const pool = track(
      createPool(settings({ minConnections: 2, maxConnections: 6, idleTimeoutMillis: 300 }), {
        registry,
        applicationName: "grow-shrink",
      }),
    );
    const manager = new ConnectionPoolManager(pool, { intervalMs: 50 }).start();
    try {
      expect(pool.limit).toBe(2);
      let peak = 0;
      let peakLimit = 0;
      const sampler = setInterval(() => {
        peakLimit = Math.max(peakLimit, pool.limit);
        void sessions("grow-shrink").then((n) => (peak = Math.max(peak, n)));
      }, 10);
      // 20 concurrent 100 ms queries: far more than max.
      await Promise.all(Array.from({ length: 20 }, () => pool.query("SELECT pg_sleep(0.1)")));
      clearInterval(sampler);
      expect(peakLimit).toBe(6);
      expect(peak).toBeGreaterThan(2);
      expect(peak).toBeLessThanOrEqual(6);
      expect(pool.stats().total).toBeLessThanOrEqual(6);
      expect(await gaugeValue(registry, METRIC.dbPoolLimit)).toBeLessThanOrEqual(6);

      // Idle: the limit steps down to min, the surplus connections close after idleTimeoutMillis.
      await waitFor(() => pool.limit === 2);
      await waitFor(async () => (await sessions("grow-shrink")) === 2);
      expect(pool.stats().total).toBe(2);
    } finally {
      manager.stop();
    }
  });

  it("follows the seed's rules when called directly", async () => {
    const pool = track(createPool(settings({ minConnections: 1, maxConnections: 3 })));
    const manager = new ConnectionPoolManager(pool);
    await manager.optimizePool({ activeConnections: 1, waitingRequests: 10 });
    expect(pool.limit).toBe(3); // grew by the number waiting, clamped to max
    await manager.optimizePool({ activeConnections: 3, waitingRequests: 5 });
    expect(pool.limit).toBe(3); // never above max
    await manager.optimizePool({ activeConnections: 2, waitingRequests: 0 });
    expect(pool.limit).toBe(2); // one step down, not below what is in use
    await manager.optimizePool({ activeConnections: 2, waitingRequests: 0 });
    expect(pool.limit).toBe(2);
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 0 });
    expect(pool.limit).toBe(1); // down to min
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 0 });
    expect(pool.limit).toBe(1);
  });
});

describe("ConnectionPoolManager shrinks slowly", () => {
  it("idle ticks take a pool of 10 down to its minimum 2 one connection per tick, never in one jump", async () => {
    const pool = track(createPool(settings({ minConnections: 2, maxConnections: 10 })));
    const manager = new ConnectionPoolManager(pool);
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 20 });
    expect(pool.limit).toBe(10);
    const limits: number[] = [];
    for (let tick = 0; tick < 10; tick++) {
      await manager.optimizePool({ activeConnections: 0, waitingRequests: 0 });
      limits.push(pool.limit);
    }
    // 10 - 1, 10 - 2, ... down to 2, then it stays.
    expect(limits).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 2, 2]);
  });

  it("a step down stops at the connections in use, and a busy pool does not shrink at all", async () => {
    const pool = track(createPool(settings({ minConnections: 2, maxConnections: 10 })));
    const manager = new ConnectionPoolManager(pool);
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 20 });
    await manager.optimizePool({ activeConnections: 8, waitingRequests: 0 });
    expect(pool.limit).toBe(9);
    await manager.optimizePool({ activeConnections: 8, waitingRequests: 0 });
    expect(pool.limit).toBe(8);
    await manager.optimizePool({ activeConnections: 8, waitingRequests: 0 });
    expect(pool.limit).toBe(8);
    // Growth is by the number waiting (at least one), shrinking never more than one.
    await manager.optimizePool({ activeConnections: 8, waitingRequests: 1 });
    expect(pool.limit).toBe(9);
    await manager.optimizePool({ activeConnections: 3, waitingRequests: 0 });
    expect(pool.limit).toBe(8);
  });
});

describe("bad settings", () => {
  it("are refused by name", () => {
    expect(() => createPool(settings({ minConnections: 6, maxConnections: 5 }))).toThrow(
      /pool.minConnections: \(6\) exceeds pool.maxConnections \(5\)/,
    );
    const pool = track(createPool(settings()));
    expect(() => new ConnectionPoolManager(pool, { intervalMs: 0 })).toThrow(
      /intervalMs: expected an integer number of ms from 1 to 2147483647, got 0/,
    );
  });
});

describe("PostgreSQL restart mid-run", () => {
  it("fails in-flight queries with DbUnavailableError, recovers without a process crash, and leaks no connection", async () => {
    const registry = new Registry();
    const pool = track(
      createPool(settings({ minConnections: 2, maxConnections: 4, connectionTimeoutMillis: 1_000 }), {
        registry,
        applicationName: "restart",
      }),
    );
    pool.setLimit(4);
    await Promise.all(Array.from({ length: 4 }, () => pool.query("SELECT 1")));
    expect(pool.stats().total).toBe(4);

    const inFlight = Array.from({ length: 2 }, () => pool.query("SELECT pg_sleep(5)").catch((e: unknown) => e));
    await waitFor(() => pool.stats().inUse === 2);
    await server.stop("fast"); // terminates every session (57P01), idle ones included

    const errors = await Promise.all(inFlight);
    for (const err of errors) {
      expect(err).toBeInstanceOf(DbUnavailableError);
      expect((err as DbUnavailableError).code).toBe("UAIP_DB_UNAVAILABLE");
    }
    // While it is down: typed error, quickly.
    const down = await pool.query("SELECT 1").catch((e: unknown) => e);
    expect(down).toBeInstanceOf(DbUnavailableError);
    // The idle clients' errors were handled by the pool's listener and counted, not thrown.
    await waitFor(async () => (await gaugeValue(registry, METRIC.dbPoolErrorsTotal)) >= 2);
    expect(pool.stats().total).toBe(0);

    await server.start();
    await waitFor(
      async () =>
        await pool.query("SELECT 1").then(
          () => true,
          () => false,
        ),
    );
    await Promise.all(Array.from({ length: 8 }, () => pool.query("SELECT 1")));
    const stats = pool.stats();
    expect(stats.inUse).toBe(0);
    expect(stats.waiting).toBe(0);
    expect(await sessions("restart")).toBe(stats.total);
    expect(stats.total).toBeLessThanOrEqual(4);
  }, 60_000);

  it("a connection killed while checked out (between two statements) neither crashes the process nor goes back to the pool", async () => {
    const registry = new Registry();
    const pool = track(
      createPool(settings({ minConnections: 0, maxConnections: 1 }), { registry, applicationName: "killed-checked-out" }),
    );
    const admin = new pg.Client(server.url());
    await admin.connect();
    try {
      const err = await pool
        .withClient(async (client) => {
          const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
          await admin.query("SELECT pg_terminate_backend($1)", [pid]);
          // The client is idle but checked out: pg emits `error` on it, which pg.Pool no longer listens to.
          await new Promise((r) => setTimeout(r, 200));
          return client.query("SELECT 1");
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbUnavailableError);
      expect(await gaugeValue(registry, METRIC.dbPoolErrorsTotal)).toBe(1);
      // The broken connection was destroyed; the next query gets a fresh one.
      expect((await pool.query<{ x: number }>("SELECT 5 AS x")).rows[0].x).toBe(5);
      expect(await sessions("killed-checked-out")).toBe(1);
    } finally {
      await admin.end();
    }
  });

  it("survives a crash (SIGKILL) the same way", async () => {
    const pool = track(
      createPool(settings({ minConnections: 1, maxConnections: 2, connectionTimeoutMillis: 1_000 }), {
        applicationName: "crash",
      }),
    );
    const inFlight = pool.query("SELECT pg_sleep(5)").catch((e: unknown) => e);
    await waitFor(() => pool.stats().inUse === 1);
    await server.stop("kill");
    expect(await inFlight).toBeInstanceOf(DbUnavailableError);
    await server.start();
    await waitFor(
      async () =>
        await pool.query("SELECT 1").then(
          () => true,
          () => false,
        ),
    );
    expect(await sessions("crash")).toBe(pool.stats().total);
  }, 60_000);
});

describe("per-service role at its CONNECTION LIMIT", () => {
  it("is refused by PostgreSQL and surfaces as DbConnectionLimitError naming the role and the fix", async () => {
    const admin = new pg.Client(server.url());
    await admin.connect();
    await admin.query("DROP ROLE IF EXISTS limited_svc");
    await admin.query("CREATE ROLE limited_svc LOGIN PASSWORD 'limited-svc-password-123' CONNECTION LIMIT 2");
    await admin.end();
    const pool = track(
      createPool(
        settings({ minConnections: 0, maxConnections: 3 }, { user: "limited_svc", password: "limited-svc-password-123" }),
      ),
    );
    pool.setLimit(3);
    // The two sessions the role may hold are connected before the third starts. PostgreSQL counts a
    // role's sessions (CountUserBackends) while each new one is already in its process array, so
    // sessions starting at the same moment count each other and more than one can be refused (its
    // docs say the same of a database's CONNECTION LIMIT): three simultaneous connects failed 2 of 3 now and then.
    const held = Array.from({ length: 2 }, () => pool.query("SELECT pg_sleep(0.5)"));
    await waitFor(async () => (await activeSessionsOf("limited_svc")) === 2);
    const results = await Promise.allSettled([...held, pool.query("SELECT pg_sleep(0.5)")]);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as Error);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(DbConnectionLimitError);
    expect(refused[0].message).toMatch(
      /role "limited_svc".*too many connections for role "limited_svc".*pool\.max × pods during a rollout at hpa\.max/,
    );
  });
});
