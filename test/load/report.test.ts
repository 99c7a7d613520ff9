import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { latencyChart } from "../../load/runner/chart";
import { reportMarkdown, writeReport, type LoadReport } from "../../load/runner/report";

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
      },
    ],
    failures: [],
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
    expect(row(md, "api")).toEqual([["api", "12.5", "13", "10–25", "4.00 %", "yes", "yes"]]);
    const off = reportMarkdown(report({ services: [{ ...report().services[0], clientInBucket: false, agrees: false }] }));
    expect(row(off, "api")[0].slice(-2)).toEqual(["no", "no"]);
  });

  it("is well-formed markdown: each table's header, separator and rows have the same number of cells, blocks apart", () => {
    const md = reportMarkdown(report({ failures: ["x"] }));
    const blocks = md.split("\n\n");
    const tables = blocks.filter((b) => b.startsWith("|")).map((b) => b.split("\n").map((l) => l.split("|").length));
    expect(tables).toHaveLength(2);
    for (const widths of tables) {
      expect(widths.length).toBeGreaterThanOrEqual(3);
      expect(new Set(widths).size).toBe(1);
    }
    // Header then separator (only dashes and colons) at the top of each table.
    for (const b of blocks.filter((x) => x.startsWith("|"))) expect(b.split("\n")[1]).toMatch(/^\|( :?-{3}:? \|)+$/);
    expect(blocks).toContain("Failures:");
    expect(blocks).toContain("- x");
    expect(blocks.at(-1)).toBe("![latency over time](latency.svg)\n");
    expect(blocks.filter((b) => b.startsWith("Client-side p95") || b.startsWith("They agree"))).toHaveLength(2);
  });

  it("writes report.json (the report itself), report.md and latency.svg", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-load-report-"));
    try {
      const r = report();
      const out = join(dir, "nested", "twice");
      writeReport(out, r);
      expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8"))).toEqual(r);
      expect(readFileSync(join(out, "report.md"), "utf8")).toBe(reportMarkdown(r));
      const svg = readFileSync(join(out, "latency.svg"), "utf8");
      expect(svg).toBe(latencyChart(r.timeline, { title: "Latency over time: local (quick)", sloP95Ms: 500 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("latency chart geometry", () => {
  // The plot area: x from 60 to 840 (900 wide, 60 padding each side), y from 316 (0 ms) up to 40 (the axis max).
  const points = (p95: number[]) =>
    p95.map((v, i) => ({ atS: i * 10, p50Ms: v / 2, p95Ms: v, p99Ms: v, vus: 10 * (i + 1), errorRate: 0 }));
  const polylines = (svg: string) =>
    [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(" ").map((xy) => xy.split(",").map(Number)));

  it("spans the plot from the first to the last time, and higher latency is drawn higher", () => {
    const svg = latencyChart(points([100, 200, 400]), { title: "t", sloP95Ms: 500 });
    const [, p95] = polylines(svg);
    expect(p95.map(([x]) => x)).toEqual([60, 450, 840]);
    const ys = p95.map(([, y]) => y);
    expect(ys[0]).toBeGreaterThan(ys[1]);
    expect(ys[1]).toBeGreaterThan(ys[2]);
    // Axis max niceMax(500) = 500 (the SLO is near the peak): 400 ms sits at 316 - 0.8 * 276.
    expect(ys[2]).toBeCloseTo(316 - 0.8 * 276, 1);
    expect(svg).toContain('y1="40" y2="40" stroke="#dc2626"'); // the SLO line at the top of the axis
  });

  it("keeps the SLO off the axis when latency stays far below it, and says so", () => {
    const svg = latencyChart(points([10, 20]), { title: "t", sloP95Ms: 500 });
    expect(svg).toContain("SLO p95 &lt; 500 ms (far above)");
    // The axis fits the data instead: niceMax(20 x 1.1) = 50.
    expect(svg).toContain(">50 ms</text>");
  });

  it("marks each window with errors, and only those", () => {
    const withErrors = points([10, 20, 30]).map((p, i) => ({ ...p, errorRate: i === 1 ? 0.25 : 0 }));
    const svg = latencyChart(withErrors, { title: "t", sloP95Ms: 500 });
    expect([...svg.matchAll(/<circle cx="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g)].map((m) => [m[1], m[2]])).toEqual([
      ["450", "25 % errors"],
    ]);
  });
});
