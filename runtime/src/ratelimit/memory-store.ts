import { duration, func, size, validateOptions, type SpecFor } from "../options";
import { RateLimitOptionsError } from "./errors";
import { adjusted, admits, describe } from "./sliding-window";
import type { RateLimitStore, StoreDecision } from "./types";
import { setRepeating } from "../timer";

export interface MemoryStoreOptions {
  /** Most keys kept; beyond it, expired keys are swept, then the oldest key is dropped. @default 100000 */
  maxKeys?: number;
  /** How often expired keys are swept, ms. @default 60000 */
  sweepIntervalMs?: number;
  /** Clock in ms (tests inject one). @default Date.now */
  now?: () => number;
}

/** A kept key costs its Map entry, its string and its counters: at least 128 bytes. */
const BYTES_PER_KEY = 128;

const MEMORY_STORE_OPTIONS_SPEC = {
  maxKeys: size("entries", BYTES_PER_KEY),
  sweepIntervalMs: duration(1),
  now: func<() => number>("a clock function () => number"),
} satisfies SpecFor<MemoryStoreOptions>;

interface Entry {
  /** Index of the window `c` counts (floor(now / w)). */
  i: number;
  c: number;
  p: number;
  w: number;
}

/**
 * In-process store: the same sliding-window counter as RedisStore, for a single instance or as
 * the insurance store of the 'memory' failure policy. Memory is bounded by `maxKeys` and a sweep
 * of keys whose two windows have passed.
 */
export class MemoryStore implements RateLimitStore {
  #entries = new Map<string, Entry>();
  #maxKeys: number;
  #now: () => number;
  #timer: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    const o = validateOptions(
      "MemoryStore",
      options,
      MEMORY_STORE_OPTIONS_SPEC,
      (key, message) => new RateLimitOptionsError(key, message),
    );
    this.#maxKeys = o.maxKeys ?? 100_000;
    this.#now = o.now ?? Date.now;
    const sweepIntervalMs = o.sweepIntervalMs ?? 60_000;
    this.#timer = setRepeating(() => this.sweep(), sweepIntervalMs);
    this.#timer.unref();
  }

  /** Number of keys currently held. */
  get size(): number {
    return this.#entries.size;
  }

  hit(key: string, windowMs: number, limit: number, points = 1): Promise<StoreDecision> {
    return Promise.resolve(this.hitSync(key, windowMs, limit, points));
  }

  /** Always decided at once (RateLimitStore.hitNow). */
  hitNow(key: string, windowMs: number, limit: number): StoreDecision {
    return this.hitSync(key, windowMs, limit);
  }

  /** The synchronous core of `hit`, for callers that do not need a promise. */
  hitSync(key: string, w: number, limit: number, points = 1): StoreDecision {
    // #state inlined: this is the in-process limiter's per-request path. Measured (tsx, 1,000 keys,
    // medians of 21 interleaved rounds of 10^6 hits, loadavg ~18): 141-149 ns a hit inlined, 175-176 ns
    // through #state (its result object is not optimised away); allocation is the same 90 B (the answer).
    const now = this.#now();
    const idx = Math.floor(now / w);
    const elapsed = now - idx * w;
    const entry = this.#entries.get(key);
    let curr = 0;
    let prev = 0;
    if (entry !== undefined && entry.w === w) {
      if (entry.i === idx) {
        curr = entry.c;
        prev = entry.p;
      } else if (entry.i === idx - 1) {
        prev = entry.c;
      }
    }
    const allowed = admits(prev, curr, elapsed, w, limit, points);
    if (allowed) this.#store(key, entry, idx, w, prev, curr + points);
    return describe(allowed, prev, allowed ? curr + points : curr, elapsed, w, limit, allowed ? 1 : points);
  }

  peek(key: string, windowMs: number, limit: number): Promise<StoreDecision> {
    const { elapsed, prev, curr } = this.#state(key, windowMs);
    return Promise.resolve(describe(admits(prev, curr, elapsed, windowMs, limit), prev, curr, elapsed, windowMs, limit));
  }

  adjust(key: string, windowMs: number, limit: number, points: number): Promise<StoreDecision> {
    const { entry, idx, elapsed, prev, curr } = this.#state(key, windowMs);
    const [p, c] = adjusted(prev, curr, points);
    if (p === 0 && c === 0) this.#entries.delete(key);
    else this.#store(key, entry, idx, windowMs, p, c);
    return Promise.resolve(describe(admits(p, c, elapsed, windowMs, limit), p, c, elapsed, windowMs, limit));
  }

  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.#entries.delete(key));
  }

  /** The key's counts in the window `now` falls in (a window older than the previous one counts nothing). */
  #state(key: string, w: number) {
    const now = this.#now();
    const idx = Math.floor(now / w);
    const elapsed = now - idx * w;
    const entry = this.#entries.get(key);
    let curr = 0;
    let prev = 0;
    if (entry !== undefined && entry.w === w) {
      if (entry.i === idx) {
        curr = entry.c;
        prev = entry.p;
      } else if (entry.i === idx - 1) {
        prev = entry.c;
      }
    }
    return { entry, idx, elapsed, prev, curr };
  }

  #store(key: string, entry: Entry | undefined, i: number, w: number, p: number, c: number): void {
    if (entry === undefined) {
      this.#makeRoom();
      this.#entries.set(key, { i, c, p, w });
      return;
    }
    entry.i = i;
    entry.c = c;
    entry.p = p;
    entry.w = w;
  }

  /** Drops keys whose current and next windows have both passed (they count nothing any more). */
  sweep(): void {
    const now = this.#now();
    for (const [key, e] of this.#entries) {
      if ((e.i + 2) * e.w <= now) this.#entries.delete(key);
    }
  }

  #makeRoom(): void {
    if (this.#entries.size < this.#maxKeys) return;
    this.sweep();
    // Still full: forget the oldest-inserted key (it restarts from zero: fails open for that key only).
    if (this.#entries.size >= this.#maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#entries.clear();
  }
}
