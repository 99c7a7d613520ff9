import fc from "fast-check";
import { bestPerRate, findKnee, nextRate, withinSlo, type KneeSearch, type MeasuredRate } from "../../load/runner/knee";

/** The knee search's bounds hold for ANY settings, not only the defaults knee.test.ts walks through. */

const slo = { latencyP99Ms: 500, errorRate: 0.01 };

const searchSettings: fc.Arbitrary<KneeSearch> = fc
  .record({
    minRps: fc.integer({ min: 0, max: 20 }),
    startAbove: fc.integer({ min: 0, max: 300 }),
    growth: fc.double({ min: 1.05, max: 4, noNaN: true }),
    resolution: fc.double({ min: 1.01, max: 2, noNaN: true }),
    maxAbove: fc.integer({ min: 0, max: 5000 }),
  })
  .map(({ minRps, startAbove, growth, resolution, maxAbove }) => ({
    minRps,
    startRps: Math.max(1, minRps + startAbove),
    growth,
    resolution,
    maxRps: Math.max(1, minRps + startAbove) + maxAbove,
  }));

/** Runs the search against an instance within the SLO at or below `capacity` req/s. */
function measure(capacity: number, search: KneeSearch): MeasuredRate[] {
  const steps: MeasuredRate[] = [];
  for (let rate = nextRate(steps, slo, search); rate !== undefined; rate = nextRate(steps, slo, search)) {
    expect({ rate, measured: steps.map((s) => s.rateRps).includes(rate) }).toEqual({ rate, measured: false });
    steps.push({ rateRps: rate, p99Ms: rate <= capacity ? 50 : 2000, errorRate: 0 });
    if (steps.length > 400) throw new Error("the search does not end");
  }
  return steps;
}

describe("knee search bounds, for any settings (property)", () => {
  it("never measures a rate twice, never goes below minRps nor above maxRps, and ends", () => {
    fc.assert(
      fc.property(searchSettings, fc.integer({ min: 0, max: 6000 }), (search, capacity) => {
        const rates = measure(capacity, search).map((s) => s.rateRps);
        expect(Math.min(...rates)).toBeGreaterThanOrEqual(search.minRps);
        expect(Math.max(...rates)).toBeLessThanOrEqual(search.maxRps);
      }),
    );
  });

  it("at the floor: a rate that halves to just under minRps is not offered; one that halves to minRps is", () => {
    const search: KneeSearch = { startRps: 50, growth: 2, resolution: 1.1, maxRps: 4000, minRps: 5 };
    const broken = (rateRps: number): MeasuredRate => ({ rateRps, p99Ms: 2000, errorRate: 0 });
    // 9 / 2 = 4.5 rounds to 5 (>= 5): offered; 7 / 2 = 3.5 rounds to 4 (< 5): the search stops.
    expect(nextRate([broken(9)], slo, search)).toBe(5);
    expect(nextRate([broken(7)], slo, search)).toBeUndefined();
    // With no floor, a broken 1 req/s has nothing lower to try (1 is the least rate), so the search stops too.
    expect(nextRate([broken(1)], slo, { ...search, minRps: 0 })).toBeUndefined();
    expect(findKnee([broken(1)], slo)).toBeUndefined();
  });
});

describe("knee search at its stopping edges", () => {
  const search: KneeSearch = { startRps: 100, growth: 2, resolution: 1.1, maxRps: 4000, minRps: 5 };
  const at = (rateRps: number, ok: boolean): MeasuredRate => ({ rateRps, p99Ms: ok ? 50 : 2000, errorRate: 0 });

  it("stops when the breaking rate is exactly `resolution` times the knee, bisects just above it", () => {
    expect(nextRate([at(100, true), at(110, false)], slo, search)).toBeUndefined();
    // sqrt(100 * 111) = 105.4: the geometric middle.
    expect(nextRate([at(100, true), at(111, false)], slo, search)).toBe(105);
  });

  it("a start above maxRps that passes is not followed by a lower rate", () => {
    expect(nextRate([at(200, true)], slo, { ...search, startRps: 200, maxRps: 100 })).toBeUndefined();
  });
});

describe("bestPerRate (property)", () => {
  const stepArb = fc.record({
    rateRps: fc.constantFrom(10, 20, 30, 40),
    p99Ms: fc.integer({ min: 1, max: 1000 }),
    errorRate: fc.constantFrom(0, 0.5),
  });

  it("one measurement per rate, ascending: the lowest p99 of those within the SLO, else the lowest p99 of all", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 12 }), (steps) => {
        const best = bestPerRate(steps, slo);
        const rates = [...new Set(steps.map((s) => s.rateRps))].sort((a, b) => a - b);
        expect(best.map((s) => s.rateRps)).toEqual(rates);
        for (const chosen of best) {
          const same = steps.filter((s) => s.rateRps === chosen.rateRps);
          const within = same.filter((s) => s.p99Ms < slo.latencyP99Ms && s.errorRate < slo.errorRate);
          const pool = within.length > 0 ? within : same;
          expect(withinSlo(chosen, slo)).toBe(within.length > 0);
          expect(chosen.p99Ms).toBe(Math.min(...pool.map((s) => s.p99Ms)));
        }
      }),
    );
  });
});
