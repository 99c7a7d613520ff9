/**
 * `npm run load -- [--quick | --full] [--stack local] [--out DIR] [--step-seconds N] [--keep] [--faults LIST]`
 * (`--faults`: the fault run instead, load/faults/run-faults.ts)
 * `npm run load -- [--target URL] [--rate R | --rates A,B,C] [--scenario FILE] [--header 'Name: value']…
 *                  [--secret-header NAME]… [--max-in-flight N] [--late-tolerance-ms N] [--step-seconds N]`
 *
 * With --target or a rate, the open model runs (load/runner/open-load.ts): the scenario (default:
 * the seed's POST) sent at scheduled times to the target, or to the local stack's services when
 * no target is given, latency measured from each send's intended time. Without them, the seed's
 * closed-model run below.
 *
 * The seed's load test, run here against real processes: redis-server, PostgreSQL, the migrations
 * and the three seed services (load/local-stack.ts), driven by autocannon through the seed's stages
 * (load/k6/stages.ts) scaled in time: `--quick` ≈ 1 minute, `--full` the seed's 9 minutes.
 *
 * Each virtual user POSTs `/<service>/operations` then thinks 1 s, like the seed's k6 VU. The
 * runner plays the load balancer: every connection carries its own X-Forwarded-For, and the
 * services trust one proxy hop, so each user has its own rate-limit bucket as behind the ALB.
 *
 * It prints progress per step, then p50/p95/p99, error rate and throughput per stage; compares
 * the client-side p95 with the runtime's own histogram scraped from each service's /metrics (a
 * diagnostic); and exits 1 when the profile's SLO (monitoring.slo) is missed, or when the two p95s
 * disagree grossly (load/runner/verdict.ts states the rule).
 *
 * A real Prometheus (load/runner/prometheus.ts) scrapes the services during the run with the
 * generated config and rules. Afterwards every dashboard panel's queries and every recording rule
 * are evaluated over the run's window (load/runner/query-check.ts): one that returns nothing, or
 * only NaN, without a declared expected-empty reason, fails the run, and so does an alert that fired
 * (nothing is injected, so none should). With --out, the dashboards are rendered from those results
 * (load/runner/dashboard-preview.ts). Prometheus' data directory is removed unless --keep.
 */
import { parseArgs } from "node:util";
import type autocannon from "autocannon";
import { SEED_OPERATION, SEED_STAGES, SEED_THINK_TIME_S } from "./k6/stages";
import { startLocalStack, type LocalStack } from "./local-stack";
import { writeReport, type LoadReport, type ServiceAgreement, type StageReport } from "./runner/report";
import { driveStep, type Target } from "./runner/drive";
import { LoadScheduleError, parseDuration, planSteps } from "./runner/schedule";
import { OPEN_MODEL_DEFAULTS } from "./runner/open-model";
import { openReportLines, runOpenLoad } from "./runner/open-load";
import { parseHeaderOption, readScenario, SEED_SCENARIO } from "./runner/scenario";
import { agreement, deltaBuckets, parseBuckets, type Buckets } from "./runner/server-histogram";
import { summarize, windows, type Sample } from "./runner/stats";
import { verdict } from "./runner/verdict";
import { stackProfile } from "./stack-profile";
import { dashboardQueries, recordingRuleQueries } from "../dashboards/queries";
import { startRunPrometheus } from "./runner/prometheus";
import { alertsDuring, checkQueries, promDurationSeconds, queryFailures } from "./runner/query-check";
import { writeDashboardPreviews } from "./runner/dashboard-preview";
import { runFaultsCli } from "./faults/cli";

/** The seed profile is 9 minutes; --quick runs the same shape in one. */
const QUICK_SECONDS = 60;
/** Relative difference allowed between client and server p95 (the issue's 10%), down to the histogram's resolution (see agreement()). */
const AGREEMENT = 0.1;
const DURATION_METRIC = "uaip_http_request_duration_seconds";

export interface LoadOptions {
  stack: string;
  mode: "quick" | "full";
  out?: string;
  stepSeconds: number;
  /** Keep Prometheus' data directory after the run (its path is logged and in the report). */
  keep?: boolean;
  log: (line: string) => void;
}

/** One request mix per service: the seed's POST /operations, from a user with its own address. */
function targetsFor(stack: LocalStack): Target[] {
  return stack.services.map((s) => ({
    service: s.service.name,
    origin: s.origin,
    requests: [
      {
        method: "POST",
        path: `/${s.service.name}/operations`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(SEED_OPERATION),
      },
    ] satisfies autocannon.Request[],
  }));
}

