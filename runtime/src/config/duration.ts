import { z } from "zod";

/**
 * The duration rule: every interval or timeout is an integer number of milliseconds (the unit is in
 * the name: `...Ms`, `...Millis`, or documented as ms) and at most 2^31 − 1 ms (about 24.8 days).
 * Node stores timer delays as 32-bit signed integers: a longer delay fires after 1 ms instead, so a
 * refresh "every 50 days" would run in a tight loop. The profile's and the runtime's intervals all go
 * through `durationMs`.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const DURATION_MESSAGE = `expected at most ${MAX_TIMER_MS} ms (about 24.8 days: Node fires a longer timer after 1 ms)`;

/** An integer duration in ms, from `min` to MAX_TIMER_MS. */
export function durationMs(min = 1) {
  return z.number().int().min(min).max(MAX_TIMER_MS, { message: DURATION_MESSAGE });
}
