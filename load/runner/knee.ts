/**
 * The knee of a stepped open-model run, and the search for it: pure functions over the steps
 * measured so far, so `npm run capacity` and its tests share one rule.
 *
 * A step is within the SLO when its p99 (from the intended send times) is below the SLO latency
 * and its error rate below the SLO's. The knee is the highest rate of the steps within the SLO
 * whose every lower-rate step is within it too: an isolated pass above a failing rate (noise on a
 * shared machine) is not a capacity the instance can be trusted with.
 */

export interface KneeSlo {
  latencyP99Ms: number;
  errorRate: number;
}

export interface MeasuredRate {
  /** Offered rate, req/s. */
  rateRps: number;
  p99Ms: number;
  errorRate: number;
}

export function withinSlo(step: MeasuredRate, slo: KneeSlo): boolean {
  return step.p99Ms < slo.latencyP99Ms && step.errorRate < slo.errorRate;
}

/** The knee step (see the file's comment), or undefined when even the lowest rate breaks the SLO. */
export function findKnee<T extends MeasuredRate>(steps: readonly T[], slo: KneeSlo): T | undefined {
  let knee: T | undefined;
  for (const step of [...steps].sort((a, b) => a.rateRps - b.rateRps)) {
    if (!withinSlo(step, slo)) break;
    knee = step;
  }
  return knee;
}

export interface KneeSearch {
  /** The first rate tried, req/s. */
  startRps: number;
  /** Rates grow by this factor until one breaks the SLO (2: 50, 100, 200, …). */
  growth: number;
  /** The search stops once the first breaking rate is within this factor of the knee (1.1: 10 %). */
  resolution: number;
  /** Never offer more than this (the generator's own limit); the search stops there. */
  maxRps: number;
  /** Never go below this when even the start rate breaks the SLO. */
  minRps: number;
}

export const DEFAULT_KNEE_SEARCH: KneeSearch = { startRps: 50, growth: 2, resolution: 1.1, maxRps: 4000, minRps: 5 };

/**
 * The next rate to measure, or undefined when the knee is found to the search's resolution (or a
 * bound is reached). Grows geometrically until a rate breaks the SLO, then bisects (geometrically)
 * between the knee and the lowest breaking rate above it.
 */
export function nextRate(
  steps: readonly MeasuredRate[],
  slo: KneeSlo,
  search: KneeSearch = DEFAULT_KNEE_SEARCH,
): number | undefined {
  if (steps.length === 0) return search.startRps;
  const knee = findKnee(steps, slo);
  const tried = new Set(steps.map((s) => s.rateRps));
  const round = (r: number) => Math.max(1, Math.round(r));
  if (!knee) {
    // Even the lowest rate broke the SLO: halve it, down to the floor.
    const lowest = Math.min(...steps.map((s) => s.rateRps));
    const next = round(lowest / search.growth);
    return lowest <= search.minRps || next < search.minRps || tried.has(next) ? undefined : next;
  }
  const above = steps.filter((s) => s.rateRps > knee.rateRps).map((s) => s.rateRps);
  if (above.length === 0) {
    const next = round(Math.min(knee.rateRps * search.growth, search.maxRps));
    return next <= knee.rateRps || tried.has(next) ? undefined : next;
  }
  const breaking = Math.min(...above);
  if (breaking / knee.rateRps <= search.resolution) return undefined;
  const next = round(Math.sqrt(knee.rateRps * breaking));
  return next <= knee.rateRps || next >= breaking || tried.has(next) ? undefined : next;
}

/**
 * One measurement per rate, the best of those taken: one within the SLO if any was (else the
 * lowest p99). On a shared machine a neighbour's burst can stall the instance for a moment; a rate
 * breaks the SLO only if it breaks it every time it is measured.
 */
export function bestPerRate<T extends MeasuredRate>(steps: readonly T[], slo: KneeSlo): T[] {
  const best = new Map<number, T>();
  for (const step of steps) {
    const held = best.get(step.rateRps);
    const better =
      !held ||
      (withinSlo(step, slo) && !withinSlo(held, slo)) ||
      (withinSlo(step, slo) === withinSlo(held, slo) && step.p99Ms < held.p99Ms);
    if (better) best.set(step.rateRps, step);
  }
  return [...best.values()].sort((a, b) => a.rateRps - b.rateRps);
}

/**
 * The next rate to measure with `retries` second chances: the last rate again when it broke the
 * SLO and has been measured at most `retries` times; else the search's next rate over the best
 * measurement per rate.
 */
export function nextRateWithRetries(
  steps: readonly MeasuredRate[],
  slo: KneeSlo,
  retries: number,
  search: KneeSearch = DEFAULT_KNEE_SEARCH,
): number | undefined {
  const last = steps.at(-1);
  if (last && !withinSlo(last, slo) && steps.filter((s) => s.rateRps === last.rateRps).length <= retries) return last.rateRps;
  return nextRate(bestPerRate(steps, slo), slo, search);
}
