import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import { loadPeer } from "../peers";
import { RuntimeConfigError } from "../errors";
import { duration, func, listOf, object, required, string, validateOptions, type SpecFor } from "../options";
import { DbMigrationError } from "./errors";
import { ensureServiceRoles, validateServiceRole, type ServiceRole } from "./roles";
import type { DbSettings } from "./pool";
import { postgresTlsOptions } from "./tls";
import { setTimer } from "../timer";

/**
 * A small migration runner, chosen over node-pg-migrate because:
 * - node-pg-migrate 8+ is ESM-only, and this package and its tests are CommonJS;
 * - its advisory lock fails fast by default, so a second replica starting at the same time errors
 *   instead of waiting; here the second run waits on `pg_advisory_lock`, then finds nothing to do;
 * - two concurrent runs of its CONCURRENTLY migrations have left INVALID indexes that
 *   `IF NOT EXISTS` then skipped (hexpm#1817); here every index a no-transaction file creates is
 *   dropped first if invalid, and checked with pg_index.indisvalid after;
 * - the role step needs passwords that must never reach a SQL log (SCRAM verifiers, see roles.ts).
 *
 * Files: `<number>_<name>.sql` in `dir`, applied in name order, recorded with their SHA-256 in
 * uaip_schema_migrations. A file whose first line is `-- uaip:no-transaction` runs statement by
 * statement outside a transaction (CREATE INDEX CONCURRENTLY); every other file runs in one.
 */
export const MIGRATIONS_DIR = join(__dirname, "..", "..", "migrations");

/** pg_advisory_lock(classid, objid) keys: "UAIP" and the job. */
export const ADVISORY_LOCK = { namespace: 0x55414950, migrate: 1, statsRefresh: 2 } as const;

const NO_TRANSACTION = /^--\s*uaip:no-transaction\b/;
const CONCURRENT_INDEX = /CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("?[\w]+"?)/gi;

/** Options of runMigrations: the connection, the migrations directory, the service roles and a log. */
export interface MigrateOptions {
  /** A postgres:// URL or a pg ClientConfig of a role that may create tables and roles (the master user). */
  connection: string | pg.ClientConfig;
  /** @default MIGRATIONS_DIR (runtime/migrations, shipped in the package) */
  dir?: string;
  /** Per-service login roles to create or update after the migrations. @default [] */
  roles?: readonly ServiceRole[];
  /** How long to wait for another run's lock (and any lock) before failing, ms. @default 300000 */
  lockTimeoutMs?: number;
  /** Progress lines (never contain passwords or the URL). @default no output */
  log?: (line: string) => void;
}

/** What runMigrations did: the migrations applied now and before, and the indexes it rebuilt. */
export interface MigrateReport {
  applied: string[];
  alreadyApplied: string[];
  /** Invalid indexes left by an interrupted run, dropped and rebuilt. */
  rebuiltIndexes: string[];
  roles: string[];
}

interface Migration {
  name: string;
  sql: string;
  checksum: string;
  transactional: boolean;
}

