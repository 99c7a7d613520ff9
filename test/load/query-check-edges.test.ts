/**
 * query-check.ts's pure rules at their edges: Prometheus durations (any sum of units, and what is
 * not one), Grafana's $__rate_interval, variable substitution, range windows, the failure lines,
 * and how the ALERTS series fold into the alerts seen (the series come from a recorded
 * `queryRange` here: the folding is what is tested; the real Prometheus is in query-check.test.ts).
 */
import fc from "fast-check";
import type { RunFacts } from "../../dashboards/expected-empty";
import {
  alertsDuring,
  checkQueries,
  grafanaRateIntervalS,
  promDurationSeconds,
  QueryCheckError,
  queryFailures,
  rangeWindowsS,
  substitute,
  type QueryCheck,
  type QueryStatus,
} from "../../load/runner/query-check";
import { runScrapeInterval, ScrapeIntervalError } from "../../load/runner/prometheus";
import type { RangeSeries } from "../../tools/local-servers/prometheus-server";

/** Prometheus' duration units in seconds (its docs: a year is 365 days). */
const UNIT_S = { y: 365 * 86_400, w: 7 * 86_400, d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 } as const;
const units = Object.keys(UNIT_S) as (keyof typeof UNIT_S)[];

describe("Prometheus durations", () => {
  it("any run of <number><unit> parts is the sum of its parts in seconds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 500 }), fc.constantFrom(...units)), { minLength: 1, maxLength: 4 }),
        (parts) => {
          const text = parts.map(([n, u]) => `${n}${u}`).join("");
          const seconds = parts.reduce((s, [n, u]) => s + n * UNIT_S[u], 0);
          expect(promDurationSeconds(text)).toBeCloseTo(seconds, 6);
          expect(rangeWindowsS([`rate(x[${text}])`])[0]).toBeCloseTo(seconds, 6);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses anything else, quoting it", () => {
    for (const text of ["", "5", "m", "5 m", " 5m", "5m ", "-5m", "5M", "1.5h", "5mx", "x5m", "5m-", "5min", "5s5"]) {
      expect(() => promDurationSeconds(text)).toThrow(QueryCheckError);
      expect(() => promDurationSeconds(text)).toThrow(`"${text}" is not a Prometheus duration (e.g. "15s", "5m", "1h30m")`);
    }
    expect(new QueryCheckError("x").code).toBe("UAIP_QUERY_CHECK");
  });

  it("finds every range window, with or without a subquery step, and nothing in an expression without one", () => {
    expect(rangeWindowsS(["up", "sum(x)", 'x{le="5"}'])).toEqual([]);
    expect(rangeWindowsS(["max_over_time(rate(x[1m])[1h30m:15s])", "y[500ms]", "z[2d]"])).toEqual([60, 5400, 0.5, 172_800]);
    expect(rangeWindowsS(["a[5m] + b[5m]"])).toEqual([300, 300]);
  });
});

describe("the run's scrape interval", () => {
  it("a quick run shortens only a longer interval: one equal to the quick 5s stays as the profile wrote it", () => {
    expect(runScrapeInterval("5000ms", "quick", [])).toBe("5000ms");
    expect(runScrapeInterval("5001ms", "quick", [])).toBe("5s");
    expect(runScrapeInterval("4s", "quick", [])).toBe("4s");
    expect(new ScrapeIntervalError("x").code).toBe("UAIP_LOAD_SCRAPE_INTERVAL");
  });
});

describe("Grafana's variables", () => {
  it("$__rate_interval is the larger of one step plus a scrape and four scrapes (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 1, max: 600 }), (step, scrape) => {
        const r = grafanaRateIntervalS(step, scrape);
        expect(r).toBeGreaterThanOrEqual(step + scrape);
        expect(r).toBeGreaterThanOrEqual(4 * scrape);
        expect([step + scrape, 4 * scrape]).toContain(r);
      }),
      { numRuns: 30 },
    );
  });

  it("substitutes every $__rate_interval, and every $service only when a service is given", () => {
    const expr =
      'sum(rate(a{service="$service"}[$__rate_interval])) / sum(rate(b{service="$service"}[$__rate_interval])) + $other';
    expect(substitute(expr, { service: "api", rateIntervalS: 21 })).toBe(
      'sum(rate(a{service="api"}[21s])) / sum(rate(b{service="api"}[21s])) + $other',
    );
    expect(substitute(expr, { rateIntervalS: 4 })).toBe(
      'sum(rate(a{service="$service"}[4s])) / sum(rate(b{service="$service"}[4s])) + $other',
    );
    expect(substitute(expr, { service: "", rateIntervalS: 4 })).toContain('a{service=""}');
  });
});

