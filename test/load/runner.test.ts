import fc from "fast-check";
import { latencyChartSpec, niceMax, PERCENTILES } from "../../load/runner/chart";
import { planSteps, parseDuration, LoadScheduleError } from "../../load/runner/schedule";
import { sampleOf } from "../../load/runner/exposition";
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

describe("runner edges", () => {
  it("parses fractional durations and every unit; refuses a unit-less or negative one", () => {
    expect(parseDuration("1.5m")).toBe(90);
    expect(parseDuration("1.25m")).toBe(75);
    expect(parseDuration("1h")).toBe(3600);
    expect(parseDuration("0.5s")).toBe(0.5);
    for (const bad of ["30", "-1m", "1d", "m", " 1m", "1m "]) expect(() => parseDuration(bad)).toThrow(LoadScheduleError);
    expect(() => parseDuration("2 minutes")).toThrow(
      expect.objectContaining({ code: "UAIP_LOAD_SCHEDULE_INVALID", message: expect.stringContaining('"2 minutes"') }),
    );
  });

  it("accepts a time scale of exactly 1 and refuses just above it; a step must be longer than 0 s", () => {
    const stages = [{ duration: "10s", target: 4 }];
    expect(planSteps(stages, { timeScale: 1, stepSeconds: 5 }).map((s) => s.durationS)).toEqual([5, 5]);
    expect(() => planSteps(stages, { timeScale: 1.001, stepSeconds: 5 })).toThrow(LoadScheduleError);
    expect(() => planSteps(stages, { timeScale: 1, stepSeconds: 0 })).toThrow(/stepSeconds 0/);
  });

  it("a ramp step holds its midpoint's users: 0 -> 4 over 2 steps is 1 then 3; a stage shorter than a step is one step", () => {
    // Midpoints at 1/4 and 3/4 of the ramp: 4 x 0.25 = 1, 4 x 0.75 = 3.
    expect(planSteps([{ duration: "10s", target: 4 }], { timeScale: 1, stepSeconds: 5 }).map((s) => s.vus)).toEqual([1, 3]);
    const short = planSteps([{ duration: "2s", target: 10 }], { timeScale: 1, stepSeconds: 5 });
    expect(short).toEqual([{ stage: 0, startS: 0, durationS: 2, vus: 5 }]);
    // A ramp down to 0 still measures with 1 user.
    const down = planSteps(
      [
        { duration: "5s", target: 2 },
        { duration: "10s", target: 0 },
      ],
      { timeScale: 1, stepSeconds: 5 },
    );
    expect(down.map((s) => [s.stage, s.startS, s.vus])).toEqual([
      [0, 0, 1],
      [1, 5, 2],
      [1, 10, 1],
    ]);
  });

  it("summarize: no samples or no duration gives zeros, not NaN; throughput is responses per second", () => {
    expect(summarize([], 10)).toEqual({ requests: 0, errors: 0, errorRate: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, throughput: 0 });
    const three = [0, 1, 2].map((i) => ({ atMs: i, latencyMs: 1.234, ok: i !== 1 }));
    expect(summarize(three, 0).throughput).toBe(0);
    expect(summarize(three, 4)).toMatchObject({ throughput: 0.75, errors: 1, p50Ms: 1.23 });
    expect(summarize(three, 4).errorRate).toBeCloseTo(1 / 3, 12);
  });

  it("windows: a sample exactly at a window's start belongs to that window; empty windows are left out", () => {
    const at = (atMs: number) => ({ atMs, latencyMs: 1, ok: true });
    const w = windows([at(0), at(499), at(500), at(1600)], 500);
    expect(w.map((x) => [x.startMs, x.summary.requests])).toEqual([
      [0, 2],
      [500, 1],
      [1500, 1],
    ]);
    // Each window's throughput is over the window's own length.
    expect(w[0].summary.throughput).toBe(4);
  });

  it("samples and buckets may arrive in any order: percentiles, windows and quantiles sort them first", () => {
    const shuffled = [9, 1, 10, 4, 2, 8, 3, 7, 6, 5].map((v, i) => ({ atMs: (10 - i) * 600, latencyMs: v * 10, ok: true }));
    expect(summarize(shuffled, 1)).toMatchObject({ p50Ms: 50, p95Ms: 100 });
    expect(windows(shuffled, 2000).map((w) => w.startMs)).toEqual([0, 2000, 4000, 6000]);
    // An exposition that lists +Inf and the wider bucket first.
    const text = ['m_bucket{le="+Inf"} 100', 'm_bucket{le="0.2"} 100', 'm_bucket{le="0.1"} 50'].join("\n");
    const b = parseBuckets(text, "m");
    expect(histogramQuantile(0.75, b)).toBeCloseTo(0.15, 12);
    expect(bucketAround(0.15, b)).toEqual([0.1, 0.2]);
    expect(bucketAround(5, b)).toEqual([0.2, Infinity]);
  });

  it("niceMax: the smallest of 1, 2, 5 x 10^k at or above the value", () => {
    expect([0.3, 1, 1.01, 2, 2.5, 5, 5.1, 10, 99, 101].map(niceMax)).toEqual([0.5, 1, 2, 2, 5, 5, 10, 10, 100, 200]);
    expect(niceMax(-3)).toBe(1);
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

  it("a RegExp matches a series without the label as if its value were empty", () => {
    const text = [
      `m_bucket{le="1",route="/a"} 5`,
      `m_bucket{le="+Inf",route="/a"} 7`,
      `m_bucket{le="1"} 2`,
      `m_bucket{le="+Inf"} 3`,
    ].join("\n");
    expect([...parseBuckets(text, "m", { route: /^$/ })]).toEqual([
      [1, 2],
      [Infinity, 3],
    ]);
    expect([...parseBuckets(text, "m", { route: /^\/a$/ })]).toEqual([
      [1, 5],
      [Infinity, 7],
    ]);
    expect([...parseBuckets(text, "m")]).toEqual([
      [1, 7],
      [Infinity, 10],
    ]);
  });

  it("interpolates inside the bucket where the rank falls, a rank on a bound answering that bound", () => {
    // 50 observations in (0, 0.1], 50 in (0.1, 0.2].
    const b = new Map<number, number>([
      [0.1, 50],
      [0.2, 100],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.1, 12); // rank 50: the first bucket's bound
    expect(histogramQuantile(0.75, b)).toBeCloseTo(0.15, 12); // rank 75: 0.1 + 0.1 x 25/50
    expect(histogramQuantile(0.25, b)).toBeCloseTo(0.05, 12); // rank 25: 0 + 0.1 x 25/50
    expect(histogramQuantile(1, b)).toBeCloseTo(0.2, 12);
    expect(bucketAround(0.1, b)).toEqual([0, 0.1]);
    expect(bucketAround(0.1000001, b)).toEqual([0.1, 0.2]);
    expect(bucketAround(5, new Map([[1, 3]]))).toEqual([1, Infinity]);
    // Beyond the last finite bound of a histogram without +Inf: from that bound up.
    expect(
      bucketAround(
        5,
        new Map([
          [1, 3],
          [2, 4],
        ]),
      ),
    ).toEqual([2, Infinity]);
    // The labels must all match: another method's buckets are not summed in.
    const text = ['m_bucket{le="1",method="GET"} 2', 'm_bucket{le="1",method="POST"} 5', 'other_bucket{le="1"} 9'].join("\n");
    expect([...parseBuckets(text, "m", { method: "POST" })]).toEqual([[1, 5]]);
    expect([...parseBuckets(text, "m")]).toEqual([[1, 7]]);
    expect([...deltaBuckets(new Map([[1, 7]]), new Map())]).toEqual([[1, 7]]);
  });

  it("agreement at its edges: the bucket's bounds are inside, exactly 10 % agrees, a client p95 of 0 differs by 0", () => {
    // 1000 requests, all in (50, 100] ms: the server p95 interpolates to 50 + 50 x 950/1000 = 97.5 ms.
    const delta = new Map<number, number>([
      [0.05, 0],
      [0.1, 1000],
      [Infinity, 1000],
    ]);
    expect(agreement(97.5, delta, 0.1)).toEqual({
      serverP95Ms: 97.5,
      bucketMs: [50, 100],
      relativeDifference: 0,
      clientInBucket: true,
      agrees: true,
      level: "agree",
    });
    expect(agreement(50, delta, 0.1)).toMatchObject({ clientInBucket: true, agrees: true });
    expect(agreement(100, delta, 0.1)).toMatchObject({ clientInBucket: true, agrees: true });
    expect(agreement(100.1, delta, 0.1)).toMatchObject({ clientInBucket: false, agrees: true }); // |97.5 - 100.1| / 100.1 = 2.6 %
    expect(agreement(49.9, delta, 0.1)).toMatchObject({ clientInBucket: false, agrees: false }); // 95 % off
    // Outside the bucket and exactly 10 % apart (97.5 = 108.33... x 0.9) still agrees; a little more does not.
    expect(agreement(97.5 / 0.9, delta, 0.1).agrees).toBe(true);
    expect(agreement(97.5 / 0.89, delta, 0.1)).toMatchObject({ clientInBucket: false, agrees: false, relativeDifference: 0.11 });
    expect(agreement(0, delta, 0.1)).toMatchObject({ relativeDifference: 0, clientInBucket: false, agrees: true });
  });

  it("agrees at exactly the tolerance and not a hair past it, in or out of the runtime's bucket (property)", () => {
    // 950 of 1000 requests at or under 90 ms, 0 under 50 ms: the p95's rank lands on the 90 ms bound exactly.
    const delta = new Map<number, number>([
      [0.05, 0],
      [0.09, 950],
      [Infinity, 1000],
    ]);
    expect(agreement(100, delta, 0.1)).toMatchObject({
      serverP95Ms: 90,
      bucketMs: [50, 90],
      clientInBucket: false,
      relativeDifference: 0.1,
      agrees: true,
    });
    expect(agreement(100, delta, 0.0999).agrees).toBe(false);
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (client, tolerance) => {
          const inBucket = client >= 50 && client <= 90;
          return agreement(client, delta, tolerance).agrees === (inBucket || Math.abs(90 - client) / client <= tolerance);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reads sample lines only: blanks and tabs before the value, a timestamp after it; a comment quoting a series is no sample", () => {
    const text = [
      `# e.g. m_bucket{le="1"} 100`,
      `m_bucket{le="1",path="a b"}\t 5 1700000000000`,
      `m_bucket{le="+Inf",path="a b"}  7`,
      `xm_bucket{le="1"} 100`,
      `m_buckets{le="1"} 100`,
    ].join("\n");
    expect([...parseBuckets(text, "m")]).toEqual([
      [1, 5],
      [Infinity, 7],
    ]);
    expect([...parseBuckets(text, "m", { path: "a b" })]).toEqual([
      [1, 5],
      [Infinity, 7],
    ]);
  });

  it("one sample-line reader (load/runner/exposition.ts): name, labels and value as written, with or without labels or a timestamp", () => {
    const name = fc.stringMatching(/^[a-zA-Z_:][\w:]{0,20}$/);
    const labels = fc.dictionary(fc.stringMatching(/^[a-z_]\w{0,8}$/), fc.stringMatching(/^[\w .:/-]{0,10}$/), { maxKeys: 3 });
    const value = fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(
        name,
        labels,
        value,
        fc.option(fc.integer({ min: 0, max: 2e12 })),
        fc.constantFrom(" ", "\t", " \t "),
        (n, l, v, ts, gap) => {
          const text = Object.keys(l).length
            ? `{${Object.entries(l)
                .map(([k, x]) => `${k}="${x}"`)
                .join(",")}}`
            : "";
          const line = `${n}${text}${gap}${String(v)}${ts === null ? "" : ` ${ts}`}`;
          expect(sampleOf(line)).toEqual({ name: n, labels: l, value: Number(String(v)) });
        },
      ),
    );
    for (const line of ["", "# HELP m a gauge", "# e.g. m 1", "m", '{a="1"} 2']) expect(sampleOf(line)).toBeUndefined();
    // A bucket is named by its upper bound: a _bucket line without le is no bucket.
    expect([...parseBuckets('m_bucket 3\nm_bucket{le="1"} 2', "m")]).toEqual([[1, 2]]);
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
  const points = Array.from({ length: 10 }, (_, i) => ({
    atS: i * 5,
    p50Ms: 2,
    p95Ms: 300 + i,
    p99Ms: 400,
    vus: i * 10,
    errorRate: i === 3 ? 0.1 : 0,
  }));
  type Layer = { mark?: { type?: string }; data?: { values?: { ms?: number }[] }; layer?: Layer[]; transform?: unknown[] };
  const flat = (l: Layer): Layer[] => [l, ...(l.layer ?? []).flatMap(flat)];

  it("draws p50/p95/p99 lines, the VUs, error ticks and the SLO line as a vega-lite spec", () => {
    const spec = latencyChartSpec(points, { title: "t", sloP95Ms: 500 }) as unknown as Layer;
    const marks = flat(spec).map((l) => l.mark?.type);
    expect(marks).toEqual(expect.arrayContaining(["area", "line", "rule", "tick"]));
    const rule = flat(spec).find((l) => l.mark?.type === "rule")!;
    expect(rule.data?.values).toEqual([{ ms: 500 }]);
    expect(PERCENTILES.map((p) => p.label)).toEqual(["p50", "p95", "p99"]);
    expect(JSON.stringify(spec)).toContain('"fold":["p50Ms","p95Ms","p99Ms"]');
  });

  it("leaves the SLO line out when every window is far below it, and says so", () => {
    const low = points.map((p) => ({ ...p, p95Ms: 20, p99Ms: 30 }));
    const spec = latencyChartSpec(low, { title: "t", sloP95Ms: 500 }) as unknown as Layer & { title: { subtitle: string } };
    expect(flat(spec).some((l) => l.mark?.type === "rule")).toBe(false);
    expect(spec.title.subtitle).toMatch(/far above/);
    expect(niceMax(430)).toBe(500);
    expect(niceMax(0)).toBe(1);
  });
});
