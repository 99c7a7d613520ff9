/**
 * Fixtures the rate limiter's tests share: a request as the pod sees it behind CloudFront and the
 * ALB, and the sliding window's reachable states with an admission model written from the
 * inequality itself (never from the functions under test).
 */
import type { IncomingMessage } from "node:http";
import fc from "fast-check";

export const ALB = "10.0.12.7"; // the ALB node, as the pod sees it (IP target)
export const EDGE = "130.176.1.20"; // a CloudFront edge, appended by the ALB
export const VIEWER = "203.0.113.9"; // the real client, appended by CloudFront

/** A request from `remoteAddress` (the socket's peer) carrying `xff` as X-Forwarded-For (absent when undefined). */
export function forwardedRequest(remoteAddress: string | undefined, xff?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: xff === undefined ? {} : { "x-forwarded-for": xff },
  } as unknown as IncomingMessage;
}

/** A key's sliding-window counts, `elapsed` ms into the current window of `w` ms. */
export interface WindowState {
  w: number;
  limit: number;
  prev: number;
  curr: number;
  elapsed: number;
}

/** A reachable state: neither window ever counted more than the limit. */
export const windowState: fc.Arbitrary<WindowState> = fc
  .record({ w: fc.integer({ min: 1, max: 5_000 }), limit: fc.integer({ min: 1, max: 40 }) })
  .chain(({ w, limit }) =>
    fc.record({
      w: fc.constant(w),
      limit: fc.constant(limit),
      prev: fc.integer({ min: 0, max: limit }),
      curr: fc.integer({ min: 0, max: limit }),
      elapsed: fc.integer({ min: 0, max: w - 1 }),
    }),
  );

/**
 * Whether a hit of `points` is admitted `delta` ms from now with no hits in between: the previous
 * window fades linearly, the next windows start empty, and the weighted usage plus the hit must stay
 * within the limit (compared in integers, scaled by w).
 */
export function admittedAfter({ prev, curr, elapsed, w, limit }: WindowState, delta: number, points = 1): boolean {
  const t = elapsed + delta;
  if (t < w) return prev * (w - t) + (curr + points) * w <= limit * w;
  if (t < 2 * w) return curr * (2 * w - t) + points * w <= limit * w;
  return points <= limit;
}
