import { MAX_TIMER_MS } from "./config/duration";
import { UaipError } from "./errors";

/**
 * The one place the runtime arms a timer (an eslint rule refuses `setTimeout`/`setInterval` anywhere
 * else in runtime/src). Options are validated as Durations, at most 2^31 − 1 ms, but a delay derived
 * from one (10 × a command timeout, a doubled heartbeat, a backoff step) can pass that limit, and Node
 * then fires the timer after 1 ms instead (TimeoutOverflowWarning): a wait meant to last days becomes a
 * busy loop. Here a delay above the limit waits the limit (~24.8 days), which is what "longer than any
 * timer can wait" should mean; a negative one is 0 (Node's own reading); NaN is a bug and is refused.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms)) throw new UaipError("UAIP_TIMER_DELAY_INVALID", "timer delay is NaN; a delay must be a number of ms");
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/** `setTimeout(callback, ms)` with the delay clamped by `timerDelay`. The caller decides whether to `unref()`. */
export function setTimer(callback: (...args: never[]) => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, timerDelay(ms));
}

/** `setInterval(callback, ms)` with the period clamped by `timerDelay`. The caller decides whether to `unref()`. */
export function setRepeating(callback: (...args: never[]) => void, ms: number): NodeJS.Timeout {
  return setInterval(callback, timerDelay(ms));
}
