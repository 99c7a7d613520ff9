import { UaipError } from "../errors";

/** A cache key (or invalidation pattern) is empty, not a string, or too long. */
export class CacheKeyError extends UaipError {
  static readonly CODE = "UAIP_CACHE_INVALID_KEY";
  constructor(message: string) {
    super(CacheKeyError.CODE, message);
  }
}

/** A value cannot be stored because the serializer rejects it (undefined, a function, a cycle, a BigInt, ...). */
export class CacheValueError extends UaipError {
  static readonly CODE = "UAIP_CACHE_UNSERIALIZABLE_VALUE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(CacheValueError.CODE, message, options);
  }
}

/** A cache option (ttl, jitter, sizes, connection settings) is malformed. `key` names the option. */
export class CacheOptionsError extends UaipError {
  static readonly CODE = "UAIP_CACHE_INVALID_OPTIONS";
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(CacheOptionsError.CODE, message, options);
    this.key = key;
  }
}

/** The cache was used after `close()`. */
export class CacheClosedError extends UaipError {
  static readonly CODE = "UAIP_CACHE_CLOSED";
  constructor() {
    super(CacheClosedError.CODE, "the cache is closed; create a new CacheManager");
  }
}

/** A CDN purge failed for good: a non-retriable error, or still throttled after every retry. */
export class CdnPurgeError extends UaipError {
  static readonly CODE = "UAIP_CDN_PURGE_FAILED";
  /** The paths of the batch that could not be purged. */
  readonly paths: readonly string[];
  /** How many requests were sent for this batch before giving up. */
  readonly attempts: number;
  /** True when the last failure was throttling (a later retry may succeed). */
  readonly throttled: boolean;

  constructor(
    message: string,
    details: { paths: readonly string[]; attempts: number; throttled: boolean },
    options?: { cause?: unknown },
  ) {
    super(CdnPurgeError.CODE, message, options);
    this.paths = details.paths;
    this.attempts = details.attempts;
    this.throttled = details.throttled;
  }
}
