/**
 * LocalReservations alone, on an injected monotonic clock: when the tokens of a grant die. They were counted in
 * Redis' window `windowIndex`, which Redis said had `elapsedMs` gone when the script ran (at or after `sentAt`), so
 * they are void from sentAt + (windowMs - elapsedMs) on, however late in the window the grant came.
 */
import fc from "fast-check";
import { LocalReservations, type Grant } from "../../src/ratelimit/reservations";

const W = 1_000;
const LIMIT = 100;

function grantAt(sentAt: number, elapsedMs: number, granted: number): Grant {
  return {
    granted,
    used: 1,
    decision: { allowed: true, remaining: LIMIT - granted, resetMs: 2 * W - elapsedMs, retryAfterMs: 0 },
    windowIndex: 7,
    elapsedMs,
    sentAt,
  };
}

describe("LocalReservations: tokens die with the window they were counted in", () => {
  it("a grant taken 950 ms into a 1000 ms window is void 50 ms after it was sent, not a whole window later", () => {
    const r = new LocalReservations(16);
    const sentAt = 10_000;
    r.keep("k", W, LIMIT, 8, grantAt(sentAt, 950, 8));
    expect(r.held("k", sentAt + 49)).toBe(7);
    expect(r.take("k", W, LIMIT, sentAt + 49)?.allowed).toBe(true);
    expect(r.held("k", sentAt + 50)).toBe(0);
    expect(r.take("k", W, LIMIT, sentAt + 50)).toBeUndefined();
    expect(r.take("k", W, LIMIT, sentAt + 500)).toBeUndefined();
  });

  it("for any point of the window the grant came at, the tokens last exactly the window's rest", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: W - 1 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 2, max: 16 }),
        (elapsedMs, sentAt, granted) => {
          const r = new LocalReservations(16);
          r.keep("k", W, LIMIT, granted, grantAt(sentAt, elapsedMs, granted));
          const end = sentAt + W - elapsedMs;
          expect(r.held("k", end - 1)).toBe(granted - 1);
          expect(r.held("k", end)).toBe(0);
          expect(r.take("k", W, LIMIT, end)).toBeUndefined();
        },
      ),
    );
  });
});
