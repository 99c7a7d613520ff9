/**
 * The measured capacity of one service: `capacity/<service>.json`, written by `npm run capacity`
 * (a stepped open-model load against one instance pinned to one CPU core, with real Redis and
 * PostgreSQL) and read by the plan (the throughput, HPA-target, node-fit and Little's-law checks)
 * and by the cost report (dollars per million requests). This schema is the one contract between
 * the writer and its readers: both parse through it, so a file one side cannot read is refused by
 * name on either side.
 *
 * Rates are requests per second; latencies are milliseconds measured by the client from the
 * intended send time (open model, so queueing is in them); CPU is the service process's own
 * user+system time.
 */
import { z } from "zod";

const nonNegative = z.number().finite().min(0);
const fraction = z.number().finite().min(0).max(1);

/** One step of the stepped load: the scheduled rate, and what the instance did at it. */
export const capacityStepSchema = z.strictObject({
  /** Scheduled (offered) rate. */
  rateRps: z.number().finite().positive(),
  /** Responses per second actually received over the step (2xx and errors). */
  achievedRps: nonNegative,
  p50Ms: nonNegative,
  p95Ms: nonNegative,
  p99Ms: nonNegative,
  /** Non-2xx responses and transport errors over all sends. */
  errorRate: fraction,
  /** The process's CPU time over the step's wall time, in cores (0.8 = 80% of one core). */
  cpuCores: nonNegative,
  /** Heap used at the end of the step, MiB. */
  heapMiB: nonNegative,
  /** Sends the generator made later than scheduled (past its tolerance), or could not make: its own limit. */
  lateSends: z.number().int().min(0),
});
export type CapacityStep = z.infer<typeof capacityStepSchema>;

export const capacityFileSchema = z.strictObject({
  /** The service's name as in the profile (`services[].name`). */
  service: z.string().min(1),
  /** Git commit of the measured code; the plan warns when the service's code changed after it. */
  commit: z.string().regex(/^[0-9a-f]{7,40}$/, { message: "expected a git commit hash" }),
  /** When it was measured (ISO 8601). */
  measuredAt: z.iso.datetime(),
  /** CPU cores the instance was pinned to (1: one event loop on one core). */
  cpuCores: z.number().finite().positive(),
  /** The bound the knee was judged against: p99 below `latencyP99Ms`, errors below `errorRate`. */
  slo: z.strictObject({ latencyP99Ms: z.number().finite().positive(), errorRate: fraction }),
  /** The highest step within the SLO. */
  knee: z.strictObject({
    /** Requests per second per core at the knee (achieved rate ÷ cpuCores). */
    rateRpsPerCore: z.number().finite().positive(),
    /** CPU milliseconds per request at the knee. */
    cpuMsPerRequest: z.number().finite().positive(),
    /** The process's CPU at the knee as a fraction of the cores it had (0–1). */
    cpuUtilisation: fraction,
    p50Ms: nonNegative,
    p95Ms: nonNegative,
    p99Ms: nonNegative,
    errorRate: fraction,
    heapMiB: nonNegative,
    /** p95 time a request held a database connection at the knee (the runtime's pool histogram); null when the route does not query. */
    dbP95Ms: nonNegative.nullable(),
    /**
     * Connection checkouts per request at the knee (the pool histogram's count over the requests
     * answered): a cached read takes none, a write one. Little's law counts only the requests that
     * hold a connection. Absent (files written before it was measured): 1, every request (conservative).
     */
    dbHoldsPerRequest: nonNegative.optional(),
  }),
  steps: z.array(capacityStepSchema).min(1),
  /** The machine it was measured on, so a reader can judge the numbers. */
  machine: z.strictObject({
    cpus: z.number().int().positive(),
    /** /proc/loadavg's 1, 5 and 15 minute averages at the start of the run. */
    loadAverage: z.tuple([nonNegative, nonNegative, nonNegative]),
    node: z.string().min(1),
  }),
});
export type CapacityFile = z.infer<typeof capacityFileSchema>;

/** Where a service's capacity file lives, relative to the repository root. */
export function capacityFilePath(service: string): string {
  return `capacity/${service}.json`;
}
