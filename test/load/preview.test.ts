import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { legendColumns, legendName, PAGE_WIDTH, prefixIds, unitStyle, wrapNote } from "../../load/runner/dashboard-preview";

const ROOT = join(__dirname, "..", "..");

describe("dashboard preview pieces", () => {
  it("formats legends like Grafana: {{label}} from the series, the labels when no format", () => {
    expect(legendName("{{service}} in use", { service: "a" })).toBe("a in use");
    expect(legendName("", { __name__: "x", service: "a", tier: "redis" })).toBe('{service="a", tier="redis"}');
    expect(legendName("{{missing}}x", {})).toBe("x");
  });

  it("draws seconds as milliseconds and names every unit the dashboards use", () => {
    expect(unitStyle("s")).toMatchObject({ scale: 1000, title: "milliseconds" });
    for (const unit of ["reqps", "percentunit", "s", "short", "bytes", "Bps", "ops"])
      expect(unitStyle(unit).title).not.toBe(unit);
  });

  it("keeps ids of different panels apart", () => {
    const svg = '<clipPath id="clip1"/><g clip-path="url(#clip1)"/>';
    expect(prefixIds(svg, "p3-")).toBe('<clipPath id="p3-clip1"/><g clip-path="url(#p3-clip1)"/>');
  });

  it("wraps notes at word boundaries and fits legend columns to the width", () => {
    const lines = wrapNote("one two three four five six", 9);
    expect(lines.join(" ")).toBe("one two three four five six");
    expect(lines.every((l) => l.length <= 9 || !l.includes(" "))).toBe(true);
    expect(legendColumns(["a", "b", "c"], 1000)).toBe(3);
    expect(legendColumns(["orchestration-pipeline in use", "b"], 300)).toBe(1);
  });
});

/** vega is ESM-only: the pages are rendered by a tsx process (test/load/fixtures/render-preview.ts). */
describe("rendered dashboard page", () => {
  let out: {
    dashboard: string;
    latency: string;
    panels: { title: string; unit: string; gridPos: { x: number; y: number; w: number; h: number } }[];
  };

  beforeAll(() => {
    const run = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(__dirname, "fixtures", "render-preview.ts")], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(run.stderr);
    out = JSON.parse(run.stdout);
  }, 60_000);

  it("shows every panel's title and unit, the series' legend, and the expected-empty note", () => {
    for (const p of out.panels) {
      expect(out.dashboard).toContain(`>${p.title.replace(/&/g, "&amp;")}<`);
      expect(out.dashboard).toContain(unitStyle(p.unit).title);
    }
    expect(out.dashboard).toContain("svc-one");
    expect(out.dashboard).toContain("No data (expected)");
    // An empty panel still has its time axis (the dashboard's range), not NaN:NaN:NaN.
    expect(out.dashboard.includes("NaN")).toBe(false);
  });

  it("places panels at their grid positions without overlap, inside the page, with unique ids", () => {
    const boxes = [...out.dashboard.matchAll(/<svg x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) =>
      m.slice(1).map(Number),
    );
    expect(boxes).toHaveLength(out.panels.length);
    for (const [x, , w] of boxes) expect(x + w).toBeLessThanOrEqual(PAGE_WIDTH);
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1)) {
        const apart = a[0] + a[2] <= b[0] || b[0] + b[2] <= a[0] || a[1] + a[3] <= b[1] || b[1] + b[3] <= a[1];
        expect(apart).toBe(true);
      }
    // Same order as the grid: a panel lower in the grid is lower on the page.
    const ys = out.panels.map((p) => p.gridPos.y);
    boxes.forEach((b, i) => boxes.slice(i + 1).forEach((c, j) => ys[i] < ys[i + 1 + j] && expect(b[1]).toBeLessThan(c[1])));
    // Every panel's title starts inside its panel (a chart vega laid out too wide slides left, title first).
    const titleX = [
      ...out.dashboard.matchAll(
        /<svg x="[\d.]+"[^>]*>.*?transform="translate\((-?[\d.]+),[^)]*\)".*?role-title"><g transform="translate\((-?[\d.]+),/gs,
      ),
    ];
    expect(titleX).toHaveLength(out.panels.length);
    for (const [, root, title] of titleX) expect(Number(root) + Number(title)).toBeGreaterThanOrEqual(0);
    const ids = [...out.dashboard.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("draws the latency chart with its axes titled and its legend", () => {
    for (const text of ["Latency over time", "latency (ms)", "virtual users", "time since start (s)", "p95"])
      expect(out.latency).toContain(text);
  });
});
