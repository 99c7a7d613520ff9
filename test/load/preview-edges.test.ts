/**
 * The dashboard preview's pure pieces at their edges (the rendered pages are preview.test.ts's, in
 * a tsx process): legends, units, which results a panel draws, note wrapping (property), legend
 * columns, the panel spec's axes, objective line and empty note, and id prefixes.
 */
import fc from "fast-check";
import type { DashboardQueries, PanelQueries } from "../../dashboards/queries";
import {
  legendColumns,
  legendName,
  panelPoints,
  panelSpec,
  prefixIds,
  unitStyle,
  wrapNote,
} from "../../load/runner/dashboard-preview";
import type { QueryResult } from "../../load/runner/query-check";

const panel = (over: Partial<PanelQueries> = {}): PanelQueries => ({
  id: 3,
  title: "Latency",
  unit: "s",
  gridPos: { x: 0, y: 0, w: 12, h: 8 },
  targets: [
    { refId: "A", expr: "a", legend: "{{service}} p95" },
    { refId: "B", expr: "b", legend: "" },
  ],
  ...over,
});
const dashboard = (p: PanelQueries): DashboardQueries => ({ uid: "d", title: "D", variables: [], rows: [], panels: [p] });
const result = (name: string, values: [number, string][], over: Partial<QueryResult> = {}): QueryResult => ({
  kind: "panel",
  name,
  expr: "x",
  series: 1,
  status: "data",
  result: [{ metric: { __name__: "m", service: "api" }, values }],
  ...over,
});

describe("legends and units", () => {
  it("replaces each {{label}} (spaces inside allowed) by the series' value, a missing one by nothing", () => {
    expect(legendName("{{ service }}/{{tier}} {{service}}", { service: "a", tier: "t" })).toBe("a/t a");
    expect(legendName("{{x}}-{{y}}", { x: "1" })).toBe("1-");
    expect(legendName("plain", { x: "1" })).toBe("plain");
  });

  it("a label the series does not carry is nothing, whatever its name: Object.prototype's members too ({{toString}})", () => {
    const label = fc.oneof(
      fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype).filter((n) => /^\w+$/.test(n))),
      fc.stringMatching(/^\w{1,12}$/),
    );
    fc.assert(
      fc.property(label, fc.dictionary(fc.stringMatching(/^[a-z]\w{0,8}$/), fc.string({ maxLength: 5 })), (name, labels) => {
        const metric = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== name));
        expect(legendName(`<{{${name}}}>`, metric)).toBe("<>");
        expect(legendName(`<{{${name}}}>`, { ...metric, [name]: "v" })).toBe("<v>");
      }),
    );
  });

  it("without a format: every label but the metric name, as {k=\"v\"} joined by comma; 'value' when none is left", () => {
    expect(legendName("", { a: "1", __name__: "m", b: "2" })).toBe('{a="1", b="2"}');
    expect(legendName("", { __name__: "m" })).toBe("value");
    expect(legendName("", {})).toBe("value");
  });

  it("scales only seconds (to milliseconds); every known unit has a title and a format; unknown units keep their name", () => {
    const known = ["reqps", "ops", "percentunit", "s", "bytes", "Bps", "short"];
    for (const u of known) {
      const style = unitStyle(u);
      expect(style.scale).toBe(u === "s" ? 1000 : 1);
      expect(style.title.length).toBeGreaterThan(0);
      expect(style.format.length).toBeGreaterThan(0);
    }
    expect(new Set(known.map((u) => unitStyle(u).title)).size).toBe(known.length);
    expect(unitStyle("percentunit").format).toContain("%");
    expect(unitStyle("celsius")).toEqual({ scale: 1, title: "celsius", format: unitStyle("short").format });
    expect(unitStyle("toString").title).toBe("toString");
  });
});

describe("panelPoints", () => {
  it("draws the panel's own targets' results for the service asked, scaled, named by legend, NaN and infinities dropped", () => {
    const p = panel();
    const results = [
      result("D › Latency [A]", [[10, "8"]], { kind: "rule" }),
      result("D › Latency [A]", [
        [10, "0.5"],
        [15, "NaN"],
        [20, "+Inf"],
        [25, "0.25"],
      ]),
      result("D › Latency [A]", [[10, "9"]], { service: "other" }),
      result("D › Latency [B]", [[30, "1"]]),
      result("D › Other [A]", [[10, "7"]]),
    ];
    expect(panelPoints(dashboard(p), p, results)).toEqual([
      { t: 10_000, value: 500, series: "api p95" },
      { t: 25_000, value: 250, series: "api p95" },
      { t: 30_000, value: 1000, series: '{service="api"}' },
    ]);
    expect(panelPoints(dashboard(p), p, results, "other")).toEqual([{ t: 10_000, value: 9000, series: "api p95" }]);
    expect(panelPoints(dashboard(p), p, [])).toEqual([]);
  });
});

