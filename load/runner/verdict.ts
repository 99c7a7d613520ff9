/** The load run's verdict: the SLO (p95 latency and error rate, both strictly below) and the client/runtime p95 agreement. */
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
}

/** `tolerance` is the relative client/runtime p95 difference allowed (printed in the failure). */
export function verdict(overall: Summary, slo: Slo, services: readonly ServiceAgreement[], tolerance: number): Verdict {
  const latencyMet = overall.p95Ms < slo.latencyP95Ms;
  const errorsMet = overall.errorRate < slo.errorRate;
  const failures = [
    ...(latencyMet ? [] : [`p95 ${overall.p95Ms} ms is not below the SLO's ${slo.latencyP95Ms} ms`]),
    ...(errorsMet
      ? []
      : [`error rate ${(overall.errorRate * 100).toFixed(2)} % is not below the SLO's ${slo.errorRate * 100} %`]),
    ...services
      .filter((s) => !s.agrees)
      .map(
        (s) =>
          `${s.service}: the runtime's p95 ${s.serverP95Ms} ms differs from the client's ${s.clientP95Ms} ms by more than ${tolerance * 100} %, and the client's is outside the histogram bucket ${s.bucketMs[0]}–${s.bucketMs[1]} ms`,
      ),
  ];
  return { sloMet: latencyMet && errorsMet, failures };
}
