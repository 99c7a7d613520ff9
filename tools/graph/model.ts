/**
 * The architecture as a graph, from an offline plan (`npm run plan -- --json`): components as
 * clusters, resources as nodes, dependencies and the request path as edges. Readable at the size of
 * a README image because supporting resources (IAM, security-group rules, routes, ConfigMaps, ...)
 * collapse into one "+N supporting" node per component, and repeated resources of one kind
 * (subnets, add-ons) into one "×N" node; only what the request path runs through stays one node each.
 */
import type { PlanResource } from "../checks/k8s/plan-resource";

/** What a resource does on the request path; the traffic edges follow TRAFFIC_PATH through these roles. */
export type Role = "cdn" | "lb" | "targetGroup" | "binding" | "k8sService" | "workload" | "cache" | "database";

/** The request path: CloudFront → ALB → target groups → TargetGroupBindings → Services → pods → Redis / PostgreSQL. */
export const TRAFFIC_PATH: readonly (readonly [Role, Role])[] = [
  ["cdn", "lb"],
  ["lb", "targetGroup"],
  ["targetGroup", "binding"],
  ["binding", "k8sService"],
  ["k8sService", "workload"],
  ["workload", "cache"],
  ["workload", "database"],
];

const ROLE_BY_TYPE: Record<string, Role> = {
  "aws:cloudfront/distribution:Distribution": "cdn",
  "aws:lb/loadBalancer:LoadBalancer": "lb",
  "aws:lb/targetGroup:TargetGroup": "targetGroup",
  "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding": "binding",
  "kubernetes:core/v1:Service": "k8sService",
  "kubernetes:apps/v1:Deployment": "workload",
  "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
  "aws:elasticache/serverlessCache:ServerlessCache": "cache",
  "aws:rds/instance:Instance": "database",
  "aws:rds/cluster:Cluster": "database",
};

const DOCKER_CONTAINER = "docker:index/container:Container";
const DOCKER_BUILD = "docker:index/image:Image";

/** The role of a resource, if it is on the request path. Docker containers (the local stack) by what they run. */
export function roleOf(r: PlanResource, byUrn: ReadonlyMap<string, PlanResource>): Role | undefined {
  const role = ROLE_BY_TYPE[r.type];
  if (role) return role;
  if (r.type !== DOCKER_CONTAINER) return undefined;
  if (/redis/.test(r.name)) return "cache";
  if (/postgres/.test(r.name)) return "database";
  // A container of an image this stack builds, other than the one-off migration, is a service.
  const builds = r.dependsOn.some((d) => byUrn.get(d)?.type === DOCKER_BUILD);
  return builds && !/migrat/.test(r.name) ? "workload" : undefined;
}

/**
 * Resource types that stay nodes of their own: the request path plus what a reader looks for
 * (network, cluster, node group, charts, image, migration job, monitoring objects, keys).
 * Everything else is "supporting" and collapses.
 */
const PRIMARY_TYPES = new Set([
  ...Object.keys(ROLE_BY_TYPE),
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/natGateway:NatGateway",
  "aws:lb/listener:Listener",
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/addon:Addon",
  "aws:kms/key:Key",
  "aws:ecr/repository:Repository",
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:batch/v1:Job",
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  "kubernetes:storage.k8s.io/v1:StorageClass",
  DOCKER_BUILD,
  DOCKER_CONTAINER,
  "docker:index/network:Network",
]);

export type ChangeKind = "added" | "updated" | "replaced";

export interface GraphNode {
  id: string;
  /** Short type and name, e.g. "Deployment\nagent-intelligence", or "+23 supporting\n9 iam, 6 sg rules". */
  label: string;
  cluster: string;
  role?: Role;
  /** Hover text: what a collapsed node holds. */
  tooltip?: string;
  /** URNs the node stands for. */
  urns: string[];
  /** The most severe change among those resources, when a diff is given. */
  change?: ChangeKind;
  collapsed: boolean;
}

export interface GraphCluster {
  id: string;
  label: string;
  parent?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: "traffic" | "dependency";
  /** A dependency between two components, drawn between their boxes (from `from`'s box to `to`'s). */
  boxes?: { from: string; to: string };
}

