/** rateLimitHeaders at its edges (issue #22): whole seconds rounded up, Retry-After at least 1 s and only on a refusal. */
import { rateLimitHeaders } from "../../src/ratelimit/headers";

describe("rateLimitHeaders", () => {
  it("rounds every duration up to whole seconds, and Retry-After to at least 1 s, only on a refusal", () => {
    const result = { allowed: true, limit: 7, remaining: 3, resetMs: 0, retryAfterMs: 0 };
    for (const ms of [1, 999, 1_000, 1_001, 59_999]) {
      const seconds = Math.floor((ms + 999) / 1000); // ceil, in integers
      const headers = rateLimitHeaders("p", ms, { ...result, resetMs: ms });
      expect(headers["RateLimit-Policy"]).toBe(`"p";q=7;w=${seconds}`);
      expect(headers.RateLimit).toBe(`"p";r=3;t=${seconds}`);
      expect(headers).not.toHaveProperty("Retry-After");
      const refused = rateLimitHeaders("p", ms, { ...result, allowed: false, remaining: 0, retryAfterMs: ms });
      expect(refused["Retry-After"]).toBe(String(seconds));
    }
    expect(rateLimitHeaders("p", 1_000, { ...result, allowed: false, retryAfterMs: 0 })["Retry-After"]).toBe("1");
  });
});
