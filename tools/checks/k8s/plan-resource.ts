/**
 * One resource of an offline plan as the plan checks see it: what `npm run plan -- --json`
 * writes (secret values already replaced by "[secret]"). The checks are pure functions over a
 * list of these, so a test can mutate a real plan and watch a check catch it.
 */
export interface PlanResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent, "" for the stack. A parent is NOT a dependency: Pulumi creates children as soon as their own inputs are ready. */
  parent: string;
  /** URNs this resource waits for (explicit dependsOn, components expanded to their children, and input dependencies). */
  dependsOn: string[];
  inputs: Record<string, unknown>;
  /** Set (true) only when the resource has the option: `pulumi destroy` refuses it, or leaves it in the cloud. */
  protect?: boolean;
  retainOnDelete?: boolean;
}

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
export const EKS_ADDON = "aws:eks/addon:Addon";
export const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const CUSTOM_RESOURCE_PREFIX = "kubernetes:";

/** Everything `from` waits for, directly or through other resources. */
export function transitiveDependencies(resources: PlanResource[], from: PlanResource): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...from.dependsOn];
  while (stack.length) {
    const urn = stack.pop()!;
    if (seen.has(urn)) continue;
    seen.add(urn);
    stack.push(...(byUrn.get(urn)?.dependsOn ?? []));
  }
  return seen;
}

/** The Kubernetes manifest a `kubernetes:*` resource carries: apiVersion/kind from its type token or its inputs. */
export function kubernetesKind(r: PlanResource): { apiVersion: string; kind: string } | undefined {
  if (!r.type.startsWith("kubernetes:") || r.type === HELM_RELEASE || r.type.startsWith("pulumi:")) return undefined;
  const apiVersion = typeof r.inputs.apiVersion === "string" ? r.inputs.apiVersion : undefined;
  const kind = typeof r.inputs.kind === "string" ? r.inputs.kind : undefined;
  if (apiVersion && kind) return { apiVersion, kind };
  // kubernetes:<group>/<version>:<Kind>, the core group being "core".
  const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(r.type);
  if (!m) return undefined;
  return { apiVersion: m[1] === "core" ? m[2] : `${m[1]}/${m[2]}`, kind: m[3] };
}

/** Every planned ConfigMap's data, by "<namespace>/<name>" (what a pod's envFrom and volumes refer to). */
export function configMapData(resources: readonly PlanResource[]): Map<string, Record<string, string>> {
  const meta = (r: PlanResource) => (r.inputs.metadata ?? {}) as { namespace?: string; name?: string };
  return new Map(
    resources
      .filter((r) => kubernetesKind(r)?.kind === "ConfigMap")
      .map((r) => [`${meta(r).namespace ?? "default"}/${meta(r).name}`, (r.inputs.data ?? {}) as Record<string, string>]),
  );
}
