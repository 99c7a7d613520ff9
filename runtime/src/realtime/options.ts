import { duration, number, validateOptions, type OptionProblem, type SpecFor } from "../options";
import type { ReconnectStrategy } from "./backoff";
import { RealtimeOptionsError } from "./errors";

export const realtimeError = (key: string, message: string): RealtimeOptionsError => new RealtimeOptionsError(key, message);

/** The seed's reconnectStrategy: delays are Durations, initialDelay ≤ maxDelay, factor ≥ 1. */
export const RECONNECT_STRATEGY_SPEC = {
  initialDelay: duration(1),
  maxDelay: duration(1),
  factor: number({ min: 1, max: 1_000 }),
} satisfies SpecFor<ReconnectStrategy>;

/** Validates a reconnectStrategy (every field required) under `key`, reporting every bad field at once. */
export function checkReconnectStrategy(where: string, key: string, s: unknown): ReconnectStrategy {
  const spec = {
    initialDelay: { ...RECONNECT_STRATEGY_SPEC.initialDelay, required: true },
    maxDelay: { ...RECONNECT_STRATEGY_SPEC.maxDelay, required: true },
    factor: { ...RECONNECT_STRATEGY_SPEC.factor, required: true },
  };
  if (s === undefined)
    throw new RealtimeOptionsError(key, `${where}: ${key} is required: { initialDelay, maxDelay, factor } (ms, ms, >= 1)`);
  const parsed = validateOptions(where, s, spec, realtimeError, {
    prefix: `${key}.`,
    more: (r): OptionProblem[] =>
      r.maxDelay! < r.initialDelay!
        ? [
            {
              key: `${key}.maxDelay`,
              message: `(${r.maxDelay}) must be >= initialDelay (${r.initialDelay}); raise maxDelay or lower initialDelay`,
            },
          ]
        : [],
  });
  return parsed as ReconnectStrategy;
}
