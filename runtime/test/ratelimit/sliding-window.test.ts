/**
 * sliding-window.ts rules not covered by memory-store.test.ts's tables (issue #22): a refused hit of several points
 * is told when a hit of that weight gets in, and penalties/rewards move usage by exactly their points, never below
 * zero. Expectations come from the admission inequality and from sums, not from the functions under test.
 */
import fc from "fast-check";
import { adjusted, admits, describe as describeWindow } from "../../src/ratelimit/sliding-window";
import { admittedAfter, windowState } from "../helpers/ratelimit";

describe("a refused weighted hit", () => {
  // A reachable state and the weight of the hit, at most the limit.
  const state = windowState.chain((s) => fc.integer({ min: 1, max: s.limit }).map((need) => ({ ...s, need })));

  it("is told the first moment a hit of its weight is admitted", () => {
    fc.assert(
      fc.property(state, ({ need, ...s }) => {
        const { prev, curr, elapsed, w, limit } = s;
        const admittedNow = admittedAfter(s, 0, need);
        const d = describeWindow(false, prev, curr, elapsed, w, limit, need);
        if (admittedNow) {
          expect(d.retryAfterMs).toBe(0);
          return;
        }
        expect(d.retryAfterMs).toBeGreaterThanOrEqual(1);
        expect(admittedAfter(s, d.retryAfterMs, need)).toBe(true);
        expect(admittedAfter(s, d.retryAfterMs - 1, need)).toBe(false);
      }),
    );
  });

  it("the weight matters: a refused heavy hit waits longer than a light one would", () => {
    // w 1000, limit 10, previous window full, 5 in this one, half-way: 10 * 0.5 + 5 = 10 used.
    // A 1-point hit gets in once 1 point of the previous window slid out (100 ms); a 4-point hit needs 4 (400 ms).
    const light = describeWindow(false, 10, 5, 500, 1_000, 10, 1).retryAfterMs;
    const heavy = describeWindow(false, 10, 5, 500, 1_000, 10, 4).retryAfterMs;
    expect(light).toBe(100);
    expect(heavy).toBe(400);
  });

  it("remaining counts a fading previous window's share that is a whole number exactly, not one less", () => {
    for (const [prev, elapsed, w] of [
      [3, 1, 3],
      [7, 4, 7],
      [10, 7, 10],
      [49, 6, 7],
    ]) {
      const used = (prev * (w - elapsed)) / w;
      const expected = 10 - Math.round(used);
      expect(describeWindow(true, prev, 0, elapsed, w, 10).remaining).toBe(expected);
      expect(admits(prev, expected - 1, elapsed, w, 10)).toBe(true);
    }
  });
});

describe("adjusted: penalties and rewards", () => {
  const counts = fc.record({ prev: fc.nat(1_000), curr: fc.nat(1_000), points: fc.integer({ min: -3_000, max: 3_000 }) });

  it("a penalty adds to the current window only", () => {
    fc.assert(
      fc.property(counts, ({ prev, curr, points }) => {
        const p = Math.abs(points);
        expect(adjusted(prev, curr, p)).toEqual([prev, curr + p]);
      }),
    );
  });

  it("a reward lowers total usage by its points down to zero, the current window first", () => {
    fc.assert(
      fc.property(counts, ({ prev, curr, points }) => {
        const back = Math.abs(points) || 1;
        const [p, c] = adjusted(prev, curr, -back);
        expect(p + c).toBe(Math.max(0, prev + curr - back));
        expect(p).toBeGreaterThanOrEqual(0);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(curr);
        expect(p).toBeLessThanOrEqual(prev);
        // The previous window is touched only once the current one is empty.
        if (p < prev) expect(c).toBe(0);
      }),
    );
  });

  it("at the edges: a reward of exactly the current count, one more, and more than everything", () => {
    expect(adjusted(4, 3, -3)).toEqual([4, 0]);
    expect(adjusted(4, 3, -4)).toEqual([3, 0]);
    expect(adjusted(4, 3, -7)).toEqual([0, 0]);
    expect(adjusted(4, 3, -8)).toEqual([0, 0]);
    expect(adjusted(4, 3, 0)).toEqual([4, 3]);
  });
});
