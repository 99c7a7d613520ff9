import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { METRIC } from "@uaip/runtime/metrics";
import { generatedFiles } from "../../dashboards/files";
import { DEFAULT_SERVICES, SCRAPE_JOB } from "../../dashboards/options";
import { ERROR_RATIO_WINDOWS, RECORD, num } from "../../dashboards/promql";
import { BURN_RATES, buildRuleGroups, prometheusRuleSpec, ruleFiles, runbookAnchor } from "../../dashboards/rules";

const groups = buildRuleGroups();
const runbooks = readFileSync(join(__dirname, "..", "..", "docs", "runbooks.md"), "utf8");

describe("alerting rules", () => {
  it("has the alerts the issue asks for", () => {
    expect(groups.alerts.rules.map((r) => r.alert)).toEqual([
      "UaipLatencyP95AboveSlo",
      "UaipErrorBudgetBurnFast",
      "UaipErrorBudgetBurnSlow",
      "UaipTargetDown",
      "UaipHeapNearLimit",
      "UaipHeapLimitMismatch",
      "UaipEventLoopLagHigh",
      "UaipCacheHitRatioCollapse",
      "UaipCacheErrors",
      "UaipDbPoolWaitingSustained",
      "UaipDbStatsStale",
      "UaipWebSocketNearMax",
      "UaipRateLimitRejectionsSpike",
    ]);
  });

  it.each(groups.alerts.rules.map((r) => [r.alert, r]))(
    "%s has severity, for, summary, description and a runbook section",
    (name, rule) => {
      expect(["critical", "warning"]).toContain(rule.labels.severity);
      expect(rule.for).toMatch(/^\d+[mh]$/);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(rule.annotations.description.length).toBeGreaterThan(rule.annotations.summary.length);
      expect(rule.annotations.runbook_url).toBe(`docs/runbooks.md#${runbookAnchor(name)}`);
      expect(runbooks).toContain(`\n## ${name}\n`);
    },
  );

  it("has a runbook section for each alert and none for alerts that do not exist", () => {
    const headings = [...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    expect(headings.sort()).toEqual(groups.alerts.rules.map((r) => r.alert).sort());
  });

  it("pages only on the fast burn", () => {
    expect(groups.alerts.rules.filter((r) => r.labels.severity === "critical").map((r) => r.alert)).toEqual([
      "UaipErrorBudgetBurnFast",
    ]);
  });

  it("takes the SLO numbers and thresholds from the profile", () => {
    const custom = buildRuleGroups({
      slo: { latencyP95Ms: 300, errorRate: 0.001 },
      heapThreshold: 0.9,
      wsNearMaxFraction: 0.8,
      runbookBaseUrl: "https://x/runbooks.md",
    });
    const expr = (name: string): string => custom.alerts.rules.find((r) => r.alert === name)!.expr;
    expect(expr("UaipLatencyP95AboveSlo")).toBe(`${RECORD.latencyP95} > 0.3`);
    expect(expr("UaipErrorBudgetBurnFast")).toContain(`${RECORD.errorRatio("1h")} > (14.4 * 0.001)`);
    expect(expr("UaipErrorBudgetBurnSlow")).toContain(`${RECORD.errorRatio("3d")} > (1 * 0.001)`);
    expect(expr("UaipHeapNearLimit")).toMatch(/ > 0\.9$/);
    expect(expr("UaipWebSocketNearMax")).toMatch(/ > 0\.8$/);
    expect(custom.alerts.rules[0]!.annotations.runbook_url).toBe("https://x/runbooks.md#uaiplatencyp95aboveslo");
  });

  it("uses the SRE workbook's burn-rate pairs, each window recorded", () => {
    expect(BURN_RATES.map((b) => `${b.factor}:${b.long}&${b.short}`)).toEqual(["14.4:1h&5m", "6:6h&30m", "3:1d&2h", "1:3d&6h"]);
    const recorded = groups.recording.rules.map((r) => r.record);
    for (const b of BURN_RATES) {
      expect(recorded).toContain(RECORD.errorRatio(b.long));
      expect(recorded).toContain(RECORD.errorRatio(b.short));
    }
  });

  it("watches the seed's job name for targets down", () => {
    expect(groups.alerts.rules.find((r) => r.alert === "UaipTargetDown")!.expr).toBe(`up{job="${SCRAPE_JOB}"} == 0`);
  });
});

describe("recording rules", () => {
  it("records request rate, error ratio per window and p95/p99 latency per service", () => {
    const byName = new Map(groups.recording.rules.map((r) => [r.record, r.expr]));
    expect(byName.get(RECORD.requestRate)).toBe(`sum by (service) (rate(${METRIC.httpRequestsTotal}[5m]))`);
    for (const w of ERROR_RATIO_WINDOWS)
      expect(byName.get(RECORD.errorRatio(w))).toContain(`sum by (service) (rate(${METRIC.httpRequestErrorsTotal}[${w}]))`);
    expect(byName.get(RECORD.latencyP95)).toBe(
      `histogram_quantile(0.95, sum by (service, le) (rate(${METRIC.httpRequestDurationSeconds}_bucket[5m])))`,
    );
    expect(byName.get(RECORD.latencyP99)).toContain("histogram_quantile(0.99,");
  });

  it("aggregates every rule by service", () => {
    for (const r of groups.recording.rules) {
      expect(r.record).toMatch(/^service(_tier)?:/);
      expect(r.expr).toMatch(/by \(service[,)]/);
    }
  });
});

describe("one source for both outputs", () => {
  it("the PrometheusRule spec and the plain rule files hold the same groups", () => {
    const fromFiles = Object.values(ruleFiles()).flatMap((f) => f.groups);
    expect(prometheusRuleSpec().groups).toEqual(fromFiles);
  });

  it("formats numbers without float noise", () => {
    expect(num(14.4 * 0.01)).toBe("0.144");
    expect(num(1 - 0.99)).toBe("0.01");
  });
});

describe("static prometheus.yml", () => {
  const config = parse(generatedFiles()["prometheus/prometheus.yml"]!) as {
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      scrape_interval: string;
      metrics_path: string;
      honor_labels: boolean;
      static_configs: { targets: string[] }[];
    }[];
  };

  it("is the seed's job: uaip-services, 15s, /metrics, the three targets", () => {
    expect(config.scrape_configs).toHaveLength(1);
    const job = config.scrape_configs[0]!;
    expect(job.job_name).toBe("uaip-services");
    expect(job.scrape_interval).toBe("15s");
    expect(job.metrics_path).toBe("/metrics");
    expect(job.static_configs[0]!.targets).toEqual([
      "agent-intelligence:3001",
      "orchestration-pipeline:3002",
      "capability-registry:3003",
    ]);
    expect(DEFAULT_SERVICES.map((s) => `${s.name}:${s.port}`)).toEqual(job.static_configs[0]!.targets);
  });

  it("keeps the services' own `service` label and loads the generated rules", () => {
    expect(config.scrape_configs[0]!.honor_labels).toBe(true);
    expect(config.rule_files).toEqual(["../rules/uaip-recording.yaml", "../rules/uaip-alerts.yaml"]);
  });
});
