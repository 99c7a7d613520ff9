/**
 * Compares two offline plans (`npm run plan -- --stack <s> --json <file>`) resource by resource,
 * to show that a refactor changed no resource: same names under the same parents, same inputs,
 * same outputs and checks. Component type tokens (`uaip:<module>:<Class>`) and the URNs built
 * from them are ignored, so moving a component to another module is not a difference; the class
 * name still counts.
 *
 *   npx tsx tools/compare-plans.ts before.json after.json
 *
 * Exit code 0 when the plans match, 1 when they differ (each difference on its own line), 2 on bad usage.
 */
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import type { PlanJson } from "./plan";

/** `uaip:<module>:<Class>`, the project's component type tokens. */
const COMPONENT_TOKEN = /\buaip:[a-z0-9-]+:([A-Z]\w*)/g;

export interface PlanDifference {
  /** `resource <key>`, `output <name>` or `check <name>`. */
  what: string;
  change: "added" | "removed" | "changed";
}

/** Replaces every component token in every string by `uaip:*:<Class>`, so modules do not count. */
function normalize(value: unknown): unknown {
  if (typeof value === "string") return value.replace(COMPONENT_TOKEN, "uaip:*:$1");
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [normalize(k) as string, normalize(v)]));
  return value;
}

/**
 * Keys each resource by its type and its chain of names up to the stack (names alone repeat:
 * a component and its children may share one), with the component tokens normalized.
 */
function resourcesByKey(plan: PlanJson): Map<string, unknown[]> {
  const nameOf = new Map(plan.resources.map((r) => [r.urn, r.name]));
  const parentOf = new Map(plan.resources.map((r) => [r.urn, r.parent]));
  const chain = (urn: string): string[] => {
    const names: string[] = [];
    for (let u: string | undefined = urn; u; u = parentOf.get(u)) names.unshift(nameOf.get(u) ?? u);
    return names;
  };
  const byKey = new Map<string, unknown[]>();
  for (const r of plan.resources) {
    const key = `${normalize(r.type) as string} ${chain(r.urn).join("/")}`;
    byKey.set(key, [...(byKey.get(key) ?? []), normalize(r.inputs)]);
  }
  return byKey;
}

function compareMaps(kind: string, before: Map<string, unknown>, after: Map<string, unknown>): PlanDifference[] {
  const out: PlanDifference[] = [];
  for (const [key, value] of before) {
    if (!after.has(key)) out.push({ what: `${kind} ${key}`, change: "removed" });
    else if (!isDeepStrictEqual(value, after.get(key))) out.push({ what: `${kind} ${key}`, change: "changed" });
  }
  for (const key of after.keys()) if (!before.has(key)) out.push({ what: `${kind} ${key}`, change: "added" });
  return out;
}

/** Every difference between two plans except renamed component tokens; [] when they match. */
export function comparePlans(before: PlanJson, after: PlanJson): PlanDifference[] {
  const entries = (plan: PlanJson) => new Map(Object.entries(normalize(plan.outputs) as Record<string, unknown>));
  const checks = (plan: PlanJson) => new Map(plan.checks.map((c) => [c.name, normalize(c)]));
  return [
    ...compareMaps("resource", resourcesByKey(before), resourcesByKey(after)),
    ...compareMaps("output", entries(before), entries(after)),
    ...compareMaps("check", checks(before), checks(after)),
  ];
}

function main(argv: string[]): number {
  if (argv.length !== 2) {
    console.error("usage: npx tsx tools/compare-plans.ts <before.json> <after.json>");
    return 2;
  }
  const [before, after] = argv.map((file) => JSON.parse(readFileSync(file, "utf8")) as PlanJson);
  const differences = comparePlans(before, after);
  for (const d of differences) console.log(`${d.change.padEnd(8)} ${d.what}`);
  console.log(
    differences.length
      ? `${differences.length} difference(s)`
      : `identical: ${after.resources.length} resources, ${Object.keys(after.outputs).length} outputs, ${after.checks.length} checks (component type tokens ignored)`,
  );
  return differences.length ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
