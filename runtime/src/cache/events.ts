import type { BreakerState } from "./breaker";
import type { CdnPurgeError } from "./errors";
import type { CacheOperation } from "./metrics";

/**
 * What the cache reports to `onEvent` (CacheManager and CacheInvalidator): the things a metric counts
 * but a log should name. Delivered synchronously; a listener that throws is ignored (it never breaks a
 * cache call or crashes the process).
 */
export type CacheEvent =
  /** A Redis step failed (answered as a miss / `complete: false`), or the connection or subscription reported an error. */
  | { type: "error"; operation: CacheOperation; error: unknown }
  /** The circuit breaker in front of Redis changed state (`open`: Redis skipped; `closed`: healthy again). */
  | { type: "breaker"; from: BreakerState; to: BreakerState }
  /** An L1 value past its TTL was served because Redis could not be reached (`staleIfErrorMs`); `ageMs` past expiry. */
  | { type: "stale"; key: string; ageMs: number }
  /** The CDN step of `CacheInvalidator.invalidate` failed (the cache tiers were cleared). */
  | { type: "purge-failed"; paths: string[]; error: CdnPurgeError };

/** Receives each CacheEvent (the `onEvent` option of CacheManager and CacheInvalidator). */
export type CacheEventListener = (event: CacheEvent) => void;

/** The listener wrapped so that its own failure stays its own; a no-op when there is none. */
export function eventSink(listener: CacheEventListener | undefined): CacheEventListener {
  if (listener === undefined) return () => undefined;
  return (event) => {
    try {
      listener(event);
    } catch {
      // A logging hook must not turn a cache miss into an exception.
    }
  };
}
