/**
 * The latency-over-time chart of a load run, as a standalone SVG (no chart library: a few
 * polylines): p50/p95/p99 per window against the SLO line, with the virtual users shaded
 * behind them, so a person sees at a glance where latency rose and whether it crossed the SLO.
 */
export interface ChartPoint {
  /** Seconds from the start of the run. */
  atS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  vus: number;
  errorRate: number;
}

const W = 900;
const H = 360;
const PAD = { left: 60, right: 60, top: 40, bottom: 44 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** A "nice" axis maximum: 1, 2 or 5 × 10^k at or above `value`. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * exp).find((v) => v >= value) ?? 10 * exp;
}

export function latencyChart(points: readonly ChartPoint[], options: { title: string; sloP95Ms: number }): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxT = Math.max(1, ...points.map((p) => p.atS));
  // Keep the SLO on the chart only when latency comes near it, else the lines would be flat at the bottom.
  const peak = Math.max(1, ...points.map((p) => p.p99Ms));
  const maxMs = niceMax(peak > options.sloP95Ms * 0.5 ? Math.max(peak, options.sloP95Ms) : peak * 1.1);
  const maxVus = niceMax(Math.max(1, ...points.map((p) => p.vus)));
  const x = (t: number) => PAD.left + (t / maxT) * plotW;
  const y = (ms: number) => PAD.top + plotH - (Math.min(ms, maxMs) / maxMs) * plotH;
  const yVus = (v: number) => PAD.top + plotH - (v / maxVus) * plotH;
  const line = (key: "p50Ms" | "p95Ms" | "p99Ms") => points.map((p) => `${fmt(x(p.atS))},${fmt(y(p[key]))}`).join(" ");

  const vusArea = points.length
    ? `M${fmt(x(points[0].atS))},${fmt(yVus(0))} ` +
      points.map((p) => `L${fmt(x(p.atS))},${fmt(yVus(p.vus))}`).join(" ") +
      ` L${fmt(x(points.at(-1)!.atS))},${fmt(yVus(0))} Z`
    : "";
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxMs);
  const timeTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxT);
  const sloVisible = options.sloP95Ms <= maxMs;
  const errors = points.filter((p) => p.errorRate > 0);

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${PAD.left}" y="22" font-size="15" font-weight="bold">${esc(options.title)}</text>`,
    `<path d="${vusArea}" fill="#dbeafe" stroke="none"/>`,
    ...ticks.map(
      (t) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e5e7eb"/><text x="${PAD.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${fmt(t)} ms</text>`,
    ),
    ...[0, 0.5, 1].map(
      (f) => `<text x="${W - PAD.right + 6}" y="${fmt(yVus(f * maxVus) + 4)}" fill="#2563eb">${fmt(f * maxVus)} VUs</text>`,
    ),
    ...timeTicks.map((t) => `<text x="${fmt(x(t))}" y="${H - PAD.bottom + 18}" text-anchor="middle">${fmt(t)} s</text>`),
    sloVisible
      ? `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${fmt(y(options.sloP95Ms))}" y2="${fmt(y(options.sloP95Ms))}" stroke="#dc2626" stroke-dasharray="6 4"/><text x="${W - PAD.right - 4}" y="${fmt(y(options.sloP95Ms) - 6)}" text-anchor="end" fill="#dc2626">SLO p95 &lt; ${options.sloP95Ms} ms</text>`
      : `<text x="${W - PAD.right - 4}" y="${PAD.top - 6}" text-anchor="end" fill="#dc2626">SLO p95 &lt; ${options.sloP95Ms} ms (far above)</text>`,
    `<polyline points="${line("p99Ms")}" fill="none" stroke="#9333ea" stroke-width="1.5"/>`,
    `<polyline points="${line("p95Ms")}" fill="none" stroke="#ea580c" stroke-width="2"/>`,
    `<polyline points="${line("p50Ms")}" fill="none" stroke="#16a34a" stroke-width="1.5"/>`,
    ...errors.map(
      (p) =>
        `<circle cx="${fmt(x(p.atS))}" cy="${PAD.top + plotH}" r="3" fill="#dc2626"><title>${fmt(p.errorRate * 100)} % errors</title></circle>`,
    ),
    `<g transform="translate(${PAD.left + 8},${PAD.top + 8})">`,
    `<rect width="250" height="20" fill="#fff" opacity="0.85"/>`,
    `<text x="4" y="14" fill="#16a34a">— p50</text><text x="54" y="14" fill="#ea580c">— p95</text><text x="104" y="14" fill="#9333ea">— p99</text><text x="154" y="14" fill="#2563eb">▇ VUs</text>`,
    `</g>`,
    `<text x="${PAD.left + plotW / 2}" y="${H - 8}" text-anchor="middle">time since start</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
