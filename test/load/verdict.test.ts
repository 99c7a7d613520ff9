import { summarize, type Sample } from "../../load/runner/stats";
import { verdict } from "../../load/runner/verdict";
import type { ServiceAgreement } from "../../load/runner/report";

/** Twenty samples: `fast` of them at 10 ms, the rest at `slowMs`; all succeed except `failed`. */
function run(fast: number, slowMs: number, failed = 0): Sample[] {
  return Array.from({ length: 20 }, (_, i) => ({ atMs: i * 50, latencyMs: i < fast ? 10 : slowMs, ok: i >= failed }));
}
const slo = { latencyP95Ms: 500, errorRate: 0.01 };
const agrees: ServiceAgreement = {
  service: "api",
  clientP95Ms: 10,
  serverP95Ms: 10,
  bucketMs: [5, 10],
  relativeDifference: 0,
  clientInBucket: true,
  agrees: true,
};

describe("load verdict", () => {
  it("fails a run whose p95 is over the SLO while its median is well under it", () => {
    // 18 of 20 at 10 ms, 2 at 900 ms: the median is 10 ms, the 95th percentile (rank ceil(0.95 * 20) = 19) is 900 ms.
    const overall = summarize(run(18, 900), 1);
    expect(overall.p50Ms).toBeLessThan(slo.latencyP95Ms);
    expect(overall.p95Ms).toBeGreaterThan(slo.latencyP95Ms);
    const v = verdict(overall, slo, [agrees], 0.1);
    expect(v.sloMet).toBe(false);
    expect(v.failures).toEqual([`p95 900 ms is not below the SLO's 500 ms`]);
  });

  it("passes the same run once its tail is under the SLO, and fails it at the SLO exactly (strictly below)", () => {
    expect(verdict(summarize(run(18, 499), 1), slo, [agrees], 0.1)).toEqual({ sloMet: true, failures: [] });
    expect(verdict(summarize(run(18, 500), 1), slo, [agrees], 0.1).sloMet).toBe(false);
  });

  it("fails on the error rate alone, at the SLO's rate exactly, and passes just under it", () => {
    const errorSlo = { latencyP95Ms: 500, errorRate: 0.05 };
    // 1 of 20 failed = 5 %: not below 5 %.
    const atLimit = verdict(summarize(run(20, 10, 1), 1), errorSlo, [agrees], 0.1);
    expect(atLimit).toEqual({ sloMet: false, failures: ["error rate 5.00 % is not below the SLO's 5 %"] });
    expect(verdict(summarize(run(20, 10, 0), 1), errorSlo, [agrees], 0.1)).toEqual({ sloMet: true, failures: [] });
  });

  it("fails when a service's runtime p95 disagrees with the client's, though the SLO is met", () => {
    const off = { ...agrees, service: "search", serverP95Ms: 40, bucketMs: [25, 50] as [number, number], agrees: false };
    const v = verdict(summarize(run(20, 10), 1), slo, [agrees, off], 0.1);
    expect(v.sloMet).toBe(true);
    expect(v.failures).toHaveLength(1);
    expect(v.failures[0]).toMatch(/^search: the runtime's p95 40 ms differs from the client's 10 ms by more than 10 %/);
  });
});
