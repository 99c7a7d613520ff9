import { getHeapStatistics } from "node:v8";

const MiB = 1024 * 1024;

/**
 * The `--max-old-space-size` (MiB) this process was started with, from its command line or
 * NODE_OPTIONS (the later one wins, as in Node); undefined when absent.
 */
export function maxOldSpaceSizeMiB(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): number | undefined {
  let found: number | undefined;
  for (const arg of [...(nodeOptions ?? "").split(/\s+/), ...execArgv]) {
    const m = /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(arg);
    if (m) found = Number(m[1]);
  }
  return found;
}

/** The heap limit V8 enforces on this process, bytes (see MemoryMonitorOptions.heapLimitBytes). */
export function enforcedHeapLimitBytes(): number {
  const v8Limit = getHeapStatistics().heap_size_limit;
  const flag = maxOldSpaceSizeMiB();
  return flag === undefined ? v8Limit : Math.min(flag * MiB, v8Limit);
}
