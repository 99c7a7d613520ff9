/**
 * The architecture graph (model.ts) as Graphviz DOT: components as nested clusters, the request
 * path as thick blue edges, "waits for" dependencies as thin grey dashed ones, changed resources
 * filled by kind of change, and a legend.
 *
 * Laid out by Graphviz's `osage` engine, which packs clusters in an array: `dot` ranks the
 * components that are off the request path (network, cluster, monitoring) into one column and the
 * page came out four times taller than wide, unreadable at README size. The request-path components
 * come first (sortv), in path order, so the array reads CloudFront → ALB → services → Redis/PostgreSQL;
 * three columns (two inside a component) keep the page about as wide as tall.
 */
import type { ArchitectureGraph, ChangeKind, GraphCluster, Role } from "./model";

/** A DOT double-quoted string: quotes and backslashes escaped, newlines as centred line breaks. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

const CHANGE_FILL: Record<ChangeKind, string> = { added: "#bbf7d0", updated: "#fde68a", replaced: "#fecaca" };
const TRAFFIC = "#2563eb";

export function toDot(graph: ArchitectureGraph): string {
  const lines: string[] = [
    "digraph architecture {",
    `  graph [fontname="Helvetica", fontsize=20, labelloc=t, labeljust=l, label=${dotString(graph.title)}, pack=24, packmode="array_ut3", splines=true, bgcolor="white", pad=0.5];`,
    `  node [shape=box, style="rounded,filled", fillcolor="white", color="#6b7280", fontname="Helvetica", fontsize=11, margin="0.16,0.06"];`,
    `  edge [color="#9ca3af", arrowsize=0.6];`,
  ];
  const pathOrder: readonly Role[] = ["cdn", "lb", "targetGroup", "binding", "k8sService", "workload", "cache", "database"];
  const top0 = (id: string): string => {
    let c = graph.clusters.find((x) => x.id === id);
    while (c?.parent) c = graph.clusters.find((x) => x.id === c!.parent);
    return c?.id ?? id;
  };
  // Path components first, by the earliest role they hold; the rest after, in plan order.
  const sortOrder = (c: GraphCluster): number => {
    const roles = graph.nodes.filter((n) => n.role && top0(n.cluster) === c.id).map((n) => pathOrder.indexOf(n.role!));
    return roles.length ? Math.min(...roles) : pathOrder.length + graph.clusters.indexOf(c);
  };
  const children = new Map<string | undefined, GraphCluster[]>();
  for (const c of graph.clusters) children.set(c.parent, [...(children.get(c.parent) ?? []), c]);
  const writeCluster = (c: GraphCluster, indent: string) => {
    lines.push(`${indent}subgraph ${c.id} {`);
    lines.push(
      `${indent}  graph [label=${dotString(c.label)}, style="rounded,filled", fillcolor="${indent.length > 2 ? "#e5e7eb" : "#f3f4f6"}", color="#9ca3af", fontsize=13, fontname="Helvetica", sortv=${sortOrder(c)}, pack=12, packmode="array_ut2"];`,
    );
    for (const n of graph.nodes.filter((x) => x.cluster === c.id)) {
      const attrs = [`label=${dotString(n.label)}`, ...(n.tooltip ? [`tooltip=${dotString(n.tooltip)}`] : [])];
      if (n.collapsed) attrs.push(`fontcolor="#6b7280"`, `color="#d1d5db"`, `fontsize=9`);
      if (n.role) attrs.push(`color="${TRAFFIC}"`, "penwidth=1.5");
      if (n.change) attrs.push(`fillcolor="${CHANGE_FILL[n.change]}"`, `penwidth=2.5`);
      lines.push(`${indent}  ${n.id} [${attrs.join(", ")}];`);
    }
    for (const child of children.get(c.id) ?? []) writeCluster(child, `${indent}  `);
    lines.push(`${indent}}`);
  };
  for (const c of children.get(undefined) ?? []) writeCluster(c, "  ");
  for (const e of graph.edges) {
    lines.push(
      e.kind === "traffic"
        ? `  ${e.from} -> ${e.to} [color="${TRAFFIC}", penwidth=2.5, weight=10];`
        : `  ${e.from} -> ${e.to} [style=dashed${e.boxes ? `, color="#d1d5db"` : ""}];`,
    );
  }
  const changed = graph.nodes.some((n) => n.change) || graph.removed.length > 0;
  const legend = [
    `<TR><TD ALIGN="LEFT"><FONT COLOR="${TRAFFIC}"><B>━━▶</B></FONT> request path</TD></TR>`,
    `<TR><TD ALIGN="LEFT"><FONT COLOR="#9ca3af">- - ▶</FONT> waits for (dependsOn)</TD></TR>`,
    `<TR><TD ALIGN="LEFT"><FONT COLOR="#6b7280">+N supporting: IAM, rules, ConfigMaps, … in one node</FONT></TD></TR>`,
    ...(changed
      ? (Object.keys(CHANGE_FILL) as ChangeKind[]).map(
          (k) => `<TR><TD ALIGN="LEFT" BGCOLOR="${CHANGE_FILL[k]}">${k} in this change</TD></TR>`,
        )
      : []),
    ...(graph.removed.length
      ? [`<TR><TD ALIGN="LEFT">removed: ${graph.removed.map((r) => r.replace(/[<>&]/g, "")).join(", ")}</TD></TR>`]
      : []),
  ];
  lines.push(
    `  legend [shape=plaintext, style="", fontsize=10, label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">${legend.join("")}</TABLE>>];`,
  );
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