async function scrape(origin: string): Promise<string> {
  const res = await fetch(`${origin}/metrics`);
  return res.text();
}

function operationsBuckets(exposition: string): Buckets {
  return parseBuckets(exposition, DURATION_METRIC, { method: "POST", route: /\/operations$/ });
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const profile = stackProfile(options.stack);
  const slo = profile.monitoring.slo;
  const totalSeed = SEED_STAGES.reduce((sum, stage) => sum + parseDuration(stage.duration), 0);
  const timeScale = options.mode === "quick" ? QUICK_SECONDS / totalSeed : 1;
  const steps = planSteps(SEED_STAGES, { timeScale, stepSeconds: options.stepSeconds });

  options.log(`starting the ${options.stack} stack as local processes ...`);
  // The runner is the load balancer: one trusted hop, whose X-Forwarded-For names the user.
  const stack = await startLocalStack(profile, { extraEnv: { UAIP_TRUSTED_PROXY_HOPS: "1" }, log: options.log });
  let prom: Awaited<ReturnType<typeof startRunPrometheus>> | undefined;
  try {
    prom = await startRunPrometheus(
      profile,
      stack.services.map((s) => ({ name: s.service.name, port: s.service.port })),
      { mode: options.mode, keep: options.keep ?? false },
    );
    const promStart = Date.now() / 1000;
    options.log(`prometheus on ${prom.prometheus.url} scraping every ${prom.scrapeInterval} (data in ${prom.prometheus.dir})`);
    const targets = targetsFor(stack);
    const before = new Map(await Promise.all(stack.services.map(async (s) => [s.service.name, await scrape(s.origin)] as const)));
    const startedAt = new Date();
    const runStart = Date.now();
    const all = new Map<string, Sample[]>(targets.map((t) => [t.service, []]));
    const stageSamples = SEED_STAGES.map(() => [] as Sample[]);
    const stageDurations = SEED_STAGES.map(() => 0);
    const stageMaxVus = SEED_STAGES.map(() => 0);
    const vusAt: { atS: number; vus: number }[] = [];

    for (const [i, step] of steps.entries()) {
      vusAt.push({ atS: (Date.now() - runStart) / 1000, vus: step.vus });
      const { samples } = await driveStep(
        targets,
        step.vus,
        Math.max(1, Math.round(step.durationS)),
        SEED_THINK_TIME_S,
        runStart,
      );
      const stepAll: Sample[] = [];
      for (const [service, list] of samples) {
        all.get(service)!.push(...list);
        stepAll.push(...list);
      }
      stageSamples[step.stage].push(...stepAll);
      stageDurations[step.stage] += Math.max(1, Math.round(step.durationS));
      stageMaxVus[step.stage] = Math.max(stageMaxVus[step.stage], step.vus);
      const s = summarize(stepAll, Math.max(1, Math.round(step.durationS)));
      options.log(
        `[${String(i + 1).padStart(2)}/${steps.length}] stage ${step.stage + 1} · ${String(step.vus).padStart(3)} VUs · ${s.throughput} req/s · p95 ${s.p95Ms} ms · errors ${(s.errorRate * 100).toFixed(2)} %`,
      );
    }
    const durationS = (Date.now() - runStart) / 1000;

    // Two more scrapes and rule evaluations, so the run's last requests are in Prometheus.
    const scrapeS = promDurationSeconds(prom.scrapeInterval);
    await new Promise((r) => setTimeout(r, 2 * scrapeS * 1000 + 500));
    const window = { start: Math.floor(promStart), end: Math.ceil(Date.now() / 1000), stepS: scrapeS };
    const dashboards = dashboardQueries(prom.monitoring);
    const results = await checkQueries(prom.prometheus, {
      dashboards,
      rules: recordingRuleQueries(prom.monitoring),
      services: stack.services.map((s) => s.service.name),
      window,
      scrapeS,
      // The seed's mix only POSTs (no cache reads); nothing is injected (Redis stays up); no Kubernetes.
      facts: {
        failedRequests: [...all.values()].flat().filter((x) => !x.ok).length,
        limiterRejections: [...all.values()].flat().filter((x) => x.status === 429).length,
        cacheReads: targets.some((t) => t.requests.some((r) => r.method === "GET")),
        redisFaults: false,
        kubernetes: false,
      },
    });
    const alerts = await alertsDuring(prom.prometheus, window);

    const services: ServiceAgreement[] = await Promise.all(
      stack.services.map(async (s) => {
        const delta = deltaBuckets(operationsBuckets(await scrape(s.origin)), operationsBuckets(before.get(s.service.name)!));
        const client = summarize(
          all.get(s.service.name)!.filter((x) => x.ok),
          durationS,
        );
        return { service: s.service.name, clientP95Ms: client.p95Ms, ...agreement(client.p95Ms, delta, AGREEMENT) };
      }),
    );

    const everything = [...all.values()].flat();
    const overall = summarize(everything, durationS);
    const stages: StageReport[] = SEED_STAGES.map((stage, i) => ({
      stage: i,
      label: `${stage.duration} → ${stage.target} VUs`,
      durationS: stageDurations[i],
      maxVus: stageMaxVus[i],
      ...summarize(stageSamples[i], stageDurations[i]),
    }));
    const judged = verdict(overall, slo, services);
    const sloMet = judged.sloMet;
    const failures = [
      ...judged.failures,
      ...queryFailures(results),
      // No fault is injected, so an alert that fires is a false alarm (or a real problem): either way, look.
      ...alerts
        .filter((a) => a.state === "firing")
        .map((a) => `alert ${a.alertname} fired during a run without faults (${JSON.stringify(a.labels)})`),
    ];
    const timeline = windows(everything, Math.max(1000, Math.round((durationS * 1000) / 60))).map((w) => ({
      atS: w.startMs / 1000,
      p50Ms: w.summary.p50Ms,
      p95Ms: w.summary.p95Ms,
      p99Ms: w.summary.p99Ms,
      errorRate: w.summary.errorRate,
      vus: [...vusAt].reverse().find((v) => v.atS <= w.startMs / 1000)?.vus ?? 0,
    }));
    const report: LoadReport = {
      stack: options.stack,
      mode: options.mode,
      startedAt: startedAt.toISOString(),
      durationS,
      slo,
      sloMet,
      ...overall,
      stages,
      services,
      failures,
      diagnostics: judged.diagnostics,
      timeline,
      prometheus: {
        scrapeInterval: prom.scrapeInterval,
        window,
        queries: results.map(({ result: _series, ...check }) => check),
        alerts,
        ...(options.keep ? { dataDir: prom.prometheus.dir } : {}),
      },
    };
    if (options.out) {
      const previews = await writeDashboardPreviews(options.out, dashboards, results);
      await writeReport(options.out, report, previews);
    }
    return report;
  } finally {
    await prom?.prometheus.stop();
    await stack.stop();
  }
}

