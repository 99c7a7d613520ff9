/**
 * The latency and capacity charts' specs at their edges (vega renders them outside jest: vega is
 * ESM-only): the axis maximum is the smallest 1/2/5 × 10^k at or above what it must show, the SLO
 * line appears from just above half the SLO, error ticks are exactly the windows with errors, the
 * capacity chart's SLO flags and knee mark follow the file at their bounds.
 */
import fc from "fast-check";
import type { CapacityFile } from "../../profile/capacity-file";
import { capacityChartSpec } from "../../load/runner/capacity-chart";
import { kneeAt200 } from "../helpers/capacity-file";
import { latencyChartSpec, niceMax, PERCENTILES, type ChartPoint } from "../../load/runner/chart";

/** 1, 2 and 5 × 10^k for k in -8..13, ascending: the axis maxima, listed independently of niceMax. */
const NICE = Array.from({ length: 22 }, (_, i) => i - 8).flatMap((k) => [1, 2, 5].map((m) => m * 10 ** k));
const smallestNiceAtOrAbove = (v: number) => NICE.find((n) => n >= v)!;

type Layer = {
  mark?: { type?: string; color?: string; strokeDash?: number[] };
  data?: { values?: Record<string, unknown>[] };
  layer?: Layer[];
  transform?: { filter?: string; fold?: string[]; calculate?: string; as?: unknown }[];
  encoding?: Record<string, { field?: string; scale?: { domain?: unknown[]; range?: unknown[]; type?: string } }>;
  title?: { text: string; subtitle: string };
  resolve?: unknown;
};
const flat = (l: Layer): Layer[] => [l, ...(l.layer ?? []).flatMap(flat)];
const byMark = (spec: Layer, type: string) => flat(spec).filter((l) => l.mark?.type === type);

const point = fc.record({
  atS: fc.nat({ max: 3600 }),
  p50Ms: fc.double({ min: 0, max: 1e5, noNaN: true }),
  p95Ms: fc.double({ min: 0, max: 1e5, noNaN: true }),
  p99Ms: fc.double({ min: 0, max: 1e5, noNaN: true }),
  vus: fc.nat({ max: 1000 }),
  errorRate: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
});

describe("niceMax", () => {
  it("is the smallest 1, 2 or 5 × 10^k at or above any positive value; 1 for anything else", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-7, max: 1e12, noNaN: true }), (v) => {
        const m = niceMax(v);
        expect(m).toBeGreaterThanOrEqual(v);
        expect(m).toBeCloseTo(smallestNiceAtOrAbove(v), 10 - Math.ceil(Math.log10(m)));
      }),
      { numRuns: 40 },
    );
    for (const v of [0, -0, -1, -Infinity, Number.NaN]) expect(niceMax(v)).toBe(1);
    for (const n of [0.001, 1, 2, 5, 10, 20, 50, 100, 1e6]) expect(niceMax(n)).toBeCloseTo(n, 12);
  });
});