/** The migrations in `dir`, in order, with their checksums. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex"), transactional: !NO_TRANSACTION.test(sql) };
    });
}

/** The statements of a no-transaction file: split at semicolons that end a line, comments dropped. */
export function splitStatements(sql: string): string[] {
  const code = sql
    .split("\n")
    .filter((line) => !/^\s*--/.test(line))
    .join("\n");
  return code
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The connection for session-level work (the migrations' advisory lock): the writer itself,
 * `database.directHost` (UAIP_DB_DIRECT_HOST) when the services reach it through RDS Proxy, else
 * `database.host`. Through the proxy the lock would pin the session, and a proxied session may not
 * even keep its server connection between transactions, which a session lock relies on.
 */
export function directConnection(
  database: Pick<DbSettings["database"], "host" | "port" | "name" | "user" | "password" | "ssl" | "sslCaFile"> & {
    directHost?: string;
  },
): pg.ClientConfig {
  const host = database.directHost || database.host;
  return {
    host,
    port: database.port,
    database: database.name,
    user: database.user,
    password: database.password,
    ssl: postgresTlsOptions({ ssl: database.ssl, sslCaFile: database.sslCaFile, host }),
  };
}

const MIGRATE_OPTIONS_SPEC = {
  connection: required({
    expected: "a postgres:// URL or a pg ClientConfig object",
    problem: (v: unknown) =>
      (typeof v === "string" && /^postgres(ql)?:\/\//i.test(v)) || (typeof v === "object" && v !== null && !Array.isArray(v))
        ? undefined
        : "",
  }),
  dir: string({ nonEmpty: true, what: "a directory path" }),
  roles: listOf(object<ServiceRole>("a ServiceRole { name, password, connectionLimit }")),
  lockTimeoutMs: duration(1),
  log: func<(line: string) => void>("a function (line) => void"),
} satisfies SpecFor<MigrateOptions>;

/** Applies every pending migration, then the roles. Idempotent; concurrent runs serialize on an advisory lock. */
export async function runMigrations(options: MigrateOptions): Promise<MigrateReport> {
  validateOptions("runMigrations", options ?? {}, MIGRATE_OPTIONS_SPEC, (key, message) => new RuntimeConfigError(key, message));
  const log = options.log ?? (() => undefined);
  // Bad roles fail before anything touches the database.
  options.roles?.forEach(validateServiceRole);
  const migrations = loadMigrations(options.dir);
  const lockTimeoutMs = Math.floor(options.lockTimeoutMs ?? 300_000);
  const given: pg.ClientConfig =
    typeof options.connection === "string" ? { connectionString: options.connection } : options.connection;
  // Session settings travel in the startup packet, not as SET statements: a SET pins an RDS Proxy session,
  // and a setting given at connect time holds from the first statement on.
  const client = new (loadPeer<typeof pg>("pg").Client)({
    ...given,
    lock_timeout: lockTimeoutMs,
    options: [given.options, "-c client_min_messages=warning"].filter(Boolean).join(" "),
  });
  // A server restart mid-run must fail this run, not crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    // pg's messages name the host and the reason (refused, auth, TLS), never the password.
    throw new DbMigrationError("(connect)", `cannot connect to PostgreSQL: ${(err as Error).message}`, { cause: err });
  }
  const report: MigrateReport = { applied: [], alreadyApplied: [], rebuiltIndexes: [], roles: [] };
  try {
    log("waiting for the migration lock");
    await acquireLock(client, lockTimeoutMs);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS uaip_schema_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const done = new Map(
        (await client.query<{ name: string; checksum: string }>("SELECT name, checksum FROM uaip_schema_migrations")).rows.map(
          (r) => [r.name, r.checksum],
        ),
      );
      for (const m of migrations) {
        const previous = done.get(m.name);
        if (previous !== undefined) {
          if (previous !== m.checksum) {
            throw new DbMigrationError(
              m.name,
              "was changed after it was applied; add a new migration instead of editing an applied one",
            );
          }
          report.alreadyApplied.push(m.name);
          continue;
        }
        log(`applying ${m.name}`);
        if (m.transactional) await applyInTransaction(client, m);
        else report.rebuiltIndexes.push(...(await applyWithoutTransaction(client, m)));
        report.applied.push(m.name);
      }
      if (options.roles?.length) {
        report.roles = await ensureServiceRoles(client, options.roles);
        log(`roles: ${report.roles.join(", ")}`);
      }
    } finally {
      await client
        .query("SELECT pg_advisory_unlock($1, $2)", [ADVISORY_LOCK.namespace, ADVISORY_LOCK.migrate])
        .catch(() => undefined);
    }
  } catch (err) {
    // pg's own errors (the session terminated while waiting for the lock, the server restarted) name no step:
    // every failure of a run leaves as DbMigrationError.
    if (err instanceof DbMigrationError) throw err;
    throw new DbMigrationError("(run)", `${(err as Error).message}; run it again: applied migrations are recorded and skipped`, {
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
  return report;
}

/**
 * Takes the session-level migration lock by polling pg_try_advisory_lock, not by blocking in
 * pg_advisory_lock: a session blocked in a statement holds a snapshot, and CREATE INDEX
 * CONCURRENTLY in the lock holder waits for every such snapshot to end, so a blocked waiter and the
 * holder deadlock (seen with two replicas migrating at once). Between tries this session is idle.
 */
async function acquireLock(client: pg.Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    const r = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [
      ADVISORY_LOCK.namespace,
      ADVISORY_LOCK.migrate,
    ]);
    if (r.rows[0].locked) return;
    if (Date.now() + delay > deadline) {
      throw new DbMigrationError(
        "(lock)",
        `another migration has held the lock for more than ${timeoutMs} ms (lockTimeoutMs); is one stuck? See pg_locks where locktype = 'advisory'`,
      );
    }
    await new Promise((res) => setTimer(res, delay));
  }
}

async function applyInTransaction(client: pg.Client, m: Migration): Promise<void> {
  try {
    await client.query("BEGIN");
    await client.query(m.sql);
    await client.query("INSERT INTO uaip_schema_migrations (name, checksum) VALUES ($1, $2)", [m.name, m.checksum]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw new DbMigrationError(m.name, (err as Error).message, { cause: err });
  }
}

/** Returns the invalid indexes it found and rebuilt. */
async function applyWithoutTransaction(client: pg.Client, m: Migration): Promise<string[]> {
  const indexes = [...m.sql.matchAll(CONCURRENT_INDEX)].map((x) => x[1].replaceAll('"', ""));
  const invalid = await invalidIndexes(client, indexes);
  for (const name of invalid) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${client.escapeIdentifier(name)}`);
  try {
    for (const statement of splitStatements(m.sql)) await client.query(statement);
  } catch (err) {
    throw new DbMigrationError(m.name, `${(err as Error).message}; any index it left INVALID is rebuilt on the next run`, {
      cause: err,
    });
  }
  const bad = await notValid(client, indexes);
  if (bad.length)
    throw new DbMigrationError(m.name, `index ${bad.join(", ")} is invalid or missing after the build; run the migration again`);
  await client.query("INSERT INTO uaip_schema_migrations (name, checksum) VALUES ($1, $2)", [m.name, m.checksum]);
  return invalid;
}

async function indexState(client: pg.Client, names: string[]): Promise<Map<string, boolean>> {
  if (!names.length) return new Map();
  const r = await client.query<{ relname: string; indisvalid: boolean }>(
    "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1) AND pg_table_is_visible(c.oid)",
    [names],
  );
  return new Map(r.rows.map((x) => [x.relname, x.indisvalid]));
}

/** Indexes among `names` that exist but are INVALID (an interrupted CREATE INDEX CONCURRENTLY). */
async function invalidIndexes(client: pg.Client, names: string[]): Promise<string[]> {
  const state = await indexState(client, names);
  return names.filter((n) => state.get(n) === false);
}

/** Indexes among `names` that are missing or INVALID. */
async function notValid(client: pg.Client, names: string[]): Promise<string[]> {
  const state = await indexState(client, names);
  return names.filter((n) => state.get(n) !== true);
}
