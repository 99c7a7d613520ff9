// Public API of the cache. Internals (breaker, glob, deadlines, bus, scan) stay unexported so the
// runtime's top-level `export *` cannot collide with other areas' names.
export { CacheKeyError, CacheValueError, CacheOptionsError, CacheClosedError, CdnPurgeError } from "./errors";
export type { CacheSettings, CacheSettingsInput } from "./options";
export type { CircuitBreakerOptions, BreakerState } from "./breaker";
export { CACHE_OPERATION, type CacheOperation } from "./metrics";
export { CacheManager, jsonSerializer, type CacheManagerOptions, type Serializer, type SetOptions, type InvalidationResult, type L2State } from "./manager";
export { patternToPath, type CdnPurger, type CdnPurgeResult } from "./cdn";
export { CloudFrontPurger, type CloudFrontPurgerOptions } from "./cloudfront";
export { CacheInvalidator, type CacheInvalidatorOptions, type InvalidateReport } from "./invalidator";
