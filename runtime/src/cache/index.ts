// Public API of the cache area (explicit: internals such as the breaker, glob, deadlines, bus and scan stay private).
export { CacheKeyError, CacheValueError, CacheOptionsError, CacheClosedError, CdnPurgeError } from "./errors";
export { DEFAULT_CACHE_KEY_PREFIX, type CacheSettings, type CacheSettingsInput } from "./options";
export type { CircuitBreakerOptions, BreakerState } from "./breaker";
export { CACHE_OPERATION, type CacheOperation } from "./metrics";
export type { CacheEvent, CacheEventListener } from "./events";
export {
  CacheManager,
  jsonSerializer,
  type CacheManagerOptions,
  type SeedCacheConfig,
  type Serializer,
  type SetOptions,
  type CacheWriteResult,
  type InvalidationResult,
  type L2State,
  type CacheEntry,
} from "./manager";
export { patternToPath, type CdnPurger, type CdnPurgeResult } from "./cdn";
export { CloudFrontPurger, type CloudFrontPurgerOptions } from "./cloudfront";
export {
  CacheInvalidator,
  defaultCdnPaths,
  type CacheInvalidatorOptions,
  type CdnPathMapper,
  type CdnPurgeOutcome,
  type InvalidateReport,
} from "./invalidator";