describe("wrapNote and legendColumns", () => {
  it("keeps every word in order, and no line holding two words is longer than the width (property)", () => {
    const word = fc.stringMatching(/^[a-z]{1,12}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 40 }), (words, width) => {
        const lines = wrapNote(words.join(" "), width);
        expect(lines.join(" ")).toBe(words.join(" "));
        for (const l of lines) if (l.includes(" ")) expect(l.length).toBeLessThanOrEqual(width);
        // Greedy: a line could not have taken the next line's first word.
        for (let i = 1; i < lines.length; i++)
          expect(lines[i - 1].length + 1 + lines[i].split(" ")[0].length).toBeGreaterThan(width);
      }),
      { numRuns: 30 },
    );
    expect(wrapNote("ab cd", 5)).toEqual(["ab cd"]);
    expect(wrapNote("ab cd", 4)).toEqual(["ab", "cd"]);
    // Any run of whitespace (two spaces, a newline) between words is one break: no empty word, no doubled space.
    expect(wrapNote("ab  cd\n\tef", 20)).toEqual(["ab cd ef"]);
    expect(wrapNote("ab  cd", 2)).toEqual(["ab", "cd"]);
  });

  it("as many legend columns as fit at 6.5 px a character plus 40, at least one and at most one per series", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 3000 }),
        (series, width) => {
          const perColumn = Math.max(4, ...series.map((s) => s.length)) * 6.5 + 40;
          const most = Math.max(1, series.length);
          const c = legendColumns(series, width);
          expect(c).toBeGreaterThanOrEqual(1);
          expect(c).toBeLessThanOrEqual(most);
          if (c > 1) expect(c * perColumn).toBeLessThanOrEqual(width);
          if (c < most) expect((c + 1) * perColumn).toBeGreaterThan(width);
        },
      ),
      { numRuns: 40 },
    );
    // Short names count as 4 characters: 66 px each.
    expect(legendColumns(["a", "b", "c"], 198)).toBe(3);
    expect(legendColumns(["a", "b", "c"], 197)).toBe(2);
    expect(legendColumns([], 1000)).toBe(1);
  });
});

describe("panelSpec", () => {
  type Spec = {
    width: number;
    height: number;
    title: { text: string; subtitle: string };
    layer: {
      mark: { type: string };
      data: { values: Record<string, unknown>[] };
      encoding: Record<string, { field?: string; scale?: Record<string, unknown>; legend?: unknown; axis?: { format?: string } }>;
    }[];
  };
  const spec = (...args: Parameters<typeof panelSpec>) => panelSpec(...args) as unknown as Spec;
  const size = { width: 600, height: 200 };
  const pts = [
    { t: 1, value: 2, series: "a" },
    { t: 2, value: 5, series: "b" },
    { t: 3, value: 1, series: "a" },
  ];

  it("a line per series over time, with the panel's title, unit and size; a legend of the series", () => {
    const s = spec(panel(), pts, size);
    expect(s).toMatchObject({ width: 600, height: 200, title: { text: "Latency", subtitle: "milliseconds" } });
    const line = s.layer[0];
    expect(line.mark.type).toBe("line");
    expect(line.data.values).toEqual(pts);
    expect(line.encoding.x.field).toBe("t");
    expect(line.encoding.y.field).toBe("value");
    expect(line.encoding.y.axis!.format).toBe(unitStyle("s").format);
    expect(line.encoding.color.scale!.domain).toEqual(["a", "b"]);
    expect(line.encoding.color.legend).toMatchObject({ columns: legendColumns(["a", "b"], 600) });
    expect(s.layer).toHaveLength(1);
  });

  it("the y axis starts at 0 and is fixed at 1 only when nothing is above 0; the time axis is the dashboard's when given", () => {
    expect(spec(panel(), pts, size).layer[0].encoding.y.scale).toMatchObject({ domainMin: 0, domainMax: undefined });
    const zero = pts.map((p) => ({ ...p, value: 0 }));
    expect(spec(panel(), zero, size).layer[0].encoding.y.scale).toMatchObject({ domainMin: 0, domainMax: 1 });
    expect(spec(panel(), [], size).layer[0].encoding.y.scale).toMatchObject({ domainMax: 1 });
    // The objective alone lifts the axis.
    expect(spec(panel({ objective: 0.2 }), zero, size).layer[0].encoding.y.scale).toMatchObject({ domainMax: undefined });
    expect(spec(panel(), pts, size, undefined, [5, 9]).layer[0].encoding.x.scale).toEqual({ domain: [5, 9] });
    expect(spec(panel(), pts, size).layer[0].encoding.x.scale).toBeUndefined();
  });

  it("draws the objective in the panel's unit as a rule, only when the panel has one", () => {
    const s = spec(panel({ objective: 0.25 }), pts, size);
    const rule = s.layer.find((l) => l.mark.type === "rule")!;
    expect(rule.data.values).toEqual([{ value: 250 }]);
    expect(spec(panel({ objective: 0 }), pts, size).layer.some((l) => l.mark.type === "rule")).toBe(true);
    expect(spec(panel(), pts, size).layer.some((l) => l.mark.type === "rule")).toBe(false);
  });

  it("an empty panel gets no legend and a note, wrapped to its width, saying why ('No data' when no reason)", () => {
    const s = spec(panel(), [], size, "No data (expected): nothing failed in this run, so no error series exists");
    expect(s.layer[0].encoding.color.legend).toBeNull();
    expect(s.layer[0].encoding.color.scale!.domain).toEqual(["no data"]);
    const text = s.layer.find((l) => l.mark.type === "text")!;
    const note = text.data.values[0].note as string[];
    expect(note.join(" ")).toBe("No data (expected): nothing failed in this run, so no error series exists");
    for (const l of note) expect(l.length).toBeLessThanOrEqual(Math.floor((600 - 200) / 8));
    expect(spec(panel(), [], size).layer.find((l) => l.mark.type === "text")!.data.values[0].note).toEqual(["No data"]);
    expect(spec(panel(), pts, size, "unused").layer.some((l) => l.mark.type === "text")).toBe(false);
  });
});

describe("prefixIds", () => {
  it("prefixes every id and every url(#...) reference, and nothing else", () => {
    const svg = '<g id="a"><clipPath id="clip_2"/><rect fill="url(#grad)" clip-path="url(#clip_2)" xid="z"/></g>';
    expect(prefixIds(svg, "p1-")).toBe(
      '<g id="p1-a"><clipPath id="p1-clip_2"/><rect fill="url(#p1-grad)" clip-path="url(#p1-clip_2)" xid="z"/></g>',
    );
  });
});
