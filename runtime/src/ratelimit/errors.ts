import { UaipError } from "../errors";

/** A RateLimiter/store option is missing or malformed; `key` names the option. */
export class RateLimitOptionsError extends UaipError {
  static readonly CODE = "UAIP_RATELIMIT_OPTIONS_INVALID";
  readonly key: string;

  constructor(key: string, message: string) {
    super(RateLimitOptionsError.CODE, `rate limiter option ${key}: ${message}`);
    this.key = key;
  }
}

/** A rate-limit key (what keyGenerator returned, or what was passed to consume) is unusable. */
export class RateLimitKeyError extends UaipError {
  static readonly CODE = "UAIP_RATELIMIT_KEY_INVALID";

  constructor(message: string) {
    super(RateLimitKeyError.CODE, message);
  }
}

/**
 * A point count given to consume / penalty / reward is unusable: not a positive safe integer, or (for
 * consume) more than maxRequests, which no window could ever admit.
 */
export class RateLimitPointsError extends UaipError {
  static readonly CODE = "UAIP_RATELIMIT_POINTS_INVALID";
  /** The value as given. */
  readonly points: unknown;

  constructor(points: unknown, message: string) {
    super(RateLimitPointsError.CODE, message);
    this.points = points;
  }
}

/**
 * The store could not answer (Redis down, not ready, or too slow). The limiter turns this into
 * its failure policy; it is never reported as "limit exceeded".
 */
export class RateLimitStoreError extends UaipError {
  static readonly CODE = "UAIP_RATELIMIT_STORE_UNAVAILABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super(RateLimitStoreError.CODE, message, options);
  }
}
