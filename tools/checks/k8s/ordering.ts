import type { Check } from "../../../profile/checks";
import {
  EKS_ADDON,
  EKS_NODE_GROUP,
  HELM_RELEASE,
  kubernetesKind,
  transitiveDependencies,
  type PlanResource,
} from "./plan-resource";

/**
 * Ordering rules a first `pulumi up` depends on, checked over the plan's dependency graph
 * (never over parents: a component's own dependsOn does not hold back its children).
 *
 * - Anything that waits for pods to become ready (a Helm release, an EKS add-on with a
 *   Deployment, a Deployment/StatefulSet/DaemonSet) must come after the node group; otherwise it
 *   waits with no node to schedule on and times out (pulumi-eks#1819: coredns DEGRADED for 20 min).
 * - The node-level add-ons (vpc-cni, kube-proxy, eks-pod-identity-agent) must NOT wait for the
 *   nodes: nodes only become Ready once the CNI runs ("cni plugin not initialized").
 * - A custom resource must come after the Helm release that installs its CRD, or the API server
 *   answers "no matches for kind".
 */

/** EKS add-ons the nodes themselves need; they run as DaemonSets and must not wait for the node group. */
export const NODE_LEVEL_ADDONS = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"] as const;

/** Kinds whose creation Pulumi awaits until pods are ready (a Job: until it completes; a Service: until its selector has ready endpoints). */
export const POD_WAITING_KINDS = [
  "apps/v1/Deployment",
  "apps/v1/StatefulSet",
  "apps/v1/DaemonSet",
  "batch/v1/Job",
  "v1/Service",
] as const;

/** API groups installed by a CRD, and the chart (Helm `chart` input) whose release installs it. */
export const CRD_SOURCES: Record<string, string> = {
  "elbv2.k8s.aws": "aws-load-balancer-controller",
  "monitoring.coreos.com": "kube-prometheus-stack",
};

/** Groups served by the Kubernetes API server itself (no CRD needed). */
const BUILT_IN_GROUP = /^(v1|[a-z]+\/v[0-9a-z]+|[a-z.]+\.k8s\.io\/v[0-9a-z]+)$/;

function label(r: PlanResource): string {
  return `${r.type} "${r.name}"`;
}

function dependsOnNodeGroup(resources: PlanResource[], r: PlanResource, nodeGroups: Set<string>): boolean {
  return [...transitiveDependencies(resources, r)].some((urn) => nodeGroups.has(urn));
}

/** Resources that wait for pods but not for the node group, and node-level add-ons that do wait for it. */
export function checkWaitsForNodes(resources: PlanResource[]): Check {
  const nodeGroups = new Set(resources.filter((r) => r.type === EKS_NODE_GROUP).map((r) => r.urn));
  const name = "ordering:pods-after-nodes";
  if (nodeGroups.size === 0) return { name, ok: true, detail: "no EKS node group in this plan" };
  const waiting = resources.filter((r) => {
    if (r.type === HELM_RELEASE) return true;
    if (r.type === EKS_ADDON) return !(NODE_LEVEL_ADDONS as readonly string[]).includes(String(r.inputs.addonName));
    const k = kubernetesKind(r);
    if (k?.kind === "Service") {
      // Only a Service with a selector waits for endpoints (not ExternalName or selector-less ones).
      const spec = (r.inputs.spec ?? {}) as { selector?: Record<string, string>; type?: string };
      if (spec.type === "ExternalName" || Object.keys(spec.selector ?? {}).length === 0) return false;
    }
    return k !== undefined && (POD_WAITING_KINDS as readonly string[]).includes(`${k.apiVersion}/${k.kind}`);
  });
  const early = waiting.filter((r) => !dependsOnNodeGroup(resources, r, nodeGroups));
  const nodeLevel = resources.filter(
    (r) => r.type === EKS_ADDON && (NODE_LEVEL_ADDONS as readonly string[]).includes(String(r.inputs.addonName)),
  );
  const late = nodeLevel.filter((r) => dependsOnNodeGroup(resources, r, nodeGroups));
  const problems = [
    ...early.map((r) => `${label(r)} waits for pods but not for the node group; add the node group to its dependsOn`),
    ...late.map(
      (r) =>
        `${label(r)} (${String(r.inputs.addonName)}) waits for the node group, but the nodes need it to become Ready; remove that dependency`,
    ),
  ];
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: `${waiting.length} pod-waiting resources (Helm releases, add-ons, workloads) come after the node group${nodeLevel.length ? `; ${nodeLevel.length} node-level add-ons before it` : ""}`,
  };
}

