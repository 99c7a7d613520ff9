import type { CapacityFile } from "../../profile/capacity-file";

/**
 * A small, valid capacity file for chart tests: three steps at 100, 200 and 400 req/s whose p99 is 10, 20 and
 * 900 ms against a 500 ms SLO, so the knee is the 200 req/s step (200 req/s per core on 1 core).
 */
export function kneeAt200(over: Partial<CapacityFile> = {}): CapacityFile {
  return {
    service: "svc",
    commit: "abcdef1",
    measuredAt: "2026-12-06T09:00:00.000Z",
    cpuCores: 1,
    slo: { latencyP99Ms: 500, errorRate: 0.01 },
    knee: {
      rateRpsPerCore: 200,
      cpuMsPerRequest: 1,
      cpuUtilisation: 0.2,
      p50Ms: 1,
      p95Ms: 2,
      p99Ms: 20,
      errorRate: 0.0025,
      heapMiB: 20,
      dbP95Ms: null,
    },
    steps: [100, 200, 400].map((rateRps, i) => ({
      rateRps,
      achievedRps: rateRps,
      p50Ms: 1,
      p95Ms: 2,
      p99Ms: [10, 20, 900][i],
      errorRate: 0,
      cpuCores: rateRps / 1000,
      heapMiB: 20,
      lateSends: 0,
    })),
    machine: { cpus: 2, loadAverage: [1.5, 2, 3], node: "v20" },
    ...over,
  };
}
