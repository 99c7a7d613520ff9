// Public API of the rate-limit area (explicit: the sliding-window arithmetic stays private).
export { RateLimitOptionsError, RateLimitKeyError, RateLimitPointsError, RateLimitStoreError } from "./errors";
export type { FailurePolicy, RateLimitResult, RateLimitStore, StoreDecision } from "./types";
export { MemoryStore, type MemoryStoreOptions } from "./memory-store";
export { RedisStore, type RedisStoreOptions } from "./redis-store";
export { RateLimiter, type RateLimitConfig, type RateLimiterOptions } from "./limiter";
export { clientAddressKey, normalizeAddress, type TrustedProxyOptions } from "./client-key";
export { rateLimitHeaders } from "./headers";
export {
  rateLimitMiddleware,
  rateLimitHandler,
  RATE_LIMITED_CODE,
  RATE_LIMIT_UNAVAILABLE_CODE,
  type RateLimitMiddlewareOptions,
} from "./middleware";
