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
 * A place where counts live. `hit` counts a request of `points` (default 1) on `key` against `limit`
 * per `windowMs`, atomically: concurrent hits from any number of processes never over-admit; a
 * refused hit counts nothing. Every method rejects (never resolves `allowed: false`) when the store
 * itself is unavailable. `peek`, `adjust` and `delete` are optional for custom stores: the limiter's
 * `get`, `penalty`/`reward` and `reset` refuse by name on a store without them.
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number, limit: number, points?: number): Promise<StoreDecision>;
  /**
   * A 1-point hit decided without waiting, when the store can (an in-process count, or tokens this
   * process already holds and were counted beforehand), else undefined: the caller then uses `hit`.
   * Counts exactly like `hit`. Optional: lets a limiter answer a request in the same turn, with no
   * promise to wait for.
   */
  hitNow?(key: string, windowMs: number, limit: number): StoreDecision | undefined;
  /** The key's state without counting; `allowed` says whether a 1-point hit would be admitted now. */
  peek?(key: string, windowMs: number, limit: number): Promise<StoreDecision>;
  /**
   * Adds `points` (> 0, a penalty: counted even past the limit) or gives them back (< 0, a reward:
   * current window first, then the previous one, never below zero), atomically. Answers like `peek`.
   */
  adjust?(key: string, windowMs: number, limit: number, points: number): Promise<StoreDecision>;
  /** Forgets the key's counts; resolves whether there were any. */
  delete?(key: string): Promise<boolean>;
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
