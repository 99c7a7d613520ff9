/**
 * `npm run load -- --target URL | --rate R | --rates A,B,C …`: the open-model run, against any
 * target or against the local stack (started here, as the closed-model run does). The verdict is
 * the profile's SLO over every response; against the local stack the client/runtime p95 agreement
 * is added as a diagnostic (gross disagreement fails, verdict.ts), and the generator's drops fail
 * the run (their latency is unmeasured).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLocalStack } from "../local-stack";
import { stackProfile } from "../stack-profile";
import { nextClientAddress } from "./drive";
import { runOpenSteps, type OpenRun, type OpenStep, type OpenTarget } from "./open-run";
import { redactHeaders, type Scenario } from "./scenario";
import { agreement, deltaBuckets, parseBuckets } from "./server-histogram";
import { summarize, type Summary } from "./stats";
import { generatorVerdict, verdict, type Slo } from "./verdict";
import type { ServiceAgreement } from "./report";
import { combinedGeneratorCounts, OPEN_MODEL_DEFAULTS } from "./open-model";

/** Relative client/runtime p95 difference that counts as agreeing (beyond it, verdict.ts's rule decides). */
const AGREEMENT = 0.1;
const DURATION_METRIC = "uaip_http_request_duration_seconds";

export interface OpenLoadOptions {
  stack: string;
  /** Absent: the local stack, one target per service (its base path /<service>). */
  target?: URL;
  scenario: Scenario;
  headers: Record<string, string>;
  /** Header names whose values are never printed (with the scenario's and the always-secret ones). */
  secretHeaders: readonly string[];
  rates: readonly number[];
  stepSeconds: number;
  maxInFlight: number;
  lateToleranceMs: number;
  out?: string;
  log: (line: string) => void;
}

export interface OpenLoadReport extends Summary {
  model: "open";
  stack: string;
  scenario: string;
  /** Base URLs driven. */
  targets: string[];
  /** The headers sent on every request, secret values redacted. */
  headers: Record<string, string>;
  startedAt: string;
  durationS: number;
  slo: Slo;
  sloMet: boolean;
  scheduled: number;
  late: number;
  dropped: number;
  lateToleranceMs: number;
  maxInFlight: number;
  steps: OpenStep[];
  /** Local stack only: each service's client p95 against its runtime histogram. */
  services: ServiceAgreement[];
  failures: string[];
  diagnostics: string[];
}

async function scrape(origin: string): Promise<string> {
  return (await fetch(`${origin}/metrics`)).text();
}

export async function runOpenLoad(options: OpenLoadOptions): Promise<OpenLoadReport> {
  const profile = stackProfile(options.stack);
  const slo = profile.monitoring.slo;
  const local = options.target
    ? undefined
    : await (async () => {
        options.log(`starting the ${options.stack} stack as local processes ...`);
        return startLocalStack(profile, { extraEnv: { UAIP_TRUSTED_PROXY_HOPS: "1" }, log: options.log });
      })();
  try {
    const targets: OpenTarget[] = local
      ? local.services.map((s) => ({ name: s.service.name, url: new URL(`${s.origin}/${s.service.name}`) }))
      : [{ name: options.target!.host, url: options.target! }];
    const histogram = (text: string) => parseBuckets(text, DURATION_METRIC, { route: /\/operations/ });
    const before = local
      ? new Map(await Promise.all(local.services.map(async (s) => [s.service.name, histogram(await scrape(s.origin))] as const)))
      : undefined;
    const startedAt = new Date().toISOString();
    const run = await runOpenSteps({
      targets,
      scenario: options.scenario,
      headers: options.headers,
      rates: options.rates,
      stepSeconds: options.stepSeconds,
      maxInFlight: options.maxInFlight,
      lateToleranceMs: options.lateToleranceMs,
      // Behind the local stack's one trusted hop, each send is its own user (as behind the ALB); a remote target gets none.
      perSendHeaders: local ? () => ({ "x-forwarded-for": nextClientAddress() }) : undefined,
      log: options.log,
    });
    const services: ServiceAgreement[] = local
      ? await Promise.all(
          local.services.map(async (s) => {
            const delta = deltaBuckets(histogram(await scrape(s.origin)), before!.get(s.service.name)!);
            const client = summarize(
              run.samples.get(s.service.name)!.filter((x) => x.ok),
              run.durationS,
            );
            return { service: s.service.name, clientP95Ms: client.p95Ms, ...agreement(client.p95Ms, delta, AGREEMENT) };
          }),
        )
      : [];
    const report = openLoadReport(options, { slo, targets, run, services, startedAt });
    if (options.out) writeOpenReport(options.out, report);
    return report;
  } finally {
    await local?.stop();
  }
}

