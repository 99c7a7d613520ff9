/**
 * `npm run plan -- --stack S --graph FILE.svg`: the architecture drawn from the plan (model.ts →
 * dot.ts → render.ts). With --diff, the changed resources are highlighted, so a PR can link a graph
 * of its candidate stack.
 */
import type { PlanResource } from "../checks/k8s/plan-resource";
import type { PlanDiff } from "../diff/diff";
import { toDot } from "./dot";
import { architectureGraph, type ChangeKind } from "./model";
import { dotToSvg } from "./render";

export { architectureGraph, toDot, dotToSvg };

/** URN → kind of change, from the PR diff (diffPlans). */
export function changesFromDiff(diff: PlanDiff): Map<string, ChangeKind> {
  const changes = new Map<string, ChangeKind>();
  for (const r of diff.updated) changes.set(r.urn, "updated");
  for (const r of diff.added) changes.set(r.urn, "added");
  for (const r of diff.replaced) changes.set(r.urn, "replaced");
  // A new URN is a delete and a create.
  for (const r of diff.renamed) changes.set(r.after.urn, "replaced");
  return changes;
}

/** The SVG of a plan's architecture, with a diff's changes highlighted when given. */
export async function planGraphSvg(stack: string, resources: readonly PlanResource[], diff?: PlanDiff): Promise<string> {
  const title = `UAIP ${stack}: architecture from the offline plan${diff ? " (changes highlighted)" : ""}`;
  const graph = architectureGraph(resources, {
    title,
    ...(diff
      ? { changes: changesFromDiff(diff), removed: diff.removed.map((r) => `${r.name} (${r.type.split(":").at(-1)})`) }
      : {}),
  });
  return dotToSvg(toDot(graph));
}
