import { RealtimeOptionsError } from "./errors";
import type { ReconnectStrategy } from "./backoff";

/** Throws RealtimeOptionsError unless `value` is a positive integer (or ≥ `min`). */
export function positiveInt(key: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RealtimeOptionsError(key, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates the seed's reconnectStrategy: positive delays, initialDelay ≤ maxDelay, factor ≥ 1. */
export function checkReconnectStrategy(key: string, s: ReconnectStrategy | undefined): ReconnectStrategy {
  if (!s || typeof s !== "object") throw new RealtimeOptionsError(key, "is required: { initialDelay, maxDelay, factor } in ms");
  positiveInt(`${key}.initialDelay`, s.initialDelay);
  positiveInt(`${key}.maxDelay`, s.maxDelay);
  if (s.maxDelay < s.initialDelay) {
    throw new RealtimeOptionsError(
      `${key}.maxDelay`,
      `(${s.maxDelay}) must be >= initialDelay (${s.initialDelay}); raise maxDelay or lower initialDelay`,
    );
  }
  if (typeof s.factor !== "number" || !Number.isFinite(s.factor) || s.factor < 1) {
    throw new RealtimeOptionsError(`${key}.factor`, `must be a number >= 1, got ${JSON.stringify(s.factor)}`);
  }
  return s;
}