describe("queryFailures", () => {
  const check = (status: QueryStatus, over: Partial<QueryCheck> = {}): QueryCheck => ({
    kind: "panel",
    name: "D › P [A]",
    expr: "up",
    series: 0,
    status,
    ...over,
  });

  it("one line per empty, only-NaN or failed query, naming it, its service and what came back; none for the others", () => {
    expect(queryFailures([check("data"), check("expected-empty", { detail: "why" })])).toEqual([]);
    expect(
      queryFailures([
        check("empty", { service: "api" }),
        check("data"),
        check("nan", { kind: "rule", name: "r:x", expr: "r" }),
        check("error", { detail: "bad_data: parse error", expr: "up{" }),
      ]),
    ).toEqual([
      "panel D › P [A] (service api) returned no series; query: up",
      "rule r:x returned only NaN; query: r",
      "panel D › P [A] failed: bad_data: parse error; query: up{",
    ]);
  });
});

describe("alertsDuring", () => {
  const window = { start: 100, end: 200, stepS: 5 };
  const alert = (labels: Record<string, string>, alertstate: string): RangeSeries => ({
    metric: { __name__: "ALERTS", alertstate, ...labels },
    values: [[150, "1"]],
  });
  const from = (series: RangeSeries[]) => {
    const calls: unknown[][] = [];
    const prom = {
      queryRange: async (...args: [string, number, number, number]) => {
        calls.push(args);
        return series;
      },
    };
    return { prom, calls };
  };

  it("asks for the ALERTS series over the window", async () => {
    const { prom, calls } = from([]);
    expect(await alertsDuring(prom, window)).toEqual([]);
    expect(calls).toEqual([["ALERTS", 100, 200, 5]]);
  });

  it("one entry per alert and label set, its worst state (firing beats pending, in any order), sorted by name", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("B", "A", "C"), fc.constantFrom("x", "y"), fc.constantFrom("pending", "firing")), {
          maxLength: 12,
        }),
        async (seen) => {
          const { prom } = from(seen.map(([name, service, state]) => alert({ alertname: name, service }, state)));
          const got = await alertsDuring(prom, window);
          const keys = [...new Set(seen.map(([n, s]) => `${n}/${s}`))];
          expect(got).toHaveLength(keys.length);
          expect(got.map((a) => a.alertname)).toEqual([...got.map((a) => a.alertname)].sort());
          for (const a of got) {
            const states = seen.filter(([n, s]) => n === a.alertname && s === a.labels.service).map(([, , st]) => st);
            expect(states.length).toBeGreaterThan(0);
            expect(a.state).toBe(states.includes("firing") ? "firing" : "pending");
            // The labels without the series name and the state.
            expect(a.labels).toEqual({ alertname: a.alertname, service: a.labels.service });
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("an alert series without an alertname is named empty; an unknown state counts as pending", async () => {
    const { prom } = from([alert({ service: "s" }, "inactive")]);
    expect(await alertsDuring(prom, window)).toEqual([{ alertname: "", state: "pending", labels: { service: "s" } }]);
  });
});

describe("checkQueries over a recorded queryRange (the real Prometheus runs are query-check.test.ts's)", () => {
  const window = { start: 100, end: 200, stepS: 10 };
  const facts: RunFacts = { failedRequests: 0, limiterRejections: 0, cacheReads: false, redisFaults: false, kubernetes: false };
  const nothingFailed = { reason: "nothing failed", holds: (f: RunFacts) => f.failedRequests === 0 };

  it("runs each $service target once per service and others once, every rule, each over the window; empty, error and expected-empty named", async () => {
    const asked: string[] = [];
    const prom = {
      queryRange: async (expr: string, start: number, end: number, step: number) => {
        asked.push(`${expr} ${start} ${end} ${step}`);
        if (expr.startsWith("bad")) throw new Error("bad_data: parse error");
        return expr.includes("empty") ? [] : [{ metric: {}, values: [[150, "1"]] as [number, string][] }];
      },
    };
    const results = await checkQueries(prom, {
      dashboards: [
        {
          uid: "d",
          title: "D",
          variables: ["service"],
          rows: [],
          panels: [
            {
              id: 1,
              title: "P",
              unit: "short",
              gridPos: { x: 0, y: 0, w: 1, h: 1 },
              targets: [
                { refId: "A", expr: 'rate(x{service="$service"}[$__rate_interval])', legend: "" },
                { refId: "B", expr: "empty_ok", legend: "", emptyWhen: nothingFailed },
                { refId: "C", expr: "bad(", legend: "" },
              ],
            },
          ],
        },
      ],
      rules: [
        { record: "r:empty", expr: "empty_rule" },
        { record: "r:ok", expr: "sum(up)", emptyWhen: nothingFailed },
        { record: "r:allowed", expr: "empty_allowed", emptyWhen: nothingFailed },
      ],
      services: ["a", "b"],
      window,
      scrapeS: 5,
      facts,
    });
    // $__rate_interval at a 10 s step and 5 s scrapes: max(10 + 5, 4 × 5) = 20 s.
    expect(asked.sort()).toEqual(
      ['rate(x{service="a"}[20s])', 'rate(x{service="b"}[20s])', "empty_ok", "bad(", "empty_rule", "sum(up)", "empty_allowed"]
        .map((e) => `${e} 100 200 10`)
        .sort(),
    );
    const view = results.map(({ kind, name, service, series, status, detail }) => ({
      kind,
      name,
      service,
      series,
      status,
      detail,
    }));
    expect(view).toEqual([
      { kind: "panel", name: "D › P [A]", service: "a", series: 1, status: "data", detail: undefined },
      { kind: "panel", name: "D › P [A]", service: "b", series: 1, status: "data", detail: undefined },
      { kind: "panel", name: "D › P [B]", service: undefined, series: 0, status: "expected-empty", detail: "nothing failed" },
      { kind: "panel", name: "D › P [C]", service: undefined, series: 0, status: "error", detail: "bad_data: parse error" },
      { kind: "rule", name: "r:empty", service: undefined, series: 0, status: "empty", detail: undefined },
      { kind: "rule", name: "r:ok", service: undefined, series: 1, status: "data", detail: undefined },
      { kind: "rule", name: "r:allowed", service: undefined, series: 0, status: "expected-empty", detail: "nothing failed" },
    ]);
    expect(results.filter((r) => r.service === undefined).every((r) => !("service" in r))).toBe(true);
    expect(results[3].result).toEqual([]);
    expect(results[4].result).toEqual([]);
    // The same empty query in a run where requests failed is a failure.
    const failed = await checkQueries(prom, {
      dashboards: [],
      rules: [{ record: "r", expr: "empty_again", emptyWhen: nothingFailed }],
      services: ["a"],
      window,
      scrapeS: 5,
      facts: { ...facts, failedRequests: 1 },
    });
    expect(failed.map((r) => [r.status, r.detail])).toEqual([["empty", undefined]]);
  });

  it("refuses no services at all, saying $service would have no value, before asking Prometheus anything", async () => {
    const asked: string[] = [];
    const prom = { queryRange: async (expr: string) => (asked.push(expr), []) };
    const run = checkQueries(prom, {
      dashboards: [],
      rules: [{ record: "r", expr: "sum(up)" }],
      services: [],
      window,
      scrapeS: 5,
      facts,
    });
    await expect(run).rejects.toThrow(QueryCheckError);
    await expect(run).rejects.toThrow(/\$service/);
    expect(asked).toEqual([]);
  });
});
