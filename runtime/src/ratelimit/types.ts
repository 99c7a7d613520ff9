/** What a store decided for one hit. Times are in ms. */
export interface StoreDecision {
  allowed: boolean;
  /** Requests still allowed right now after this one. */
  remaining: number;
  /** Until the key's usage has fully drained (remaining back to the limit) with no further hits. */
  resetMs: number;
  /** Until the next request would be allowed; 0 when it would be allowed now. */
  retryAfterMs: number;
}

/**
 * A place where counts live. `hit` counts one request on `key` against `limit` per `windowMs`,
 * atomically: concurrent hits from any number of processes never over-admit.
 * It rejects (never resolves `allowed: false`) when the store itself is unavailable.
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number, limit: number): Promise<StoreDecision>;
  /** Releases timers and owned connections. */
  close(): Promise<void>;
}

/** What the limiter does while its store is unavailable: allow, deny (503), or count in this process (memory). */
export type FailurePolicy = "allow" | "deny" | "memory";

/** The answer of `RateLimiter.consume(key)`. Times are in ms. */
export interface RateLimitResult extends StoreDecision {
  /** maxRequests of the policy. */
  limit: number;
  /**
   * True when the primary store failed and the failure policy answered instead
   * ('allow', 'deny' or the in-memory insurance store). A degraded denial is not "limit exceeded".
   */
  degraded?: boolean;
  /**
   * Why the result is degraded: "store_unavailable" when the 'allow'/'deny' policy answered
   * without counting, "memory_fallback" when the in-process insurance store counted instead.
   */
  reason?: "store_unavailable" | "memory_fallback";
}
