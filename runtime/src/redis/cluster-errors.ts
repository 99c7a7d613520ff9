import { Counter, type Registry } from "prom-client";
import { LABEL, METRIC } from "../metrics/names";
import { thrownText } from "../errors";

/**
 * Cluster-specific failures: a command whose keys span slots (CROSSSLOT), redirections that did not
 * settle (MOVED/ASK answered to a command, or ioredis giving up after `maxRedirections`), a cluster
 * without a quorum or a slot owner (CLUSTERDOWN), a slot in migration (TRYAGAIN).
 */
export const CLUSTER_ERROR_REASONS = ["CROSSSLOT", "MOVED", "ASK", "CLUSTERDOWN", "TRYAGAIN", "REDIRECTIONS"] as const;
export type ClusterErrorReason = (typeof CLUSTER_ERROR_REASONS)[number];

/** Warning code of the log line a cluster error produces (process.emitWarning). */
export const CLUSTER_ERROR_WARNING = "UAIP_REDIS_CLUSTER_ERROR";

/** At most one log line per reason and source this often: a storm must be visible, not flood the log. */
const WARN_EVERY_MS = 10_000;

/**
 * The cluster reason of an error, looking through `cause` (a RateLimitStoreError wraps the ioredis
 * ReplyError); undefined for anything else (timeouts, refused connections).
 */
export function clusterErrorReason(error: unknown): ClusterErrorReason | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    const message = typeof (e as Error).message === "string" ? (e as Error).message : "";
    const reply = /^(CROSSSLOT|MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b/.exec(message);
    if (reply) return reply[1] as ClusterErrorReason;
    if (message.startsWith("Too many Cluster redirections")) return "REDIRECTIONS";
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Counts and logs cluster errors for one component (`source`: a cache operation, "ratelimit"). The
 * caller has already applied its failure policy (a cache miss, the limiter's failurePolicy): this
 * makes sure such a failure is never silent: `uaip_redis_cluster_errors_total{reason, operation}`
 * and a throttled process warning with code UAIP_REDIS_CLUSTER_ERROR naming the reason and the error.
 */
export class ClusterErrorReporter {
  readonly #counter: Counter<string> | undefined;
  readonly #lastWarned = new Map<string, number>();
  readonly #warn: (message: string) => void;

  constructor(registry?: Registry, warn = (message: string) => process.emitWarning(message, { code: CLUSTER_ERROR_WARNING })) {
    this.#warn = warn;
    if (!registry) return;
    this.#counter =
      (registry.getSingleMetric(METRIC.redisClusterErrorsTotal) as Counter<string> | undefined) ??
      new Counter({
        name: METRIC.redisClusterErrorsTotal,
        help: "Redis Cluster errors (CROSSSLOT, MOVED/ASK not settled, CLUSTERDOWN, TRYAGAIN) answered by the failure policy",
        labelNames: [LABEL.reason, LABEL.operation],
        registers: [registry],
      });
  }

  /** Counts and logs `error` when it is a cluster error; returns its reason (undefined otherwise). */
  report(error: unknown, operation: string): ClusterErrorReason | undefined {
    const reason = clusterErrorReason(error);
    if (reason === undefined) return undefined;
    this.#counter?.inc({ [LABEL.reason]: reason, [LABEL.operation]: operation });
    const key = `${reason}/${operation}`;
    const now = Date.now();
    if (now - (this.#lastWarned.get(key) ?? -Infinity) >= WARN_EVERY_MS) {
      this.#lastWarned.set(key, now);
      this.#warn(`Redis Cluster error ${reason} in ${operation} (answered by the failure policy): ${thrownText(error)}`);
    }
    return reason;
  }
}
