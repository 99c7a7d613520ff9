// Public API of the metrics area (explicit: route normalisation, the sliding window and /proc readers stay private).
export {
  createMetrics,
  HttpMetrics,
  MetricsOptionsError,
  CLIENT_CLOSED_STATUS,
  type CreateMetricsOptions,
  type ServiceMetrics,
} from "./http-metrics";
export { METRIC, DEFAULT_METRIC, LABEL, LABEL_VALUE, HTTP_DURATION_BUCKETS, DB_HOLD_BUCKETS } from "./names";
export type { WindowSummary } from "./window";
export type { LabelExtractor } from "./extra-labels";
