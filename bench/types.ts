/**
 * One line of `npm run bench`: our number next to a peer's, measured in the same run.
 * Every `bench/*.bench.ts` module exports `run(ctx: BenchContext): Promise<BenchResult[]>`.
 */
export interface BenchResult {
  /** What was measured, e.g. "limiter checks/s (Redis)". */
  name: string;
  /** Our value, in `unit`. */
  ours: number;
  /** What we compare against, e.g. "rate-limiter-flexible RateLimiterRedis". */
  peer: string;
  /** The peer's value, in `unit`. */
  peerValue: number;
  /** ours / peerValue (for latencies the bench says which way is better in `target`). */
  ratio: number;
  /** e.g. "ops/s", "µs". */
  unit: string;
  /** The issue's target, e.g. ">= 1.0x". */
  target?: string;
  /** Whether the target was met in this run. */
  met?: boolean;
}

/** What bench/run.ts hands every bench module. */
export interface BenchContext {
  /** A redis-server started for this run, e.g. redis://127.0.0.1:6390. */
  redisUrl: string;
  /** A node of a local Redis Cluster (3 primaries + 3 replicas) started for the cache and limiter benches, for their cluster rows. */
  clusterUrl?: string;
  /**
   * `npm run bench -- --smoke`: each module runs with minimal iterations (short rounds, few clients,
   * small data), so a test can check that every bench still runs and returns finite numbers. The
   * numbers of a smoke run mean nothing.
   */
  smoke?: boolean;
}

/** The full run's value, or the smoke run's minimal one. */
export function sized<T>(ctx: Pick<BenchContext, "smoke">, full: T, smoke: T): T {
  return ctx.smoke ? smoke : full;
}

/** The shape of a bench module. */
export interface BenchModule {
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

/** Builds a result with its ratio (ours / peerValue) and, when a target is given, whether it was met. */
export function benchResult(
  name: string,
  ours: number,
  peer: string,
  peerValue: number,
  unit: string,
  target?: { text: string; met: (ratio: number) => boolean },
): BenchResult {
  const ratio = ours / peerValue;
  return { name, ours, peer, peerValue, ratio, unit, ...(target ? { target: target.text, met: target.met(ratio) } : {}) };
}
