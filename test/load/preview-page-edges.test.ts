/**
 * The dashboard page around the vega panels (dashboard-preview.ts's `dashboardSvg`, `svgToPng`,
 * `writeDashboardPreviews`) at its edges, without vega: vega is ESM-only (preview.test.ts renders a
 * real page in a tsx process), so here `renderVegaLite` is replaced by a stand-in that records the
 * spec each panel asked for and returns a small SVG carrying it. What is tested is the page: the grid
 * layout, the row headers, the title, the id prefixes, the outer `<svg>` of each panel stripped, the
 * spec each panel gets (its size, its shared time range, its "no data" note from its own checks), and
 * which files are written for which services. `rsvg-convert` is a shell script put first on PATH.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInThisContext } from "node:vm";
import type { DashboardQueries, PanelQueries } from "../../dashboards/queries";
import type { QueryResult } from "../../load/runner/query-check";

/** The stand-in renderer: each call's spec, and an SVG whose body holds the spec (base64) and an id with its reference. */
const rendered: Record<string, unknown>[] = [];
jest.mock("../../load/runner/vega", () => ({
  renderVegaLite: async (spec: Record<string, unknown>) => {
    rendered.push(spec);
    const data = Buffer.from(JSON.stringify(spec)).toString("base64");
    // vega ends its SVG with no newline; a trailing newline (or none) must go with the outer tag either way.
    const tail = rendered.length % 2 ? "\n" : "";
    return `<svg class="marks" width="${spec.width}" height="${spec.height}" xmlns="http://www.w3.org/2000/svg"><g data-spec="${data}"><clipPath id="clip1"/><path clip-path="url(#clip1)"/><svg class="nested"><rect/></svg></g></svg>${tail}`;
  },
}));

// Imported after the mock is declared (jest hoists jest.mock anyway; the order keeps it readable).
import { dashboardSvg, PAGE_WIDTH, ROW_PX, svgToPng, writeDashboardPreviews } from "../../load/runner/dashboard-preview";

/** The layout the page promises: a 44 px header above the grid, 8 px between panels, 24 columns over the page. */
const HEADER = 44;
const GAP = 8;
const COL = PAGE_WIDTH / 24;

const panel = (id: number, title: string, gridPos: PanelQueries["gridPos"], refs = ["A"]): PanelQueries => ({
  id,
  title,
  unit: "reqps",
  gridPos,
  targets: refs.map((refId) => ({ refId, expr: `${title} ${refId}`, legend: "{{service}}" })),
});
const result = (name: string, points: [number, string][], over: Partial<QueryResult> = {}): QueryResult => ({
  kind: "panel",
  name,
  expr: "x",
  series: points.length ? 1 : 0,
  status: points.length ? "data" : "empty",
  result: points.length ? [{ metric: { service: over.service ?? "none" }, values: points }] : [],
  ...over,
});

interface PanelBox {
  x: number;
  y: number;
  width: number;
  height: number;
  viewBox: string;
  body: string;
  border: string;
  spec: {
    width: number;
    height: number;
    title: { text: string };
    layer: { mark: { type: string }; data: { values: Record<string, unknown>[] }; encoding: { x?: { scale?: unknown } } }[];
  };
}

