import type { CdnPurger, CdnPurgeResult } from "./cdn";
import { CloudFrontPurger } from "./cloudfront";
import type { CacheManager, InvalidationResult } from "./manager";

export interface CacheInvalidatorOptions {
  cache: CacheManager;
  /** CDN purger; when omitted and `cache.settings.cdn.enabled`, a CloudFrontPurger for `cdn.distributionId` is built. @default per settings */
  purger?: CdnPurger;
}

export interface InvalidateReport extends InvalidationResult {
  /** Present when the CDN was purged. */
  cdn?: CdnPurgeResult;
}

/**
 * The seed's CacheInvalidator: one call removes a glob pattern from this instance's L1, from Redis,
 * from the other instances' L1 (via the cache's bus), and from the CDN when `cdn.enabled`.
 */
export class CacheInvalidator {
  readonly #cache: CacheManager;
  readonly #purger: CdnPurger | undefined;
  readonly #ownsPurger: boolean;

  constructor(options: CacheInvalidatorOptions) {
    this.#cache = options.cache;
    const cdn = options.cache.settings.cdn;
    this.#ownsPurger = cdn.enabled && options.purger === undefined;
    this.#purger = cdn.enabled ? (options.purger ?? new CloudFrontPurger({ distributionId: cdn.distributionId })) : undefined;
  }

  /**
   * Redis trouble never throws (see `complete`). A CDN purge that gives up throws CdnPurgeError
   * (code UAIP_CDN_PURGE_FAILED) after the cache tiers are already cleared: the CDN may still serve stale objects.
   */
  async invalidate(pattern: string): Promise<InvalidateReport> {
    const result = await this.#cache.invalidate(pattern);
    if (!this.#purger) return result;
    return { ...result, cdn: await this.#purger.purge([pattern]) };
  }

  /** Releases the purger this invalidator built (not the cache, which the caller owns). */
  async close(): Promise<void> {
    if (this.#ownsPurger) await this.#purger?.close?.();
  }
}
