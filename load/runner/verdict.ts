/**
 * The load run's verdict. PASS or FAIL is the profile's SLO (`monitoring.slo`: p95 latency and
 * error rate, both strictly below). The client/runtime p95 agreement is a diagnostic: it is
 * reported, and fails the run only when the two disagree grossly (see `agreementLevel`), because a
 * histogram cannot resolve finer than its buckets: a client p95 of 5.71 ms and a runtime p95 of
 * 4.96 ms fall on either side of the 5 ms edge while both meet a 500 ms SLO by 100×.
 */
import type { ServiceAgreement } from "./report";
import type { Summary } from "./stats";

export interface Slo {
  latencyP95Ms: number;
  errorRate: number;
}

export interface Verdict {
  sloMet: boolean;
  /** Why the run fails, in words; empty when it passes. */
  failures: string[];
  /** Reported, never failing: client/runtime differences within the histogram's resolution. */
  diagnostics: string[];
}

/**
 * - `agree`: within the relative tolerance, or the client's p95 lies in the runtime's bucket;
 * - `diagnostic`: they differ, but not grossly: reported only;
 * - `gross`: fails the run (GROSS_DISAGREEMENT_RULE).
 */
export type AgreementLevel = "agree" | "diagnostic" | "gross";

/** Gross means all three at once; any one of them missing is explainable by the histogram's resolution. */
export const GROSS_DISAGREEMENT_RULE =
  "client and runtime p95 not in the same or adjacent histogram buckets, AND one more than 2× the other, AND apart by more than the width of the runtime's bucket";

/** The ratio above which two p95s are grossly apart (with the bucket conditions). */
export const GROSS_RATIO = 2;

/** Index of the bucket holding `valueMs`: the first upper bound ≥ it; bounds.length for +Inf. */
export function bucketIndex(valueMs: number, upperBoundsMs: readonly number[]): number {
  const i = upperBoundsMs.findIndex((le) => valueMs <= le);
  return i === -1 ? upperBoundsMs.length : i;
}

export interface AgreementJudgement {
  level: AgreementLevel;
  /** Buckets between the two values' buckets (0: same, 1: adjacent). */
  bucketDistance: number;
  /** The larger p95 over the smaller (Infinity when the smaller is 0 and the larger not). */
  ratio: number;
  /** Width of the bucket the runtime's p95 lies in, ms: its resolution. */
  serverBucketWidthMs: number;
}

/**
 * The one rule for client/runtime p95 agreement. `upperBoundsMs` are the histogram's finite
 * bucket bounds (`le`), ms, ascending; `tolerance` the relative difference that counts as agreeing.
 */
export function agreementLevel(
  clientP95Ms: number,
  serverP95Ms: number,
  upperBoundsMs: readonly number[],
  tolerance: number,
): AgreementJudgement {
  const bounds = [...upperBoundsMs].filter(Number.isFinite).sort((a, b) => a - b);
  const clientBucket = bucketIndex(clientP95Ms, bounds);
  const serverBucket = bucketIndex(serverP95Ms, bounds);
  const lower = serverBucket === 0 ? 0 : bounds[serverBucket - 1];
  const upper = serverBucket < bounds.length ? bounds[serverBucket] : Infinity;
  const serverBucketWidthMs = upper - lower;
  const low = Math.min(clientP95Ms, serverP95Ms);
  const high = Math.max(clientP95Ms, serverP95Ms);
  const ratio = high === low ? 1 : low > 0 ? high / low : Infinity;
  const bucketDistance = Math.abs(clientBucket - serverBucket);
  const within = clientP95Ms > 0 ? (high - low) / clientP95Ms <= tolerance : high === low;
  const level: AgreementLevel =
    within || bucketDistance === 0
      ? "agree"
      : bucketDistance > 1 && ratio > GROSS_RATIO && high - low > serverBucketWidthMs
        ? "gross"
        : "diagnostic";
  return { level, bucketDistance, ratio, serverBucketWidthMs };
}

/** The run passes on the SLO alone, unless a service's client and runtime p95 disagree grossly. */
export function verdict(overall: Summary, slo: Slo, services: readonly ServiceAgreement[]): Verdict {
  const latencyMet = overall.p95Ms < slo.latencyP95Ms;
  const errorsMet = overall.errorRate < slo.errorRate;
  const describe = (s: ServiceAgreement) =>
    `${s.service}: the runtime's p95 ${s.serverP95Ms} ms (bucket ${s.bucketMs[0]}–${s.bucketMs[1]} ms) and the client's ${s.clientP95Ms} ms`;
  const failures = [
    ...(latencyMet ? [] : [`p95 ${overall.p95Ms} ms is not below the SLO's ${slo.latencyP95Ms} ms`]),
    ...(errorsMet
      ? []
      : [`error rate ${(overall.errorRate * 100).toFixed(2)} % is not below the SLO's ${slo.errorRate * 100} %`]),
    ...services
      .filter((s) => s.level === "gross")
      .map((s) => `${describe(s)} disagree grossly (${GROSS_DISAGREEMENT_RULE}): the dashboards do not show what clients see`),
  ];
  const diagnostics = services
    .filter((s) => s.level === "diagnostic")
    .map((s) => `${describe(s)} differ, but not grossly (gross = ${GROSS_DISAGREEMENT_RULE})`);
  return { sloMet: latencyMet && errorsMet, failures, diagnostics };
}

/** Late sends above this share of the schedule are reported (their latency still counts from the intended time). */
export const LATE_SHARE_REPORTED = 0.01;

/**
 * The generator's own limit, judged: a dropped send was never measured, so any drop makes the
 * latencies understate and fails the run (raise --max-in-flight or lower the rate); late sends are
 * measured from their intended time, so they are a diagnostic only.
 */
export function generatorVerdict(r: {
  scheduled: number;
  late: number;
  dropped: number;
  maxInFlight: number;
}): Omit<Verdict, "sloMet"> {
  const failures =
    r.dropped > 0
      ? [
          `the generator dropped ${r.dropped} of ${r.scheduled} scheduled sends (${r.maxInFlight} requests already in flight): their latency is not measured, so the percentiles understate; raise --max-in-flight or lower the rate`,
        ]
      : [];
  const diagnostics =
    r.scheduled > 0 && r.late / r.scheduled > LATE_SHARE_REPORTED
      ? [
          `the generator sent ${r.late} of ${r.scheduled} requests late (behind schedule beyond the tolerance): still measured from their intended time, but the generator's machine is busy`,
        ]
      : [];
  return { failures, diagnostics };
}
