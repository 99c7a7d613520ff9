import type pg from "pg";
import { loadPeer } from "../peers";
import { Registry } from "prom-client";
import { runtimeConfigSchema, type RuntimeConfig } from "../config/load";
import { poolSettingsSchema, type RuntimeSettings } from "../config/settings";
import { RuntimeConfigError } from "../errors";
import {
  boolean,
  checkOptions,
  checkValue,
  duration,
  func,
  number,
  prototypeProblems,
  object,
  required,
  string,
  throwProblems,
  validateOptions,
  zodProblems,
  type OptionProblem,
  type SpecFor,
  keysOf,
} from "../options";
import { DbConnectionLimitError, DbPoolClosedError, DbPoolTimeoutError } from "./errors";
import { pinningReasons, type PinningReason } from "./pinning";
import { counter } from "../metrics/instruments";
import { LABEL, METRIC } from "../metrics/names";
import { isConnectionError, translateDbError } from "./translate";
import { registerPoolMetrics, type PoolMetricsHandle } from "./metrics";
import { postgresTlsOptions } from "./tls";
import { setTimer } from "../timer";

/** What a pool needs from the runtime config: the seed's PoolConfig and the connection settings. */
export interface DbSettings {
  pool: RuntimeSettings["pool"];
  /** The connection; readHost and directHost may be left out (their default: "", none). */
  database: Omit<RuntimeConfig["database"], OptionalDatabaseKey> & Partial<Pick<RuntimeConfig["database"], OptionalDatabaseKey>>;
}

/** The database settings added with RDS Proxy and read replicas: callers need not name them. */
type OptionalDatabaseKey = "readHost" | "directHost";

/** Pool errors name the option path (`pool.maxConnections`, `database.host`). */
export const dbError = (key: string, message: string): RuntimeConfigError => new RuntimeConfigError(key, message);

const CREATE_POOL_OPTIONS_SPEC = {
  registry: object<Registry>("a prom-client Registry"),
  applicationName: string({ what: "a string (PostgreSQL application_name)" }),
  detectPinning: boolean,
  onPinning: func<(event: PinningEvent) => void>("a function ({ reasons, text }) => void"),
  readerRetryMs: duration(1),
} satisfies SpecFor<CreatePoolOptions>;

const POOL_CONFIG_KEYS = Object.keys(poolSettingsSchema.shape);
const DATABASE_SCHEMA = runtimeConfigSchema.shape.database;

/**
 * `{ pool, database }` with every default applied and checked: the seed's PoolConfig may be partial
 * (the profile's defaults fill it, never NaN), unknown keys are refused with a did-you-mean
 * (`database.hostname`), durations are capped like every timer, and min > max names the options.
 * The seed's PoolConfig passed alone is refused with the form that works.
 */
function parseDbSettings(settings: unknown): DbSettings {
  const where = "createPool";
  const looksLikePoolConfig =
    typeof settings === "object" && settings !== null && Object.keys(settings).some((k) => POOL_CONFIG_KEYS.includes(k));
  if (looksLikePoolConfig)
    throw new RuntimeConfigError(
      "pool",
      `${where}: got the seed's PoolConfig itself; pass it with the connection: createPool({ pool: poolConfig, database: { host, port, name, user, password } })`,
    );
  const record = checkOptions(where, settings, keysOf<DbSettings>()("pool", "database"), dbError);
  const problems: OptionProblem[] = [];
  if (record.database === undefined)
    problems.push({
      key: "database",
      message: "is required: { host, port, name, user, password } of the PostgreSQL to connect to",
    });
  problems.push(...prototypeProblems(record.pool, "pool"), ...prototypeProblems(record.database, "database"));
  const pool = poolSettingsSchema.safeParse(record.pool === undefined ? {} : record.pool);
  if (!pool.success) problems.push(...zodProblems(pool.error.issues, record.pool, "pool", poolSettingsSchema));
  const database = DATABASE_SCHEMA.safeParse(record.database);
  if (!database.success) problems.push(...zodProblems(database.error.issues, record.database, "database", DATABASE_SCHEMA));
  // The durations' cap (durationMs) and min <= max are the schema's own rules: poolSettingsSchema checks them.
  throwProblems(where, problems, dbError);
  return { pool: pool.data!, database: database.data! };
}

