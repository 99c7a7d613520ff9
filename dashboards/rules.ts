import { DEFAULT_METRIC, LABEL, LABEL_VALUE, METRIC } from "@uaip/runtime/metrics";
import { resolveMonitoringOptions, SCRAPE_JOB, type MonitoringOptions, type ResolvedMonitoringOptions } from "./options";
import { EMPTY_WHEN, mayBeEmpty } from "./expected-empty";
import { CACHE_LOOKUPS, DURATION, ERROR_RATIO_WINDOWS, RECORD, num, sel, sumRate, type ErrorRatioWindow } from "./promql";

/**
 * The ONE place where recording and alerting rules are written. Both the PrometheusRule object
 * (Monitoring component) and the plain rule files (dashboards/rules/*.yaml, for promtool and the
 * local stack) are emitted from `buildRuleGroups`.
 */

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "critical" | "warning" };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup<R> {
  name: string;
  rules: R[];
}

export interface RuleGroups {
  recording: RuleGroup<RecordingRule>;
  alerts: RuleGroup<AlertingRule>;
}

/** Burn-rate alert windows from the SRE workbook (ch. 5) as Sloth generates them: budget consumed 2%/5% (page), 10%/10% (ticket). */
export const BURN_RATES = [
  { alert: "UaipErrorBudgetBurnFast", factor: 14.4, long: "1h", short: "5m" },
  { alert: "UaipErrorBudgetBurnFast", factor: 6, long: "6h", short: "30m" },
  { alert: "UaipErrorBudgetBurnSlow", factor: 3, long: "1d", short: "2h" },
  { alert: "UaipErrorBudgetBurnSlow", factor: 1, long: "3d", short: "6h" },
] as const satisfies readonly { alert: string; factor: number; long: ErrorRatioWindow; short: ErrorRatioWindow }[];

/** Below this many cache lookups per second a low hit ratio is noise (cold cache, idle service). */
const CACHE_MIN_LOOKUPS_PER_SECOND = 0.1;

/** operation_stats is stale once its age exceeds this many refresh intervals (a missed tick or two is fine). */
const STATS_STALE_INTERVALS = 3;

const S = LABEL.service;
const BY_INSTANCE = [S, "instance"];

function recordingRules(): RecordingRule[] {
  const requests = METRIC.httpRequestsTotal;
  const errors = METRIC.httpRequestErrorsTotal;
  // `or ... * 0`: a service that has served requests but never failed has no error series yet; its ratio is 0, not absent.
  const errorRatio = (w: string): string => `(${sumRate(errors, w)} or ${sumRate(requests, w)} * 0) / ${sumRate(requests, w)}`;
  const quantile = (q: number): string => `histogram_quantile(${num(q)}, ${sumRate(DURATION.bucket, "5m", [S, "le"])})`;
  const cache = [S, LABEL.tier];
  return [
    { record: RECORD.requestRate, expr: sumRate(requests, "5m") },
    { record: RECORD.errorRate, expr: mayBeEmpty(sumRate(errors, "5m"), EMPTY_WHEN.noFailedRequests) },
    ...ERROR_RATIO_WINDOWS.map((w) => ({ record: RECORD.errorRatio(w), expr: errorRatio(w) })),
    { record: RECORD.latencyAvg, expr: `${sumRate(DURATION.sum, "5m")} / ${sumRate(DURATION.count, "5m")}` },
    { record: RECORD.latencyP95, expr: quantile(0.95) },
    { record: RECORD.latencyP99, expr: quantile(0.99) },
    {
      record: RECORD.cacheHitRatio,
      expr: mayBeEmpty(
        `${sumRate(sel(METRIC.cacheRequestsTotal, { [LABEL.result]: LABEL_VALUE.hit }), "5m", cache)} / ${sumRate(sel(METRIC.cacheRequestsTotal, {}, CACHE_LOOKUPS), "5m", cache)}`,
        EMPTY_WHEN.noCacheReads,
      ),
    },
  ];
}

/** GitHub-style anchor of the runbook heading `## <alert>`. */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

function alert(
  o: ResolvedMonitoringOptions,
  name: string,
  severity: AlertingRule["labels"]["severity"],
  expr: string,
  forDuration: string,
  summary: string,
  description: string,
): AlertingRule {
  return {
    alert: name,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${o.runbookBaseUrl}#${runbookAnchor(name)}` },
  };
}

function pct(fraction: number): string {
  return `${num(fraction * 100)}%`;
}

