import { checkValue, func, integer } from "../options";
import { checkReconnectStrategy, realtimeError } from "./options";

/** The seed's `WSConfig.reconnectStrategy`, in ms. */
export interface ReconnectStrategy {
  initialDelay: number;
  maxDelay: number;
  factor: number;
}

/** The upper bound of attempt `attempt`'s delay: `min(maxDelay, initialDelay × factor^attempt)`. */
export function reconnectCap(attempt: number, strategy: ReconnectStrategy): number {
  checkValue("reconnectCap", "attempt", attempt, integer(0), realtimeError);
  const { initialDelay, maxDelay, factor } = checkReconnectStrategy("reconnectCap", "reconnectStrategy", strategy);
  return Math.min(maxDelay, initialDelay * factor ** Math.max(0, attempt));
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry), with "full jitter": a fresh
 * uniform draw in [0, cap) for every attempt. After a deploy every client of a pod loses its
 * socket at the same instant; a fixed or once-drawn delay (reconnecting-websocket, partysocket)
 * brings them back in lockstep, a per-attempt draw spreads them over the whole window.
 *
 * `random` is injectable for tests and must return a number in [0, 1).
 */
export function reconnectDelay(
  attempt: number,
  reconnectStrategy: ReconnectStrategy,
  random: () => number = Math.random,
): number {
  checkValue("reconnectDelay", "random", random, func("a function () => number in [0, 1)"), realtimeError);
  return Math.floor(random() * reconnectCap(attempt, reconnectStrategy));
}
