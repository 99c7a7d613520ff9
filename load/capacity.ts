/**
 * `npm run capacity -- --service NAME [--stack local] [--step-seconds N] [--start-rate R]
 *                     [--max-rate R] [--retries N] [--scenario FILE] [--core N] [--out DIR]`
 *
 * What one instance of a service can serve at the SLO. Starts redis-server, PostgreSQL (with the
 * migrations and the service's role) and ONE instance of the service, pinned to one CPU core with
 * taskset; warms it up; then runs a stepped open-model load of its realistic mix
 * (load/scenarios/reference-mix.yaml: cached GET /operations/:id and POSTs), growing the rate until
 * p99 or errors break the SLO and bisecting to the knee (load/runner/knee.ts); a rate that breaks
 * the SLO is measured again (--retries, default 1) and its best measurement counts, so one stall
 * from a neighbour on a shared machine is not taken for the service's limit. Per step it measures
 * the process's CPU from /proc/<pid>/stat, its heap from its /metrics, and the p95 time a request
 * held a database connection from the runtime's pool histogram (uaip_db_pool_hold_seconds).
 *
 * Writes capacity/<service>.json (parsed through profile/capacity-file.ts before it is written)
 * and capacity/<service>.svg (achieved throughput against p99, the knee marked).
 *
 * The SLO: the profile's monitoring.slo, its latency applied to the p99 (stricter than the p95 it
 * names: a capacity planned at the knee keeps its tail inside the objective).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { capacityFileSchema, capacityFilePath, type CapacityFile, type CapacityStep } from "../profile/capacity-file";
import { startBackends, startService } from "./local-stack";
import { capacityChart } from "./runner/capacity-chart";
import { nextClientAddress } from "./runner/drive";
import { bestPerRate, DEFAULT_KNEE_SEARCH, findKnee, nextRateWithRetries, type KneeSearch } from "./runner/knee";
import { runOpenSteps, type OpenStep } from "./runner/open-run";
import {
  clockTicksPerSecond,
  heapUsedMiB,
  pinToCores,
  processCpuSeconds,
  runQueueWaitSeconds,
  tasksetPath,
} from "./runner/process-stats";
import { readScenario, type Scenario } from "./runner/scenario";
import { REPO_ROOT, stackProfile } from "./stack-profile";
import { METRIC } from "@uaip/runtime/metrics";
import { deltaBuckets, histogramQuantile, parseBuckets, type Buckets } from "./runner/server-histogram";

export const REFERENCE_MIX = join(REPO_ROOT, "load", "scenarios", "reference-mix.yaml");
/** Seconds at the start rate before measuring: JIT, connections, the cache and the captured ids. */
const WARMUP_SECONDS = 5;
/** Late or dropped sends above this share of a step mean the generator itself was behind. */
const GENERATOR_BOUND_SHARE = 0.1;

export class CapacityError extends Error {
  readonly code = "UAIP_CAPACITY_FAILED";
}

export interface CapacityOptions {
  stack: string;
  service: string;
  stepSeconds: number;
  search: KneeSearch;
  /** Times a rate that broke the SLO is measured again (its best measurement counts): noise on a shared machine. */
  retries: number;
  scenario: Scenario;
  /** The CPU core the service is pinned to. */
  core: number;
  outDir: string;
  log: (line: string) => void;
}

function loadAverage(): [number, number, number] {
  const [a, b, c] = execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").map(Number);
  return [a, b, c];
}

function gitCommit(): string {
  return execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
}

/** A measured step in the file's terms: a dropped send counts as an error (the instance did not serve it). */
export function capacityStep(step: OpenStep, cpuCores: number, heapMiB: number): CapacityStep {
  const attempts = step.sent + step.dropped;
  return {
    rateRps: step.rateRps,
    achievedRps: step.throughput,
    p50Ms: step.p50Ms,
    p95Ms: step.p95Ms,
    p99Ms: step.p99Ms,
    errorRate: attempts ? (step.errors + step.dropped) / attempts : 0,
    cpuCores: Math.round(cpuCores * 1000) / 1000,
    heapMiB: Math.round(heapMiB * 10) / 10,
    lateSends: step.late + step.dropped,
  };
}