/** Each panel on the page, in page order: its box, the body drawn in it, its border, and the spec it was drawn from. */
function panelsOf(page: string): PanelBox[] {
  return [
    ...page.matchAll(
      /<svg x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)" viewBox="([^"]+)">(.*?)<\/svg>(<rect [^>]*\/>)/gs,
    ),
  ].map(([, x, y, width, height, viewBox, body, border]) => ({
    x: Number(x),
    y: Number(y),
    width: Number(width),
    height: Number(height),
    viewBox,
    body,
    border,
    spec: JSON.parse(Buffer.from(/data-spec="([^"]+)"/.exec(body)![1], "base64").toString()),
  }));
}

const noteOf = (p: PanelBox) => (p.spec.layer.find((l) => l.mark.type === "text")?.data.values[0].note as string[]).join(" ");

beforeEach(() => {
  rendered.length = 0;
});

describe("dashboardSvg: the page", () => {
  const wide = panel(7, "Requests", { x: 0, y: 1, w: 24, h: 6 });
  const left = panel(8, "Errors", { x: 0, y: 8, w: 12, h: 5 }, ["A", "B"]);
  const right = panel(9, "Cache", { x: 12, y: 8, w: 12, h: 4 });
  const d: DashboardQueries = {
    uid: "ov",
    title: 'Ops & "perf" <main>',
    variables: [],
    rows: [
      { title: "Traffic & load", y: 0 },
      { title: "Failures", y: 7 },
    ],
    panels: [wide, left, right],
  };
  const results = [
    result(`${d.title} › Requests [A]`, [
      [1_000, "1"],
      [1_030, "2"],
    ]),
    result(`${d.title} › Errors [A]`, [], { status: "empty" }),
    result(`${d.title} › Errors [B]`, [], { status: "expected-empty", detail: "nothing failed" }),
    result(`${d.title} › Cache [A]`, [[990, "3"]]),
  ];

  it("places every panel at its grid cell (24 columns, 30 px rows under a 44 px header, 8 px apart), framed, its own size", async () => {
    const page = await dashboardSvg(d, results);
    const boxes = panelsOf(page);
    expect(boxes).toHaveLength(3);
    for (const [i, p] of d.panels.entries()) {
      const b = boxes[i];
      const width = p.gridPos.w * COL - GAP;
      const height = p.gridPos.h * ROW_PX - GAP;
      expect(b).toMatchObject({ x: p.gridPos.x * COL + GAP / 2, y: HEADER + p.gridPos.y * ROW_PX + GAP / 2, width, height });
      expect(b.viewBox).toBe(`0 0 ${width} ${height}`);
      expect(b.border).toBe(`<rect x="${b.x}" y="${b.y}" width="${width}" height="${height}" fill="none" stroke="#d1d5db"/>`);
      // The chart is laid out for the panel's own size, with the panel's title.
      expect(b.spec).toMatchObject({ width, height, title: { text: p.title } });
    }
    // Side by side in one grid row: the gap is between them, inside the page.
    expect(boxes[2].x - (boxes[1].x + boxes[1].width)).toBe(GAP);
    expect(boxes[2].x + boxes[2].width + GAP / 2).toBe(PAGE_WIDTH);
  });

  it("each panel's body is the chart without its own <svg> wrapper (an <svg> inside it kept whole), ids and references prefixed by the panel id", async () => {
    const boxes = panelsOf(await dashboardSvg(d, results));
    for (const [i, b] of boxes.entries()) {
      const id = d.panels[i].id;
      expect(b.body).toMatch(/^<g data-spec="[^"]+">/);
      expect(b.body).toContain(
        `<clipPath id="p${id}-clip1"/><path clip-path="url(#p${id}-clip1)"/><svg class="nested"><rect/></svg></g>`,
      );
      expect(b.body.endsWith("</g>")).toBe(true);
      expect(b.body).not.toContain('class="marks"');
    }
  });

  it("the page is as tall as the lowest panel or row header, titled, with every row header at its grid row", async () => {
    const page = await dashboardSvg(d, results);
    // The lowest panel ends at row 8 + 5.
    const height = HEADER + 13 * ROW_PX;
    expect(page.startsWith("<svg ")).toBe(true);
    expect(page).toContain(` width="${PAGE_WIDTH}" height="${height}" viewBox="0 0 ${PAGE_WIDTH} ${height}"`);
    expect(page).toContain(`<rect width="${PAGE_WIDTH}" height="${height}"`);
    expect(page.endsWith("</svg>\n")).toBe(true);
    // The title and the row headers are escaped: the page stays well-formed XML whatever they hold.
    const texts = [...page.matchAll(/<text x="8" y="(\d+)"[^>]*>([^<]*)<\/text>/g)].map(([, y, t]) => [Number(y), t]);
    expect(texts).toEqual([
      [28, "Ops &#38; &#34;perf&#34; &#60;main&#62;"],
      [HEADER + 0 * ROW_PX + 21, "Traffic &#38; load"],
      [HEADER + 7 * ROW_PX + 21, "Failures"],
    ]);
    // A row header below every panel makes the page taller: one grid row for the header.
    const low = { ...d, rows: [...d.rows, { title: "Later", y: 20 }] };
    expect(await dashboardSvg(low, results)).toContain(` height="${HEADER + 21 * ROW_PX}" `);
    // And a service page says which service it shows.
    expect(await dashboardSvg({ ...d, title: "S" }, [], "api")).toContain(">S — service api</text>");
    expect(await dashboardSvg({ ...d, title: "S" }, [])).toContain(">S</text>");
  });

  it("every panel shares the dashboard's time range (its earliest and latest point, in ms); none when nothing has a point", async () => {
    const boxes = panelsOf(await dashboardSvg(d, results));
    const all = [1_000, 1_030, 990].map((s) => s * 1000);
    for (const b of boxes) expect(b.spec.layer[0].encoding.x!.scale).toEqual({ domain: [Math.min(...all), Math.max(...all)] });
    const empty = panelsOf(await dashboardSvg(d, []));
    for (const b of empty) expect(b.spec.layer[0].encoding.x!.scale).toBeUndefined();
  });

  it("an empty panel's note gives the reason of its own expected-empty check, for this service only; 'No data' otherwise", async () => {
    const boxes = panelsOf(await dashboardSvg(d, results));
    // Errors: [A] failed empty, [B] expected-empty: the reason is B's.
    expect(noteOf(boxes[1])).toBe("No data (expected): nothing failed");
    expect(boxes[0].spec.layer.some((l) => l.mark.type === "text")).toBe(false);

    // Another panel's expected-empty check, or this panel's for another service, says nothing about this one.
    const other = [
      result(`${d.title} › Requests [A]`, [], { status: "expected-empty", detail: "not this panel" }),
      result(`${d.title} › Errors [B]`, [], { status: "expected-empty", detail: "other service", service: "b" }),
      result(`${d.title} › Errors [A]`, [], { status: "empty", detail: "an error, not a reason" }),
    ];
    const page = panelsOf(await dashboardSvg(d, other));
    expect(noteOf(page[1])).toBe("No data");
    expect(noteOf(page[2])).toBe("No data");
    // For service b, its own check is found.
    expect(noteOf(panelsOf(await dashboardSvg(d, other, "b"))[1])).toBe("No data (expected): other service");
  });

  it("draws only the points of the service the page is for", async () => {
    const byService = [
      result(`${d.title} › Requests [A]`, [[5, "1"]], { service: "a" }),
      result(`${d.title} › Requests [A]`, [[6, "2"]], { service: "b" }),
    ];
    const [a] = panelsOf(await dashboardSvg(d, byService, "a"));
    expect(a.spec.layer[0].data.values).toEqual([{ t: 5000, value: 1, series: "a" }]);
    expect(a.spec.layer[0].encoding.x!.scale).toEqual({ domain: [5000, 5000] });
  });
});

/** A directory first on PATH holding an `rsvg-convert` shell script with this body (none: a directory without one). */
async function withRsvg<T>(script: string | undefined, run: () => T | Promise<T>): Promise<T> {
  const bin = mkdtempSync(join(tmpdir(), "rsvg-"));
  if (script !== undefined) {
    writeFileSync(join(bin, "rsvg-convert"), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, "rsvg-convert"), 0o755);
  }
  // Jest gives a test file a copy of process.env; spawnSync looks the command up on the real process's PATH.
  const env = (runInThisContext("process") as NodeJS.Process).env;
  const path = env.PATH;
  env.PATH = script === undefined ? bin : `${bin}:${path}`;
  try {
    return await run();
  } finally {
    env.PATH = path;
  }
}

