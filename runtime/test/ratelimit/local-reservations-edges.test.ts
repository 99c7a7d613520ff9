/**
 * The rest of LocalReservations' contract beyond when tokens die (local-reservations.test.ts), each rule on both
 * sides of its edge (issue #22: these ran only through Redis, where most of them never reach an edge), on an
 * injected monotonic clock. Expectations are spelled out from the grant's numbers.
 */
import { LocalReservations, MAX_RESERVED_KEYS, admittedDecision, type Grant } from "../../src/ratelimit/reservations";

const W = 1_000;
const LIMIT = 100;

describe("LocalReservations: which checks the tokens answer, and what they say", () => {
  const sentAt = 5_000;
  /** A grant of `granted` tokens of which the carried checks used `used`, Redis' decision counting all of them. */
  const grant = (over: Partial<Grant> = {}): Grant => ({
    granted: 4,
    used: 1,
    decision: { allowed: true, remaining: 10, resetMs: 1_500, retryAfterMs: 0 },
    windowIndex: 3,
    elapsedMs: 200,
    sentAt,
    ...over,
  });

  it("tokens answer only the key, window and limit they were granted for", () => {
    const r = new LocalReservations(16);
    r.keep("k", W, LIMIT, 4, grant());
    expect(r.take("other", W, LIMIT, sentAt)).toBeUndefined();
    expect(r.take("k", W + 1, LIMIT, sentAt)).toBeUndefined();
    expect(r.take("k", W, LIMIT + 1, sentAt)).toBeUndefined();
    expect(r.held("k", sentAt)).toBe(3); // none of those took a token
    expect(r.take("k", W, LIMIT, sentAt)?.allowed).toBe(true);
  });

  it("hands out exactly granted - used tokens, counting remaining down to Redis' own figure", () => {
    const r = new LocalReservations(16);
    const g = grant({ granted: 4, used: 1 });
    r.keep("k", W, LIMIT, 4, g);
    const left = g.granted - g.used;
    const remainings: number[] = [];
    for (let i = 0; i < left; i++) remainings.push(r.take("k", W, LIMIT, sentAt + 1)!.remaining);
    // Redis counted every token as used; each token still held is one more request this replica can admit.
    expect(remainings).toEqual(Array.from({ length: left }, (_, i) => g.decision.remaining + left - 1 - i));
    expect(r.take("k", W, LIMIT, sentAt + 1)).toBeUndefined();
    expect(r.held("k", sentAt + 1)).toBe(0);
  });

  it("resetMs and retryAfterMs count down from when the grant was sent", () => {
    const r = new LocalReservations(16);
    // The last tokens of the window: Redis said remaining 0, retry in 700 ms, reset in 1500 ms.
    r.keep(
      "k",
      W,
      LIMIT,
      3,
      grant({ granted: 3, used: 1, decision: { allowed: true, remaining: 0, resetMs: 1_500, retryAfterMs: 700 } }),
    );
    const first = r.take("k", W, LIMIT, sentAt + 100.5)!;
    expect(first).toEqual({ allowed: true, remaining: 1, resetMs: Math.ceil(1_500 - 100.5), retryAfterMs: 0 });
    const last = r.take("k", W, LIMIT, sentAt + 300)!;
    expect(last).toEqual({ allowed: true, remaining: 0, resetMs: 1_200, retryAfterMs: 400 });
  });

  it("the last token past its retry moment still says retry in at least 1 ms, and reset is never negative", () => {
    const r = new LocalReservations(16);
    // A grant late in its window whose reset/retry moments fall before the window's end as seen locally.
    r.keep(
      "k",
      W,
      LIMIT,
      2,
      grant({ granted: 2, used: 1, elapsedMs: 0, decision: { allowed: true, remaining: 0, resetMs: 10, retryAfterMs: 5 } }),
    );
    const d = r.take("k", W, LIMIT, sentAt + 20)!;
    expect(d.remaining).toBe(0);
    expect(d.resetMs).toBe(0);
    expect(d.retryAfterMs).toBe(1);
  });

  it("a refused grant of a new key is not remembered; a grant with tokens is", () => {
    const r = new LocalReservations(16);
    r.keep("refused", W, LIMIT, 1, grant({ granted: 0, used: 0 }));
    expect(r.size).toBe(0);
    expect(r.want("refused", W, LIMIT, sentAt)).toBe(1);
    r.keep("granted", W, LIMIT, 1, grant({ granted: 1, used: 1 }));
    expect(r.size).toBe(1);
  });

  it("never holds a negative number of tokens (a grant whose checks used more than it granted)", () => {
    const r = new LocalReservations(16);
    r.keep("k", W, LIMIT, 2, grant({ granted: 2, used: 2 }));
    r.keep("k", W, LIMIT, 2, grant({ granted: 1, used: 2 }));
    expect(r.held("k", sentAt)).toBe(0);
    r.keep("k", W, LIMIT, 2, grant({ granted: 2, used: 1 }));
    expect(r.held("k", sentAt)).toBe(1);
  });

  it("tokens of one window add up; a later window's grant voids the earlier tokens; an older one's adds none", () => {
    const r = new LocalReservations(16);
    r.keep("k", W, LIMIT, 4, grant({ granted: 4, used: 1 })); // 3 held in window 3
    r.keep("k", W, LIMIT, 4, grant({ granted: 3, used: 1 })); // +2, same window (calls in flight)
    expect(r.held("k", sentAt)).toBe(5);
    // A late reply of the window before neither adds its tokens nor voids the current ones, nor changes what
    // they answer (RedisStore's single connection delivers replies in order; another store may not).
    r.keep(
      "k",
      W,
      LIMIT,
      4,
      grant({ granted: 5, used: 1, windowIndex: 2, decision: { allowed: true, remaining: 90, resetMs: 9, retryAfterMs: 0 } }),
    );
    expect(r.held("k", sentAt)).toBe(5);
    expect(r.take("k", W, LIMIT, sentAt)).toEqual({ allowed: true, remaining: 10 + 4, resetMs: 1_500, retryAfterMs: 0 });
    expect(r.held("k", sentAt + W - 200 - 1)).toBe(4); // the current window's deadline: sent + (window - elapsed)
    expect(r.held("k", sentAt + W - 200)).toBe(0);
    const laterSent = sentAt + 900;
    r.keep("k", W, LIMIT, 4, grant({ granted: 2, used: 1, windowIndex: 4, elapsedMs: 0, sentAt: laterSent }));
    expect(r.held("k", laterSent)).toBe(1);
    // The new window's deadline is the new grant's: sent + the whole window (elapsed 0).
    expect(r.held("k", laterSent + W - 1)).toBe(1);
    expect(r.held("k", laterSent + W)).toBe(0);
  });

  it("slow start: the ask doubles once per grant while the tokens run out within the window, up to reserve", () => {
    const reserve = 5;
    const r = new LocalReservations(reserve);
    expect(r.want("k", W, LIMIT, sentAt)).toBe(1); // unknown key
    r.keep("k", W, LIMIT, 1, grant({ granted: 1, used: 1 }));
    const asks: number[] = [];
    for (let i = 0; i < 4; i++) {
      asks.push(r.want("k", W, LIMIT, sentAt + 10));
      asks.push(r.want("k", W, LIMIT, sentAt + 10)); // a second call before any grant: no second doubling
      r.keep("k", W, LIMIT, asks.at(-1)!, grant({ granted: 1, used: 1 }));
    }
    expect(asks).toEqual([2, 2, 4, 4, 5, 5, 5, 5]);
    // Another window or limit is another allowance: its ask starts over.
    expect(r.want("k", W * 2, LIMIT, sentAt + 10)).toBe(1);
    expect(r.want("k", W, LIMIT * 2, sentAt + 10)).toBe(1);
  });

  it("a window that ended with tokens unused halves the ask (never below 1) and voids them; one that ended drained keeps it", () => {
    const r = new LocalReservations(64);
    r.keep("k", W, LIMIT, 1, grant({ granted: 1, used: 1 }));
    for (let i = 0; i < 3; i++) {
      r.want("k", W, LIMIT, sentAt);
      r.keep("k", W, LIMIT, 8, grant({ granted: 1, used: 1 }));
    }
    expect(r.want("k", W, LIMIT, sentAt)).toBe(16); // 1 -> 2 -> 4 -> 8 -> 16
    r.keep("k", W, LIMIT, 16, grant({ granted: 16, used: 1 })); // 15 tokens left unused
    const deadline = sentAt + W - 200;
    expect(r.want("k", W, LIMIT, deadline)).toBe(8);
    expect(r.held("k", deadline - 1)).toBe(0); // voided, not only expired
    expect(r.want("k", W, LIMIT, deadline)).toBe(8); // no tokens left to void: unchanged
    const one = new LocalReservations(64);
    one.keep("k", W, LIMIT, 1, grant({ granted: 2, used: 1 }));
    expect(one.want("k", W, LIMIT, deadline)).toBe(1);
  });

  it("drop forgets one key's tokens and ask; clear forgets all", () => {
    const r = new LocalReservations(16);
    r.keep("a", W, LIMIT, 4, grant());
    r.keep("b", W, LIMIT, 4, grant());
    r.drop("a");
    expect(r.size).toBe(1);
    expect(r.held("a", sentAt)).toBe(0);
    expect(r.held("b", sentAt)).toBe(3);
    r.clear();
    expect(r.size).toBe(0);
  });

  it("remembers at most MAX_RESERVED_KEYS keys, dropping the least recently used", () => {
    const r = new LocalReservations(16);
    for (let i = 0; i <= MAX_RESERVED_KEYS; i++) r.keep(`k${i}`, W, LIMIT, 2, grant({ granted: 2 }));
    expect(r.size).toBe(MAX_RESERVED_KEYS);
    expect(r.held("k0", sentAt)).toBe(0);
    expect(r.held(`k${MAX_RESERVED_KEYS}`, sentAt)).toBe(1);
  });
});

describe("admittedDecision: the i-th check a grant admitted", () => {
  const decision = { allowed: true, remaining: 3, resetMs: 900, retryAfterMs: 250 };

  it("a grant of one is Redis' own decision", () => {
    expect(admittedDecision(decision, 1, 0)).toBe(decision);
  });

  it("the tokens after the i-th check count as still available; retry only when none are", () => {
    const granted = 4;
    for (let i = 0; i < granted; i++) {
      const remaining = decision.remaining + (granted - 1 - i);
      expect(admittedDecision(decision, granted, i)).toEqual({ allowed: true, remaining, resetMs: 900, retryAfterMs: 0 });
    }
    const full = { ...decision, remaining: 0 };
    expect(admittedDecision(full, 3, 2)).toEqual({ allowed: true, remaining: 0, resetMs: 900, retryAfterMs: 250 });
    expect(admittedDecision(full, 3, 1).retryAfterMs).toBe(0);
  });
});
