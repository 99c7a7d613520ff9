// Public API of the cache area (explicit: internals such as the breaker, glob, deadlines, bus, scan and the CDN path mapping stay private).
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
export type { CdnPurger, CdnPurgeResult } from "./cdn";
export { CloudFrontPurger, type CloudFrontPurgerOptions, type CloudFrontClientLike } from "./cloudfront";
export { PeerDependencyMissingError } from "../peers";
export {
  CacheInvalidator,
  defaultCdnPaths,
  type CacheInvalidatorOptions,
  type CdnPathMapper,
  type CdnPurgeOutcome,
  type InvalidateReport,
} from "./invalidator";
