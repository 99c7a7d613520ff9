import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { PostgresServer } from "../../../test/helpers/postgres";
import { loadMigrations, runMigrations, splitStatements, ADVISORY_LOCK, MIGRATIONS_DIR } from "../../src/db/migrate";
import { ensureServiceRoles, scramSha256Verifier } from "../../src/db/roles";
import { DbMigrationError } from "../../src/db/errors";
import { runCli } from "../../src/db/migrate-cli";

let server: PostgresServer;
let dbCounter = 0;

beforeAll(async () => {
  server = await PostgresServer.start();
}, 60_000);
afterAll(async () => {
  await server?.destroy();
});

/** A fresh database per test, so each one migrates from zero. */
async function freshDatabase(): Promise<string> {
  const name = `mig_${process.pid}_${++dbCounter}`;
  const admin = new pg.Client(server.url());
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return server.url(name);
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe("migrations", () => {
  it("loads the seed's migrations in order; CONCURRENTLY files run outside a transaction", () => {
    const ms = loadMigrations();
    expect(ms.map((m) => m.name)).toEqual([
      "001_operations_audit_logs.sql",
      "002_idx_operations_status.sql",
      "003_idx_audit_logs_user.sql",
      "004_operation_stats.sql",
      "005_operations_idempotency_key.sql",
      "006_idx_operations_idempotency_key.sql",
    ]);
    expect(ms.map((m) => m.transactional)).toEqual([true, false, false, true, true, false]);
    expect(splitStatements("-- c\nCREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY b ON t (y);\n")).toEqual([
      "CREATE INDEX CONCURRENTLY a ON t (x)",
      "CREATE INDEX CONCURRENTLY b ON t (y)",
    ]);
  });

  it("two runs at once both succeed: one applies, the other waits on the lock and finds nothing to do", async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([runMigrations({ connection: url }), runMigrations({ connection: url })]);
    const total = loadMigrations().length;
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, total]);
    const waiter = a.applied.length === 0 ? a : b;
    expect(waiter.alreadyApplied).toHaveLength(total);
    await withClient(url, async (c) => {
      const idx = await c.query<{ relname: string; indisvalid: boolean }>(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('idx_operations_status', 'idx_audit_logs_user', 'operation_stats_hour_status') ORDER BY 1",
      );
      expect(idx.rows).toEqual([
        { relname: "idx_audit_logs_user", indisvalid: true },
        { relname: "idx_operations_status", indisvalid: true },
        { relname: "operation_stats_hour_status", indisvalid: true },
      ]);
      expect((await c.query("SELECT name FROM uaip_schema_migrations")).rowCount).toBe(total);
    });
    // And a third run later is a no-op.
    expect((await runMigrations({ connection: url })).applied).toEqual([]);
  });

  it("rebuilds an INVALID index left by an interrupted CREATE INDEX CONCURRENTLY instead of skipping it", async () => {
    const url = await freshDatabase();
    await runMigrations({ connection: url });
    await withClient(url, async (c) => {
      // Simulate the interrupted build: the index exists but is INVALID, and its migration is not recorded.
      await c.query("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_operations_status'::regclass");
      await c.query("DELETE FROM uaip_schema_migrations WHERE name = '002_idx_operations_status.sql'");
    });
    const report = await runMigrations({ connection: url });
    expect(report.applied).toEqual(["002_idx_operations_status.sql"]);
    expect(report.rebuiltIndexes).toEqual(["idx_operations_status"]);
    await withClient(url, async (c) => {
      const r = await c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_operations_status'::regclass");
      expect(r.rows[0].indisvalid).toBe(true);
    });
  });

  it("refuses a migration edited after it was applied, naming the file", async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "uaip-mig-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      await runMigrations({ connection: url, dir });
      writeFileSync(join(dir, "001_operations_audit_logs.sql"), "-- edited\nSELECT 1;\n");
      const err = await runMigrations({ connection: url, dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbMigrationError);
      expect((err as Error).message).toMatch(/^001_operations_audit_logs\.sql: was changed after it was applied/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a session terminated while it waits for the lock fails the run with DbMigrationError, and the process lives on", async () => {
    const url = await freshDatabase();
    await withClient(url, async (holder) => {
      await holder.query("SELECT pg_advisory_lock($1, $2)", [ADVISORY_LOCK.namespace, ADVISORY_LOCK.migrate]);
      const run = runMigrations({ connection: url, lockTimeoutMs: 10_000 }).catch((e: unknown) => e);
      // Its session polls pg_try_advisory_lock and sits idle between tries: terminate it there.
      let terminated = 0;
      for (let i = 0; i < 200 && terminated === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        const r = await holder.query<{ n: number }>(
          "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_try_advisory_lock%' AND pid <> pg_backend_pid()",
        );
        terminated = r.rows[0].n;
      }
      expect(terminated).toBe(1);
      const err = await run;
      expect(err).toBeInstanceOf(DbMigrationError);
      expect((err as DbMigrationError).migration).toBe("(run)");
      expect((err as Error).message).toMatch(/terminat|Connection|not queryable/i);
      expect((err as Error).cause).toHaveProperty("message");
    });
  });

  it("session settings travel in the startup packet: lock_timeout (300 s by default), the caller's options, quiet notices", async () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-mig-"));
    try {
      writeFileSync(
        join(dir, "001_probe.sql"),
        "CREATE TABLE probe AS SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement, current_setting('client_min_messages') AS messages;",
      );
      const settings = async (connection: string | pg.ClientConfig, lockTimeoutMs?: number) => {
        await runMigrations({ connection, dir, lockTimeoutMs });
        const url = typeof connection === "string" ? connection : connection.connectionString!;
        return withClient(url, async (c) => (await c.query("SELECT lock, statement, messages FROM probe")).rows[0] as object);
      };
      expect(await settings(await freshDatabase())).toEqual({ lock: "5min", statement: "0", messages: "warning" });
      const url = await freshDatabase();
      expect(await settings({ connectionString: url, options: "-c statement_timeout=7000" }, 1_500)).toEqual({
        lock: "1500ms",
        statement: "7s",
        messages: "warning",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("EXPLAIN on 100k rows: the seed's two common queries use their indexes", async () => {
    const url = await freshDatabase();
    await runMigrations({ connection: url });
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO operations (status, created_at, duration)
        SELECT (ARRAY['pending','running','completed','failed'])[1 + i % 4], now() - (i || ' seconds')::interval, random() * 1000
        FROM generate_series(1, 100000) i`);
      await c.query(`INSERT INTO audit_logs (user_id, action, created_at)
        SELECT 'user-' || (i % 5000), 'login', now() - (i || ' seconds')::interval FROM generate_series(1, 100000) i`);
      await c.query("ANALYZE operations");
      await c.query("ANALYZE audit_logs");
      const plan = async (sql: string) =>
        (await c.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`)).rows.map((r) => r["QUERY PLAN"]).join("\n");
      const ops = await plan(
        "SELECT * FROM operations WHERE status = 'failed' AND created_at > now() - interval '1 hour' ORDER BY created_at DESC LIMIT 50",
      );
      expect(ops).toMatch(/Index Scan.* using idx_operations_status|Bitmap Index Scan on idx_operations_status/);
      const audit = await plan("SELECT * FROM audit_logs WHERE user_id = 'user-42' ORDER BY created_at DESC LIMIT 20");
      expect(audit).toMatch(/Index Scan.* using idx_audit_logs_user|Bitmap Index Scan on idx_audit_logs_user/);
    });
  });
});

