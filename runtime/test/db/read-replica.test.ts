import { createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { Registry } from "prom-client";
import { PostgresServer, startReplica, waitForReplay } from "../../../test/helpers/postgres";
import { createPool, type DbSettings, type ManagedPool, type PinningEvent } from "../../src/db/pool";
import { directConnection, runMigrations, ADVISORY_LOCK } from "../../src/db/migrate";
import { StatsRefresher } from "../../src/db/stats-refresher";
import { DbMigrationError } from "../../src/db/errors";
import { METRIC } from "../../src/metrics/names";

/**
 * The runtime through RDS Proxy and read replicas, for real: a primary on 127.0.0.1 and a streaming
 * hot standby made from it on 127.0.0.2, same port (as RDS gives a replica the writer's port on
 * another host). Reads through the reader pool land on the replica, fall back to the writer while it
 * is down; migrations take their lock on the direct host, never the (proxy) host; pinning
 * statements are flagged, and the library's own paths have none.
 */

let primary: PostgresServer;
let replica: PostgresServer;
const pools: ManagedPool[] = [];

beforeAll(async () => {
  // log_statement: the migration test reads what its session sent.
  primary = await PostgresServer.start({ max_connections: 40, log_statement: "all" });
  await runMigrations({ connection: primary.url() });
  replica = await startReplica(primary, { host: "127.0.0.2" });
}, 120_000);
afterEach(async () => {
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await replica?.destroy();
  await primary?.destroy();
});

function withReader(options: Parameters<typeof createPool>[1] = {}, database: Partial<DbSettings["database"]> = {}) {
  const pool = createPool(
    {
      pool: { minConnections: 0, maxConnections: 3, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 2_000 },
      database: { ...primary.database(), readHost: replica.host, ...database },
    },
    { registry: new Registry(), ...options },
  );
  pools.push(pool);
  return pool;
}

const inRecovery = async (run: (sql: string) => Promise<pg.QueryResult>) =>
  (await run("SELECT pg_is_in_recovery() AS r, host(inet_server_addr()) AS addr")).rows[0] as { r: boolean; addr: string };

async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string> }[];
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

describe("the reader pool on a real streaming replica", () => {
  it("the helper's replica is a hot standby of the primary, on another host and the same port", async () => {
    expect(replica.port).toBe(primary.port);
    const c = new pg.Client({ connectionString: replica.url() });
    await c.connect();
    try {
      expect((await c.query("SELECT pg_is_in_recovery() AS r")).rows[0].r).toBe(true);
      // It replays the primary's writes (here: the migrations applied before it was made, and one after).
      const p = new pg.Client({ connectionString: primary.url() });
      await p.connect();
      await p.query("CREATE TABLE IF NOT EXISTS replica_probe (n int); INSERT INTO replica_probe VALUES (42)");
      await p.end();
      await waitForReplay(primary, replica);
      expect((await c.query("SELECT n FROM replica_probe")).rows).toEqual([{ n: 42 }]);
    } finally {
      await c.end();
    }
  });

  it("pool.read lands on the replica (pg_is_in_recovery() true); pool.query on the primary", async () => {
    const pool = withReader();
    expect(pool.hasReader).toBe(true);
    const reads = await Promise.all(Array.from({ length: 6 }, () => inRecovery((sql) => pool.read(sql))));
    expect(reads.every((r) => r.r === true && r.addr === "127.0.0.2")).toBe(true);
    expect(await inRecovery((sql) => pool.query(sql))).toEqual({ r: false, addr: "127.0.0.1" });
    await pool.withReadClient(async (client) => {
      expect((await client.query("SELECT pg_is_in_recovery() AS r")).rows[0].r).toBe(true);
    });
  });

  it("the reader's sessions are named after the writer's with ':reader' (pg_stat_activity tells them apart)", async () => {
    const appName = (run: (sql: string) => Promise<pg.QueryResult>) =>
      run("SELECT current_setting('application_name') AS n").then((r) => (r.rows[0] as { n: string }).n);
    const named = withReader({ applicationName: "orders-api" });
    expect([await appName((sql) => named.read(sql)), await appName((sql) => named.query(sql))]).toEqual([
      "orders-api:reader",
      "orders-api",
    ]);
    const byUser = withReader();
    const user = primary.database().user;
    expect([await appName((sql) => byUser.read(sql)), await appName((sql) => byUser.query(sql))]).toEqual([
      `${user}:reader`,
      user,
    ]);
  });

  it("without a readHost, read goes to the writer (no reader pool)", async () => {
    const pool = withReader({}, { readHost: "" });
    expect(pool.hasReader).toBe(false);
    expect((await inRecovery((sql) => pool.read(sql))).r).toBe(false);
  });

  it("a write through read is the replica's error, thrown as is, never retried on the writer", async () => {
    const registry = new Registry();
    const pool = withReader({ registry });
    await expect(pool.read("CREATE TABLE never_here (n int)")).rejects.toMatchObject({ code: "25006" });
    expect(await counterValue(registry, METRIC.dbReaderFallbacksTotal)).toBe(0);
  });

  it("the replica down: reads fall back to the writer (counted), and return to the replica after readerRetryMs", async () => {
    const registry = new Registry();
    const retryMs = 300;
    const pool = withReader({ registry, readerRetryMs: retryMs });
    expect((await inRecovery((sql) => pool.read(sql))).r).toBe(true);
    await replica.stop("fast");
    try {
      const during = await inRecovery((sql) => pool.read(sql));
      expect(during).toEqual({ r: false, addr: "127.0.0.1" });
      expect(await counterValue(registry, METRIC.dbReaderFallbacksTotal)).toBe(1);
      // Within readerRetryMs the reader is not tried again: no second fallback is counted.
      expect((await inRecovery((sql) => pool.read(sql))).r).toBe(false);
      expect(await counterValue(registry, METRIC.dbReaderFallbacksTotal)).toBe(1);
    } finally {
      await replica.start();
    }
    await new Promise((res) => setTimeout(res, retryMs + 50));
    expect((await inRecovery((sql) => pool.read(sql))).r).toBe(true);
  }, 60_000);
});

