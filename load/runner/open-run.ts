/**
 * An open-model load run: the scenario sent to one or more targets at each of a list of rates
 * (a stepped run is `--rates 50,100,200`), step after step, every target with its own scenario
 * state (captured ids) and keep-alive connections. Per step it reports what was offered, what came
 * back, the latency percentiles from the intended send times, and the generator's late and dropped
 * sends. The CLI (load/run.ts) and `npm run capacity` (load/capacity.ts) both drive it.
 */
import type http from "node:http";
import { performance } from "node:perf_hooks";
import {
  combinedGeneratorCounts,
  keepAliveAgent,
  OPEN_MODEL_DEFAULTS,
  runOpenModel,
  type GeneratorCounts,
  type OpenModelResult,
  type OpenSample,
} from "./open-model";
import { ScenarioMix, type Scenario } from "./scenario";
import { summarize, type Summary } from "./stats";

export interface OpenTarget {
  /** Names the target in the report (a service name, or the URL's host). */
  name: string;
  /** Base URL: its path is the prefix of every scenario path. */
  url: URL;
}

export interface OpenRunOptions {
  targets: readonly OpenTarget[];
  scenario: Scenario;
  /** `--header` values, added to every request (over the scenario's own headers). */
  headers?: Record<string, string>;
  /**
   * Offered rate per step, req/s across all targets (split evenly between them); or a function
   * asked before each step (after the previous one's afterStep), undefined to stop: a search.
   */
  rates: readonly number[] | ((index: number) => number | undefined);
  stepSeconds: number;
  /** The first step's duration when it is a warm-up (else stepSeconds). */
  warmupSeconds?: number;
  maxInFlight?: number;
  lateToleranceMs?: number;
  timeoutMs?: number;
  /** Headers computed per send (the local stack's runner plays the load balancer: X-Forwarded-For). */
  perSendHeaders?: () => Record<string, string>;
  /** Called before each step starts and after it ends (capacity measures the process around it). */
  beforeStep?: (rateRps: number, index: number) => Promise<void> | void;
  afterStep?: (step: OpenStep, index: number) => Promise<void> | void;
  log?: (line: string) => void;
}

export interface OpenStep extends Summary, GeneratorCounts {
  /** Offered (scheduled) rate, req/s. */
  rateRps: number;
  durationS: number;
  /** Per scenario request: its own percentiles and errors. */
  byRequest: Record<string, Summary>;
  /** Status codes seen (0 = transport error or timeout), with counts. */
  statuses: Record<string, number>;
}

export interface OpenRun {
  steps: OpenStep[];
  /** Every sample, by target name. */
  samples: Map<string, OpenSample[]>;
  durationS: number;
}

/** One step's numbers from the per-target results (latency and errors over every sample). */
export function stepSummary(rateRps: number, durationS: number, results: readonly OpenModelResult[]): OpenStep {
  const samples = results.flatMap((r) => r.samples);
  const names = [...new Set(samples.map((s) => s.request))];
  const generator = combinedGeneratorCounts(results);
  const statuses: Record<string, number> = {};
  for (const s of samples) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1;
  return {
    rateRps,
    durationS,
    ...summarize(samples, durationS),
    ...generator,
    maxLagMs: Math.round(generator.maxLagMs * 100) / 100,
    byRequest: Object.fromEntries(
      names.map((n) => [
        n,
        summarize(
          samples.filter((s) => s.request === n),
          durationS,
        ),
      ]),
    ),
    statuses,
  };
}

export async function runOpenSteps(options: OpenRunOptions): Promise<OpenRun> {
  const maxInFlight = options.maxInFlight ?? OPEN_MODEL_DEFAULTS.maxInFlight;
  const log = options.log ?? (() => undefined);
  const targets = options.targets.map((t) => ({
    ...t,
    mix: new ScenarioMix(options.scenario, { basePath: t.url.pathname, headers: options.headers }),
    agent: keepAliveAgent(t.url, maxInFlight) as http.Agent,
  }));
  const samples = new Map<string, OpenSample[]>(targets.map((t) => [t.name, []]));
  const steps: OpenStep[] = [];
  const runStart = performance.now();
  try {
    const rates = options.rates;
    const rateAt = typeof rates === "function" ? rates : (i: number) => rates[i];
    for (let i = 0, rate = rateAt(0); rate !== undefined; i++, rate = rateAt(i)) {
      await options.beforeStep?.(rate, i);
      const results = await Promise.all(
        targets.map((t) =>
          runOpenModel({
            origin: t.url,
            rateRps: rate / targets.length,
            durationS: i === 0 && options.warmupSeconds ? options.warmupSeconds : options.stepSeconds,
            next: () => t.mix.next(),
            onCapture: (req, status, body) => t.mix.capture(req, status, body),
            maxInFlight,
            lateToleranceMs: options.lateToleranceMs,
            timeoutMs: options.timeoutMs,
            agent: t.agent,
            runStart,
            perSendHeaders: options.perSendHeaders,
          }),
        ),
      );
      results.forEach((r, k) => samples.get(targets[k].name)!.push(...r.samples));
      const step = stepSummary(rate, i === 0 && options.warmupSeconds ? options.warmupSeconds : options.stepSeconds, results);
      steps.push(step);
      log(
        `[${i + 1}${typeof rates === "function" ? "" : `/${rates.length}`}] ${rate} req/s offered · ${step.throughput} req/s answered · p50 ${step.p50Ms} · p95 ${step.p95Ms} · p99 ${step.p99Ms} ms · errors ${(step.errorRate * 100).toFixed(2)} % · late ${step.late} · dropped ${step.dropped}`,
      );
      await options.afterStep?.(step, i);
    }
  } finally {
    for (const t of targets) t.agent.destroy();
  }
  return { steps, samples, durationS: (performance.now() - runStart) / 1000 };
}