export async function runCapacity(options: CapacityOptions): Promise<CapacityFile> {
  const profile = stackProfile(options.stack);
  const service = profile.services.find((s) => s.name === options.service);
  if (!service)
    throw new CapacityError(
      `--service "${options.service}" is not in the ${options.stack} stack; use one of: ${profile.services.map((s) => s.name).join(", ")}`,
    );
  const slo = { latencyP99Ms: profile.monitoring.slo.latencyP95Ms, errorRate: profile.monitoring.slo.errorRate };
  const machine = { cpus: cpus().length, loadAverage: loadAverage(), node: process.version };
  options.log(`load average at start: ${machine.loadAverage.join(" ")} on ${machine.cpus} CPUs`);
  const taskset = tasksetPath();
  const backends = await startBackends(profile, options.log);
  try {
    const env = backends.envs.get(service)!;
    const instance = await startService(service, { ...env, UAIP_TRUSTED_PROXY_HOPS: "1" });
    try {
      const pid = instance.child.pid!;
      if (taskset) {
        pinToCores(taskset, pid, String(options.core));
        options.log(`${service.name} (pid ${pid}) pinned to CPU core ${options.core} with ${taskset}`);
      } else
        options.log(`taskset is not installed: ${service.name} runs unpinned, and its cores are the CPU it used at the knee`);
      const ticks = clockTicksPerSecond();
      const target = { name: service.name, url: new URL(`${instance.origin}/${service.name}`) };
      options.log(`warming up: ${WARMUP_SECONDS} s at ${options.search.startRps} req/s, then the search`);
      // One run, so the captured ids and the connections carry from step to step; step 0 is the warm-up.
      const steps: CapacityStep[] = [];
      /** Each step's p95 connection hold time (the runtime's pool histogram over the step), ms; null without queries. */
      const dbP95 = new Map<CapacityStep, number | null>();
      /** Each step's connection checkouts per answered request (the pool histogram's count over the step). */
      const dbHolds = new Map<CapacityStep, number>();
      const scrape = async () => (await fetch(`${instance.origin}/metrics`)).text();
      let cpuBefore = 0;
      let waitBefore = 0;
      let wallBefore = 0;
      let holdBefore: Buckets = new Map();
      await runOpenSteps({
        targets: [target],
        scenario: options.scenario,
        perSendHeaders: () => ({ "x-forwarded-for": nextClientAddress() }),
        stepSeconds: options.stepSeconds,
        warmupSeconds: WARMUP_SECONDS,
        rates: (i) => (i === 0 ? options.search.startRps : nextRateWithRetries(steps, slo, options.retries, options.search)),
        beforeStep: async () => {
          holdBefore = parseBuckets(await scrape(), METRIC.dbPoolHoldSeconds);
          cpuBefore = processCpuSeconds(pid, ticks);
          waitBefore = runQueueWaitSeconds(pid);
          wallBefore = performance.now();
        },
        afterStep: async (step, i) => {
          if (i === 0) return;
          const wallS = (performance.now() - wallBefore) / 1000;
          const cores = (processCpuSeconds(pid, ticks) - cpuBefore) / wallS;
          const waited = (runQueueWaitSeconds(pid) - waitBefore) / wallS;
          const exposition = await scrape();
          const heap = heapUsedMiB(exposition) ?? 0;
          const s = capacityStep(step, cores, heap);
          const holds = deltaBuckets(parseBuckets(exposition, METRIC.dbPoolHoldSeconds), holdBefore);
          const hold = histogramQuantile(0.95, holds);
          dbP95.set(s, Number.isNaN(hold) ? null : Math.round(hold * 100_000) / 100);
          // +Inf is the histogram's count: every checkout over the step.
          const answered = step.sent - step.errors;
          if (answered > 0) dbHolds.set(s, Math.round(((holds.get(Infinity) ?? 0) / answered) * 1000) / 1000);
          steps.push(s);
          options.log(
            `  CPU ${s.cpuCores} cores · waited for its core ${(waited * 100).toFixed(0)} % of the step · heap ${s.heapMiB} MiB · DB hold p95 ${dbP95.get(s) ?? "-"} ms · ${(s.errorRate * 100).toFixed(2)} % errors incl. dropped · ${s.lateSends} late or dropped`,
          );
        },
        log: options.log,
      });
      const best = bestPerRate(steps, slo);
      const knee = findKnee(best, slo);
      if (!knee)
        throw new CapacityError(
          `${service.name} broke the SLO (p99 < ${slo.latencyP99Ms} ms, errors < ${slo.errorRate * 100} %) even at ${Math.min(...steps.map((s) => s.rateRps))} req/s: no knee; see the steps above`,
        );
      // Whether the first rate past the knee broke the SLO because the generator (same machine) fell behind.
      const past = best.find((s) => s.rateRps > knee.rateRps);
      const generatorBound = past !== undefined && past.lateSends > GENERATOR_BOUND_SHARE * past.rateRps * options.stepSeconds;
      if (generatorBound)
        options.log(
          `note: at ${past.rateRps} req/s, ${past.lateSends} sends were late or dropped (> ${GENERATOR_BOUND_SHARE * 100} % of the step): the generator, on the same machine, fell behind too, so the knee is a lower bound of the service's (it used ${past.cpuCores} of its core)`,
        );
      const cpuCores = taskset ? 1 : Math.max(0.01, knee.cpuCores);
      const file = capacityFileSchema.parse({
        service: service.name,
        commit: gitCommit(),
        measuredAt: new Date().toISOString(),
        cpuCores,
        slo,
        knee: {
          rateRpsPerCore: knee.achievedRps / cpuCores,
          cpuMsPerRequest: (knee.cpuCores * 1000) / knee.achievedRps,
          cpuUtilisation: Math.min(1, knee.cpuCores / cpuCores),
          p50Ms: knee.p50Ms,
          p95Ms: knee.p95Ms,
          p99Ms: knee.p99Ms,
          errorRate: knee.errorRate,
          heapMiB: knee.heapMiB,
          dbP95Ms: dbP95.get(knee) ?? null,
          ...(dbHolds.has(knee) ? { dbHoldsPerRequest: dbHolds.get(knee) } : {}),
        },
        steps: best,
        machine,
      } satisfies CapacityFile);
      mkdirSync(options.outDir, { recursive: true });
      const jsonPath = join(options.outDir, `${service.name}.json`);
      writeFileSync(jsonPath, `${JSON.stringify(file, null, 2)}\n`);
      writeFileSync(join(options.outDir, `${service.name}.svg`), await capacityChart(file));
      return file;
    } finally {
      await instance.stop();
    }
  } finally {
    await backends.stop();
  }
}

