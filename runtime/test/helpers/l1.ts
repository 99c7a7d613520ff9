import type { CacheManager } from "../../src/cache";

/** Polls (no sleeps longer than 1 ms) until `cond` holds; the elapsed ms, or Infinity after `limitMs`. */
export async function timeUntil(cond: () => boolean | Promise<boolean>, limitMs = 2_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (await cond()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 1));
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Waits until `cache` holds `{ v: round }` under `key` as its only L1 entry, `checks` times in a row 10 ms apart:
 * the writer's bus message for that write travels on another socket and may land just after the first read,
 * so one good read is not yet a settled L1. The elapsed ms, or Infinity after 2 s.
 */
export function untilL1Holds(cache: CacheManager, key: string, round: number, checks: number): Promise<number> {
  let stable = 0;
  return timeUntil(async () => {
    const holds = (await cache.get<{ v: number }>(key))?.v === round && cache.l1Size === 1;
    stable = holds ? stable + 1 : 0;
    if (holds) await new Promise((r) => setTimeout(r, 10));
    return stable >= checks;
  });
}
