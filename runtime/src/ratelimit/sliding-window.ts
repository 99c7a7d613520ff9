import type { StoreDecision } from "./types";

/**
 * The sliding-window-counter algorithm shared by MemoryStore (in JS) and RedisStore (in Lua).
 *
 * Time is cut into fixed windows of `w` ms; a key keeps the count of the current window (`curr`)
 * and of the previous one (`prev`). The previous window is assumed spread evenly, so at `elapsed`
 * ms into the current window the estimated usage is `prev * (w - elapsed) / w + curr`.
 * A hit is admitted when that estimate plus one stays within `limit`, compared in integers
 * (`prev * (w - elapsed) + (curr + 1) * w <= limit * w`) so that a burst straddling a window
 * boundary still admits exactly `limit`.
 */
export function admits(prev: number, curr: number, elapsed: number, w: number, limit: number): boolean {
  return prev * (w - elapsed) + (curr + 1) * w <= limit * w;
}

/**
 * Derives remaining / reset / retry-after from the counts after the decision
 * (`curr` already includes this hit when it was admitted).
 */
export function describe(allowed: boolean, prev: number, curr: number, elapsed: number, w: number, limit: number): StoreDecision {
  const used = (prev * (w - elapsed)) / w + curr;
  const remaining = Math.max(0, Math.floor(limit - used + 1e-9));
  const resetMs = curr > 0 ? 2 * w - elapsed : prev > 0 ? w - elapsed : 0;
  let retryAfterMs = 0;
  if (remaining === 0) {
    if (curr + 1 <= limit) {
      // Still room in this window once enough of the previous window has slid out.
      retryAfterMs = Math.max(1, Math.ceil(w - elapsed - ((limit - curr - 1) * w) / prev));
    } else {
      // This window is full: wait for it to end, then for enough of it to slide out.
      retryAfterMs = w - elapsed + Math.ceil((w * (curr - limit + 1)) / curr);
    }
  }
  return { allowed, remaining, resetMs, retryAfterMs };
}
