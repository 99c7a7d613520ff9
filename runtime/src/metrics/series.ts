import type { Registry } from "prom-client";
import type { LABEL } from "./names";

type Labels = Record<(typeof LABEL)["method"] | (typeof LABEL)["route"] | (typeof LABEL)["statusCode"], string> &
  Record<string, string>;

/** One label set's running totals. Plain numbers: updating one costs a few ns. */
export interface Series {
  readonly labels: Labels;
  readonly isError: boolean;
  count: number;
  sum: number;
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly buckets: Float64Array;
  /** `count` already pushed into the prom-client counters. */
  exported: number;
}

/**
 * The HTTP request series, kept as plain numbers on the hot path and handed to Prometheus only
 * when it scrapes. prom-client's own label children re-hash and re-validate their labels on every
 * inc/observe (about 0.5 µs per request for a counter plus a histogram), which alone would eat a
 * good share of the 10 % overhead budget on a small handler.
 */
export class SeriesTable {
  readonly bounds: readonly number[];
  readonly #byKey = new Map<string, Map<string, Map<number, Series>>>();
  readonly all: Series[] = [];

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
  }

  /** The series of one label set; `extraNames`/`extraValues` are the extra labels (createMetrics `labels`), if any. */
  get(method: string, route: string, status: number, extraNames?: readonly string[], extraValues?: readonly string[]): Series {
    let byRoute = this.#byKey.get(method);
    if (byRoute === undefined) this.#byKey.set(method, (byRoute = new Map()));
    // Extra label values join the route's key, JSON-encoded so no two value lists share a key (and a
    // route, which comes from a request line, never holds a NUL).
    const routeKey =
      extraValues === undefined || extraValues.length === 0 ? route : `${route}\u0000${JSON.stringify(extraValues)}`;
    let byStatus = byRoute.get(routeKey);
    if (byStatus === undefined) byRoute.set(routeKey, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (s === undefined) {
      const labels: Labels = { method, route, status_code: String(status) };
      if (extraNames !== undefined && extraValues !== undefined)
        for (let i = 0; i < extraNames.length; i++) labels[extraNames[i]] = extraValues[i];
      s = {
        labels,
        isError: status >= 500,
        count: 0,
        sum: 0,
        buckets: new Float64Array(this.bounds.length + 1),
        exported: 0,
      };
      byStatus.set(status, s);
      this.all.push(s);
    }
    return s;
  }

  /** Counts one request of `seconds` in series `s`. */
  observe(s: Series, seconds: number): void {
    s.count++;
    s.sum += seconds;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    s.buckets[i]++;
  }

  clear(): void {
    this.#byKey.clear();
    this.all.length = 0;
  }
}

/**
 * A histogram metric that prom-client's Registry can serialise (it only calls get()), built from a
 * SeriesTable at scrape time. Output is the same as prom-client's Histogram: _bucket{le}, _sum, _count.
 */
export function registerSeriesHistogram(registry: Registry, name: string, help: string, table: SeriesTable): void {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get: async () => {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const s of table.all) {
        let acc = 0;
        for (let i = 0; i < table.bounds.length; i++) {
          acc += s.buckets[i];
          values.push({ labels: { le: table.bounds[i], ...s.labels }, value: acc, metricName: `${name}_bucket` });
        }
        values.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: `${name}_bucket` });
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${name}_count` });
      }
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
    reset: () => {},
  };
  registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
}
