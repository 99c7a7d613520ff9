import type { Gauge, Registry } from "prom-client";
import { counter, gauge, histogram } from "../metrics/instruments";
import { DB_HOLD_BUCKETS, LABEL, LABEL_VALUE, METRIC } from "../metrics/names";
import type { PoolStats } from "./pool";

export interface PoolMetricsHandle {
  countError(): void;
  /** A checked-out connection went back after `seconds`. */
  observeHold(seconds: number): void;
  /** Stops reporting this pool (its numbers leave the gauges). */
  unregister(): void;
}

type Collected = Gauge<string> & { collect?: () => void };

interface StatsSource {
  stats(): PoolStats;
}

/** The pools reporting into each registry: the gauges are shared (get-or-create), so they sum over them. */
const poolsByRegistry = new WeakMap<Registry, Set<StatsSource>>();

/**
 * The `uaip_db_pool_*` series the dashboards and UaipDbPoolWaitingSustained read, computed at
 * scrape time from pg.Pool's counters (no work on the query path).
 */
export function registerPoolMetrics(registry: Registry, pool: StatsSource): PoolMetricsHandle {
  let pools = poolsByRegistry.get(registry);
  if (!pools) {
    const all = new Set<StatsSource>();
    pools = all;
    poolsByRegistry.set(registry, all);
    const sum = (pick: (s: PoolStats) => number) => [...all].reduce((n, p) => n + pick(p.stats()), 0);
    const connections: Collected = gauge(
      registry,
      METRIC.dbPoolConnections,
      "PostgreSQL pool connections by state (in_use, idle)",
      [LABEL.state],
    );
    const waiting: Collected = gauge(registry, METRIC.dbPoolWaitingRequests, "Requests waiting for a PostgreSQL pool connection");
    const max: Collected = gauge(
      registry,
      METRIC.dbPoolMaxConnections,
      "PostgreSQL pool ceiling (pool.maxConnections): this process never opens more",
    );
    const limit: Collected = gauge(
      registry,
      METRIC.dbPoolLimit,
      "Adaptive concurrency limit of the PostgreSQL pool, between pool.minConnections and pool.maxConnections",
    );
    // prom-client calls collect() on every scrape; the last registered callback wins, so one closure serves all pools.
    connections.collect = () => {
      connections.set(
        { [LABEL.state]: LABEL_VALUE.inUse },
        sum((s) => s.inUse),
      );
      connections.set(
        { [LABEL.state]: LABEL_VALUE.idle },
        sum((s) => s.idle),
      );
    };
    waiting.collect = () => waiting.set(sum((s) => s.waiting));
    max.collect = () => max.set(sum((s) => s.max));
    limit.collect = () => limit.set(sum((s) => s.limit));
  }
  const errors = counter(
    registry,
    METRIC.dbPoolErrorsTotal,
    "Errors of pooled PostgreSQL connections (server restart, network cut), handled without a crash",
  );
  errors.inc(0);
  const hold = histogram(
    registry,
    METRIC.dbPoolHoldSeconds,
    "Seconds a checked-out PostgreSQL connection was held (the statements' time, not the wait for it)",
    [],
    DB_HOLD_BUCKETS,
  );
  pools.add(pool);
  return {
    countError: () => errors.inc(),
    observeHold: (seconds) => hold.observe(seconds),
    unregister: () => pools.delete(pool),
  };
}
