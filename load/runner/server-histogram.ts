/**
 * The runtime's own view of latency: the `uaip_http_request_duration_seconds` histogram scraped
 * from each service's /metrics before and after a run, and its p95 computed the way Prometheus'
 * `histogram_quantile` does (linear interpolation inside the bucket). The runner compares it
 * with the client-side p95 to show that the dashboards tell the truth.
 */
import { sampleOf } from "./exposition";
import { agreementLevel, type AgreementLevel } from "./verdict";

/** Cumulative bucket counts by upper bound (seconds); `+Inf` is Infinity. */
export type Buckets = Map<number, number>;

/** Sums the `<metric>_bucket` series whose labels match every entry of `match` (a RegExp or exact value). */
export function parseBuckets(exposition: string, metric: string, match: Record<string, string | RegExp> = {}): Buckets {
  const buckets: Buckets = new Map();
  for (const line of exposition.split("\n")) {
    const sample = sampleOf(line);
    if (sample?.name !== `${metric}_bucket`) continue;
    const { labels } = sample;
    // A bucket is named by its upper bound; a line without one is not a bucket.
    if (labels.le === undefined) continue;
    const matches = Object.entries(match).every(([k, want]) =>
      typeof want === "string" ? labels[k] === want : want.test(labels[k] ?? ""),
    );
    if (!matches) continue;
    const le = labels.le === "+Inf" ? Infinity : Number(labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
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

export interface Agreement {
  serverP95Ms: number;
  /** The histogram bucket the server p95 fell in, ms: its resolution. */
  bucketMs: [number, number];
  /** |server − client| / client. */
  relativeDifference: number;
  /** The client's p95 lies inside that bucket. */
  clientInBucket: boolean;
  /** Within the tolerance, or the client's p95 in the runtime's bucket. */
  agrees: boolean;
  /** agree / diagnostic (reported) / gross (fails the run): verdict.ts's agreementLevel. */
  level: AgreementLevel;
}

/**
 * Does the runtime's p95 (histogram_quantile over the run's buckets) tell the truth the client saw?
 * It agrees when the two are within `tolerance` of the client's p95, or when the client's p95 lies
 * in the very bucket the runtime's p95 was interpolated in: a histogram cannot resolve more finely
 * than its buckets, and at a few milliseconds the 0–5 ms bucket is far wider than 10 % (a client p95
 * of 3.9 ms reads 4.8 ms). Otherwise `level` says whether the gap is within the histogram's
 * resolution (a diagnostic) or gross (verdict.ts's agreementLevel, the one rule).
 */
export function agreement(clientP95Ms: number, delta: Buckets, tolerance: number): Agreement {
  const serverP95 = histogramQuantile(0.95, delta);
  const [low, high] = bucketAround(serverP95, delta);
  const serverP95Ms = Math.round(serverP95 * 100_000) / 100;
  // agreementLevel leaves the +Inf bound out itself.
  const bounds = [...delta.keys()].map((le) => le * 1000);
  const relativeDifference = clientP95Ms > 0 ? Math.abs(serverP95Ms - clientP95Ms) / clientP95Ms : 0;
  const clientInBucket = clientP95Ms >= low * 1000 && clientP95Ms <= high * 1000;
  const agrees = relativeDifference <= tolerance || clientInBucket;
  return {
    serverP95Ms,
    bucketMs: [low * 1000, high * 1000],
    relativeDifference: Math.round(relativeDifference * 1000) / 1000,
    clientInBucket,
    agrees,
    level: agrees ? "agree" : agreementLevel(clientP95Ms, serverP95Ms, bounds, tolerance).level,
  };
}
