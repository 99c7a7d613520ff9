/**
 * The load run's report: `report.json` (machine-readable, the shape CI and the README use),
 * `report.md` (for a person or a PR) and `latency.svg`. The dashboard previews are written next to
 * them by dashboard-preview.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latencyChart, type ChartPoint } from "./chart";
import type { AlertSeen, QueryCheck, Window } from "./query-check";
import type { Agreement } from "./server-histogram";
import type { Summary } from "./stats";
import { GROSS_DISAGREEMENT_RULE } from "./verdict";

export interface StageReport extends Summary {
  stage: number;
  /** The stage as the seed writes it, e.g. "2m → 100 VUs", and how long it ran here. */
  label: string;
  durationS: number;
  maxVus: number;
}

export interface ServiceAgreement extends Agreement {
  service: string;
  clientP95Ms: number;
}

export interface LoadReport extends Summary {
  stack: string;
  mode: "quick" | "full";
  startedAt: string;
  durationS: number;
  slo: { latencyP95Ms: number; errorRate: number };
  sloMet: boolean;
  stages: StageReport[];
  services: ServiceAgreement[];
  /** Failures that make the run exit non-zero, in words. */
  failures: string[];
  /** Reported, never failing (e.g. client/runtime p95 apart within the histogram's resolution). */
  diagnostics?: string[];
  timeline: ChartPoint[];
  /** The run's own Prometheus: every dashboard and rule query checked over the run's window, and the alerts it raised. */
  prometheus: {
    scrapeInterval: string;
    window: Window;
    queries: QueryCheck[];
    alerts: AlertSeen[];
    /** Set with --keep: where the TSDB was left. */
    dataDir?: string;
  };
}

const pct = (n: number) => `${(n * 100).toFixed(2)} %`;

/** `previews`: the dashboard images written next to the report, paths relative to it, with a caption. */
export function reportMarkdown(r: LoadReport, previews: readonly Preview[] = []): string {
  const lines = [
    `# Load run: ${r.stack} (${r.mode}), ${r.startedAt}`,
    "",
    `**${r.sloMet && r.failures.length === 0 ? "PASS" : "FAIL"}** — SLO p95 < ${r.slo.latencyP95Ms} ms and errors < ${pct(r.slo.errorRate)}; measured p95 ${r.p95Ms} ms, errors ${pct(r.errorRate)}, ${r.requests} requests in ${r.durationS.toFixed(0)} s (${r.throughput} req/s).`,
    "",
    "| stage | duration | max VUs | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.stages.map(
      (s) =>
        `| ${s.label} | ${s.durationS.toFixed(0)} s | ${s.maxVus} | ${s.requests} | ${s.throughput} | ${s.p50Ms} | ${s.p95Ms} | ${s.p99Ms} | ${pct(s.errorRate)} |`,
    ),
    `| **all** | ${r.durationS.toFixed(0)} s | | ${r.requests} | ${r.throughput} | ${r.p50Ms} | ${r.p95Ms} | ${r.p99Ms} | ${pct(r.errorRate)} |`,
    "",
    "Client-side p95 vs the runtime's own histogram (`uaip_http_request_duration_seconds`, interpolated like `histogram_quantile`):",
    "",
    "| service | client p95 ms | server p95 ms | bucket ms | difference | client p95 in bucket | agreement |",
    "| --- | ---: | ---: | --- | ---: | --- | --- |",
    ...r.services.map(
      (s) =>
        `| ${s.service} | ${s.clientP95Ms} | ${s.serverP95Ms} | ${s.bucketMs[0]}–${s.bucketMs[1]} | ${pct(s.relativeDifference)} | ${s.clientInBucket ? "yes" : "no"} | ${s.level} |`,
    ),
    "",
    `They agree within 10 %, or down to the histogram's resolution (the client's p95 in the bucket the runtime's p95 was interpolated in). Otherwise the difference is a diagnostic, and fails the run only when gross: ${GROSS_DISAGREEMENT_RULE}.`,
    "",
    ...(r.failures.length ? ["Failures:", "", ...r.failures.map((f) => `- ${f}`), ""] : []),
    ...(r.diagnostics?.length ? ["Diagnostics (not failures):", "", ...r.diagnostics.map((d) => `- ${d}`), ""] : []),
    "![latency over time](latency.svg)",
    "",
    ...prometheusMarkdown(r.prometheus, previews),
  ];
  return lines.join("\n");
}

const STATUS: Record<QueryCheck["status"], string> = {
  data: "data",
  "expected-empty": "empty (expected)",
  empty: "**EMPTY**",
  nan: "**only NaN**",
  error: "**ERROR**",
};

export interface Preview {
  path: string;
  caption: string;
}

function prometheusMarkdown(p: LoadReport["prometheus"], previews: readonly Preview[]): string[] {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  return [
    `## Dashboards and rules against the run's Prometheus`,
    "",
    `Prometheus scraped every ${p.scrapeInterval}; each query ran over the run's window (${p.window.end - p.window.start} s, step ${p.window.stepS} s). A query with no series, or only NaN, fails the run unless its expected-empty condition (declared next to the query) holds.`,
    "",
    `Alerts pending or fired during the run: ${p.alerts.length ? p.alerts.map((a) => `${a.alertname} (${a.state}, ${a.labels.service ?? a.labels.instance ?? ""})`).join(", ") : "none"}.`,
    "",
    "| query | service | series | result |",
    "| --- | --- | ---: | --- |",
    ...p.queries.map(
      (q) =>
        `| ${q.kind === "rule" ? "rule " : ""}${cell(q.name)} | ${q.service ?? ""} | ${q.series} | ${STATUS[q.status]}${q.detail ? `: ${cell(q.detail)}` : ""} |`,
    ),
    "",
    ...(previews.length
      ? ["Dashboard previews, drawn from these results:", "", ...previews.flatMap((v) => [`![${v.caption}](${v.path})`, ""])]
      : []),
  ];
}

export async function writeReport(dir: string, report: LoadReport, previews: readonly Preview[] = []): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), reportMarkdown(report, previews));
  writeFileSync(
    join(dir, "latency.svg"),
    await latencyChart(report.timeline, {
      title: `Latency over time: ${report.stack} (${report.mode})`,
      sloP95Ms: report.slo.latencyP95Ms,
    }),
  );
}
