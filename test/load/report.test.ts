import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reportMarkdown, type LoadReport } from "../../load/runner/report";

const ROOT = join(__dirname, "..", "..");

function report(overrides: Partial<LoadReport> = {}): LoadReport {
  const summary = { requests: 2000, errors: 3, errorRate: 0.0015, p50Ms: 4, p95Ms: 12.5, p99Ms: 30, throughput: 33.33 };
  return {
    stack: "local",
    mode: "quick",
    startedAt: "2026-01-02T03:04:05.000Z",
    durationS: 60.4,
    slo: { latencyP95Ms: 500, errorRate: 0.01 },
    sloMet: true,
    ...summary,
    stages: [{ stage: 0, label: "2m → 100 VUs", durationS: 13.3, maxVus: 93, ...summary }],
    services: [
      {
        service: "api",
        clientP95Ms: 12.5,
        serverP95Ms: 13,
        bucketMs: [10, 25],
        relativeDifference: 0.04,
        clientInBucket: true,
        agrees: true,
        level: "agree",
      },
    ],
    failures: [],
    prometheus: {
      scrapeInterval: "5s",
      window: { start: 1_767_322_000, end: 1_767_322_060, stepS: 5 },
      queries: [
        {
          kind: "panel",
          name: "UAIP / Service overview › Request rate [A]",
          service: "api",
          expr: "x",
          series: 1,
          status: "data",
        },
      ],
      alerts: [],
    },
    timeline: [
      { atS: 0, p50Ms: 4, p95Ms: 10, p99Ms: 20, vus: 10, errorRate: 0 },
      { atS: 30, p50Ms: 5, p95Ms: 15, p99Ms: 40, vus: 100, errorRate: 0.01 },
    ],
    ...overrides,
  };
}

/** The markdown table rows whose first cell is `first`, split into trimmed cells. */
const row = (md: string, first: string) =>
  md
    .split("\n")
    .filter((l) => l.startsWith(`| ${first} |`))
    .map((l) =>
      l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );

describe("load report", () => {
  it("heads with PASS only when the SLO is met and nothing failed", () => {
    expect(reportMarkdown(report())).toMatch(/^# Load run: local \(quick\), 2026-01-02T03:04:05.000Z\n\n\*\*PASS\*\* — /);
    expect(reportMarkdown(report({ sloMet: false }))).toContain("**FAIL**");
    const agreementOnly = reportMarkdown(report({ failures: ["api: disagrees"] }));
    expect(agreementOnly).toContain("**FAIL**");
    expect(agreementOnly).toContain("Failures:\n\n- api: disagrees\n");
    expect(reportMarkdown(report())).not.toContain("Failures:");
  });

  it("states the SLO and the measurement with percentages of the rates", () => {
    expect(reportMarkdown(report())).toContain(
      "SLO p95 < 500 ms and errors < 1.00 %; measured p95 12.5 ms, errors 0.15 %, 2000 requests in 60 s (33.33 req/s).",
    );
  });

  it("one row per stage, a total row, and one row per service with its agreement", () => {
    const md = reportMarkdown(report());
    expect(row(md, "2m → 100 VUs")).toEqual([["2m → 100 VUs", "13 s", "93", "2000", "33.33", "4", "12.5", "30", "0.15 %"]]);
    expect(row(md, "**all**")).toEqual([["**all**", "60 s", "", "2000", "33.33", "4", "12.5", "30", "0.15 %"]]);
    expect(row(md, "api")).toEqual([["api", "12.5", "13", "10–25", "4.00 %", "yes", "agree"]]);
    const off = reportMarkdown(
      report({ services: [{ ...report().services[0], clientInBucket: false, agrees: false, level: "diagnostic" }] }),
    );
    expect(row(off, "api")[0].slice(-2)).toEqual(["no", "diagnostic"]);
  });

  it("is well-formed markdown: each table's header, separator and rows have the same number of cells, blocks apart", () => {
    const md = reportMarkdown(report({ failures: ["x"] }));
    const blocks = md.split("\n\n");
    // Stages, services and the Prometheus queries (the report ends with a newline: no empty row).
    const tables = blocks
      .filter((b) => b.startsWith("|"))
      .map((b) =>
        b
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split("|").length),
      );
    expect(tables).toHaveLength(3);
    for (const widths of tables) {
      expect(widths.length).toBeGreaterThanOrEqual(3);
      expect(new Set(widths).size).toBe(1);
    }
    // Header then separator (only dashes and colons) at the top of each table.
    for (const b of blocks.filter((x) => x.startsWith("|"))) expect(b.split("\n")[1]).toMatch(/^\|( :?-{3}:? \|)+$/);
    expect(blocks).toContain("Failures:");
    expect(blocks).toContain("- x");
    expect(blocks).toContain("![latency over time](latency.svg)");
    expect(blocks.filter((b) => b.startsWith("Client-side p95") || b.startsWith("They agree"))).toHaveLength(2);
  });

  it("writes report.json (the report itself), report.md and latency.svg", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-load-report-"));
    try {
      const r = report();
      const out = join(dir, "nested", "twice");
      // vega (the chart) is ESM-only, which jest's CommonJS runtime cannot load: a tsx process writes the report.
      const script = `import { writeReport } from ${JSON.stringify(join(ROOT, "load", "runner", "report"))};
writeReport(${JSON.stringify(out)}, ${JSON.stringify(r)}).catch((e) => { console.error(e); process.exit(1); });`;
      const run = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), ["-e", script], { encoding: "utf8", timeout: 60_000 });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8"))).toEqual(r);
      expect(readFileSync(join(out, "report.md"), "utf8")).toBe(reportMarkdown(r));
      const svg = readFileSync(join(out, "latency.svg"), "utf8");
      // The chart itself is vega-lite's (its spec is tested in runner.test.ts); here: it is the run's SVG.
      expect(svg).toMatch(/^<svg/);
      expect(svg).toContain("Latency over time: local (quick)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
