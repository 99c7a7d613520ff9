import fc from "fast-check";
import { latencyChart, niceMax } from "../../load/runner/chart";
import { planSteps, parseDuration, LoadScheduleError } from "../../load/runner/schedule";
import { agreement, bucketAround, deltaBuckets, histogramQuantile, parseBuckets } from "../../load/runner/server-histogram";
import { percentile, summarize, windows } from "../../load/runner/stats";
import { SEED_STAGES } from "../../load/k6/stages";

describe("schedule", () => {
  it("parses k6 durations and refuses anything else", () => {
    expect(parseDuration("2m")).toBe(120);
    expect(parseDuration("30s")).toBe(30);
    expect(() => parseDuration("2 minutes")).toThrow(LoadScheduleError);
  });

  it("keeps the seed's shape at any time scale: ramp up, hold at 100, ramp down", () => {
    const steps = planSteps(SEED_STAGES, { timeScale: 60 / 540, stepSeconds: 5 });
    const total = steps.reduce((s, x) => s + x.durationS, 0);
    expect(total).toBeCloseTo(60, 6);
    const up = steps.filter((s) => s.stage === 0).map((s) => s.vus);
    const hold = steps.filter((s) => s.stage === 1).map((s) => s.vus);
    const down = steps.filter((s) => s.stage === 2).map((s) => s.vus);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect(up.at(-1)).toBeLessThan(100);
    expect(new Set(hold)).toEqual(new Set([100]));
    expect(down).toEqual([...down].sort((a, b) => b - a));
    expect(Math.min(...down)).toBeGreaterThanOrEqual(1);
    // Contiguous.
    steps.slice(1).forEach((s, i) => expect(s.startS).toBeCloseTo(steps[i].startS + steps[i].durationS, 6));
  });

  it("refuses a zero time scale", () => {
    expect(() => planSteps(SEED_STAGES, { timeScale: 0, stepSeconds: 5 })).toThrow(/timeScale/);
  });
});

describe("stats", () => {
  it("computes nearest-rank percentiles and the error rate", () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({ atMs: i * 10, latencyMs: i + 1, ok: i % 20 !== 0 }));
    const s = summarize(samples, 1);
    expect(s).toMatchObject({ requests: 100, errors: 5, errorRate: 0.05, p50Ms: 50, p95Ms: 95, p99Ms: 99, throughput: 100 });
    expect(percentile([], 95)).toBe(0);
    expect(windows(samples, 500).map((w) => w.summary.requests)).toEqual([50, 50]);
  });
});

describe("percentile (nearest rank)", () => {
  it("answers the smallest sample with at least p % of the samples at or below it: 10 samples, p95 is the 10th", () => {
    const ten = Array.from({ length: 10 }, (_, i) => (i + 1) * 10);
    // 95 % of 10 samples is 9.5 samples: the rank rounds up to the 10th.
    expect(percentile(ten, 95)).toBe(100);
    expect(percentile(ten, 90)).toBe(90);
    expect(percentile(ten, 91)).toBe(100);
    expect(percentile(ten, 50)).toBe(50);
    expect(percentile(ten, 0)).toBe(10);
    expect(percentile(ten, 100)).toBe(100);
  });

  it("matches the definition for any samples and any p", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const sorted = [...values].sort((a, b) => a - b);
          const v = percentile(sorted, p);
          const atOrBelow = sorted.filter((x) => x <= v).length;
          const below = sorted.filter((x) => x < v).length;
          // Integer arithmetic: "at least p % of n" is 100 * count >= p * n.
          expect(100 * atOrBelow).toBeGreaterThanOrEqual(p * sorted.length);
          expect(100 * below).toBeLessThan(p * sorted.length);
        },
      ),
    );
  });
});

describe("server-side histogram", () => {
  const exposition = (n: number) =>
    [
      `uaip_http_request_duration_seconds_bucket{le="0.005",service="a",route="/a/operations",method="POST"} ${n * 10}`,
      `uaip_http_request_duration_seconds_bucket{le="0.01",service="a",route="/a/operations",method="POST"} ${n * 90}`,
      `uaip_http_request_duration_seconds_bucket{le="+Inf",service="a",route="/a/operations",method="POST"} ${n * 100}`,
      `uaip_http_request_duration_seconds_bucket{le="0.005",service="a",route="/metrics",method="GET"} 1000`,
      `uaip_http_request_duration_seconds_bucket{le="+Inf",service="a",route="/metrics",method="GET"} 1000`,
    ].join("\n");

  it("interpolates like histogram_quantile over the run's delta only", () => {
    const before = parseBuckets(exposition(1), "uaip_http_request_duration_seconds", { route: /operations$/ });
    const after = parseBuckets(exposition(3), "uaip_http_request_duration_seconds", { route: /operations$/ });
    const delta = deltaBuckets(after, before);
    expect([...delta.values()]).toEqual([20, 180, 200]);
    // rank 0.5*200 = 100 lies in (0.005, 0.01]: 0.005 + 0.005 * (100-20)/160
    expect(histogramQuantile(0.5, delta)).toBeCloseTo(0.0075, 9);
    // rank 190 lies in +Inf: Prometheus answers the highest finite bound.
    expect(histogramQuantile(0.95, delta)).toBe(0.01);
    expect(bucketAround(0.0075, delta)).toEqual([0.005, 0.01]);
    expect(histogramQuantile(0.95, new Map())).toBeNaN();
  });

  it("agrees within 10 % or down to the bucket the runtime's p95 fell in, and catches a real gap", () => {
    // Cumulative buckets (seconds) as a run's delta: 1000 requests.
    const run = (counts: [number, number][]) => new Map<number, number>([...counts, [Infinity, 1000]]);
    // Around 60-70 ms with 25 ms-wide buckets: within 10 %.
    const near = run([
      [0.05, 100],
      [0.075, 980],
      [0.1, 1000],
    ]);
    expect(agreement(72, near, 0.1)).toMatchObject({ agrees: true, clientInBucket: true, bucketMs: [50, 75] });
    expect(agreement(68, near, 0.1).relativeDifference).toBeLessThan(0.1);
    // A few ms, all in the 0-5 ms bucket: the runtime reads 4.75 ms for a client's 3.9 ms (22 %), the bucket's resolution.
    const fast = run([[0.005, 1000]]);
    expect(agreement(3.9, fast, 0.1)).toMatchObject({ serverP95Ms: 4.75, clientInBucket: true, agrees: true });
    // Requests queued before Node emitted 'request': the client saw 120 ms, the runtime ~72 ms. Not in its bucket: a disagreement.
    expect(agreement(120, near, 0.1)).toMatchObject({ clientInBucket: false, agrees: false });
    expect(agreement(3.9, near, 0.1).agrees).toBe(false);
  });
});

describe("chart", () => {
  it("draws p50/p95/p99 lines, the VUs and the SLO line as valid SVG", () => {
    const points = Array.from({ length: 10 }, (_, i) => ({
      atS: i * 5,
      p50Ms: 2,
      p95Ms: 300 + i,
      p99Ms: 400,
      vus: i * 10,
      errorRate: i === 3 ? 0.1 : 0,
    }));
    const svg = latencyChart(points, { title: "t <&>", sloP95Ms: 500 });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg).toContain("SLO p95 &lt; 500 ms");
    expect(svg).toContain("t &#60;&#38;&#62;");
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(niceMax(430)).toBe(500);
    expect(niceMax(0)).toBe(1);
  });
});
