/** Client-side latency statistics of the local load runner: exact percentiles over every sample. */

export interface Sample {
  /** Milliseconds since the run started, when the response arrived. */
  atMs: number;
  latencyMs: number;
  /** 2xx, and no socket error or timeout (k6's `http_req_failed` counts the rest). */
  ok: boolean;
  /** HTTP status when known; 0 for a socket error or timeout. */
  status?: number;
}

export interface Summary {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Responses per second over `durationS`. */
  throughput: number;
}

/** Nearest-rank percentile of sorted values (the k6 and HdrHistogram convention); 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: readonly Sample[], durationS: number): Summary {
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const errors = samples.filter((s) => !s.ok).length;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    requests: samples.length,
    errors,
    errorRate: samples.length ? errors / samples.length : 0,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    throughput: durationS > 0 ? round(samples.length / durationS) : 0,
  };
}

/** Samples grouped into consecutive windows of `windowMs` (the chart's x axis). */
export function windows(samples: readonly Sample[], windowMs: number): { startMs: number; summary: Summary }[] {
  const groups = new Map<number, Sample[]>();
  for (const s of samples) {
    const key = Math.floor(s.atMs / windowMs);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(s);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, group]) => ({ startMs: key * windowMs, summary: summarize(group, windowMs / 1000) }));
}