export interface CreatePoolOptions {
  /** Registry for the `uaip_db_pool_*` metrics (the runtime's). @default a new private Registry */
  registry?: Registry;
  /** `application_name` of every session, shown in pg_stat_activity. @default database.user */
  applicationName?: string;
  /**
   * Classify every statement the application runs on this pool (query, withClient, read) and count
   * those that would pin an RDS Proxy session (SET, PREPARE/DEALLOCATE, temporary tables, cursors,
   * LISTEN, sequence functions, advisory locks: db/pinning.ts) in `uaip_db_pinning_statements_total{reason}`.
   * A debugging aid: it costs a few regular expressions per statement. @default pool.detectPinning (off)
   */
  detectPinning?: boolean;
  /** Called with each pinning statement found (with detectPinning), e.g. to log it. @default none */
  onPinning?: (event: PinningEvent) => void;
  /**
   * After the reader failed to connect, read from the writer for this many ms before trying the reader
   * again (so a replica that is down costs one failed attempt per period, not one per query). @default 5000
   */
  readerRetryMs?: number;
}

/** One statement that would pin an RDS Proxy session. */
export interface PinningEvent {
  reasons: PinningReason[];
  /** The statement's text (its values are never included). */
  text: string;
}

/** The reader could not serve the query, so the writer should: it is down, unreachable, full or too slow to connect. */
function readerUnavailable(err: unknown): boolean {
  return isConnectionError(err) || err instanceof DbConnectionLimitError;
}

/** A point-in-time view of the pool: the seed's PoolMetrics plus what the gauges export. */
export interface PoolStats {
  /** Connections open to PostgreSQL (in use + idle). Never above `max`. */
  total: number;
  idle: number;
  /** Connections checked out: the seed's `activeConnections`. */
  inUse: number;
  /** Requests queued for a connection: the seed's `waitingRequests`. */
  waiting: number;
  /** The adaptive concurrency limit (ConnectionPoolManager moves it between min and max). */
  limit: number;
  min: number;
  /** pool.maxConnections: the process's share of the service's budget slice. */
  max: number;
}

