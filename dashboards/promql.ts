import { LABEL, LABEL_VALUE, METRIC } from "@uaip/runtime/metrics";

/**
 * PromQL building blocks shared by the rules and the dashboards. Metric names come only from
 * the runtime's constants (names.ts is imported directly rather than through the package index,
 * so generating dashboards never loads the runtime's Redis/prom-client code).
 */

/** Formats a number for PromQL without float noise (14.4 * 0.01 must not print 0.14400000000000002). */
export function num(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** `metric{k="v",...}`; values are written as given, so `$service` stays a Grafana variable. */
export function sel(metric: string, matchers: Record<string, string> = {}, regex: Record<string, string> = {}): string {
  const parts = [
    ...Object.entries(matchers).map(([k, v]) => `${k}="${v}"`),
    ...Object.entries(regex).map(([k, v]) => `${k}=~"${v}"`),
  ];
  return parts.length ? `${metric}{${parts.join(", ")}}` : metric;
}

/** `sum by (labels) (rate(selector[window]))`; no labels: `sum(rate(...))`. */
export function sumRate(selector: string, window: string, by: readonly string[] = [LABEL.service]): string {
  return by.length ? `sum by (${by.join(", ")}) (rate(${selector}[${window}]))` : `sum(rate(${selector}[${window}]))`;
}

/** A counter name without `_total`, the usual base for a recording rule's metric part. */
function base(counter: string): string {
  return counter.replace(/_total$/, "");
}

/** Error-ratio windows: 5m for dashboards, and every short/long window of the burn-rate alerts. */
export const ERROR_RATIO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
export type ErrorRatioWindow = (typeof ERROR_RATIO_WINDOWS)[number];

/** Recording-rule names (`level:metric:operations`), derived from the runtime's metric names. */
export const RECORD = {
  requestRate: `service:${base(METRIC.httpRequestsTotal)}:rate5m`,
  errorRate: `service:${base(METRIC.httpRequestErrorsTotal)}:rate5m`,
  errorRatio: (window: ErrorRatioWindow) => `service:${base(METRIC.httpRequestErrorsTotal)}:ratio_rate${window}`,
  latencyAvg: `service:${METRIC.httpRequestDurationSeconds}:avg5m`,
  latencyP95: `service:${METRIC.httpRequestDurationSeconds}:p95_5m`,
  latencyP99: `service:${METRIC.httpRequestDurationSeconds}:p99_5m`,
  cacheHitRatio: `service_tier:${base(METRIC.cacheRequestsTotal)}:hit_ratio_rate5m`,
} as const;

/** Histogram series names of the request-duration histogram. */
export const DURATION = {
  bucket: `${METRIC.httpRequestDurationSeconds}_bucket`,
  sum: `${METRIC.httpRequestDurationSeconds}_sum`,
  count: `${METRIC.httpRequestDurationSeconds}_count`,
} as const;

/** Cache lookups only (hits and misses), so writes or other results never dilute the hit ratio. */
export const CACHE_LOOKUPS = { [LABEL.result]: `${LABEL_VALUE.hit}|${LABEL_VALUE.miss}` };