/** Writes its arguments, one a line, to the file after `-o`: the PNG it was asked for. */
const RECORDING =
  'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done; printf "%s\\n" "$@" > "$out"';

describe("svgToPng", () => {
  const dir = mkdtempSync(join(tmpdir(), "png-"));
  const svg = join(dir, "a.svg");
  writeFileSync(svg, "<svg/>");

  it("false when rsvg-convert is not installed, and writes nothing", async () => {
    expect(await withRsvg(undefined, () => svgToPng(svg, join(dir, "none.png")))).toBe(false);
    expect(existsSync(join(dir, "none.png"))).toBe(false);
  });

  it("asks rsvg-convert for the PNG on a white background, and says it wrote it", async () => {
    const png = join(dir, "a.png");
    expect(await withRsvg(RECORDING, () => svgToPng(svg, png))).toBe(true);
    expect(readFileSync(png, "utf8").trim().split("\n")).toEqual(["--background-color=white", "-o", png, svg]);
  });

  it("a failing rsvg-convert is an error naming the SVG and quoting what it said", async () => {
    await expect(withRsvg('echo "bad svg here" >&2; exit 3', () => svgToPng(svg, join(dir, "b.png")))).rejects.toThrow(
      new Error(`rsvg-convert ${svg} failed: bad svg here\n`),
    );
  });
});

