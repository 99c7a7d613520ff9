/**
 * When a dashboard query or recording rule may rightly return nothing. Declared where the query is
 * written (a panel's `Query.emptyWhen`, `mayBeEmpty()` around a rule's expression), so the
 * declaration cannot drift from the query. A run that checks every query against a real Prometheus
 * (load/runner/query-check.ts) accepts an empty result only when the declared condition holds for
 * that run: an error-rate series is allowed to be missing in a run where nothing failed, and
 * becomes a failure in a run with errors.
 */

/** What a run knows about itself that decides whether a series can exist. */
export interface RunFacts {
  /** Requests that did not get a 2xx (5xx, 429 from the limiter, socket errors). */
  failedRequests: number;
  /** Requests the runtime's rate limiter rejected (429): a subset of the failed ones, and the only ones that create a rejection series. */
  limiterRejections: number;
  /** Whether the run's requests read through the cache (GET /<service>/operations/:id, /stats); the seed's mix only POSTs. */
  cacheReads: boolean;
  /** Whether Redis failed during the run (an injected fault). */
  redisFaults: boolean;
  /** Whether kube-state-metrics is scraped (a Kubernetes cluster), not a local run. */
  kubernetes: boolean;
}

export interface EmptyWhen {
  /** Why the query can be empty, in words, for the report. */
  reason: string;
  /** True when, in a run with these facts, the query may be empty. */
  holds(facts: RunFacts): boolean;
}

/** The conditions the dashboards and rules use. */
export const EMPTY_WHEN = {
  noFailedRequests: {
    reason: "no request failed in this run; the runtime creates an error or rejection series on the first one",
    holds: (f: RunFacts) => f.failedRequests === 0,
  },
  noLimiterRejections: {
    reason:
      "the rate limiter rejected no request in this run (no 429); the runtime creates its rejection series on the first one, and other failures (5xx, timeouts) do not",
    holds: (f: RunFacts) => f.limiterRejections === 0,
  },
  noCacheReads: {
    reason: "no request in this run read through the cache (the seed's mix only POSTs); a hit ratio needs lookups",
    holds: (f: RunFacts) => !f.cacheReads,
  },
  noRedisFaults: {
    reason: "Redis did not fail in this run; the runtime creates its cache-error series on the first error",
    holds: (f: RunFacts) => !f.redisFaults,
  },
  notKubernetes: {
    reason: "kube-state-metrics exists only in a Kubernetes cluster; a local run has no HPA",
    holds: (f: RunFacts) => !f.kubernetes,
  },
} as const satisfies Record<string, EmptyWhen>;

const declared = new Map<string, EmptyWhen>();

/** Declares that `expr` (as written, Grafana variables included) may be empty when `when` holds; returns it unchanged. */
export function mayBeEmpty(expr: string, when: EmptyWhen): string {
  declared.set(expr, when);
  return expr;
}

/** The condition declared for `expr`, if any (the dashboards and rules must have been built: they declare as they build). */
export function emptyWhen(expr: string): EmptyWhen | undefined {
  return declared.get(expr);
}
