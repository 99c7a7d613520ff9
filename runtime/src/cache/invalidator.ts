import { checkValue, func, object, required, string, validateOptions, type SpecFor } from "../options";
import { cdnError, patternToPath, type CdnPurger, type CdnPurgeResult } from "./cdn";
import { CloudFrontPurger } from "./cloudfront";
import { CacheOptionsError, CdnPurgeError } from "./errors";
import { eventSink, type CacheEventListener } from "./events";
import { thrownText } from "../errors";
import type { CacheManager, InvalidationResult } from "./manager";

/**
 * Maps a cache key or key pattern to the CDN paths whose cached responses it backs. Return
 * undefined (or []) when the key is not served through the CDN.
 */
export type CdnPathMapper = (keyOrPattern: string) => string | readonly string[] | undefined;

export interface CacheInvalidatorOptions {
  cache: CacheManager;
  /** CDN purger; when omitted and `cache.settings.cdn.enabled`, a CloudFrontPurger for `cdn.distributionId` is built. It receives CDN paths (already mapped by `cdnPaths`). @default per settings */
  purger?: CdnPurger;
  /** Key/pattern to CDN paths. @default defaultCdnPaths(cache.settings.cdn.pathPrefix) */
  cdnPaths?: CdnPathMapper;
  /** Told of each failed CDN purge (event `purge-failed`). @default the cache's `onEvent` */
  onEvent?: CacheEventListener;
}

const CACHE_INVALIDATOR_OPTIONS_SPEC = {
  cache: required(
    object<CacheManager>(
      "the CacheManager it invalidates: new CacheInvalidator({ cache })",
      (v) => typeof (v as CacheManager).invalidate === "function",
    ),
  ),
  purger: object<CdnPurger>("a CdnPurger ({ purge(paths) })", (v) => typeof (v as CdnPurger).purge === "function"),
  cdnPaths: func<CdnPathMapper>("a function (keyOrPattern) => string | string[] | undefined"),
  onEvent: func<CacheEventListener>("a function (event) => void"),
} satisfies SpecFor<CacheInvalidatorOptions>;

/** What the CDN step of an invalidation did: purged, or failed (the cache tiers are cleared either way). */
export type CdnPurgeOutcome = ({ ok: true } & CdnPurgeResult) | { ok: false; paths: string[]; error: CdnPurgeError };

/** What one invalidation did: in-process caches, Redis and, when enabled, the CDN purge. */
export interface InvalidateReport extends InvalidationResult {
  /** Present when the CDN is enabled and the pattern maps to at least one path. */
  cdn?: CdnPurgeOutcome;
}

/**
 * The default key-to-path mapping. A key that is a URL path (`/img/*`) is purged as that path; any
 * other key (`item:42`) purges everything under the service's CDN prefix (`/<service>/*`): broader
 * than needed, never narrower. Services that know their routes pass `cdnPaths` for exact purges.
 */
export function defaultCdnPaths(pathPrefix = "/"): CdnPathMapper {
  // The settings' rule for cdn.pathPrefix: a path that starts and ends with "/", without wildcards.
  const prefix = string({
    pattern: /^\/([^*?\s]*\/)?$/,
    what: 'a CDN path that starts and ends with "/" without wildcards, e.g. "/items/"',
  });
  checkValue("defaultCdnPaths", "pathPrefix", pathPrefix, prefix, cdnError);
  return (keyOrPattern) => (keyOrPattern.startsWith("/") ? patternToPath(keyOrPattern) : `${pathPrefix}*`);
}

/**
 * The seed's CacheInvalidator: one call removes a glob pattern from this instance's L1, from Redis,
 * from the other instances' L1 (via the cache's bus), and from the CDN when `cdn.enabled`.
 */
export class CacheInvalidator {
  readonly #cache: CacheManager;
  readonly #purger: CdnPurger | undefined;
  readonly #ownsPurger: boolean;
  readonly #cdnPaths: CdnPathMapper;
  readonly #emit: CacheEventListener;

  constructor(options: CacheInvalidatorOptions) {
    validateOptions(
      "CacheInvalidator",
      options ?? {},
      CACHE_INVALIDATOR_OPTIONS_SPEC,
      (key, message) => new CacheOptionsError(key, message),
    );
    this.#emit = eventSink(options.onEvent ?? options.cache.onEvent);
    this.#cache = options.cache;
    const cdn = options.cache.settings.cdn;
    this.#cdnPaths = options.cdnPaths ?? defaultCdnPaths(cdn.pathPrefix);
    this.#ownsPurger = cdn.enabled && options.purger === undefined;
    this.#purger = cdn.enabled
      ? (options.purger ?? new CloudFrontPurger({ distributionId: cdn.distributionId, pathFor: (path) => path }))
      : undefined;
  }

  /**
   * Clears the cache tiers, then purges the CDN paths `cdnPaths` maps the pattern to. Never throws for
   * Redis trouble (see `complete`) nor for a failed purge: `cdn.ok === false` carries the CdnPurgeError
   * (code UAIP_CDN_PURGE_FAILED, with the paths); the cache invalidation already done stays done.
   */
  async invalidate(pattern: string): Promise<InvalidateReport> {
    const result = await this.#cache.invalidate(pattern);
    if (!this.#purger) return result;
    const mapped = this.#cdnPaths(pattern);
    const paths = mapped === undefined ? [] : typeof mapped === "string" ? [mapped] : [...mapped];
    if (paths.length === 0) return result;
    try {
      return { ...result, cdn: { ok: true, ...(await this.#purger.purge(paths)) } };
    } catch (cause) {
      const error =
        cause instanceof CdnPurgeError
          ? cause
          : new CdnPurgeError(`CDN purge failed: ${thrownText(cause)}`, { paths, attempts: 1, throttled: false }, { cause });
      this.#emit({ type: "purge-failed", paths, error });
      return { ...result, cdn: { ok: false, paths, error } };
    }
  }

  /** Releases the purger this invalidator built (not the cache, which the caller owns). */
  async close(): Promise<void> {
    if (this.#ownsPurger) await this.#purger?.close?.();
  }
}
