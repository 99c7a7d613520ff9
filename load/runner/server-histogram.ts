/**
 * The runtime's own view of latency: the `uaip_http_request_duration_seconds` histogram scraped
 * from each service's /metrics before and after a run, and its p95 computed the way Prometheus'
 * `histogram_quantile` does (linear interpolation inside the bucket). The runner compares it
 * with the client-side p95 to show that the dashboards tell the truth.
 */

/** Cumulative bucket counts by upper bound (seconds); `+Inf` is Infinity. */
export type Buckets = Map<number, number>;

const LINE = /^([a-zA-Z_:][\w:]*)\{([^}]*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(LABEL)) out[m[1]] = m[2];
  return out;
}

/** Sums the `<metric>_bucket` series whose labels match every entry of `match` (a RegExp or exact value). */
export function parseBuckets(exposition: string, metric: string, match: Record<string, string | RegExp> = {}): Buckets {
  const buckets: Buckets = new Map();
  for (const line of exposition.split("\n")) {
    const m = LINE.exec(line);
    if (!m || m[1] !== `${metric}_bucket`) continue;
    const labels = labelsOf(m[2]);
    const matches = Object.entries(match).every(([k, want]) =>
      typeof want === "string" ? labels[k] === want : want.test(labels[k] ?? ""),
    );
    if (!matches) continue;
    const le = labels.le === "+Inf" ? Infinity : Number(labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[3]));
  }
  return buckets;
}

/** after − before, bucket by bucket: the requests of the run alone. */
export function deltaBuckets(after: Buckets, before: Buckets): Buckets {
  return new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)]));
}

/** Prometheus' histogram_quantile over cumulative buckets; NaN with no observations. */
export function histogramQuantile(q: number, buckets: Buckets): number {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      // Prometheus returns the highest finite bound when the quantile lands in +Inf.
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / (count - prevCount || 1));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** The bucket bounds around a value (seconds): how precise the server-side quantile can be. */
export function bucketAround(value: number, buckets: Buckets): [number, number] {
  const bounds = [0, ...[...buckets.keys()].sort((a, b) => a - b)];
  for (let i = 1; i < bounds.length; i++) if (value <= bounds[i]) return [bounds[i - 1], bounds[i]];
  return [bounds.at(-1) ?? 0, Infinity];
}