/** Custom resources created before (or without) the Helm release that ships their CRD. */
export function checkCustomResourcesAfterCrds(resources: PlanResource[]): Check {
  const name = "ordering:custom-resources-after-crds";
  const releasesByChart = new Map<string, PlanResource[]>();
  for (const r of resources.filter((x) => x.type === HELM_RELEASE)) {
    const chart = String(r.inputs.chart);
    releasesByChart.set(chart, [...(releasesByChart.get(chart) ?? []), r]);
  }
  const problems: string[] = [];
  let custom = 0;
  for (const r of resources) {
    const k = kubernetesKind(r);
    if (!k || BUILT_IN_GROUP.test(k.apiVersion)) continue;
    custom++;
    const group = k.apiVersion.split("/")[0];
    const chart = CRD_SOURCES[group];
    if (!chart) {
      problems.push(
        `${label(r)}: no known release installs the CRDs of group ${group}; add it to CRD_SOURCES in tools/checks/k8s/ordering.ts with its chart`,
      );
      continue;
    }
    const releases = releasesByChart.get(chart) ?? [];
    if (releases.length === 0) {
      problems.push(`${label(r)} (${k.kind}) needs the ${chart} release, which installs its CRD, but the plan has none`);
      continue;
    }
    const deps = transitiveDependencies(resources, r);
    if (!releases.some((rel) => deps.has(rel.urn)))
      problems.push(
        `${label(r)} (${k.kind}) does not wait for the ${chart} release that installs its CRD; add that release to its dependsOn`,
      );
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return { name, ok: true, detail: `${custom} custom resources come after the release that installs their CRD` };
}

function storageClassNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(storageClassNames);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === "storageClassName" && typeof v === "string" ? [v] : storageClassNames(v),
  );
}

/**
 * A Helm release whose values ask for a StorageClass the plan creates waits for it: otherwise its
 * PersistentVolumeClaims start Pending ("storageclass not found") and Helm's wait runs into its timeout.
 */
export function checkVolumesAfterStorageClasses(resources: PlanResource[]): Check {
  const name = "ordering:volumes-after-storage-classes";
  const classes = new Map(
    resources
      .filter((r) => kubernetesKind(r)?.kind === "StorageClass")
      .map((r) => [String((r.inputs.metadata as { name?: string } | undefined)?.name), r]),
  );
  const problems: string[] = [];
  let checked = 0;
  for (const r of resources.filter((x) => x.type === HELM_RELEASE)) {
    for (const cls of new Set(storageClassNames(r.inputs.values))) {
      const sc = classes.get(cls);
      if (!sc) continue;
      checked++;
      if (!transitiveDependencies(resources, r).has(sc.urn))
        problems.push(`${label(r)} uses StorageClass ${cls} but does not wait for it; add ${label(sc)} to its dependsOn`);
    }
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: checked
      ? `${checked} release volume(s) come after the StorageClass the plan creates for them`
      : "no release uses a StorageClass of the plan",
  };
}

/**
 * Every object in a namespace the plan creates waits for that Namespace ("namespaces not found"
 * otherwise). Holds Helm releases to the same rule through their `namespace` input.
 */
export function checkObjectsAfterNamespaces(resources: PlanResource[]): Check {
  const name = "ordering:objects-after-namespaces";
  const namespaces = new Map(
    resources
      .filter((r) => kubernetesKind(r)?.kind === "Namespace")
      .map((r) => [String((r.inputs.metadata as { name?: string } | undefined)?.name), r]),
  );
  const problems: string[] = [];
  let checked = 0;
  for (const r of resources) {
    const ns =
      r.type === HELM_RELEASE
        ? r.inputs.namespace
        : kubernetesKind(r)
          ? (r.inputs.metadata as { namespace?: unknown } | undefined)?.namespace
          : undefined;
    const owner = typeof ns === "string" ? namespaces.get(ns) : undefined;
    if (!owner) continue;
    checked++;
    if (!transitiveDependencies(resources, r).has(owner.urn))
      problems.push(
        `${label(r)} is in namespace ${String(ns)} but does not wait for ${label(owner)}; add it to its dependsOn (a component's dependsOn does not reach its children)`,
      );
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return { name, ok: true, detail: `${checked} objects come after the Namespace they live in` };
}