describe("writeDashboardPreviews", () => {
  const plain: DashboardQueries = {
    uid: "plat",
    title: "Platform",
    variables: [],
    rows: [],
    panels: [panel(1, "Requests", { x: 0, y: 0, w: 24, h: 4 })],
  };
  const perService: DashboardQueries = {
    ...plain,
    uid: "svc",
    title: "Service",
    variables: ["service"],
    panels: [panel(1, "Requests", { x: 0, y: 0, w: 24, h: 4 }, ["A", "B"])],
  };
  const results = [
    result("Platform › Requests [A]", [[1, "1"]]),
    result("Service › Requests [A]", [[1, "1"]], { service: "zeta" }),
    result("Service › Requests [A]", [[2, "2"]], { service: "alpha" }),
    result("Service › Requests [B]", [[3, "3"]], { service: "zeta" }),
    // Not this dashboard's (a prefix without " › "), and no service: neither makes a page.
    result("Services › Requests [A]", [[1, "1"]], { service: "other" }),
    result("Service › Requests [B]", [[1, "1"]]),
  ];

  it("one page per dashboard, per service (sorted, once each) when it has $service, as SVG under dashboards/, created with its parents", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "previews-")), "run", "out");
    const previews = await withRsvg(undefined, () => writeDashboardPreviews(dir, [plain, perService], results));
    expect(previews).toEqual([
      { path: "dashboards/plat.svg", caption: "Platform" },
      { path: "dashboards/svc.alpha.svg", caption: "Service (alpha)" },
      { path: "dashboards/svc.zeta.svg", caption: "Service (zeta)" },
    ]);
    // Exactly those files, and no PNG without rsvg-convert.
    expect(readdirSync(join(dir, "dashboards")).sort()).toEqual(["plat.svg", "svc.alpha.svg", "svc.zeta.svg"]);
    const zeta = readFileSync(join(dir, "dashboards", "svc.zeta.svg"), "utf8");
    expect(zeta).toContain(">Service — service zeta</text>");
    expect(panelsOf(zeta)[0].spec.layer[0].data.values.map((p) => p.t)).toEqual([1000, 3000]);
    expect(readFileSync(join(dir, "dashboards", "plat.svg"), "utf8")).toContain(">Platform</text>");
  });

  it("a $service dashboard with no service's result has no page; a PNG next to each SVG when rsvg-convert is there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "previews-"));
    mkdirSync(join(dir, "dashboards"));
    const previews = await withRsvg(RECORDING, () => writeDashboardPreviews(dir, [perService, plain], results.slice(0, 1)));
    expect(previews).toEqual([{ path: "dashboards/plat.svg", caption: "Platform" }]);
    expect(readdirSync(join(dir, "dashboards")).sort()).toEqual(["plat.png", "plat.svg"]);
    const args = readFileSync(join(dir, "dashboards", "plat.png"), "utf8")
      .trim()
      .split("\n");
    expect(args.slice(-2)).toEqual([join(dir, "dashboards", "plat.png"), join(dir, "dashboards", "plat.svg")]);
  });
});