function burnRateExpr(alertName: string, budget: number): string {
  return BURN_RATES.filter((b) => b.alert === alertName)
    .map((b) => {
      const threshold = `(${num(b.factor)} * ${num(budget)})`;
      return `(${RECORD.errorRatio(b.long)} > ${threshold} and ${RECORD.errorRatio(b.short)} > ${threshold})`;
    })
    .join(" or ");
}

function alertingRules(o: ResolvedMonitoringOptions): AlertingRule[] {
  const svc = "{{ $labels.service }}";
  const inst = "{{ $labels.instance }}";
  const budget = o.slo.errorRate;
  const latency = o.slo.latencyP95Ms / 1000;
  const rl = METRIC.rateLimitRequestsTotal;
  return [
    alert(
      o,
      "UaipLatencyP95AboveSlo",
      "warning",
      `${RECORD.latencyP95} > ${num(latency)}`,
      "5m",
      `${svc}: p95 latency above the ${num(o.slo.latencyP95Ms)} ms SLO`,
      `The 95th percentile of request duration of ${svc} has been above ${num(o.slo.latencyP95Ms)} ms for 5 minutes.`,
    ),
    alert(
      o,
      "UaipErrorBudgetBurnFast",
      "critical",
      burnRateExpr("UaipErrorBudgetBurnFast", budget),
      "2m",
      `${svc}: error budget burning fast`,
      `${svc} is failing requests at 14.4x (1h and 5m) or 6x (6h and 30m) the ${pct(budget)} error budget; at this pace a 30-day budget is gone in 2 to 5 days.`,
    ),
    alert(
      o,
      "UaipErrorBudgetBurnSlow",
      "warning",
      burnRateExpr("UaipErrorBudgetBurnSlow", budget),
      "15m",
      `${svc}: error budget burning slowly`,
      `${svc} is failing requests at 3x (1d and 2h) or 1x (3d and 6h) the ${pct(budget)} error budget; the 30-day budget will run out before the window ends.`,
    ),
    alert(
      o,
      "UaipTargetDown",
      "warning",
      `${sel("up", { job: SCRAPE_JOB })} == 0`,
      "5m",
      `Scrape target ${inst} is down`,
      `Prometheus has failed to scrape ${inst} (job ${SCRAPE_JOB}) for 5 minutes: the process is down, unreachable, or /metrics fails.`,
    ),
    alert(
      o,
      "UaipHeapNearLimit",
      "warning",
      `max by (${BY_INSTANCE.join(", ")}) (${DEFAULT_METRIC.heapUsedBytes}) / max by (${BY_INSTANCE.join(", ")}) (${METRIC.memoryHeapLimitBytes}) > ${num(o.heapThreshold)}`,
      "10m",
      `${svc} ${inst}: heap above ${pct(o.heapThreshold)} of its limit`,
      `V8 heap used on ${inst} of ${svc} has been above ${pct(o.heapThreshold)} of the heap limit (the memory monitor's threshold) for 10 minutes; an out-of-memory restart is likely.`,
    ),
    alert(
      o,
      "UaipHeapLimitMismatch",
      "warning",
      `max by (${BY_INSTANCE.join(", ")}) (${METRIC.memoryHeapLimitMismatch}) == 1`,
      "15m",
      `${svc} ${inst}: heap limit differs from memory.heapSizeLimit`,
      `On ${inst} of ${svc}, the heap limit V8 enforces (--max-old-space-size) is not the configured memory.heapSizeLimit; the memory monitor measures against the smaller, so it sheds load earlier or later than the profile says.`,
    ),
    alert(
      o,
      "UaipEventLoopLagHigh",
      "warning",
      `max by (${BY_INSTANCE.join(", ")}) (${DEFAULT_METRIC.eventLoopLagP99Seconds}) > ${num(o.eventLoopLagSeconds)}`,
      "10m",
      `${svc} ${inst}: event-loop lag p99 above ${num(o.eventLoopLagSeconds * 1000)} ms`,
      `The p99 event-loop lag on ${inst} of ${svc} has been above ${num(o.eventLoopLagSeconds * 1000)} ms for 10 minutes; every request on this process waits that long.`,
    ),
    alert(
      o,
      "UaipCacheHitRatioCollapse",
      "warning",
      `${RECORD.cacheHitRatio} < ${num(o.cacheHitRatioMin)} and on (${S}, ${LABEL.tier}) ${sumRate(sel(METRIC.cacheRequestsTotal, {}, CACHE_LOOKUPS), "5m", [S, LABEL.tier])} > ${num(CACHE_MIN_LOOKUPS_PER_SECOND)}`,
      "15m",
      `${svc}: cache hit ratio of tier {{ $labels.tier }} below ${pct(o.cacheHitRatioMin)}`,
      `The {{ $labels.tier }} cache of ${svc} has answered fewer than ${pct(o.cacheHitRatioMin)} of lookups from cache for 15 minutes; the load goes to the database and upstreams.`,
    ),
    alert(
      o,
      "UaipCacheErrors",
      "warning",
      `${sumRate(METRIC.cacheErrorsTotal, "5m")} > ${num(o.cacheErrorsPerSecond)}`,
      "5m",
      `${svc}: cache (Redis) errors`,
      `${svc} has been seeing more than ${num(o.cacheErrorsPerSecond)} cache errors per second for 5 minutes. The runtime degrades to its in-process cache, so requests still succeed, but slower and with more database load.`,
    ),
    alert(
      o,
      "UaipDbPoolWaitingSustained",
      "warning",
      `max by (${BY_INSTANCE.join(", ")}) (${METRIC.dbPoolWaitingRequests}) > 0`,
      "10m",
      `${svc} ${inst}: requests waiting for a database connection`,
      `Requests on ${inst} of ${svc} have been queueing for a PostgreSQL pool connection for 10 minutes: the pool is saturated.`,
    ),
    alert(
      o,
      "UaipDbStatsStale",
      "warning",
      `min by (${S}) (${METRIC.dbStatsRefreshAgeSeconds}) > ${num(STATS_STALE_INTERVALS)} * max by (${S}) (${METRIC.dbStatsRefreshIntervalSeconds})`,
      "5m",
      `${svc}: operation_stats not refreshed for ${num(STATS_STALE_INTERVALS)} intervals`,
      `No replica of ${svc} has refreshed the operation_stats materialized view for more than ${num(STATS_STALE_INTERVALS)} times its refresh interval: analytics read from it are stale.`,
    ),
    alert(
      o,
      "UaipWebSocketNearMax",
      "warning",
      `sum by (${BY_INSTANCE.join(", ")}) (${METRIC.wsConnections}) / sum by (${BY_INSTANCE.join(", ")}) (${METRIC.wsMaxConnections}) > ${num(o.wsNearMaxFraction)}`,
      "5m",
      `${svc} ${inst}: WebSocket connections above ${pct(o.wsNearMaxFraction)} of the maximum`,
      `${inst} of ${svc} has held more than ${pct(o.wsNearMaxFraction)} of its maximum WebSocket connections for 5 minutes; new connections will soon be closed with code 1013.`,
    ),
    alert(
      o,
      "UaipRateLimitRejectionsSpike",
      "warning",
      `${sumRate(sel(rl, { [LABEL.result]: LABEL_VALUE.rejected }), "5m")} / ${sumRate(rl, "5m")} > ${num(o.rateLimitRejectedRatio)}`,
      "5m",
      `${svc}: more than ${pct(o.rateLimitRejectedRatio)} of requests rate-limited`,
      `The rate limiter of ${svc} has rejected more than ${pct(o.rateLimitRejectedRatio)} of requests for 5 minutes: a client misbehaves, or the limits are too low for real traffic.`,
    ),
  ];
}

/** All rule groups for the given profile numbers. */
export function buildRuleGroups(options: MonitoringOptions = {}): RuleGroups {
  const o = resolveMonitoringOptions(options);
  return {
    recording: { name: "uaip-recording", rules: recordingRules() },
    alerts: { name: "uaip-alerts", rules: alertingRules(o) },
  };
}

/** The `spec` of a monitoring.coreos.com/v1 PrometheusRule (the operator reads the same groups format). */
export function prometheusRuleSpec(options: MonitoringOptions = {}): {
  groups: [RuleGroup<RecordingRule>, RuleGroup<AlertingRule>];
} {
  const groups = buildRuleGroups(options);
  return { groups: [groups.recording, groups.alerts] };
}

/** Plain rule files, relative to dashboards/: recording rules first, because alerts read them. */
export function ruleFiles(
  options: MonitoringOptions = {},
): Record<string, { groups: RuleGroup<RecordingRule | AlertingRule>[] }> {
  const groups = buildRuleGroups(options);
  return {
    "rules/uaip-recording.yaml": { groups: [groups.recording] },
    "rules/uaip-alerts.yaml": { groups: [groups.alerts] },
  };
}
