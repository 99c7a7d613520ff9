/**
 * report.md's Prometheus part and its optional blocks at their edges: every query status in words,
 * `|` in any name or detail kept inside its cell (property), the alerts line with and without
 * alerts, the diagnostics and previews blocks present exactly when there is something to list.
 */
import fc from "fast-check";
import type { AlertSeen, QueryCheck, QueryStatus } from "../../load/runner/query-check";
import { reportMarkdown, type LoadReport } from "../../load/runner/report";

function report(overrides: Partial<LoadReport> = {}, prometheus: Partial<LoadReport["prometheus"]> = {}): LoadReport {
  const summary = { requests: 10, errors: 0, errorRate: 0, p50Ms: 1, p95Ms: 2, p99Ms: 3, throughput: 1 };
  return {
    stack: "dev",
    mode: "full",
    startedAt: "2026-01-01T00:00:00.000Z",
    durationS: 10,
    slo: { latencyP95Ms: 100, errorRate: 0.01 },
    sloMet: true,
    ...summary,
    stages: [],
    services: [],
    failures: [],
    timeline: [],
    ...overrides,
    prometheus: {
      scrapeInterval: "15s",
      window: { start: 1000, end: 1600, stepS: 15 },
      queries: [],
      alerts: [],
      ...prometheus,
    },
  };
}

const lines = (md: string) => md.split("\n");
/** The cells of a markdown table row: split on `|` not preceded by a backslash. */
const cells = (row: string) =>
  row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());
const queryRows = (md: string) => {
  const all = lines(md);
  const head = all.indexOf("| query | service | series | result |");
  const end = all.indexOf("", head);
  return all.slice(head + 2, end === -1 ? undefined : end);
};

const check = (over: Partial<QueryCheck> = {}): QueryCheck => ({
  kind: "panel",
  name: "D › P [A]",
  expr: "up",
  series: 1,
  status: "data",
  ...over,
});

describe("the Prometheus part of report.md", () => {
  it("states the scrape interval, the window's length and its step", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 1, max: 60 }),
        (start, len, step) => {
          const md = reportMarkdown(report({}, { scrapeInterval: `${step}s`, window: { start, end: start + len, stepS: step } }));
          expect(md).toContain(
            `Prometheus scraped every ${step}s; each query ran over the run's window (${len} s, step ${step} s).`,
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it("one row per query: panel or rule, its service (or none), its series, and its status in words, failures in bold", () => {
    const words: Record<QueryStatus, string> = {
      data: "data",
      "expected-empty": "empty (expected)",
      empty: "**EMPTY**",
      nan: "**only NaN**",
      error: "**ERROR**",
    };
    const queries = (Object.keys(words) as QueryStatus[]).map((status, i) =>
      check({ kind: i % 2 ? "rule" : "panel", name: `q${i}`, status, series: i, ...(i % 2 ? {} : { service: `s${i}` }) }),
    );
    const rows = queryRows(reportMarkdown(report({}, { queries })));
    expect(rows.map(cells)).toEqual(
      queries.map((q) => [`${q.kind === "rule" ? "rule " : ""}${q.name}`, q.service ?? "", String(q.series), words[q.status]]),
    );
  });

  it("appends a query's detail to its status", () => {
    const rows = queryRows(
      reportMarkdown(
        report(
          {},
          {
            queries: [
              check({ status: "expected-empty", detail: "no 5xx in this run" }),
              check({ status: "error", detail: "bad" }),
            ],
          },
        ),
      ),
    );
    expect(rows.map((r) => cells(r)[3])).toEqual(["empty (expected): no 5xx in this run", "**ERROR**: bad"]);
  });

  it("keeps any `|` in a query's name or detail inside its cell: every row has the table's 4 cells (property)", () => {
    const text = fc
      .string({ unit: fc.constantFrom("a", "|", " ", "x", "[", "]"), minLength: 1, maxLength: 12 })
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.option(text, { nil: undefined })), { minLength: 1, maxLength: 4 }), (qs) => {
        const queries = qs.map(([name, detail]) => check({ name, detail, status: "error" }));
        const rows = queryRows(reportMarkdown(report({}, { queries })));
        expect(rows).toHaveLength(queries.length);
        rows.forEach((r, i) => {
          const c = cells(r);
          expect(c).toHaveLength(4);
          expect(c[0].replace(/\\\|/g, "|")).toBe(queries[i].name);
          const detail = queries[i].detail;
          expect(c[3].replace(/\\\|/g, "|")).toBe(detail ? `**ERROR**: ${detail}` : "**ERROR**");
        });
      }),
      { numRuns: 20 },
    );
  });

  it("lists the alerts seen by name, state and service (or instance), and says none when there were none", () => {
    expect(reportMarkdown(report())).toContain("\nAlerts pending or fired during the run: none.\n");
    const alerts: AlertSeen[] = [
      { alertname: "A", state: "firing", labels: { service: "api", instance: "h:1" } },
      { alertname: "B", state: "pending", labels: { instance: "h:2" } },
      { alertname: "C", state: "firing", labels: {} },
    ];
    expect(reportMarkdown(report({}, { alerts }))).toContain(
      "\nAlerts pending or fired during the run: A (firing, api), B (pending, h:2), C (firing, ).\n",
    );
  });

  it("shows the dashboard previews, each with its caption, only when there are some", () => {
    const md = reportMarkdown(report(), [
      { path: "dashboards/a.svg", caption: "A" },
      { path: "dashboards/b.x.svg", caption: "B (x)" },
    ]);
    expect(md).toContain(
      "Dashboard previews, drawn from these results:\n\n![A](dashboards/a.svg)\n\n![B (x)](dashboards/b.x.svg)\n",
    );
    expect(reportMarkdown(report())).not.toContain("Dashboard previews");
    expect(reportMarkdown(report(), [])).toBe(reportMarkdown(report()));
    // Without previews the report ends with the queries' table.
    expect(
      reportMarkdown(report({}, { queries: [check()] }))
        .split("\n")
        .slice(-2),
    ).toEqual(["| D › P [A] |  | 1 | data |", ""]);
  });
});

