/**
 * The latency-over-time chart of a load run, as a vega-lite spec rendered to SVG (vega.ts):
 * p50/p95/p99 per window against the SLO line, with the virtual users shaded behind them on their
 * own axis and windows with errors marked, so a person sees at a glance where latency rose and
 * whether it crossed the SLO.
 */
import { renderVegaLite, type TopLevelSpec } from "./vega";

export interface ChartPoint {
  /** Seconds from the start of the run. */
  atS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  vus: number;
  errorRate: number;
}

/** A "nice" axis maximum: 1, 2 or 5 × 10^k at or above `value`. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * exp).find((v) => v >= value) ?? 10 * exp;
}

export const PERCENTILES = [
  { field: "p50Ms", label: "p50", color: "#16a34a" },
  { field: "p95Ms", label: "p95", color: "#ea580c" },
  { field: "p99Ms", label: "p99", color: "#9333ea" },
] as const;

const SLO_COLOR = "#dc2626";

export function latencyChartSpec(points: readonly ChartPoint[], options: { title: string; sloP95Ms: number }): TopLevelSpec {
  // Keep the SLO on the chart only when latency comes near it, else the lines would be flat at the bottom.
  const peak = Math.max(1, ...points.map((p) => p.p99Ms));
  const sloVisible = peak > options.sloP95Ms * 0.5;
  const maxMs = niceMax(sloVisible ? Math.max(peak, options.sloP95Ms) : peak * 1.1);
  const x = { field: "atS", type: "quantitative", title: "time since start (s)", scale: { nice: false } } as const;
  const rows = points.map((p) => ({ ...p }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: options.title,
      subtitle: sloVisible
        ? `dashed line: the SLO, p95 < ${options.sloP95Ms} ms; shaded: virtual users (right axis); red ticks: windows with errors`
        : `the SLO (p95 < ${options.sloP95Ms} ms) is far above every window; shaded: virtual users (right axis); red ticks: windows with errors`,
      anchor: "start",
    },
    width: 760,
    height: 280,
    background: "white",
    data: { values: rows },
    layer: [
      {
        mark: { type: "area", color: "#dbeafe", interpolate: "step-after" },
        encoding: {
          x,
          y: { field: "vus", type: "quantitative", title: "virtual users", axis: { orient: "right", titleColor: "#2563eb" } },
        },
      },
      {
        layer: [
          {
            transform: [{ fold: PERCENTILES.map((p) => p.field), as: ["series", "ms"] }],
            mark: { type: "line", strokeWidth: 2 },
            encoding: {
              x,
              y: { field: "ms", type: "quantitative", title: "latency (ms)", scale: { domain: [0, maxMs], clamp: true } },
              color: {
                field: "series",
                type: "nominal",
                title: null,
                scale: { domain: PERCENTILES.map((p) => p.field), range: PERCENTILES.map((p) => p.color) },
                legend: { orient: "top-left", labelExpr: "replace(datum.label, 'Ms', '')", direction: "horizontal" },
              },
            },
          },
          ...(sloVisible
            ? [
                {
                  data: { values: [{ ms: options.sloP95Ms }] },
                  mark: { type: "rule", color: SLO_COLOR, strokeDash: [6, 4] },
                  encoding: { y: { field: "ms", type: "quantitative" } },
                } as const,
              ]
            : []),
          {
            transform: [{ filter: "datum.errorRate > 0" }, { calculate: "0", as: "zero" }],
            mark: { type: "tick", color: SLO_COLOR, thickness: 3 },
            encoding: {
              x,
              y: { field: "zero", type: "quantitative" },
              tooltip: { field: "errorRate", type: "quantitative", format: ".2%" },
            },
          },
        ],
      },
    ],
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

/** The chart as standalone SVG. */
export function latencyChart(points: readonly ChartPoint[], options: { title: string; sloP95Ms: number }): Promise<string> {
  return renderVegaLite(latencyChartSpec(points, options));
}
