/**
 * Dashboard previews: each dashboard drawn from the query results of a run, in its own grid layout
 * (Grafana's 24 columns, 30 px rows), with each panel's title, unit, legend and SLO line, so a
 * reviewer sees the dashboards without deploying Grafana. Every panel is a vega-lite chart
 * (vega.ts); the panels are placed on one SVG page at their grid positions. A dashboard with a
 * `$service` variable is drawn once per service, as Grafana shows one at a time.
 *
 * PNG copies (for the README) come from `rsvg-convert` (Debian's librsvg2-bin) when it is installed.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DashboardQueries, PanelQueries } from "../../dashboards/queries";
import type { Preview } from "./report";
import type { QueryResult } from "./query-check";
import { renderVegaLite, type TopLevelSpec } from "./vega";

/** Grafana's grid: 24 columns over the page width, rows of 30 px. */
export const PAGE_WIDTH = 1440;
export const ROW_PX = 30;
const COLUMNS = 24;
const HEADER_PX = 44;
const GAP = 8;

/** How a Grafana unit is drawn: values scaled, the axis titled, and the d3 number format. */
export interface UnitStyle {
  scale: number;
  title: string;
  format: string;
}

/** The Grafana units the UAIP dashboards use; anything else is drawn as a plain number under its own name. */
export function unitStyle(unit: string): UnitStyle {
  const styles: Record<string, UnitStyle> = {
    reqps: { scale: 1, title: "requests/s", format: ",.3~r" },
    ops: { scale: 1, title: "operations/s", format: ",.3~r" },
    percentunit: { scale: 1, title: "percent", format: ".1~%" },
    s: { scale: 1000, title: "milliseconds", format: ",.3~r" },
    bytes: { scale: 1, title: "bytes (SI prefixes)", format: "~s" },
    Bps: { scale: 1, title: "bytes/s (SI prefixes)", format: "~s" },
    short: { scale: 1, title: "count", format: ",.3~r" },
  };
  // Own keys only: a unit named like an Object.prototype member ("toString") is unknown, not a function.
  return Object.hasOwn(styles, unit) ? styles[unit] : { scale: 1, title: unit, format: ",.3~r" };
}

/** Grafana's legend format: `{{label}}` replaced by the series' label value; no format: the labels as `{k="v"}`. */
export function legendName(format: string, metric: Record<string, string>): string {
  if (!format) {
    const labels = Object.entries(metric).filter(([k]) => k !== "__name__");
    return labels.length ? `{${labels.map(([k, v]) => `${k}="${v}"`).join(", ")}}` : "value";
  }
  // Own labels only, as unitStyle's lookup: {{constructor}} on a series without that label is nothing, not a function.
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => (Object.hasOwn(metric, k) ? metric[k] : ""));
}

interface Point {
  t: number;
  value: number;
  series: string;
}

/** The panel's points: every target's series for this service, named by its legend, NaN dropped. */
export function panelPoints(
  dashboard: DashboardQueries,
  panel: PanelQueries,
  results: readonly QueryResult[],
  service?: string,
): Point[] {
  const style = unitStyle(panel.unit);
  return panel.targets.flatMap((t) => {
    const name = `${dashboard.title} › ${panel.title} [${t.refId}]`;
    const hit = results.find((r) => r.kind === "panel" && r.name === name && r.service === service);
    return (hit?.result ?? []).flatMap((s) =>
      s.values
        .map(([at, v]) => ({ t: at * 1000, value: Number(v) * style.scale, series: legendName(t.legend, s.metric) }))
        .filter((p) => Number.isFinite(p.value)),
    );
  });
}

/** The checks of one panel, for the "no data" note. */
function panelChecks(dashboard: DashboardQueries, panel: PanelQueries, results: readonly QueryResult[], service?: string) {
  const names = new Set(panel.targets.map((t) => `${dashboard.title} › ${panel.title} [${t.refId}]`));
  return results.filter((r) => names.has(r.name) && r.service === service);
}

/** Splits a note into lines of about `width` characters at word boundaries (vega draws an array of lines). */
export function wrapNote(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Legend columns: as many as fit side by side at about 6.5 px per character, at most one per series. */
export function legendColumns(series: readonly string[], width: number): number {
  const longest = Math.max(4, ...series.map((s) => s.length));
  return Math.max(1, Math.min(Math.max(1, series.length), Math.floor(width / (longest * 6.5 + 40))));
}

export function panelSpec(
  panel: PanelQueries,
  points: readonly Point[],
  size: { width: number; height: number },
  emptyNote?: string,
  /** The dashboard's time range (ms), shared by every panel as in Grafana; an empty panel still gets its time axis. */
  timeDomain?: [number, number],
): TopLevelSpec {
  const style = unitStyle(panel.unit);
  const series = [...new Set(points.map((p) => p.series))];
  const objective = panel.objective === undefined ? [] : [{ value: panel.objective * style.scale }];
  const yMax = Math.max(0, ...points.map((p) => p.value), ...objective.map((o) => o.value));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: size.width,
    height: size.height,
    autosize: { type: "fit", contains: "padding" },
    padding: 8,
    background: "white",
    title: { text: panel.title, anchor: "start", fontSize: 14, subtitle: style.title, subtitleColor: "#6b7280" },
    config: { view: { stroke: "#e5e7eb" }, axis: { labelFontSize: 10, titleFontSize: 10, gridColor: "#f0f0f0" } },
    layer: [
      {
        data: { values: points.map((p) => ({ ...p })) },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: {
            field: "t",
            type: "temporal",
            title: null,
            ...(timeDomain ? { scale: { domain: timeDomain } } : {}),
            axis: { format: "%H:%M:%S", tickCount: 4, labelOverlap: true },
          },
          y: {
            field: "value",
            type: "quantitative",
            title: null,
            scale: { domainMin: 0, domainMax: yMax > 0 ? undefined : 1, nice: true },
            // "0k" reads oddly: zero is written "0" whatever the format.
            axis: { format: style.format, tickCount: 4, labelExpr: "datum.value === 0 ? '0' : datum.label" },
          },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { domain: series.length ? series : ["no data"], scheme: "tableau10" },
            // No series, no legend (a "no data" entry would read like a series).
            legend: series.length
              ? { orient: "bottom", columns: legendColumns(series, size.width), labelLimit: 400, symbolType: "stroke" }
              : null,
          },
        },
      },
      ...(objective.length
        ? [
            {
              data: { values: objective },
              mark: { type: "rule", color: "#dc2626", strokeDash: [6, 4] },
              encoding: { y: { field: "value", type: "quantitative" } },
            } as const,
          ]
        : []),
      ...(points.length === 0
        ? [
            {
              // Centred on the plot, wrapped well inside it: vega sizes text by estimate, and a line it
              // thinks too wide pushes the whole chart, title included, off the panel's left edge.
              data: { values: [{ note: wrapNote(emptyNote ?? "No data", Math.floor((size.width - 200) / 8)) }] },
              mark: { type: "text", color: "#6b7280", fontSize: 12, align: "center" },
              encoding: { text: { field: "note" }, x: { value: { expr: "width / 2" } }, y: { value: { expr: "height / 2" } } },
            } as const,
          ]
        : []),
    ],
  } as TopLevelSpec;
}

