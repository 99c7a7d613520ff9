import fc from "fast-check";
import {
  bestPerRate,
  DEFAULT_KNEE_SEARCH,
  findKnee,
  nextRate,
  nextRateWithRetries,
  withinSlo,
  type MeasuredRate,
} from "../../load/runner/knee";

const slo = { latencyP99Ms: 500, errorRate: 0.01 };
const step = (rateRps: number, p99Ms = 10, errorRate = 0): MeasuredRate => ({ rateRps, p99Ms, errorRate });

describe("knee", () => {
  it("a step is within the SLO strictly below both bounds, on both sides of each", () => {
    expect(withinSlo(step(100, 499.99), slo)).toBe(true);
    expect(withinSlo(step(100, 500), slo)).toBe(false);
    expect(withinSlo(step(100, 10, 0.0099), slo)).toBe(true);
    expect(withinSlo(step(100, 10, 0.01), slo)).toBe(false);
  });

  it("is the highest rate within the SLO, whatever order the steps were measured in", () => {
    const steps = [step(400, 900), step(100), step(200, 499), step(300, 500)];
    expect(findKnee(steps, slo)?.rateRps).toBe(200);
    expect(findKnee([step(50, 10, 0.02)], slo)).toBeUndefined();
    expect(findKnee([], slo)).toBeUndefined();
  });

  it("ignores a pass above a failing rate (noise): the knee is the top of the passing run from the lowest rate", () => {
    expect(findKnee([step(100), step(200, 800), step(300)], slo)?.rateRps).toBe(100);
  });

  it("the knee is within the SLO and every lower step is too (property)", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 12 })
          .chain((rates) =>
            fc.tuple(fc.constant(rates), fc.array(fc.boolean(), { minLength: rates.length, maxLength: rates.length })),
          ),
        ([rates, pass]) => {
          const steps = rates.map((r, i) => step(r, pass[i] ? 100 : 600));
          const knee = findKnee(steps, slo);
          const sorted = [...steps].sort((a, b) => a.rateRps - b.rateRps);
          if (!knee) return expect(withinSlo(sorted[0], slo)).toBe(false);
          expect(sorted.filter((s) => s.rateRps <= knee.rateRps).every((s) => withinSlo(s, slo))).toBe(true);
          const next = sorted.find((s) => s.rateRps > knee.rateRps);
          if (next) expect(withinSlo(next, slo)).toBe(false);
        },
      ),
    );
  });
});

describe("knee search", () => {
  /** Measures an instance whose true capacity is `capacity` req/s: within the SLO at or below it, far off above. */
  function search(capacity: number, s = DEFAULT_KNEE_SEARCH) {
    const steps: MeasuredRate[] = [];
    for (let rate = nextRate(steps, slo, s); rate !== undefined; rate = nextRate(steps, slo, s)) {
      steps.push(step(rate, rate <= capacity ? 50 : 2000));
      if (steps.length > 50) throw new Error("the search does not end");
    }
    return { steps, knee: findKnee(steps, slo) };
  }

  it("grows 50, 100, 200, … then bisects: a 730 req/s instance is found within 10 %", () => {
    const { steps, knee } = search(730);
    expect(steps.slice(0, 6).map((x) => x.rateRps)).toEqual([50, 100, 200, 400, 800, 566]);
    expect(knee!.rateRps).toBeLessThanOrEqual(730);
    expect(knee!.rateRps * DEFAULT_KNEE_SEARCH.resolution).toBeGreaterThan(730 / 1.01);
  });

  it("finds any capacity between the bounds within the resolution, in few steps (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 3900 }), (capacity) => {
        const { steps, knee } = search(capacity);
        expect(knee).toBeDefined();
        expect(knee!.rateRps).toBeLessThanOrEqual(capacity);
        // The lowest breaking rate is within the resolution of the knee (rounding to whole req/s aside).
        const breaking = Math.min(...steps.filter((x) => x.rateRps > knee!.rateRps).map((x) => x.rateRps));
        if (Number.isFinite(breaking))
          expect(breaking / knee!.rateRps).toBeLessThanOrEqual(DEFAULT_KNEE_SEARCH.resolution + 0.02);
        // log2(4000 / 50) ≈ 6.3 growth steps, then log2(log(2) / log(1.1)) ≈ 3 bisections.
        expect(steps.length).toBeLessThanOrEqual(12);
      }),
    );
  });

  it("stops at the maximum rate when nothing breaks, and halves down to the floor when the start breaks", () => {
    const top = search(1e9);
    expect(Math.max(...top.steps.map((x) => x.rateRps))).toBe(DEFAULT_KNEE_SEARCH.maxRps);
    expect(top.knee!.rateRps).toBe(DEFAULT_KNEE_SEARCH.maxRps);
    const slow = search(12);
    expect(slow.steps.map((x) => x.rateRps).slice(0, 4)).toEqual([50, 25, 13, 7]);
    expect(slow.knee!.rateRps).toBeLessThanOrEqual(12);
    const none = search(1);
    expect(none.knee).toBeUndefined();
    expect(Math.min(...none.steps.map((x) => x.rateRps))).toBeGreaterThanOrEqual(DEFAULT_KNEE_SEARCH.minRps - 1);
  });
});

describe("second chances on a shared machine", () => {
  it("keeps, per rate, a measurement within the SLO over one outside it, else the lower p99", () => {
    const steps = [step(100, 900), step(100, 20), step(200, 900), step(200, 700), step(300, 30), step(300, 10)];
    expect(bestPerRate(steps, slo).map((s) => [s.rateRps, s.p99Ms])).toEqual([
      [100, 20],
      [200, 700],
      [300, 10],
    ]);
  });

  it("re-measures a breaking rate `retries` times, not a passing one, and not more", () => {
    expect(nextRateWithRetries([step(50), step(100, 900)], slo, 1)).toBe(100);
    expect(nextRateWithRetries([step(50), step(100, 900), step(100, 900)], slo, 1)).toBe(71);
    expect(nextRateWithRetries([step(50), step(100, 900)], slo, 0)).toBe(71);
    expect(nextRateWithRetries([step(50)], slo, 1)).toBe(100);
    // A retry that passes lets the search grow past it.
    expect(nextRateWithRetries([step(50), step(100, 900), step(100, 20)], slo, 1)).toBe(200);
  });

  it("a transient stall at any one measurement does not move the knee found with one retry (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 60, max: 3000 }), fc.integer({ min: 0, max: 12 }), (capacity, stallAt) => {
        const steps: MeasuredRate[] = [];
        for (let rate = nextRateWithRetries(steps, slo, 1); rate !== undefined; rate = nextRateWithRetries(steps, slo, 1)) {
          const stalled = steps.length === stallAt;
          steps.push(step(rate, rate <= capacity && !stalled ? 50 : 2000));
          if (steps.length > 60) throw new Error("the search does not end");
        }
        const knee = findKnee(bestPerRate(steps, slo), slo)!;
        expect(knee.rateRps).toBeLessThanOrEqual(capacity);
        expect(knee.rateRps * (DEFAULT_KNEE_SEARCH.resolution + 0.02)).toBeGreaterThanOrEqual(capacity / 1.0);
      }),
    );
  });
});