describe("migrations that fail", () => {
  /** A migrations directory of its own, removed after the test. */
  function dirWith(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), "uaip-mig-"));
    dirs.push(dir);
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
    return dir;
  }
  const dirs: string[] = [];
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase();
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const failure = async (options: Parameters<typeof runMigrations>[0]) => {
    const err = await runMigrations(options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbMigrationError);
    return err as DbMigrationError;
  };
  const tables = (url: string) =>
    withClient(url, async (c) =>
      (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map(
        (r) => r.t,
      ),
    );

  it("a failing file fails the run naming it, with pg's error as the cause; a transactional one leaves nothing; a file is recorded only when all done", async () => {
    const inTransaction = await failure({
      connection: url,
      dir: dirWith({ "001_half.sql": "CREATE TABLE half (x int);\nSELECT * FROM no_such_table;\n" }),
    });
    expect(inTransaction.message).toBe('001_half.sql: relation "no_such_table" does not exist');
    expect(inTransaction.cause).toMatchObject({ code: "42P01" });
    expect(await tables(url)).toEqual(["uaip_schema_migrations"]);

    const concurrent = await failure({
      connection: url,
      dir: dirWith({ "001_idx.sql": "-- uaip:no-transaction\nCREATE INDEX CONCURRENTLY idx_none ON no_such_table (x);\n" }),
    });
    expect(concurrent.message).toBe(
      '001_idx.sql: relation "no_such_table" does not exist; any index it left INVALID is rebuilt on the next run',
    );
    expect(concurrent.cause).toMatchObject({ code: "42P01" });

    // Built, then gone by the time the run checks it: not recorded, so the next run builds it again.
    const gone = await failure({
      connection: url,
      dir: dirWith({
        "001_t.sql": "CREATE TABLE t (x int);\n",
        "002_gone.sql":
          "-- uaip:no-transaction\nCREATE INDEX CONCURRENTLY idx_gone ON t (x);\nCREATE INDEX CONCURRENTLY idx_gone2 ON t (x);\nDROP INDEX CONCURRENTLY idx_gone;\nDROP INDEX CONCURRENTLY idx_gone2;\n",
      }),
    });
    expect(gone.message).toBe(
      "002_gone.sql: index idx_gone, idx_gone2 is invalid or missing after the build; run the migration again",
    );
    expect(
      await withClient(url, async (c) => (await c.query("SELECT name FROM uaip_schema_migrations ORDER BY 1")).rows),
    ).toEqual([{ name: "001_t.sql" }]);
  });

  it("a transactional file is all or nothing with its record: a failing record undoes the file's SQL; a quoted CONCURRENTLY index is checked by its bare name", async () => {
    const own = await freshDatabase();
    // The file records itself first, so the runner's own record of it fails (primary key) after the file's SQL ran.
    const record = await failure({
      connection: own,
      dir: dirWith({
        "001_self.sql":
          "CREATE TABLE made (x int);\nINSERT INTO uaip_schema_migrations (name, checksum) VALUES ('001_self.sql', 'x');\n",
      }),
    });
    expect(record.cause).toMatchObject({ code: "23505" });
    expect(await tables(own)).toEqual(["uaip_schema_migrations"]);

    const quoted = await runMigrations({
      connection: own,
      dir: dirWith({
        "001_q.sql": "CREATE TABLE q (x int);\n",
        "002_q.sql": '-- uaip:no-transaction\nCREATE INDEX CONCURRENTLY "idx_q" ON q (x);\n',
      }),
    });
    expect(quoted.applied).toEqual(["001_q.sql", "002_q.sql"]);
  });

  it("another run holding the lock past lockTimeoutMs fails this one with DbMigrationError (lock), after about that long", async () => {
    const dir = dirWith({ "001_one.sql": "SELECT 1;\n" });
    await withClient(url, async (holder) => {
      await holder.query("SELECT pg_advisory_lock($1, $2)", [ADVISORY_LOCK.namespace, ADVISORY_LOCK.migrate]);
      const started = performance.now();
      const err = await failure({ connection: url, dir, lockTimeoutMs: 400 });
      const waited = performance.now() - started;
      expect(err.migration).toBe("(lock)");
      expect(err.message).toBe(
        "(lock): another migration has held the lock for more than 400 ms (lockTimeoutMs); is one stuck? See pg_locks where locktype = 'advisory'",
      );
      // It polls with a doubling delay and gives up when the next wait would pass the deadline: after 50 + 100 + 200 ms,
      // never a whole wait past it (the slack is for four queries on a loaded machine).
      expect(waited).toBeGreaterThanOrEqual(350);
      expect(waited).toBeLessThan(1_200);
    });
    // Released: the same run now goes through.
    expect(await runMigrations({ connection: url, dir, lockTimeoutMs: 400 })).toEqual({
      applied: ["001_one.sql"],
      alreadyApplied: [],
      rebuiltIndexes: [],
      roles: [],
    });
    // Every run, failed or not, ended its session: none is left on the database (polled: a backend leaves just after).
    const db = new URL(url).pathname.slice(1);
    const left = () =>
      withClient(server.url(), async (c) => (await c.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1", [db])).rowCount);
    for (let tries = 0; (await left()) !== 0 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 20));
    expect(await left()).toBe(0);
  });
});

