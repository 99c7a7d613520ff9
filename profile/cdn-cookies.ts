/**
 * Cookies of the CDN's API behaviours: all reach the origin, none are in the cache key, so
 * per-user responses must say Cache-Control: private. profile/provider-rules.ts refuses
 * cdn.apiTtl.min > 0 while these differ. Pure (no Pulumi import): the profile rules read it.
 */
export type CookieBehavior = "all" | "none" | "whitelist" | "allExcept";
export const API_COOKIES_FORWARDED: CookieBehavior = "all";
export const API_COOKIES_IN_CACHE_KEY: CookieBehavior = "none";
