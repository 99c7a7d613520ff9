import { LRUCache } from "lru-cache";
import type { StoreDecision } from "./types";

/** Most keys whose reservation a RedisStore remembers (see LocalReservations). */
export const MAX_RESERVED_KEYS = 10_000;

/** What the Redis script answered for one key: tokens granted and the window's state after the grant. */
export interface Grant {
  /** Tokens taken in Redis (already counted in the window). */
  granted: number;
  /** Of them, how many the waiting checks used; the rest stay here. */
  used: number;
  /** Redis' decision for the key's state after the grant (all `granted` tokens counted as used). */
  decision: StoreDecision;
  /** Index of the window the tokens were counted in (floor(redis now / windowMs)). */
  windowIndex: number;
  /** ms of that window already gone by Redis' clock when the script ran. */
  elapsedMs: number;
  /** Local monotonic ms when the script call was sent: Redis ran it at or after this instant. */
  sentAt: number;
}

interface Reservation {
  windowMs: number;
  limit: number;
  windowIndex: number;
  /** Tokens counted in Redis and not yet handed to a check. */
  tokens: number;
  /** Local monotonic ms by which the window has certainly ended: the tokens are void from then on. */
  deadline: number;
  /** `remaining` with every token of this replica's grants counted as used (Redis' view). */
  remainingBase: number;
  resetAt: number;
  retryAt: number;
  /** Slow start: tokens the next script call asks for. */
  want: number;
  /** A grant arrived since `want` last doubled (several calls in flight double it once). */
  fresh: boolean;
}

/**
 * Tokens of a key's sliding-window allowance that Redis already counted for this replica, handed
 * to the following checks of that key without a round trip (RedisStore `reserve` > 1).
 *
 * Safety: a token is counted in Redis' current window before it is handed out, and the window's
 * estimate only falls as the window ages, so admitting it later in the same window admits nothing
 * Redis would have refused at grant time: across any number of replicas the limit is never exceeded.
 * Tokens are void once their window ends (they were counted in that window, not the next); the
 * deadline is measured on the monotonic clock from the moment the call was SENT plus the
 * window time Redis said was left, so a slow reply or clock skew can only end it early, never late.
 *
 * Cost: tokens this replica holds and never uses are refused to the other replicas until the window
 * ends: at most `reserve - 1` early refusals per replica per window per key (and far fewer near the
 * limit, where the script shrinks grants to 1).
 *
 * Slow start: a key's first call asks for 1 token; each time its tokens run out within a window
 * the next call asks for twice as many, up to `reserve`, so a client sending one request per window
 * reserves only one. A window that ends with tokens unused halves it.
 *
 * Memory: at most MAX_RESERVED_KEYS keys (least recently used dropped first). Dropping a key loses its
 * unused tokens (early refusals, never over-admission) and restarts its slow start.
 */
export class LocalReservations {
  readonly #entries = new LRUCache<string, Reservation>({ max: MAX_RESERVED_KEYS });

  constructor(readonly reserve: number) {}

  /** Number of keys remembered. */
  get size(): number {
    return this.#entries.size;
  }

  /** Tokens held for `key` right now (0 once its window ended). */
  held(key: string, now = performance.now()): number {
    const r = this.#entries.peek(key);
    return r !== undefined && now < r.deadline ? r.tokens : 0;
  }

  /** Admits one check of `key` from the tokens held, or returns undefined (the check must go to Redis). */
  take(key: string, windowMs: number, limit: number, now = performance.now()): StoreDecision | undefined {
    const r = this.#entries.get(key);
    if (r === undefined || r.tokens === 0 || now >= r.deadline || r.windowMs !== windowMs || r.limit !== limit) return undefined;
    r.tokens--;
    const remaining = r.remainingBase + r.tokens;
    return {
      allowed: true,
      remaining,
      resetMs: Math.max(0, Math.ceil(r.resetAt - now)),
      retryAfterMs: remaining === 0 ? Math.max(1, Math.ceil(r.retryAt - now)) : 0,
    };
  }

  /** Tokens the next script call for `key` asks for beyond the checks it carries (slow start). */
  want(key: string, windowMs: number, limit: number, now = performance.now()): number {
    const r = this.#entries.peek(key);
    if (r === undefined || r.windowMs !== windowMs || r.limit !== limit) return 1;
    if (now < r.deadline) {
      // Going to Redis within the window of the last grant: its tokens ran out.
      if (r.fresh) {
        r.want = Math.min(2 * r.want, this.reserve);
        r.fresh = false;
      }
    } else if (r.tokens > 0) {
      // The last window ended with tokens unused: this key needs fewer.
      r.want = Math.max(1, r.want >> 1);
      r.tokens = 0;
    }
    return r.want;
  }

  /** Keeps the tokens of a grant that the checks it carried did not use (`want` was asked for). */
  keep(key: string, windowMs: number, limit: number, want: number, grant: Grant): void {
    const { decision, windowIndex, sentAt } = grant;
    const left = grant.granted - grant.used;
    let r = this.#entries.get(key);
    if (r === undefined || r.windowMs !== windowMs || r.limit !== limit) {
      if (grant.granted === 0) return; // refused, nothing known: nothing to remember
      r = {
        windowMs,
        limit,
        windowIndex,
        tokens: 0,
        deadline: 0,
        remainingBase: 0,
        resetAt: 0,
        retryAt: 0,
        want,
        fresh: true,
      };
      this.#entries.set(key, r);
    }
    // A grant of a newer window voids the tokens held (they were counted in a window that ended); tokens of
    // the same window add up (several calls in flight). A late reply of an older window changes nothing: its
    // tokens are void, and the current window's stay.
    if (windowIndex > r.windowIndex) {
      r.windowIndex = windowIndex;
      r.tokens = 0;
    }
    if (windowIndex === r.windowIndex) {
      r.tokens += Math.max(0, left);
      r.deadline = sentAt + (windowMs - grant.elapsedMs);
      r.remainingBase = decision.remaining;
      r.resetAt = sentAt + decision.resetMs;
      r.retryAt = sentAt + decision.retryAfterMs;
    }
    r.fresh = true;
  }

  /** Forgets `key`'s tokens and slow start (after its counts were reset in Redis). */
  drop(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The decision of the i-th check (0-based) a grant admitted: the tokens after it count as still available. */
export function admittedDecision(decision: StoreDecision, granted: number, i: number): StoreDecision {
  if (granted === 1) return decision; // reserve 1: Redis' own decision, as before reservations existed
  const remaining = decision.remaining + (granted - 1 - i);
  return {
    allowed: true,
    remaining,
    resetMs: decision.resetMs,
    retryAfterMs: remaining === 0 ? decision.retryAfterMs : 0,
  };
}
