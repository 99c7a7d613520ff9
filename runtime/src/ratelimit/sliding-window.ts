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
export function admits(prev: number, curr: number, elapsed: number, w: number, limit: number, points = 1): boolean {
  return prev * (w - elapsed) + (curr + points) * w <= limit * w;
}

/**
 * Derives remaining / reset / retry-after from the counts after the decision
 * (`curr` already includes this hit when it was admitted). `retryAfterMs` is the wait until a hit of
 * `need` points would be admitted (0 when it would be now): `need` is 1 after an admitted hit (the
 * next request) and the refused hit's points after a refusal. Needs `need` <= limit.
 */
export function describe(
  allowed: boolean,
  prev: number,
  curr: number,
  elapsed: number,
  w: number,
  limit: number,
  need = 1,
): StoreDecision {
  const used = (prev * (w - elapsed)) / w + curr;
  const remaining = Math.max(0, Math.floor(limit - used + 1e-9));
  const resetMs = curr > 0 ? 2 * w - elapsed : prev > 0 ? w - elapsed : 0;
  let retryAfterMs = 0;
  if (!admits(prev, curr, elapsed, w, limit, need)) {
    if (curr + need <= limit) {
      // Still room in this window once enough of the previous window has slid out.
      retryAfterMs = Math.max(1, Math.ceil(w - elapsed - ((limit - curr - need) * w) / prev));
    } else {
      // This window is full: wait for it to end, then for enough of it to slide out.
      retryAfterMs = w - elapsed + Math.ceil((w * (curr - limit + need)) / curr);
    }
  }
  return { allowed, remaining, resetMs, retryAfterMs };
}

/**
 * The counts after `points` are added to a key without a check (a penalty, points > 0) or given back
 * (a reward, points < 0). A reward takes from the current window first, then from the previous one,
 * and never below zero: usage cannot go negative, so a reward never lets a key exceed its limit later.
 */
export function adjusted(prev: number, curr: number, points: number): [prev: number, curr: number] {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a fast path; for points >= 0 the reward branch below gives the same [prev, curr + points]
  if (points >= 0) return [prev, curr + points];
  const back = -points;
  const fromCurr = Math.min(curr, back);
  return [Math.max(0, prev - (back - fromCurr)), curr - fromCurr];
}