function positive(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CapacityError(`--${option} "${text}" must be a number above 0`);
  return n;
}

function nonNegativeInteger(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CapacityError(`--${option} "${text}" must be a whole number, 0 or more`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      service: { type: "string" },
      stack: { type: "string", default: "local" },
      "step-seconds": { type: "string" },
      "start-rate": { type: "string" },
      "max-rate": { type: "string" },
      retries: { type: "string" },
      scenario: { type: "string" },
      core: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  if (!values.service) throw new CapacityError("--service NAME is required, e.g. --service agent-intelligence");
  const core = values.core === undefined ? cpus().length - 1 : Number(values.core);
  if (!Number.isInteger(core) || core < 0 || core >= cpus().length)
    throw new CapacityError(`--core "${values.core}" must be a CPU index from 0 to ${cpus().length - 1}`);
  const file = await runCapacity({
    stack: values.stack!,
    service: values.service,
    stepSeconds: positive(values["step-seconds"], "step-seconds", 10),
    search: {
      ...DEFAULT_KNEE_SEARCH,
      startRps: positive(values["start-rate"], "start-rate", DEFAULT_KNEE_SEARCH.startRps),
      maxRps: positive(values["max-rate"], "max-rate", DEFAULT_KNEE_SEARCH.maxRps),
    },
    retries: values.retries === undefined ? 1 : nonNegativeInteger(values.retries, "retries"),
    scenario: readScenario(values.scenario ?? REFERENCE_MIX),
    core,
    outDir: values.out ?? join(REPO_ROOT, "capacity"),
    log: (l) => console.log(l),
  });
  const k = file.knee;
  console.log(
    `\nknee: ${Math.round(k.rateRpsPerCore * file.cpuCores)} req/s on ${file.cpuCores} core (${Math.round(k.rateRpsPerCore)} req/s per core), p50 ${k.p50Ms} / p95 ${k.p95Ms} / p99 ${k.p99Ms} ms, errors ${(k.errorRate * 100).toFixed(2)} %, CPU ${k.cpuMsPerRequest.toFixed(3)} ms per request (${(k.cpuUtilisation * 100).toFixed(0)} % of the core), heap ${k.heapMiB} MiB`,
  );
  console.log(
    `wrote ${values.out ?? capacityFilePath(file.service)} and the .svg next to it; load average now ${loadAverage().join(" ")}`,
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`capacity: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