describe("latency chart spec", () => {
  const spec = (points: ChartPoint[], sloP95Ms: number) => latencyChartSpec(points, { title: "T", sloP95Ms }) as unknown as Layer;
  const yMax = (s: Layer) => byMark(s, "line")[0].encoding!.y.scale!.domain![1] as number;

  it("draws the SLO line exactly when the highest p99 is above half the SLO (the bound itself: no line)", () => {
    const at = (p99Ms: number) => [{ atS: 0, p50Ms: 0, p95Ms: 0, p99Ms, vus: 1, errorRate: 0 }];
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 100_000 }), (slo) => {
        expect(byMark(spec(at(slo / 2), slo), "rule")).toEqual([]);
        const drawn = byMark(spec(at(slo / 2 + 0.5), slo), "rule");
        expect(drawn.map((l) => l.data!.values)).toEqual([[{ ms: slo }]]);
        expect(spec(at(slo / 2), slo).title!.subtitle).toContain(`the SLO (p95 < ${slo} ms) is far above every window`);
        expect(spec(at(slo / 2 + 0.5), slo).title!.subtitle).toContain(`dashed line: the SLO, p95 < ${slo} ms`);
      }),
      { numRuns: 15 },
    );
    // No windows at all: the peak counts as 1 ms, so an SLO under 2 ms is still drawn.
    expect(byMark(spec([], 1.9), "rule")).toHaveLength(1);
    expect(byMark(spec([], 2), "rule")).toHaveLength(0);
  });

  it("the latency axis reaches the smallest nice value at or above the SLO and every p99 (with the line), or 10 % over the peak (without)", () => {
    fc.assert(
      fc.property(fc.array(point, { maxLength: 8 }), fc.integer({ min: 1, max: 100_000 }), (points, slo) => {
        const s = spec(points, slo);
        const peak = Math.max(1, ...points.map((p) => p.p99Ms));
        const withLine = byMark(s, "rule").length > 0;
        const target = withLine ? Math.max(peak, slo) : peak * 1.1;
        expect(yMax(s)).toBeGreaterThanOrEqual(target);
        expect(yMax(s)).toBeCloseTo(smallestNiceAtOrAbove(target), 6);
        expect(byMark(s, "line")[0].encoding!.y.scale!.domain![0]).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it("with the SLO line, the axis covers a peak above the SLO: 150 ms against an SLO of 100 reaches 200", () => {
    const s = spec([{ atS: 0, p50Ms: 1, p95Ms: 90, p99Ms: 150, vus: 1, errorRate: 0 }], 100);
    expect(byMark(s, "rule")).toHaveLength(1);
    expect(yMax(s)).toBe(200);
  });

  it("plots a copy of every window; error ticks are exactly the windows with an error rate above 0", () => {
    fc.assert(
      fc.property(fc.array(point, { maxLength: 8 }), (points) => {
        const s = spec(points, 500);
        const rows = s.data!.values!;
        expect(rows).toEqual(points);
        rows.forEach((r, i) => expect(r).not.toBe(points[i]));
        const ticks = byMark(s, "tick");
        expect(ticks).toHaveLength(1);
        // The filter is a vega expression; this one is also plain JavaScript over `datum`.
        const keep = new Function("datum", `return ${ticks[0].transform![0].filter};`) as (d: unknown) => boolean;
        expect(rows.filter(keep)).toEqual(points.filter((p) => p.errorRate > 0));
        expect(ticks[0].transform![1]).toEqual({ calculate: "0", as: "zero" });
        expect(ticks[0].encoding!.y.field).toBe("zero");
      }),
      { numRuns: 30 },
    );
  });

  it("folds the three percentiles of each row into one line each, coloured apart, over time; the users on their own axis", () => {
    const s = spec([{ atS: 5, p50Ms: 1, p95Ms: 2, p99Ms: 3, vus: 4, errorRate: 0 }], 4);
    const line = byMark(s, "line")[0];
    expect(line.transform![0]).toEqual({ fold: ["p50Ms", "p95Ms", "p99Ms"], as: ["series", "ms"] });
    expect(line.encoding!.y.field).toBe("ms");
    expect(line.encoding!.color.field).toBe("series");
    expect(line.encoding!.color.scale).toEqual({ domain: ["p50Ms", "p95Ms", "p99Ms"], range: PERCENTILES.map((p) => p.color) });
    expect(new Set(PERCENTILES.map((p) => p.color)).size).toBe(3);
    for (const l of [line, ...byMark(s, "area"), ...byMark(s, "tick")]) expect(l.encoding!.x.field).toBe("atS");
    expect(byMark(s, "area")[0].encoding!.y.field).toBe("vus");
    expect(s.resolve).toEqual({ scale: { y: "independent" } });
    // The SLO line and the error ticks share the SLO's colour; the line is dashed.
    const rule = byMark(s, "rule")[0];
    expect(rule.mark!.color).toBe(byMark(s, "tick")[0].mark!.color);
    expect(rule.mark!.strokeDash!.length).toBeGreaterThan(0);
    expect(s.title!.text).toBe("T");
  });
});

describe("capacity chart spec", () => {
  const file = kneeAt200;
  const layers = (f: CapacityFile) => (capacityChartSpec(f) as unknown as Layer).layer!;
  const marked = (f: CapacityFile) =>
    layers(f)
      .flatMap((l) => l.data?.values ?? [])
      .filter((v) => typeof v.label === "string");

  it("flags a step within the SLO (knee.ts's rule) only when both its p99 and its error rate are below the SLO's (the bound is outside)", () => {
    const f = file();
    const steps = [
      [499, 0.0099, true],
      [500, 0, false],
      [0, 0.01, false],
      [501, 0.5, false],
    ] as const;
    const rows = layers(file({ steps: steps.map(([p99Ms, errorRate]) => ({ ...f.steps[0], p99Ms, errorRate })) }))[0].data!
      .values!;
    expect(rows.map((r) => r.withinSlo)).toEqual(steps.map((s) => s[2]));
    expect(rows.map((r) => r.p99Ms)).toEqual(steps.map((s) => s[0]));
  });

  it("each point's tooltip shows fields of its row, whether it is within the SLO among them", () => {
    const line = layers(file())[0] as Layer & { encoding: { tooltip: { field: string }[] } };
    const fields = line.encoding.tooltip.map((t) => t.field);
    expect(fields).toContain("withinSlo");
    for (const row of line.data!.values!) for (const f of fields) expect(row).toHaveProperty(f);
  });

  it("marks the step whose p99 and rate per core are the knee's, on any core count, and no step when none is", () => {
    fc.assert(
      fc.property(fc.constantFrom(0.25, 0.5, 1, 1.5, 2), fc.integer({ min: 0, max: 2 }), (cores, k) => {
        const base = file();
        const steps = base.steps.map((s) => ({ ...s, p99Ms: 20 }));
        const knee = { ...base.knee, p99Ms: 20, rateRpsPerCore: steps[k].achievedRps / cores };
        expect(marked(file({ cpuCores: cores, steps, knee }))).toEqual([
          expect.objectContaining({ rateRps: steps[k].rateRps, label: `knee: ${steps[k].achievedRps} req/s` }),
        ]);
        // The knee's rate is off by more than the tolerance, or its p99 is another step's: no mark.
        expect(marked(file({ cpuCores: cores, steps, knee: { ...knee, rateRpsPerCore: knee.rateRpsPerCore + 1e-5 } }))).toEqual(
          [],
        );
        expect(marked(file({ cpuCores: cores, steps, knee: { ...knee, p99Ms: 21 } }))).toEqual([]);
      }),
      { numRuns: 20 },
    );
    expect(marked(file({ knee: { ...file().knee, rateRpsPerCore: 200 + 5e-7 } }))).toHaveLength(1);
  });

  it("titles the chart with the service and its cores (1 core, n cores) and states the knee, the SLO and the load", () => {
    const title = (f: CapacityFile) => (capacityChartSpec(f) as unknown as Layer).title!;
    expect(title(file()).text).toBe("Capacity of svc on 1 CPU core");
    expect(title(file({ cpuCores: 2, knee: { ...file().knee, rateRpsPerCore: 100 } })).text).toBe(
      "Capacity of svc on 2 CPU cores",
    );
    expect(title(file({ cpuCores: 0.5 })).text).toBe("Capacity of svc on 0.5 CPU cores");
    expect(title(file({ cpuCores: 2, knee: { ...file().knee, rateRpsPerCore: 100.3 } })).subtitle).toBe(
      "knee 201 req/s (p99 20 ms, errors 0.25 %); dashed: the SLO, p99 < 500 ms; load average 1.5 2 3",
    );
    const slo = layers(file()).find((l) => l.mark?.type === "rule")!;
    expect(slo.data!.values).toEqual([{ slo: 500 }]);
    expect(slo.encoding!.y.field).toBe("slo");
  });

  it("plots achieved rate against p99 on a log scale, in offered-rate order", () => {
    const line = layers(file())[0];
    expect(line.encoding!.x.field).toBe("achievedRps");
    expect(line.encoding!.y).toMatchObject({ field: "p99Ms", scale: { type: "log" } });
    expect(line.encoding!.order.field).toBe("rateRps");
  });
});