interface Waiter {
  /** With a client: handed over directly by the releaser (no trip through pg.Pool's idle list). */
  resolve: (client?: pg.PoolClient) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A pg.Pool behind an adaptive concurrency limit.
 *
 * Why not resize pg.Pool: it has no runtime resize (its `max` is read on every connect, but
 * shrinking it neither closes connections nor is supported API; tarn.js#55 is the same story), and
 * rebuilding a pool to resize it drops warm connections and doubles the connection count while the
 * old one drains, which could break the budget. So the pg.Pool is built once with
 * `max = pool.maxConnections` (the hard ceiling: this process never opens more) and the limit in
 * front of it says how many connections may be checked out at once:
 * - grow: raising the limit lets queued requests through at once; pg.Pool opens connections on demand;
 * - shrink: lowering the limit stops handing out the extra connections; pg.Pool reuses idle clients
 *   LIFO, so the surplus stays idle and closes after `idleTimeoutMillis`. `min` keeps a warm floor
 *   (pg.Pool's `min` only stops eviction; `warm()` opens them, since pg.Pool never prefills).
 *
 * Errors are typed: DbPoolTimeoutError, DbUnavailableError, DbConnectionLimitError, DbTlsVerificationError. SQL errors
 * (syntax, constraints) pass through as pg's DatabaseError. Broken connections are destroyed, never
 * returned to the pool, and an idle connection's error (server restart) is counted, never thrown.
 */
export class ManagedPool {
  readonly min: number;
  readonly max: number;
  readonly #pool: pg.Pool;
  readonly #timeoutMs: number;
  readonly #user: string;
  readonly #host: string;
  readonly #metrics: PoolMetricsHandle;
  #limit: number;
  #inUse = 0;
  #queue: Waiter[] = [];
  #closed = false;
  #onWaiting: (() => void) | undefined;
  readonly #detectPinning: boolean;
  readonly #onPinning: ((event: PinningEvent) => void) | undefined;
  readonly #pinning: ReturnType<typeof counter<string>> | undefined;
  /** The read replica's pool (database.readHost), if any. */
  readonly #reader: ManagedPool | undefined;
  readonly #readerRetryMs: number;
  readonly #readerFallbacks: ReturnType<typeof counter<string>> | undefined;
  #readerDownUntil = 0;
  /** Checked-out clients that emitted `error`: released with the error so pg.Pool destroys them. */
  readonly #broken = new WeakSet<pg.PoolClient>();
  readonly #guarded = new WeakSet<pg.PoolClient>();
  readonly #checkedOut = new WeakSet<pg.PoolClient>();

  constructor(settings: DbSettings, options: CreatePoolOptions = {}) {
    const { pool, database } = parseDbSettings(settings);
    const o = validateOptions("createPool", options, CREATE_POOL_OPTIONS_SPEC, dbError);
    this.min = pool.minConnections;
    this.max = pool.maxConnections;
    this.#limit = Math.max(1, this.min);
    this.#timeoutMs = pool.connectionTimeoutMillis;
    this.#user = database.user;
    this.#host = database.host;
    this.#pool = new (loadPeer<typeof pg>("pg").Pool)({
      host: database.host,
      port: database.port,
      database: database.name,
      user: database.user,
      password: database.password,
      ssl: postgresTlsOptions(database),
      max: pool.maxConnections,
      min: pool.minConnections,
      idleTimeoutMillis: pool.idleTimeoutMillis,
      // pg's default 0 waits forever; ours bounds the whole acquire, this bounds one TCP+auth handshake.
      connectionTimeoutMillis: pool.connectionTimeoutMillis,
      application_name: o.applicationName ?? database.user,
      // Idle pooled sockets must not keep a finished process (CLI, tests, shutdown) alive.
      allowExitOnIdle: true,
    });
    const registry = o.registry ?? new Registry();
    this.#metrics = registerPoolMetrics(registry, this);
    this.#detectPinning = o.detectPinning ?? pool.detectPinning ?? false;
    this.#onPinning = o.onPinning;
    this.#pinning = this.#detectPinning
      ? counter(registry, METRIC.dbPinningStatementsTotal, "Application statements that would pin an RDS Proxy session", [
          LABEL.reason,
        ])
      : undefined;
    this.#readerRetryMs = o.readerRetryMs ?? 5_000;
    // The reader: the same pool settings on the replica. Its sessions are never proxied (RDS Proxy cannot
    // target a read replica), so nothing there is checked for pinning.
    this.#reader = database.readHost
      ? new ManagedPool(
          {
            pool: { ...pool, detectPinning: false },
            database: { ...database, host: database.readHost, readHost: "", directHost: "" },
          },
          { registry, applicationName: `${o.applicationName ?? database.user}:reader` },
        )
      : undefined;
    this.#readerFallbacks = this.#reader
      ? counter(
          registry,
          METRIC.dbReaderFallbacksTotal,
          "Read-only queries the writer served because the read replica could not (down, unreachable, full)",
        )
      : undefined;
    this.#readerFallbacks?.inc(0);
    // Without this listener an idle client's error (server restart, network cut) crashes the process (pg#1707, #2762).
    // pg.Pool has already removed the client; there is nothing to do but count it.
    this.#pool.on("error", () => this.#metrics.countError());
  }

  /** The current concurrency limit. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Sets the concurrency limit, clamped to [max(1, min), max] so it can never exceed the service's
   * slice. Returns the value applied. Raising it lets queued requests through at once.
   */
  setLimit(limit: number): number {
    // NaN would pass the clamp (Math.max/min return NaN) and queue every request until it timed out, for good.
    checkValue("setLimit", "limit", limit, required(number({})), dbError);
    this.#limit = Math.min(this.max, Math.max(1, this.min, Math.floor(limit)));
    while (this.#queue.length > 0 && this.#inUse < this.#limit) {
      this.#inUse++;
      const waiter = this.#queue.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    return this.#limit;
  }

  /** Called whenever a request has to queue (ConnectionPoolManager grows on it without waiting for a tick). */
  onWaiting(listener: (() => void) | undefined): void {
    this.#onWaiting = listener;
  }

  stats(): PoolStats {
    const total = this.#pool.totalCount;
    const idle = this.#pool.idleCount;
    return {
      total,
      idle,
      inUse: total - idle,
      waiting: this.#queue.length + this.#pool.waitingCount,
      limit: this.#limit,
      min: this.min,
      max: this.max,
    };
  }

  /** Runs one statement on a pooled connection. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.withClient((client) => client.query<R>(text, values));
  }

  /** Whether read-only queries go to a read replica (database.readHost is set). */
  get hasReader(): boolean {
    return this.#reader !== undefined;
  }

  /**
   * Runs one read-only statement on the read replica (database.readHost), or on the writer when there
   * is none. How stale: the replica applies the writer's WAL asynchronously, so a read may miss writes
   * committed up to the replica lag before it (RDS's ReplicaLag metric; usually under a second, more
   * while the replica catches up after a burst or a restart). There is no read-your-writes: read a row
   * you just wrote with `query`. When the replica is down, unreachable or full, the statement runs on
   * the writer instead (counted in uaip_db_reader_fallbacks_total) and reads stay on the writer for
   * readerRetryMs before the replica is tried again. A statement the replica refuses (a write: "cannot
   * execute ... in a read-only transaction") is thrown, never retried on the writer.
   */
  async read<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.withReadClient((client) => client.query<R>(text, values));
  }

  /** Like withClient, on the read replica (see `read`): `fn` must only read, since it may run again on the writer. */
  async withReadClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const reader = this.#reader;
    if (!reader || Date.now() < this.#readerDownUntil) return this.withClient(fn);
    try {
      return await reader.withClient(fn);
    } catch (err) {
      if (!readerUnavailable(err) || this.#closed) throw err;
      this.#readerDownUntil = Date.now() + this.#readerRetryMs;
      this.#readerFallbacks?.inc();
      return this.withClient(fn);
    }
  }

  /**
   * Checks a connection out for `fn` (a transaction, several statements) and always returns it.
   * A connection that broke while checked out is destroyed, not pooled.
   */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#acquire();
    const heldFrom = performance.now();
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (err) {
      if (isConnectionError(err) || this.#broken.has(client)) broken = err as Error;
      throw translateDbError(err, this.#user, this.#timeoutMs, this.#host);
    } finally {
      this.#metrics.observeHold((performance.now() - heldFrom) / 1000);
      if (this.#broken.has(client) && !broken) broken = new Error("connection broke while checked out");
      if (!broken && this.#queue.length > 0 && this.#inUse <= this.#limit) {
        // Hand the healthy connection straight to the next waiter, as pg.Pool does with its own queue.
        const waiter = this.#queue.shift()!;
        clearTimeout(waiter.timer);
        waiter.resolve(client);
      } else {
        this.#checkedOut.delete(client);
        client.release(broken);
        this.#releasePermit();
      }
    }
  }

  /**
   * Opens connections up to `min` (pg.Pool never prefills; after a server restart the floor is
   * gone too). Best effort: failures are counted, never thrown.
   */
  async warm(): Promise<void> {
    const missing = Math.min(this.min, this.#limit) - this.#pool.totalCount;
    if (missing <= 0 || this.#closed) return;
    const clients = await Promise.allSettled(Array.from({ length: missing }, () => this.#pool.connect()));
    for (const c of clients) {
      if (c.status === "fulfilled") c.value.release();
      else this.#metrics.countError();
    }
  }

  /** Ends every connection; queued requests fail with DbPoolClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new DbPoolClosedError());
    }
    this.#metrics.unregister();
    await Promise.all([this.#pool.end(), this.#reader?.close()]);
  }

  async #acquire(): Promise<pg.PoolClient> {
    if (this.#closed) throw new DbPoolClosedError();
    const started = performance.now();
    if (this.#inUse < this.#limit && this.#queue.length === 0) this.#inUse++;
    else {
      const handedOver = await this.#wait();
      if (handedOver) return handedOver;
    }
    try {
      const client = await this.#connect(this.#timeoutMs - (performance.now() - started));
      this.#guard(client);
      this.#checkedOut.add(client);
      return client;
    } catch (err) {
      this.#releasePermit();
      throw translateDbError(err, this.#user, this.#timeoutMs, this.#host);
    }
  }

  /** Queues for a permit (or a connection); the releaser hands it over with #inUse already counted. */
  #wait(): Promise<pg.PoolClient | undefined> {
    return new Promise<pg.PoolClient | undefined>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimer(() => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(
            new DbPoolTimeoutError(
              this.#timeoutMs,
              `waited behind ${this.#queue.length} other requests for one of ${this.#limit} connections`,
            ),
          );
        }, this.#timeoutMs),
      };
      waiter.timer.unref();
      this.#queue.push(waiter);
      this.#onWaiting?.();
    });
  }

  /**
   * pg.Pool.connect, bounded by what is left of the acquire budget. With an idle client at hand
   * (the common case) no timer is armed: the client comes back at once.
   */
  #connect(remainingMs: number): Promise<pg.PoolClient> {
    if (this.#pool.idleCount > 0) return this.#pool.connect();
    const pending = this.#pool.connect();
    return new Promise<pg.PoolClient>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimer(
        () => {
          timedOut = true;
          // The connect may still succeed later: give that client straight back.
          pending.then(
            (c) => c.release(),
            () => undefined,
          );
          reject(new DbPoolTimeoutError(this.#timeoutMs, "opening a new connection did not finish in time"));
        },
        Math.max(1, remainingMs),
      );
      timer.unref();
      pending.then(
        (client) => {
          if (timedOut) return;
          clearTimeout(timer);
          resolve(client);
        },
        (err: unknown) => {
          if (timedOut) return;
          clearTimeout(timer);
          reject(err as Error);
        },
      );
    });
  }

  /** A checked-out client has no pg.Pool error listener: ours keeps its `error` from crashing the process. */
  #guard(client: pg.PoolClient): void {
    if (this.#guarded.has(client)) return;
    this.#guarded.add(client);
    if (this.#detectPinning) this.#watchPinning(client);
    client.on("error", () => {
      // While idle, pg.Pool's own listener handles it (and our pool "error" listener counts it).
      if (!this.#checkedOut.has(client) || this.#broken.has(client)) return;
      this.#broken.add(client);
      this.#metrics.countError();
    });
  }

  /** Every statement this client runs (query, withClient, read's fallback) is classified before it is sent. */
  #watchPinning(client: pg.PoolClient): void {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const statement = args[0] as string | { text?: unknown; name?: unknown };
      const reasons = pinningReasons(statement);
      if (reasons.length) {
        for (const reason of reasons) this.#pinning!.inc({ [LABEL.reason]: reason });
        const text = typeof statement === "string" ? statement : String(statement?.text ?? "");
        try {
          this.#onPinning?.({ reasons, text });
        } catch {
          // A throwing listener must not fail the query it observes.
        }
      }
      return send(...args);
    };
  }

  #releasePermit(): void {
    if (this.#queue.length > 0 && this.#inUse <= this.#limit) {
      const waiter = this.#queue.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve();
    } else {
      this.#inUse--;
    }
  }
}

/** Builds the service's pool from its settings (`loadRuntimeConfig()` gives them), with metrics on `options.registry`. */
export function createPool(settings: DbSettings, options: CreatePoolOptions = {}): ManagedPool {
  return new ManagedPool(settings, options);
}