describe("per-service roles", () => {
  it("creates each role with its CONNECTION LIMIT and password; it can use the tables and refresh operation_stats; a re-run updates the limit", async () => {
    const url = await freshDatabase();
    // Where PUBLIC may not connect (a hardened database), the role's own CONNECT grant must let it in.
    await withClient(url, (c) => c.query(`REVOKE CONNECT ON DATABASE ${new URL(url).pathname.slice(1)} FROM PUBLIC`));
    // A soft hyphen and a zero-width space: SASLprep drops or maps them, and the verifier must do the same.
    const password = "agent-intelligence\u00ad-secret\u200b-1";
    const report = await runMigrations({
      connection: url,
      roles: [{ name: "agent_intelligence", password, connectionLimit: 2 }],
    });
    expect(report.roles).toEqual(["agent_intelligence (CONNECTION LIMIT 2)"]);
    await withClient(url, async (c) => {
      const r = await c.query("SELECT rolconnlimit, rolsuper FROM pg_roles WHERE rolname = 'agent_intelligence'");
      expect(r.rows[0]).toEqual({ rolconnlimit: 2, rolsuper: false });
    });
    const svcUrl = url.replace(
      `${PostgresServer.USER}:${encodeURIComponent(PostgresServer.PASSWORD)}`,
      `agent_intelligence:${encodeURIComponent(password)}`,
    );
    await withClient(svcUrl, async (c) => {
      await c.query("INSERT INTO operations (status, duration) VALUES ('completed', 12)");
      await c.query("REFRESH MATERIALIZED VIEW CONCURRENTLY operation_stats");
      expect((await c.query("SELECT count FROM operation_stats")).rows[0].count).toBe("1");
    });
    // The limit is PostgreSQL's: a third session of the role is refused with a clear error.
    const held = [new pg.Client(svcUrl), new pg.Client(svcUrl)];
    await Promise.all(held.map((c) => c.connect()));
    try {
      const err = await withClient(svcUrl, async () => undefined).catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe("53300");
      expect((err as Error).message).toBe('too many connections for role "agent_intelligence"');
    } finally {
      await Promise.all(held.map((c) => c.end()));
    }
    await runMigrations({ connection: url, roles: [{ name: "agent_intelligence", password, connectionLimit: 5 }] });
    await withClient(url, async (c) => {
      expect((await c.query("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'agent_intelligence'")).rows[0].rolconnlimit).toBe(
        5,
      );
    });
    // A role the runner may not create fails naming the role and the SQLSTATE, never quoting the statement (it holds
    // the verifier), and without pg's error as the cause (its message may quote the statement too).
    const refused = await withClient(svcUrl, (c) =>
      ensureServiceRoles(c, [{ name: "intruder_svc", password: "intruder-password-1", connectionLimit: 1 }]),
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DbMigrationError);
    expect((refused as Error).message).toBe('(roles): role "intruder_svc": 42501 while creating or updating it');
    expect((refused as Error).cause).toBeUndefined();
  });

  it("stores a SCRAM verifier: the plain password never appears in the statement", () => {
    const v = scramSha256Verifier("pencil", Buffer.from("c2FsdHNhbHRzYWx0", "base64"));
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:c2FsdHNhbHRzYWx0\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(v).not.toContain("pencil");
  });

  it("rejects a bad role by name before any SQL", async () => {
    const err = await runMigrations({
      connection: server.url(),
      roles: [{ name: "Bad-Name", password: "x".repeat(20), connectionLimit: 2 }],
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/roles\[0\]\.name="Bad-Name" is not a PostgreSQL role name/);
  });
});

describe("npm run db:migrate", () => {
  it("migrates from --url, is idempotent, creates the --role with its password from env and prints neither it nor the URL", async () => {
    const url = await freshDatabase();
    const rolePassword = "cli-svc-password-0123456789";
    const env = { DB_ROLE_PASSWORD_CLI_SVC: rolePassword, DB_ROLE_PASSWORD_CLI_OTHER: "cli-other-password-0123456789" };
    const names = loadMigrations().map((m) => m.name);
    const run = async () => {
      let out = "";
      let err = "";
      const status = await runCli(["--url", url, "--role", "cli_svc:3", "--role", "cli_other:2"], env, {
        out: (t) => (out += t),
        err: (t) => (err += t),
      });
      return { status, out, err };
    };
    const first = await run();
    expect(first).toMatchObject({ status: 0, err: "" });
    expect(first.out).toContain(`db:migrate: done; applied ${names.length} (${names.join(", ")}), already applied 0\n`);
    for (const name of names) expect(first.out).toContain(`db:migrate: applying ${name}\n`);
    const second = await run();
    expect(second).toEqual({
      status: 0,
      out: [
        "db:migrate: waiting for the migration lock",
        "db:migrate: roles: cli_svc (CONNECTION LIMIT 3), cli_other (CONNECTION LIMIT 2)",
        `db:migrate: done; applied 0 (none), already applied ${names.length}`,
        "",
      ].join("\n"),
      err: "",
    });
    for (const out of [first.out, second.out]) {
      expect(out).not.toContain(PostgresServer.PASSWORD);
      expect(out).not.toContain(rolePassword);
    }
    // Indexes interrupted runs left INVALID are rebuilt, and the command names them.
    await withClient(url, async (c) => {
      await c.query(
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid IN ('idx_operations_status'::regclass, 'idx_audit_logs_user'::regclass)",
      );
      await c.query(
        "DELETE FROM uaip_schema_migrations WHERE name IN ('002_idx_operations_status.sql', '003_idx_audit_logs_user.sql')",
      );
    });
    expect((await run()).out).toContain(
      `db:migrate: done; applied 2 (002_idx_operations_status.sql, 003_idx_audit_logs_user.sql), already applied ${names.length - 2}, rebuilt invalid indexes idx_operations_status, idx_audit_logs_user\n`,
    );
    // The role logs in with the password the environment gave it.
    const db = new URL(url).pathname.slice(1);
    expect(
      await withClient(server.url(db, "cli_svc", rolePassword), async (c) => (await c.query("SELECT 1 AS x")).rows[0].x),
    ).toBe(1);
  });

  it("as a process: a refusal exits 1 with the reason on stderr", () => {
    const missing = spawnSync("npx", ["tsx", "runtime/src/db/migrate-cli.ts", "--url", server.url(), "--role", "other_svc:3"], {
      cwd: join(__dirname, "../../.."),
      encoding: "utf8",
    });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe("db:migrate: --role other_svc: set its password in DB_ROLE_PASSWORD_OTHER_SVC\n");
  }, 60_000);
});