describe("report.md's optional blocks and verdict", () => {
  it("the Prometheus part is its own section: a heading, then the interval, the alerts and the table as separate blocks", () => {
    const blocks = reportMarkdown(report({}, { queries: [check()] })).split("\n\n");
    const heading = blocks.indexOf("## Dashboards and rules against the run's Prometheus");
    expect(heading).toBeGreaterThan(0);
    expect(blocks[heading + 1]).toMatch(/^Prometheus scraped every 15s; [^\n]*$/);
    expect(blocks[heading + 2]).toMatch(/^Alerts pending or fired during the run: none\.$/);
    expect(blocks[heading + 3].split("\n")[0]).toBe("| query | service | series | result |");
  });

  it("without failures or diagnostics, the agreement rule's paragraph is followed by the latency chart", () => {
    const blocks = reportMarkdown(report()).split("\n\n");
    const chart = blocks.indexOf("![latency over time](latency.svg)");
    expect(blocks[chart - 1]).toMatch(/^They agree within 10 %/);
    const failed = reportMarkdown(report({ failures: ["f1"] })).split("\n\n");
    expect(failed[failed.indexOf("![latency over time](latency.svg)") - 1]).toBe("- f1");
  });

  it("lists diagnostics after the failures, as not failing, only when there are some", () => {
    const md = reportMarkdown(report({ failures: ["f1"], diagnostics: ["d1", "d2"] }));
    expect(md).toContain("Failures:\n\n- f1\n\nDiagnostics (not failures):\n\n- d1\n- d2\n\n![latency over time](latency.svg)");
    for (const diagnostics of [undefined, []]) expect(reportMarkdown(report({ diagnostics }))).not.toContain("Diagnostics");
    // A diagnostic alone does not fail the run.
    expect(reportMarkdown(report({ diagnostics: ["d"] }))).toContain("**PASS**");
  });

  it("PASS exactly when the SLO is met and nothing failed (all four combinations)", () => {
    for (const sloMet of [true, false])
      for (const failures of [[], ["x"]]) {
        const pass = sloMet && failures.length === 0;
        expect(reportMarkdown(report({ sloMet, failures }))).toContain(pass ? "**PASS** — " : "**FAIL** — ");
        expect(reportMarkdown(report({ sloMet, failures }))).not.toContain(pass ? "**FAIL**" : "**PASS**");
      }
  });

  it("writes rates as percentages with two decimals, in the headline and every table", () => {
    const md = reportMarkdown(
      report({
        errorRate: 0.12345,
        slo: { latencyP95Ms: 100, errorRate: 0.001 },
        stages: [
          {
            stage: 0,
            label: "s",
            durationS: 1.6,
            maxVus: 1,
            requests: 1,
            errors: 1,
            errorRate: 1,
            p50Ms: 1,
            p95Ms: 1,
            p99Ms: 1,
            throughput: 1,
          },
        ],
        services: [
          {
            service: "api",
            clientP95Ms: 1,
            serverP95Ms: 1,
            bucketMs: [0, 5],
            relativeDifference: 0.005,
            clientInBucket: true,
            agrees: true,
            level: "agree",
          },
        ],
      }),
    );
    expect(md).toContain("errors < 0.10 %; measured p95 2 ms, errors 12.35 %");
    expect(lines(md).find((l) => l.startsWith("| s |"))).toBe("| s | 2 s | 1 | 1 | 1 | 1 | 1 | 1 | 100.00 % |");
    expect(lines(md).find((l) => l.startsWith("| api |"))).toBe("| api | 1 | 1 | 0–5 | 0.50 % | yes | agree |");
  });
});
