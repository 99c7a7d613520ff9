import { DEFAULT_METRIC, METRIC } from "@uaip/runtime/metrics";
import { buildRuleGroups } from "../../dashboards/rules";
import { platformOverview } from "../../dashboards/platform-overview";
import { serviceOverview } from "../../dashboards/service-overview";
import { panelsOf, parsePromql, substituteGrafanaVariables } from "./exprs";

/**
 * Every PromQL expression in the dashboards and rules parses, and names only metrics the runtime
 * exports, that kube-prometheus-stack's exporters provide, or that our recording rules define.
 */

const groups = buildRuleGroups();
const recorded = new Set(groups.recording.rules.map((r) => r.record));

/** Histograms the runtime exports: their series carry _bucket/_sum/_count. */
const HISTOGRAMS = [METRIC.httpRequestDurationSeconds, METRIC.batchSize, METRIC.dbPoolHoldSeconds];
const RUNTIME = new Set<string>([
  ...Object.values(METRIC),
  ...Object.values(DEFAULT_METRIC),
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
]);
/** kube-prometheus-stack: Prometheus' own `up`, kube-state-metrics (kube_*), cAdvisor (container_*). */
const EXPORTER_ALLOW = [/^up$/, /^kube_[a-z0-9_]+$/, /^container_[a-z0-9_]+$/];

function unknownMetrics(expr: string): string[] {
  return parsePromql(expr).metrics.filter((m) => !RUNTIME.has(m) && !recorded.has(m) && !EXPORTER_ALLOW.some((re) => re.test(m)));
}

const ruleExprs: [string, string][] = [
  ...groups.recording.rules.map((r): [string, string] => [r.record, r.expr]),
  ...groups.alerts.rules.map((r): [string, string] => [r.alert, r.expr]),
];
const dashboardExprs: [string, string][] = [serviceOverview(), platformOverview()].flatMap((d) =>
  panelsOf(d).flatMap((p) =>
    (p.targets ?? []).map((t): [string, string] => [
      `${d.uid} / ${p.title} / ${t.refId}`,
      substituteGrafanaVariables(t.expr ?? ""),
    ]),
  ),
);

describe("PromQL in rules and dashboards", () => {
  it("finds the expressions it checks", () => {
    expect(ruleExprs.length).toBeGreaterThanOrEqual(20);
    expect(dashboardExprs.length).toBeGreaterThanOrEqual(20);
  });

  it.each([...ruleExprs, ...dashboardExprs])("%s parses without error nodes", (_where, expr) => {
    expect(expr).not.toBe("");
    expect(parsePromql(expr).errors).toEqual([]);
  });

  it.each([...ruleExprs, ...dashboardExprs])("%s uses only known metric names", (_where, expr) => {
    expect(parsePromql(expr).metrics.length).toBeGreaterThan(0);
    expect(unknownMetrics(expr)).toEqual([]);
  });

  // The checker itself must be able to fail.
  it.each([
    ["unbalanced parentheses", "sum(rate(uaip_http_requests_total[5m])", "error"],
    ["a Grafana variable left in place", "rate(uaip_http_requests_total[$__rate_interval])", "error"],
    ["a retyped metric name with a typo", "rate(uaip_http_request_total[5m])", "unknown"],
    ["an exporter metric outside the allow-list", "node_cpu_seconds_total", "unknown"],
  ])("rejects %s", (_what, expr, kind) => {
    if (kind === "error") expect(parsePromql(expr).errors.length).toBeGreaterThan(0);
    else expect(unknownMetrics(expr).length).toBeGreaterThan(0);
  });
});