/** A TCP listener standing in for RDS Proxy's host: it counts connections and answers none. */
async function standIn(host: string, port: number): Promise<{ accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.destroy();
  });
  await new Promise<void>((res, rej) => server.once("error", rej).listen(port, host, () => res()));
  return {
    accepted: () => accepted,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

describe("migrations on the direct host", () => {
  it("directConnection picks directHost over host, and host when directHost is empty", () => {
    const db = { ...primary.database(), host: "proxy.example", directHost: "writer.example" };
    expect(directConnection(db).host).toBe("writer.example");
    expect(directConnection({ ...db, directHost: "" }).host).toBe("proxy.example");
  });

  it("the migration lock is taken on the direct host: the proxy's host sees no connection, the writer's lock blocks it", async () => {
    const proxy = await standIn("127.0.0.3", primary.port);
    const admin = new pg.Client({ connectionString: primary.url() });
    await admin.connect();
    try {
      const database = { ...primary.database(), host: "127.0.0.3", directHost: "127.0.0.1" };
      // Applied already: through the direct host, a run finds nothing to do.
      const report = await runMigrations({ connection: directConnection(database) });
      expect(report.applied).toEqual([]);
      // The lock it takes is the writer's: held there by another session, the run waits for it and gives up.
      await admin.query("SELECT pg_advisory_lock($1, $2)", [ADVISORY_LOCK.namespace, ADVISORY_LOCK.migrate]);
      await expect(runMigrations({ connection: directConnection(database), lockTimeoutMs: 300 })).rejects.toBeInstanceOf(
        DbMigrationError,
      );
      expect(proxy.accepted()).toBe(0);
    } finally {
      await admin.end();
      await proxy.close();
    }
  });

  it("the migration's session settings travel at connect time: the server logs no SET from its session, only its lock", async () => {
    const from = primary.log.length;
    await runMigrations({
      connection: { ...directConnection(primary.database()), application_name: "uaip-migrate-probe" },
      lockTimeoutMs: 1234,
    });
    const statements = primary.log
      .slice(from)
      .split("\n")
      // Simple queries log as "statement: ...", parameterized ones as "execute <unnamed>: ...".
      .filter((line) => / (statement|execute [^:]*): /.test(line));
    expect(statements.some((l) => /pg_try_advisory_lock/.test(l))).toBe(true);
    expect(statements.filter((l) => /(statement|execute [^:]*): (SET|RESET)\b/i.test(l))).toEqual([]);
  });
});

describe("pinning statements", () => {
  it("are counted by reason and reported with their text; other statements are not", async () => {
    const registry = new Registry();
    const events: PinningEvent[] = [];
    const pool = withReader({ registry, detectPinning: true, onPinning: (e) => events.push(e) }, { readHost: "" });
    await pool.withClient(async (c) => {
      await c.query("SET statement_timeout = 5000");
      await c.query("SELECT pg_try_advisory_lock(7)");
      await c.query("SELECT pg_advisory_unlock(7)");
      await c.query({ name: "named-probe", text: "SELECT 1" });
      await c.query("SELECT 'SET x' AS not_a_set -- LISTEN y");
      await c.query("RESET statement_timeout");
    });
    await pool.query("SELECT $1::int + 1 AS n", [1]);
    expect(events.map((e) => e.reasons)).toEqual([
      ["set"],
      ["advisory_lock"],
      ["advisory_lock"],
      ["prepared_statement"],
      ["set"],
    ]);
    expect(await counterValue(registry, METRIC.dbPinningStatementsTotal, { reason: "set" })).toBe(2);
    expect(await counterValue(registry, METRIC.dbPinningStatementsTotal, { reason: "advisory_lock" })).toBe(2);
    expect(await counterValue(registry, METRIC.dbPinningStatementsTotal, { reason: "prepared_statement" })).toBe(1);
  });

  it("off by default: nothing is classified or counted", async () => {
    const registry = new Registry();
    const pool = withReader({ registry }, { readHost: "" });
    await pool.query("SET statement_timeout = 5000");
    expect((await registry.getMetricsAsJSON()).some((m) => m.name === METRIC.dbPinningStatementsTotal)).toBe(false);
  });

  it("the library's own paths pin nothing: stats refresher ticks (two replicas) on a checked pool flag no statement", async () => {
    const registry = new Registry();
    const events: PinningEvent[] = [];
    const pool = withReader({ registry, detectPinning: true, onPinning: (e) => events.push(e) }, { readHost: "" });
    const a = new StatsRefresher({ pool, intervalMs: 60_000, registry });
    const b = new StatsRefresher({ pool, intervalMs: 60_000, registry: new Registry() });
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect(events).toEqual([]);
    // Still one refresh between them (the row lock), the other skipped or found it fresh.
    expect([ra.refreshed, rb.refreshed].filter(Boolean).length).toBeLessThanOrEqual(1);
  });
});
