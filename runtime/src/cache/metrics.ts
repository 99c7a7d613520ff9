import type { Counter, Registry } from "prom-client";
import { counter } from "../metrics/instruments";
import { LABEL, LABEL_VALUE, METRIC } from "../metrics/names";

/** Values of the `operation` label on the cache error and invalidation counters. */
export const CACHE_OPERATION = {
  get: "get",
  set: "set",
  delete: "delete",
  invalidate: "invalidate",
  publish: "publish",
  subscribe: "subscribe",
  connection: "connection",
  /** An invalidation received from another instance over the bus. */
  remote: "remote",
} as const;
/** A cache operation label value (see CACHE_OPERATION). */
export type CacheOperation = (typeof CACHE_OPERATION)[keyof typeof CACHE_OPERATION];

type Flusher = () => void;
type Collectable = Counter<string> & { collect?: () => unknown };
const flushers = new WeakMap<object, Set<Flusher>>();

/**
 * Runs `flush` before every scrape of `metric`. prom-client's labelled `inc()` hashes and validates
 * labels on every call, which alone costs ~3x an L1 hit; so the hot path bumps plain numbers and
 * hands them to prom-client when the counter is collected. A `collect` already set by whoever created
 * the counter is kept and still runs.
 */
function onCollect(metric: Collectable, flush: Flusher): () => void {
  let set = flushers.get(metric);
  if (!set) {
    const hooks = new Set<Flusher>();
    set = hooks;
    flushers.set(metric, hooks);
    const previous = metric.collect;
    metric.collect = function (this: unknown) {
      for (const f of hooks) f();
      return previous?.call(this);
    };
  }
  set.add(flush);
  const hooks = set;
  return () => hooks.delete(flush);
}

/** Per-instance cache counters, cheap to bump, pushed into the shared prom-client counters on scrape. */
export class CacheMetrics {
  l1Hit = 0;
  l1Miss = 0;
  l2Hit = 0;
  l2Miss = 0;
  readonly #errors = new Map<CacheOperation, number>();
  readonly #invalidations = new Map<CacheOperation, number>();
  readonly #requests: Counter<string> | undefined;
  readonly #errorsTotal: Counter<string> | undefined;
  readonly #invalidationsTotal: Counter<string> | undefined;
  readonly #detach: (() => void)[] = [];

  constructor(registry?: Registry) {
    if (!registry) return;
    this.#requests = counter(
      registry,
      METRIC.cacheRequestsTotal,
      "Cache lookups by tier (l1 memory, l2 redis) and result (hit, miss).",
      [LABEL.tier, LABEL.result],
    );
    this.#errorsTotal = counter(
      registry,
      METRIC.cacheErrorsTotal,
      "Cache operations that failed or were skipped because Redis was unavailable, by operation.",
      [LABEL.operation],
    );
    this.#invalidationsTotal = counter(
      registry,
      METRIC.cacheInvalidationsTotal,
      "Cache invalidations (keys or patterns) sent or received, by operation.",
      [LABEL.operation],
    );
    // Every operation starts at 0, so a healthy cache scrapes as "0 errors" rather than no series
    // (an alert's rate() over an absent series is empty, and a dashboard shows "No data").
    for (const operation of Object.values(CACHE_OPERATION)) {
      this.#errorsTotal.inc({ [LABEL.operation]: operation }, 0);
      this.#invalidationsTotal.inc({ [LABEL.operation]: operation }, 0);
    }
    const flush = (): void => this.flush();
    for (const m of [this.#requests, this.#errorsTotal, this.#invalidationsTotal]) this.#detach.push(onCollect(m, flush));
  }

  error(operation: CacheOperation): void {
    this.#errors.set(operation, (this.#errors.get(operation) ?? 0) + 1);
  }

  invalidation(operation: CacheOperation): void {
    this.#invalidations.set(operation, (this.#invalidations.get(operation) ?? 0) + 1);
  }

  /** Pushes the pending deltas into prom-client (called on every scrape and on close). */
  flush(): void {
    const requests = this.#requests;
    if (!requests) return;
    const pending: [string, string, number][] = [
      [LABEL_VALUE.tierMemory, LABEL_VALUE.hit, this.l1Hit],
      [LABEL_VALUE.tierMemory, LABEL_VALUE.miss, this.l1Miss],
      [LABEL_VALUE.tierRedis, LABEL_VALUE.hit, this.l2Hit],
      [LABEL_VALUE.tierRedis, LABEL_VALUE.miss, this.l2Miss],
    ];
    this.l1Hit = this.l1Miss = this.l2Hit = this.l2Miss = 0;
    for (const [tier, result, n] of pending) if (n > 0) requests.inc({ [LABEL.tier]: tier, [LABEL.result]: result }, n);
    for (const [op, n] of this.#errors) this.#errorsTotal!.inc({ [LABEL.operation]: op }, n);
    for (const [op, n] of this.#invalidations) this.#invalidationsTotal!.inc({ [LABEL.operation]: op }, n);
    this.#errors.clear();
    this.#invalidations.clear();
  }

  close(): void {
    this.flush();
    for (const detach of this.#detach.splice(0)) detach();
  }
}