/** Gives every id in a rendered panel a prefix, so clip paths of different panels on one page cannot collide. */
export function prefixIds(svg: string, prefix: string): string {
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`);
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** One dashboard page as SVG: its title, its row headers and every panel at its grid position. */
export async function dashboardSvg(
  dashboard: DashboardQueries,
  results: readonly QueryResult[],
  service?: string,
): Promise<string> {
  const colPx = PAGE_WIDTH / COLUMNS;
  const all = dashboard.panels.flatMap((p) => panelPoints(dashboard, p, results, service).map((x) => x.t));
  const timeDomain: [number, number] | undefined = all.length ? [Math.min(...all), Math.max(...all)] : undefined;
  const bottom = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h), ...dashboard.rows.map((r) => r.y + 1));
  const height = HEADER_PX + bottom * ROW_PX;
  const parts = await Promise.all(
    dashboard.panels.map(async (panel) => {
      const x = panel.gridPos.x * colPx + GAP / 2;
      const y = HEADER_PX + panel.gridPos.y * ROW_PX + GAP / 2;
      const width = panel.gridPos.w * colPx - GAP;
      const h = panel.gridPos.h * ROW_PX - GAP;
      const points = panelPoints(dashboard, panel, results, service);
      const checks = panelChecks(dashboard, panel, results, service);
      const note = checks.find((c) => c.status === "expected-empty")?.detail;
      const svg = await renderVegaLite(
        panelSpec(panel, points, { width, height: h }, note ? `No data (expected): ${note}` : "No data", timeDomain),
      );
      const body = prefixIds(svg, `p${panel.id}-`)
        .replace(/^<svg\b[^>]*>/, "")
        .replace(/<\/svg>\s*$/, "");
      return `<svg x="${x}" y="${y}" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}">${body}</svg><rect x="${x}" y="${y}" width="${width}" height="${h}" fill="none" stroke="#d1d5db"/>`;
    }),
  );
  const rows = dashboard.rows.map(
    (r) =>
      `<text x="8" y="${HEADER_PX + r.y * ROW_PX + 21}" font-size="15" font-weight="bold" fill="#374151">${esc(r.title)}</text>`,
  );
  const title = `${dashboard.title}${service ? ` — service ${service}` : ""}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${PAGE_WIDTH}" height="${height}" viewBox="0 0 ${PAGE_WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${PAGE_WIDTH}" height="${height}" fill="#f9fafb"/>`,
    `<text x="8" y="28" font-size="20" font-weight="bold" fill="#111827">${esc(title)}</text>`,
    ...rows,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}

/** `rsvg-convert` when installed: PNG next to the SVG; false when it is not there. */
export function svgToPng(svgPath: string, pngPath: string): boolean {
  const run = spawnSync("rsvg-convert", ["--background-color=white", "-o", pngPath, svgPath], { encoding: "utf8" });
  if (run.error) return false;
  if (run.status !== 0) throw new Error(`rsvg-convert ${svgPath} failed: ${run.stderr}`);
  return true;
}

/**
 * Writes `dashboards/<uid>.svg` (and `<uid>.<service>.svg` for a dashboard with `$service`) under
 * `dir`, with PNG copies when rsvg-convert is available. Returns what it wrote, for the report.
 */
export async function writeDashboardPreviews(
  dir: string,
  dashboards: readonly DashboardQueries[],
  results: readonly QueryResult[],
): Promise<Preview[]> {
  const out = join(dir, "dashboards");
  mkdirSync(out, { recursive: true });
  const previews: Preview[] = [];
  for (const d of dashboards) {
    const services = d.variables.includes("service")
      ? [...new Set(results.filter((r) => r.name.startsWith(`${d.title} › `) && r.service).map((r) => r.service!))].sort()
      : [undefined];
    for (const service of services) {
      const base = service ? `${d.uid}.${service}` : d.uid;
      writeFileSync(join(out, `${base}.svg`), await dashboardSvg(d, results, service));
      svgToPng(join(out, `${base}.svg`), join(out, `${base}.png`));
      previews.push({ path: `dashboards/${base}.svg`, caption: `${d.title}${service ? ` (${service})` : ""}` });
    }
  }
  return previews;
}
