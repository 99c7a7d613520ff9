/**
 * The load run's report: `report.json` (machine-readable, the shape CI and the README use),
 * `report.md` (for a person or a PR) and `latency.svg`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latencyChart, type ChartPoint } from "./chart";
import type { Agreement } from "./server-histogram";
import type { Summary } from "./stats";

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
  timeline: ChartPoint[];
}

const pct = (n: number) => `${(n * 100).toFixed(2)} %`;

export function reportMarkdown(r: LoadReport): string {
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
    "| service | client p95 ms | server p95 ms | bucket ms | difference | client p95 in bucket | agrees |",
    "| --- | ---: | ---: | --- | ---: | --- | --- |",
    ...r.services.map(
      (s) =>
        `| ${s.service} | ${s.clientP95Ms} | ${s.serverP95Ms} | ${s.bucketMs[0]}–${s.bucketMs[1]} | ${pct(s.relativeDifference)} | ${s.clientInBucket ? "yes" : "no"} | ${s.agrees ? "yes" : "no"} |`,
    ),
    "",
    "They agree within 10 %, or down to the histogram's resolution: the client's p95 in the bucket the runtime's p95 was interpolated in.",
    "",
    ...(r.failures.length ? ["Failures:", "", ...r.failures.map((f) => `- ${f}`), ""] : []),
    "![latency over time](latency.svg)",
    "",
  ];
  return lines.join("\n");
}

export function writeReport(dir: string, report: LoadReport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), reportMarkdown(report));
  writeFileSync(
    join(dir, "latency.svg"),
    latencyChart(report.timeline, {
      title: `Latency over time: ${report.stack} (${report.mode})`,
      sloP95Ms: report.slo.latencyP95Ms,
    }),
  );
}
