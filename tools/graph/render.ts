/**
 * DOT to SVG with Graphviz compiled to WebAssembly (@viz-js/viz): its `osage` cluster layout (see dot.ts), no
 * system package, no hand-written layout.
 */
import { instance } from "@viz-js/viz";

export class GraphRenderError extends Error {
  readonly code = "UAIP_GRAPH_RENDER";
}

export async function dotToSvg(dot: string): Promise<string> {
  const viz = await instance();
  const result = viz.render(dot, { format: "svg", engine: "osage" });
  if (result.status !== "success" || result.output === undefined)
    throw new GraphRenderError(`graphviz could not lay out the graph: ${result.errors.map((e) => e.message).join("; ")}`);
  return result.output;
}
