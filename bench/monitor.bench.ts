import { Registry } from "prom-client";
import { MemoryMonitor } from "@uaip/runtime";
import { MAX_TIMER_MS } from "@uaip/runtime/config";
import { benchResult, sized, type BenchContext, type BenchResult } from "./types";

/**
 * The memory monitor's cost: CPU per sample (process.memoryUsage, heap limit, event-loop p99 and
 * ELU, pressure switches, listener check) next to the seed's sketch, which samples
 * process.memoryUsage() alone, and what that costs at the default 5 s interval as a share of one core.
 */
const SAMPLES = 5_000;
const INTERVAL_MS = 5_000;

function cpuUsPerCall(fn: () => unknown, n: number): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const used = process.cpuUsage(t);
    best = Math.min(best, (used.user + used.system) / n);
  }
  return best;
}

export function run(ctx: BenchContext): Promise<BenchResult[]> {
  const samples = sized(ctx, SAMPLES, 20);
  const monitor = new MemoryMonitor(
    { memoryMonitoring: { interval: INTERVAL_MS, eventLoopDelayLimit: 500, eventLoopUtilizationLimit: 0.99 } },
    // The longest timer Node allows (1e12 is refused): no forced GC during the measurement.
    { registry: new Registry(), gcCooldownMs: MAX_TIMER_MS },
  ).start();
  const ours = cpuUsPerCall(() => monitor.monitor(), samples);
  monitor.close();
  // The seed's monitor(): process.memoryUsage() and two comparisons.
  const seed = cpuUsPerCall(() => process.memoryUsage().heapUsed > 1e12, samples);
  const share = ours / (INTERVAL_MS * 1000);
  return Promise.resolve([
    benchResult("memory monitor: CPU per sample", ours, "seed sketch (process.memoryUsage only)", seed, "µs"),
    benchResult(
      `memory monitor: CPU share of one core at a ${INTERVAL_MS / 1000} s interval`,
      share * 100,
      "budget 0.01 %",
      0.01,
      "%",
      { text: "<= 1.0x of budget", met: (x) => x <= 1 },
    ),
  ]);
}
