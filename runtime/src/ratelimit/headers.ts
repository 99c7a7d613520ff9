import type { RateLimitResult } from "./types";

/**
 * Response headers per draft-ietf-httpapi-ratelimit-headers-10 (the form kept by -11): two
 * Structured Fields lists whose members are a quoted policy name with parameters.
 *   RateLimit-Policy: "default";q=100;w=60   (quota q per window w seconds)
 *   RateLimit: "default";r=42;t=30           (r remaining, t seconds until the quota resets)
 * Retry-After (RFC 9110, delay-seconds) is added when the request is refused.
 */
export function rateLimitHeaders(policyName: string, windowMs: number, result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Policy": `"${policyName}";q=${result.limit};w=${Math.ceil(windowMs / 1000)}`,
    RateLimit: `"${policyName}";r=${result.remaining};t=${Math.ceil(result.resetMs / 1000)}`,
  };
  if (!result.allowed) headers["Retry-After"] = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
  return headers;
}
