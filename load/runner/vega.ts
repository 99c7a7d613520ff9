/**
 * Renders a vega-lite spec to SVG in Node: vega-lite compiles it to a vega spec, and a headless
 * vega View (renderer "none") writes the SVG. No browser, no canvas.
 *
 * Why vega-lite: a chart is a declarative JSON spec (data, marks, encodings) that the tests can
 * inspect without rendering, and that vega lays out with real axes, legends, nice ticks and unit
 * formats; it renders to SVG in plain Node, and both packages are maintained by the UW Interactive
 * Data Lab with regular releases. Both are ESM-only, so they are loaded with a dynamic import.
 */
// The types by file: under this repository's `moduleResolution: node`, TypeScript does not read
// vega-lite's `exports` map (a tsconfig `paths` entry would also redirect tsx at run time).
import type { TopLevelSpec } from "vega-lite/build/index";

export type { TopLevelSpec };

type VegaLite = typeof import("vega-lite/build/index");
/** The package's real entry point, loaded at run time. */
const VEGA_LITE: string = "vega-lite";

/** The spec as SVG text (standalone: xmlns, width and height set). */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import(VEGA_LITE) as Promise<VegaLite>]);
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
