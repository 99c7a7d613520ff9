import { Registry } from "prom-client";
import { gauge } from "../metrics/instruments";
import { METRIC } from "../metrics/names";
import { duration, object, required, string, validateOptions, type SpecFor } from "../options";
import { dbError, ManagedPool } from "./pool";
import { setRepeating } from "../timer";

const STATS_REFRESHER_OPTIONS_SPEC = {
  pool: required(object<ManagedPool>("a ManagedPool (createPool)", (v) => v instanceof ManagedPool)),
  // UAIP_DB_STATS_REFRESH_INTERVAL_MS; 0 (off) means "do not construct one" (createRuntime does not).
  intervalMs: required(duration(1)),
  registry: object<Registry>("a prom-client Registry"),
  // One unqualified SQL name: it is quoted as a single identifier, so "schema.view" would name nothing.
  view: string({ pattern: /^[A-Za-z_][A-Za-z0-9_$]*$/, what: "an unqualified view name such as operation_stats" }),
} satisfies SpecFor<StatsRefresherOptions>;

export interface StatsRefresherOptions {
  pool: ManagedPool;
  /** database.statsRefreshIntervalMs (UAIP_DB_STATS_REFRESH_INTERVAL_MS). */
  intervalMs: number;
  /** Registry for the refresh-age gauges (the runtime's). @default a new private Registry */
  registry?: Registry;
  /** @default "operation_stats" */
  view?: string;
}

/** One tick of the StatsRefresher: whether this replica refreshed the view, and the view's age. */
export interface RefreshResult {
  /** This replica refreshed the view on this tick. */
  refreshed: boolean;
  /** Seconds since the view was last refreshed by any replica, as the database sees it. */
  ageSeconds: number;
}

type Collected = ReturnType<typeof gauge<string>> & { collect?: () => void };

/**
 * Refreshes the seed's `operation_stats` view every `intervalMs`, from inside the services, so no
 * CronJob needs database credentials of its own. Every replica ticks; one refreshes:
 * - the view's row in uaip_matview_refresh, locked FOR UPDATE SKIP LOCKED, lets one replica in at a time, the
 *   others skip (never wait); no advisory lock, which would pin a session behind RDS Proxy;
 * - under the lock, the replica refreshes only if the last refresh (uaip_matview_refresh, written in
 *   the same transaction) is older than the interval, so N replicas refresh once per interval, not N times;
 * - REFRESH ... CONCURRENTLY keeps the view readable while it runs (it needs the unique index).
 * Every replica reads the last refresh time, so `uaip_db_stats_refresh_age_seconds` is the same on
 * all of them and keeps growing while refreshes fail (database down, lock held, view broken): the
 * UaipDbStatsStale alert fires on it. A failed tick is counted in the age, never thrown.
 */
export class StatsRefresher {
  readonly #pool: ManagedPool;
  readonly #intervalMs: number;
  readonly #view: string;
  readonly #startedAt = Date.now();
  #lastRefreshedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(options: StatsRefresherOptions) {
    const o = validateOptions("StatsRefresher", options, STATS_REFRESHER_OPTIONS_SPEC, dbError, {
      hints: { interval: 'the interval is "intervalMs", in ms (database.statsRefreshIntervalMs)' },
    });
    this.#pool = o.pool!;
    this.#intervalMs = o.intervalMs!;
    this.#view = o.view ?? "operation_stats";
    const registry = o.registry ?? new Registry();
    const age: Collected = gauge(
      registry,
      METRIC.dbStatsRefreshAgeSeconds,
      "Seconds since operation_stats was last refreshed by any replica (grows while refreshes fail)",
    );
    const interval: Collected = gauge(
      registry,
      METRIC.dbStatsRefreshIntervalSeconds,
      "Configured operation_stats refresh interval (database.statsRefreshInterval), seconds",
    );
    age.collect = () => age.set(this.ageSeconds());
    interval.collect = () => interval.set(this.#intervalMs / 1000);
  }

  /** Seconds since the last known refresh; until one is known, since this refresher started. */
  ageSeconds(): number {
    return (Date.now() - (this.#lastRefreshedAt ?? this.#startedAt)) / 1000;
  }

  /** Ticks now and every intervalMs (unref'd timer). */
  start(): this {
    if (this.#timer) return this;
    void this.#tickSafely();
    this.#timer = setRepeating(() => void this.#tickSafely(), this.#intervalMs);
    this.#timer.unref();
    return this;
  }

  /** Stops the timer and waits for a refresh in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One tick: refresh if this replica gets the lock and the view is due, then read the age. Throws on database errors. */
  async tick(): Promise<RefreshResult> {
    const view = this.#view;
    const refreshed = await this.#pool.withClient(async (client) => {
      // The row exists from migration 004; created here if a view was added without one (before the transaction,
      // so two replicas inserting it at once do not wait on each other's transaction).
      await client.query(
        "INSERT INTO uaip_matview_refresh (view_name, refreshed_at) VALUES ($1, 'epoch') ON CONFLICT (view_name) DO NOTHING",
        [view],
      );
      await client.query("BEGIN");
      try {
        // One replica at a time, by the view's row lock: SKIP LOCKED returns no row while another replica holds it,
        // so the others skip instead of waiting. A row lock, not an advisory lock: advisory locks pin an RDS Proxy
        // session to its server connection until the client disconnects; a row lock ends with the transaction.
        const row = await client.query<{ due: boolean }>(
          "SELECT refreshed_at <= now() - make_interval(secs => $2) AS due FROM uaip_matview_refresh WHERE view_name = $1 FOR UPDATE SKIP LOCKED",
          [view, (this.#intervalMs * 0.9) / 1000],
        );
        let did = false;
        if (row.rows[0]?.due) {
          await client.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${client.escapeIdentifier(view)}`);
          await client.query("UPDATE uaip_matview_refresh SET refreshed_at = now() WHERE view_name = $1", [view]);
          did = true;
        }
        await client.query("COMMIT");
        return did;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
    const age = await this.#pool.query<{ age: number | null }>(
      "SELECT extract(epoch FROM clock_timestamp() - refreshed_at)::float8 AS age FROM uaip_matview_refresh WHERE view_name = $1",
      [view],
    );
    const ageSeconds = age.rows[0]?.age ?? undefined;
    // Age, not timestamp: the database's clock decides, so skew between pods and RDS does not matter.
    if (ageSeconds !== undefined) this.#lastRefreshedAt = Date.now() - ageSeconds * 1000;
    return { refreshed, ageSeconds: this.ageSeconds() };
  }

  async #tickSafely(): Promise<void> {
    if (this.#running) return;
    this.#running = this.tick().catch(() => undefined);
    await this.#running;
    this.#running = undefined;
  }
}
