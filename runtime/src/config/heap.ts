import { enforcedHeapLimitBytes } from "../resources/memory-monitor";

/**
 * Sizes checked against the memory they live in. The limits a pod will have: its V8 heap (the
 * plan passes `--max-old-space-size` from the pod's NODE_OPTIONS; a running service reads what V8
 * enforces). An L1 cache that cannot fit aborts the process ("Reached heap limit"), which no
 * error handler can catch, so it is refused before the first entry is written.
 */
export interface PodLimits {
  /** The V8 heap the process may use, MiB. */
  heapMiB: number;
}

/**
 * The least an L1 entry costs, bytes: lru-cache preallocates about 44 bytes per slot of `max`
 * (keys, values, links, TTL starts), and a short key with a two-field object adds about 125
 * (measured on Node 20: 169 bytes per entry for 500,000 entries of `{ id, ok }` under a 20-character
 * key). Real values are larger, so this is a floor: a cache over it certainly does not fit.
 */
export const L1_ENTRY_BYTES_FLOOR = 160;
/** Share of the heap the L1 cache may take at that floor; the rest is the service's own work. */
export const L1_HEAP_SHARE = 0.5;

const MiB = 1024 * 1024;

/** The most L1 entries a heap of `heapMiB` holds under the rule above. */
export function maxL1Entries(heapMiB: number): number {
  return Math.floor((heapMiB * MiB * L1_HEAP_SHARE) / L1_ENTRY_BYTES_FLOOR);
}

/** This process's limits: what V8 enforces (the smaller of its heap limit and --max-old-space-size). */
export function currentPodLimits(): PodLimits {
  return { heapMiB: Math.floor(enforcedHeapLimitBytes() / MiB) };
}

export interface HeapIssue {
  /** Dotted settings path. */
  path: string;
  message: string;
  fix: string;
}

/** What does not fit the heap: the L1 cache at its floor cost, and a monitor told of a larger heap than V8 gives. */
export function heapIssues(
  settings: { cache: { memory: { maxSize: number } }; memory: { heapSizeLimit: number } },
  limits: PodLimits,
): HeapIssue[] {
  const issues: HeapIssue[] = [];
  const most = maxL1Entries(limits.heapMiB);
  if (settings.cache.memory.maxSize > most)
    issues.push({
      path: "cache.memory.maxSize",
      message: `expected at most ${most} entries for a ${limits.heapMiB} MiB heap (each entry costs at least ${L1_ENTRY_BYTES_FLOOR} bytes and the L1 may take ${L1_HEAP_SHARE * 100}% of the heap; beyond that the process aborts with "Reached heap limit")`,
      fix: "lower it, or raise the heap (the memory limit and heapSizeLimit)",
    });
  if (settings.memory.heapSizeLimit > limits.heapMiB)
    issues.push({
      path: "memory.heapSizeLimit",
      message: `expected at most the ${limits.heapMiB} MiB heap V8 gives this process (--max-old-space-size), else memory pressure is never detected before the heap runs out`,
      fix: "lower it, or raise --max-old-space-size",
    });
  return issues;
}