export interface ArchitectureGraph {
  title: string;
  clusters: GraphCluster[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Resources the diff removes (they are not in the candidate plan, so they have no node). */
  removed: string[];
}

/** `aws:lb/targetGroup:TargetGroup` → `TargetGroup`. */
export const shortType = (type: string): string => type.split(":").at(-1) ?? type;

/** A resource name without its component's prefix: `uaip-alb-agent-intelligence` in `uaip-alb` → `agent-intelligence`. */
function shortName(name: string, componentName: string | undefined): string {
  if (componentName && name.startsWith(`${componentName}-`)) return name.slice(componentName.length + 1);
  return name;
}

const SEVERITY: Record<ChangeKind, number> = { updated: 1, added: 2, replaced: 3 };

/**
 * The graph of a plan. `changes` (URN → kind, from the PR diff) marks changed resources, `removed`
 * names resources the candidate no longer has.
 */
export function architectureGraph(
  resources: readonly PlanResource[],
  options: { title: string; changes?: ReadonlyMap<string, ChangeKind>; removed?: readonly string[] } = { title: "" },
): ArchitectureGraph {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const isComponent = (r: PlanResource) => r.type.startsWith("uaip:");
  // The platform component (parent of every other) adds nothing as a box: its children are the clusters.
  const platform = resources.find((r) => isComponent(r) && !isComponent(byUrn.get(r.parent) ?? ({ type: "" } as PlanResource)));
  const componentOf = (r: PlanResource): PlanResource | undefined => {
    let p = byUrn.get(r.parent);
    while (p && !isComponent(p)) p = byUrn.get(p.parent);
    return p && p !== platform ? p : undefined;
  };
  const leaves = resources.filter((r) => !isComponent(r) && !r.type.startsWith("pulumi:"));
  const components = resources.filter((r) => isComponent(r) && r !== platform);

  // Identical sibling components (one per service: the same type, the same kinds of resources) are
  // drawn as one box, "UaipService ×3", their resources as "Deployment ×3": three copies of one
  // picture would triple the graph and say nothing more.
  const signature = (c: PlanResource): string =>
    JSON.stringify([
      c.type,
      c.parent,
      [...leaves, ...components]
        .filter((r) => r.parent === c.urn)
        .map((r) => r.type)
        .sort(),
    ]);
  const representative = new Map<string, PlanResource>();
  const copies = new Map<string, PlanResource[]>();
  for (const c of components) {
    const sig = signature(c);
    const first = components.find((x) => signature(x) === sig)!;
    representative.set(c.urn, first);
    copies.set(first.urn, [...(copies.get(first.urn) ?? []), c]);
  }
  const clusterId = (c: PlanResource | undefined) =>
    c ? `cluster_${representative.get(c.urn)!.name.replace(/[^A-Za-z0-9_]/g, "_")}` : "cluster_platform";

  const clusters: GraphCluster[] = [];
  for (const [urn, group] of copies) {
    const c = byUrn.get(urn)!;
    const parent = componentOf(c);
    const label =
      group.length > 1
        ? `${shortType(c.type)} ×${group.length}\n${group.map((g) => shortName(g.name, parent?.name)).join("\n")}`
        : `${shortType(c.type)}\n${c.name}`;
    clusters.push({ id: clusterId(c), label, ...(parent ? { parent: clusterId(parent) } : {}) });
  }
  if (leaves.some((r) => !componentOf(r)))
    clusters.push({ id: "cluster_platform", label: platform ? `${shortType(platform.type)}\n${platform.name}` : "stack" });

  // Group each component's resources: one node per primary resource (or per primary type when repeated), one for the rest.
  const nodes: GraphNode[] = [];
  const nodeOfUrn = new Map<string, string>();
  const groups = new Map<string, PlanResource[]>();
  for (const r of leaves) {
    const component = componentOf(r);
    const role = roleOf(r, byUrn);
    // A changed resource always gets its own node, so the reviewer sees which one changed.
    const primary = PRIMARY_TYPES.has(r.type) || role !== undefined || (options.changes?.has(r.urn) ?? false);
    // By type and role: the local stack's containers are Redis, PostgreSQL and the services.
    const key = `${clusterId(component)}|${primary ? `${r.type}|${role ?? ""}` : "supporting"}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, members] of groups) {
    const [cluster] = key.split("|");
    const component = componentOf(members[0]);
    const collapsed = key.endsWith("|supporting");
    const role = collapsed ? undefined : roleOf(members[0], byUrn);
    let label: string;
    let tooltip: string | undefined;
    if (collapsed) {
      const counts = new Map<string, number>();
      for (const m of members) counts.set(shortType(m.type), (counts.get(shortType(m.type)) ?? 0) + 1);
      label = `+${members.length} supporting`;
      tooltip = [...counts]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([t, n]) => `${n} ${t}`)
        .join(", ");
    } else if (members.length > 1) {
      // Named one per line when they are few and of one component (in a merged box the box names them).
      const oneComponent = members.every((m) => componentOf(m) === component);
      const names =
        oneComponent && members.length <= 4 ? members.map((m) => `\n${shortName(m.name, component?.name)}`).join("") : "";
      label = `${shortType(members[0].type)} ×${members.length}${names}`;
    } else {
      label = `${shortType(members[0].type)}\n${shortName(members[0].name, component?.name)}`;
    }
    const change = members
      .map((m) => options.changes?.get(m.urn))
      .filter((c): c is ChangeKind => c !== undefined)
      .sort((a, b) => SEVERITY[b] - SEVERITY[a])[0];
    const id = `n${nodes.length}`;
    nodes.push({
      id,
      label,
      ...(tooltip ? { tooltip } : {}),
      cluster,
      ...(role ? { role } : {}),
      urns: members.map((m) => m.urn),
      ...(change ? { change } : {}),
      collapsed,
    });
    for (const m of members) nodeOfUrn.set(m.urn, id);
  }

  // A component with nothing but supporting resources and no sub-components (a service's IAM role,
  // the security groups) is one node in its parent's box, named after the component.
  const hasChildCluster = new Set(clusters.map((c) => c.parent).filter(Boolean));
  for (const c of [...clusters]) {
    const inside = nodes.filter((n) => n.cluster === c.id);
    if (hasChildCluster.has(c.id) || inside.some((n) => !n.collapsed) || inside.length !== 1) continue;
    const node = inside[0];
    node.cluster = c.parent ?? "cluster_platform";
    node.tooltip = `${node.tooltip}`;
    node.label = `${c.label}\n${node.urns.length} resources`;
    clusters.splice(clusters.indexOf(c), 1);
    if (!clusters.some((x) => x.id === node.cluster))
      clusters.push({ id: node.cluster, label: platform ? `${shortType(platform.type)}\n${platform.name}` : "stack" });
  }

  // Dependencies: once per pair of nodes that stand for something (not the supporting bundles).
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, kind: GraphEdge["kind"]) => {
    const key = `${from}>${to}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push({ from, to, kind });
  };

  // Traffic: between the nodes of adjacent roles on the path. Where the plan links such a pair by a
  // dependency (a binding depends on its target group and its Service), only linked pairs; where it
  // cannot (the CDN reaches the ALB through an origin domain name), every pair, and within one
  // component when both sides have one (a Service and its Deployment).
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const linked = (a: GraphNode, b: GraphNode) =>
    a.urns.some((u) => byUrn.get(u)!.dependsOn.some((d) => b.urns.includes(d))) ||
    b.urns.some((u) => byUrn.get(u)!.dependsOn.some((d) => a.urns.includes(d)));
  for (const [fromRole, toRole] of TRAFFIC_PATH) {
    const from = nodes.filter((n) => n.role === fromRole);
    const to = nodes.filter((n) => n.role === toRole);
    const pairs = from.flatMap((a) => to.map((b) => [a, b] as const));
    const byDependency = pairs.filter(([a, b]) => linked(a, b));
    const sameComponent = pairs.filter(([a, b]) => a.cluster === b.cluster);
    const chosen = byDependency.length ? byDependency : sameComponent.length ? sameComponent : pairs;
    for (const [a, b] of chosen) add(a.id, b.id, "traffic");
  }
  // Inside one top-level component, node to node; between two, one edge from box to box, else
  // every Deployment's wait for the node group, the image and the migration would hide the picture.
  const clusterById = new Map(clusters.map((c) => [c.id, c]));
  const topOf = (id: string): string => {
    let c = clusterById.get(id);
    while (c?.parent && clusterById.has(c.parent)) c = clusterById.get(c.parent);
    return c?.id ?? id;
  };
  const boxEdges = new Set<string>();
  for (const r of leaves) {
    const from = nodeById.get(nodeOfUrn.get(r.urn)!)!;
    for (const d of r.dependsOn) {
      const to = nodeById.get(nodeOfUrn.get(d) ?? "");
      if (!to || from === to) continue;
      const [a, b] = [topOf(from.cluster), topOf(to.cluster)];
      if (a === b) {
        if (!from.collapsed && !to.collapsed && !seen.has(`${to.id}>${from.id}`)) add(from.id, to.id, "dependency");
      } else if (!boxEdges.has(`${a}>${b}`) && !boxEdges.has(`${b}>${a}`)) {
        boxEdges.add(`${a}>${b}`);
        // Between the boxes' first resources that stand for something (not the supporting bundles).
        const first = (box: string) =>
          (nodes.find((n) => topOf(n.cluster) === box && !n.collapsed) ?? nodes.find((n) => topOf(n.cluster) === box)!).id;
        edges.push({ from: first(a), to: first(b), kind: "dependency", boxes: { from: a, to: b } });
      }
    }
  }
  return { title: options.title, clusters, nodes, edges, removed: [...(options.removed ?? [])] };
}