/**
 * The report of a finished run: the SLO over every response and the client/runtime agreement
 * (verdict.ts), the generator's sends over all steps and its verdict, the headers as sent with every
 * secret one's value redacted.
 */
export function openLoadReport(
  options: Pick<OpenLoadOptions, "stack" | "scenario" | "headers" | "secretHeaders" | "maxInFlight" | "lateToleranceMs">,
  measured: { slo: Slo; targets: readonly OpenTarget[]; run: OpenRun; services: ServiceAgreement[]; startedAt: string },
): OpenLoadReport {
  const { slo, run, services } = measured;
  const overall = summarize([...run.samples.values()].flat(), run.durationS);
  const { scheduled, late, dropped } = combinedGeneratorCounts(run.steps);
  const judged = verdict(overall, slo, services);
  const generator = generatorVerdict({ scheduled, late, dropped, maxInFlight: options.maxInFlight });
  const secret = [...options.secretHeaders, ...options.scenario.secretHeaders];
  return {
    model: "open",
    stack: options.stack,
    scenario: options.scenario.name,
    targets: measured.targets.map((t) => t.url.toString()),
    headers: redactHeaders({ ...options.scenario.headers, ...options.headers }, secret),
    startedAt: measured.startedAt,
    durationS: Math.round(run.durationS * 100) / 100,
    slo,
    sloMet: judged.sloMet,
    ...overall,
    scheduled,
    late,
    dropped,
    lateToleranceMs: options.lateToleranceMs,
    maxInFlight: options.maxInFlight,
    steps: run.steps,
    services,
    failures: [...judged.failures, ...generator.failures],
    diagnostics: [...judged.diagnostics, ...generator.diagnostics],
  };
}

const pct = (n: number) => `${(n * 100).toFixed(2)} %`;

export function openReportLines(r: OpenLoadReport): string[] {
  const pad = (v: unknown, n: number) => String(v).padStart(n);
  return [
    `open model · scenario ${r.scenario} · ${r.targets.join(", ")}`,
    `headers: ${
      Object.entries(r.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; ") || "none"
    }`,
    "latency is measured from each send's intended time (coordinated omission corrected)",
    "",
    "offered req/s  answered req/s   p50 ms   p95 ms   p99 ms   errors    late  dropped  max lag ms",
    ...r.steps.map(
      (s) =>
        `${pad(s.rateRps, 13)} ${pad(s.throughput, 15)} ${pad(s.p50Ms, 8)} ${pad(s.p95Ms, 8)} ${pad(s.p99Ms, 8)} ${pct(s.errorRate).padStart(8)} ${pad(s.late, 7)} ${pad(s.dropped, 8)} ${pad(s.maxLagMs, 11)}`,
    ),
    `${"all".padStart(13)} ${pad(r.throughput, 15)} ${pad(r.p50Ms, 8)} ${pad(r.p95Ms, 8)} ${pad(r.p99Ms, 8)} ${pct(r.errorRate).padStart(8)} ${pad(r.late, 7)} ${pad(r.dropped, 8)}`,
    `generator: ${r.scheduled} sends scheduled, ${r.late} late (> ${r.lateToleranceMs} ms behind), ${r.dropped} dropped (in-flight cap ${r.maxInFlight})`,
    ...r.services.map(
      (s) =>
        `${s.service}: client p95 ${s.clientP95Ms} ms, runtime p95 ${s.serverP95Ms} ms (bucket ${s.bucketMs[0]}–${s.bucketMs[1]} ms): ${s.level}`,
    ),
    ...r.diagnostics.map((d) => `diagnostic: ${d}`),
    r.failures.length
      ? `FAIL\n${r.failures.map((f) => `  - ${f}`).join("\n")}`
      : `PASS: p95 ${r.p95Ms} ms < ${r.slo.latencyP95Ms} ms, errors ${pct(r.errorRate)} < ${pct(r.slo.errorRate)}`,
  ];
}

export function writeOpenReport(dir: string, report: OpenLoadReport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), ["```", ...openReportLines(report), "```", ""].join("\n"));
}

export { OPEN_MODEL_DEFAULTS };