/** The seed's peak as an arrival rate: 100 VUs, each one request per 1 s think time. */
const SEED_PEAK_RPS = Math.max(...SEED_STAGES.map((s) => s.target)) / SEED_THINK_TIME_S;

/** `--rates 50,100,200` or `--rate 200` → the steps' offered rates; refuses anything else by name. */
export function parseRates(text: string, option: string): number[] {
  const rates = text.split(",").map((r) => Number(r.trim()));
  if (!rates.length || rates.some((r) => !Number.isFinite(r) || r <= 0))
    throw new LoadScheduleError(`${option} "${text}" is not a list of rates above 0 in req/s, e.g. ${option} 50,100,200`);
  return rates;
}

function positiveNumber(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new LoadScheduleError(`${option} "${text}" must be a number above 0`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      full: { type: "boolean" },
      stack: { type: "string", default: "local" },
      out: { type: "string" },
      "step-seconds": { type: "string" },
      keep: { type: "boolean" },
      // --faults <list>: the fault run (load/faults/); see load/faults/spec.ts for the list's syntax.
      faults: { type: "string" },
      target: { type: "string" },
      scenario: { type: "string" },
      header: { type: "string", multiple: true },
      "secret-header": { type: "string", multiple: true },
      rate: { type: "string" },
      rates: { type: "string" },
      "max-in-flight": { type: "string" },
      "late-tolerance-ms": { type: "string" },
    },
    strict: true,
  });
  if (values.quick && values.full) throw new Error("pass --quick or --full, not both");
  if (values.rate && values.rates) throw new Error("pass --rate R or --rates A,B,C, not both");
  const mode = values.full ? "full" : "quick";
  if (values.faults !== undefined) {
    // The fault run drives its own two replicas with its own probes: an open-model option would be ignored.
    const ignored = ["target", "rate", "rates", "scenario", "header", "secret-header"].filter(
      (o) => values[o as keyof typeof values] !== undefined,
    );
    if (ignored.length)
      throw new Error(`--faults runs its own load against the local stack; drop ${ignored.map((o) => `--${o}`).join(", ")}`);
    return runFaultsCli(values.faults, { mode, out: values.out });
  }
  const open = values.target !== undefined || values.rate !== undefined || values.rates !== undefined;
  if (open) {
    if (values.keep)
      throw new Error("--keep keeps the closed-model run's Prometheus data; the open-model run starts no Prometheus");
    let target: URL | undefined;
    if (values.target !== undefined) {
      try {
        target = new URL(values.target);
      } catch {
        throw new Error(`--target "${values.target}" is not a URL; e.g. --target http://127.0.0.1:8080/agent-intelligence`);
      }
      if (!/^https?:$/.test(target.protocol)) throw new Error(`--target "${values.target}" must be http:// or https://`);
    }
    const report = await runOpenLoad({
      stack: values.stack!,
      target,
      scenario: values.scenario ? readScenario(values.scenario) : SEED_SCENARIO,
      headers: Object.fromEntries((values.header ?? []).map(parseHeaderOption)),
      secretHeaders: values["secret-header"] ?? [],
      rates: values.rates ? parseRates(values.rates, "--rates") : parseRates(values.rate ?? String(SEED_PEAK_RPS), "--rate"),
      stepSeconds: positiveNumber(values["step-seconds"], "--step-seconds", mode === "quick" ? 20 : 120),
      maxInFlight: positiveNumber(values["max-in-flight"], "--max-in-flight", OPEN_MODEL_DEFAULTS.maxInFlight),
      lateToleranceMs: positiveNumber(values["late-tolerance-ms"], "--late-tolerance-ms", OPEN_MODEL_DEFAULTS.lateToleranceMs),
      out: values.out,
      log: (l) => console.log(l),
    });
    console.log("");
    for (const line of openReportLines(report)) console.log(line);
    if (values.out) console.log(`report: ${values.out}/report.json, report.md`);
    return report.failures.length ? 1 : 0;
  }
  for (const option of ["scenario", "header", "secret-header", "max-in-flight", "late-tolerance-ms"] as const)
    if (values[option] !== undefined)
      throw new Error(
        `--${option} applies to the open-model run: add --target URL or --rate R (the seed's closed-model run sends the seed's POST)`,
      );
  const stepSeconds = Number(values["step-seconds"] ?? (mode === "quick" ? 5 : 15));
  const report = await runLoad({
    stack: values.stack!,
    mode,
    out: values.out,
    stepSeconds,
    keep: values.keep ?? false,
    log: (l) => console.log(l),
  });
  console.log("");
  console.log("stage                 requests   req/s   p50 ms   p95 ms   p99 ms   errors");
  for (const s of report.stages) {
    console.log(
      `${s.label.padEnd(20)} ${String(s.requests).padStart(9)} ${String(s.throughput).padStart(7)} ${String(s.p50Ms).padStart(8)} ${String(s.p95Ms).padStart(8)} ${String(s.p99Ms).padStart(8)} ${(s.errorRate * 100).toFixed(2).padStart(7)} %`,
    );
  }
  console.log(
    `all                  ${String(report.requests).padStart(9)} ${String(report.throughput).padStart(7)} ${String(report.p50Ms).padStart(8)} ${String(report.p95Ms).padStart(8)} ${String(report.p99Ms).padStart(8)} ${(report.errorRate * 100).toFixed(2).padStart(7)} %`,
  );
  for (const s of report.services)
    console.log(
      `${s.service}: client p95 ${s.clientP95Ms} ms, runtime p95 ${s.serverP95Ms} ms (bucket ${s.bucketMs[0]}–${s.bucketMs[1]} ms): ${s.level === "gross" ? "DISAGREE (gross)" : s.level}`,
    );
  const counts = report.prometheus.queries.reduce<Record<string, number>>(
    (c, q) => ({ ...c, [q.status]: (c[q.status] ?? 0) + 1 }),
    {},
  );
  console.log(
    `prometheus: ${report.prometheus.queries.length} queries (${Object.entries(counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(
        ", ",
      )}); alerts: ${report.prometheus.alerts.map((a) => `${a.alertname} ${a.state}`).join(", ") || "none pending or firing"}`,
  );
  if (report.prometheus.dataDir) console.log(`prometheus data kept in ${report.prometheus.dataDir}`);
  console.log(
    report.failures.length
      ? `FAIL\n${report.failures.map((f) => `  - ${f}`).join("\n")}`
      : `PASS: p95 ${report.p95Ms} ms < ${report.slo.latencyP95Ms} ms, errors ${(report.errorRate * 100).toFixed(2)} % < ${report.slo.errorRate * 100} %`,
  );
  if (values.out) console.log(`report: ${values.out}/report.json, report.md, latency.svg, dashboards/*.svg`);
  return report.failures.length ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`load: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
