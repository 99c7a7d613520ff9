import type { RecordedResource } from "./mocks";

/** `aws:ec2/vpc:Vpc` -> `aws:ec2:Vpc`, as `pulumi preview` prints types. */
export function displayType(type: string): string {
  const [pkg, mod, name] = type.split(":");
  return name === undefined ? type : `${pkg}:${mod.split("/")[0]}:${name}`;
}

/** A tree like `pulumi preview`: one line per resource, children under their parent. */
export function renderTree(resources: RecordedResource[]): string {
  const children = new Map<string, RecordedResource[]>();
  for (const r of resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const rows: [string, string][] = [];
  const walk = (parent: string, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      const branch = parent === "" ? "" : last ? "└─ " : "├─ ";
      rows.push([`${prefix}${branch}${displayType(r.type)}`, r.name]);
      walk(r.urn, parent === "" ? "" : prefix + (last ? "   " : "│  "));
    });
  };
  walk("", "");
  const width = Math.max(4, ...rows.map(([t]) => t.length)) + 2;
  const lines = [`     ${"Type".padEnd(width)}Name`, ...rows.map(([t, n]) => ` +   ${t.padEnd(width)}${n}`)];
  return lines.join("\n");
}

/** Counts per resource type, custom resources only (components are groupings). */
export function countByType(resources: RecordedResource[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of resources) if (r.custom) counts.set(displayType(r.type), (counts.get(displayType(r.type)) ?? 0) + 1);
  return new Map([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
