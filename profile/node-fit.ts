import { EC2_INSTANCE_CAPACITY, type InstanceCapacity } from "./aws-catalog";
import { rolloutPods } from "./connection-arithmetic";
import { cpuToMillicores, memoryToMiB } from "./quantity";
import type { Profile } from "./schema";
import { awsSystemPods, type SystemPod } from "./system-pods";

/**
 * Does the node group's maximum hold the platform at full scale? The services at hpa.max with
 * every Deployment's rollout surge at once (one `pulumi up` with a new image updates all of them),
 * the migration Job, and the system pods (system-pods.ts), by requests: CPU, memory and pod slots.
 * A sum is a necessary condition, not a packing: a pod larger than one node's allocatable is
 * refused separately, and the packing loss of many pods over few nodes is not counted.
 */

/** One resource dimension, in integer units (millicores, MiB, pods). */
export interface Dimension {
  name: "CPU" | "memory" | "pods";
  unit: string;
  /** cluster.nodes.max × the smallest allocatable among the instance types. */
  capacity: number;
  /** Σ of what the pods request. */
  demand: number;
}

export interface NodeFit {
  nodesMax: number;
  /** The instance type with the least allocatable (the node group may launch any of its types). */
  instanceType: string;
  perNode: InstanceCapacity;
  dimensions: Dimension[];
  /** Terms of the demand, for the message: "agent-intelligence 4 pods × (100m, 256 MiB)". */
  terms: string[];
  /** Pods that request more than one node's allocatable. */
  tooLarge: string[];
  /** Smallest cluster.nodes.max that fits every dimension (sums). */
  nodesNeeded: number;
  ok: boolean;
}

const millicores = (q: string) => cpuToMillicores(q) ?? 0;
const mebibytes = (q: string) => Math.ceil(memoryToMiB(q) ?? 0);

/** The instance type whose allocatable is least in each dimension, or the first unknown type. */
function smallestType(types: readonly string[]): { type: string; capacity?: InstanceCapacity } {
  const known = types.map((type) => ({ type, capacity: EC2_INSTANCE_CAPACITY.get(type) }));
  const unknown = known.find((k) => !k.capacity);
  if (unknown) return unknown;
  const pick = (f: (c: InstanceCapacity) => number) => Math.min(...known.map((k) => f(k.capacity!)));
  const least: InstanceCapacity = {
    vcpu: pick((c) => c.vcpu),
    memoryMiB: pick((c) => c.memoryMiB),
    allocatableCpuMillicores: pick((c) => c.allocatableCpuMillicores),
    allocatableMemoryMiB: pick((c) => c.allocatableMemoryMiB),
    maxPods: pick((c) => c.maxPods),
  };
  return { type: known.length === 1 ? known[0].type : `least of ${types.join(", ")}`, capacity: least };
}

interface PodGroup {
  name: string;
  pods: number;
  cpu: number;
  memory: number;
}

/** The node-fit arithmetic of an AWS profile; undefined for an instance type the vendored table lacks. */
export function nodeFit(
  p: Profile,
  systemPods: readonly SystemPod[] = awsSystemPods(p.monitoring.replicas),
): NodeFit | { unknownType: string } {
  const { type, capacity } = smallestType(p.cluster.instanceTypes);
  if (!capacity) return { unknownType: type };
  const nodesMax = p.cluster.nodes.max;
  const groups: PodGroup[] = [
    ...p.services.map((s) => ({
      name: `${s.name} ${rolloutPods(s.hpa.max)} pods (hpa.max ${s.hpa.max} + surge)`,
      pods: rolloutPods(s.hpa.max),
      cpu: millicores(s.resources.requests.cpu),
      memory: mebibytes(s.resources.requests.memory),
    })),
    ...systemPods.map((s) => ({
      name: `${s.name} ${s.kind === "DaemonSet" ? `× ${nodesMax} nodes` : `× ${s.replicas}`}`,
      pods: s.kind === "DaemonSet" ? nodesMax : s.replicas,
      cpu: millicores(s.requests.cpu),
      memory: mebibytes(s.requests.memory),
    })),
  ];
  const sum = (f: (g: PodGroup) => number) => groups.reduce((n, g) => n + f(g), 0);
  const dimensions: Dimension[] = [
    { name: "CPU", unit: "m", capacity: nodesMax * capacity.allocatableCpuMillicores, demand: sum((g) => g.pods * g.cpu) },
    { name: "memory", unit: " MiB", capacity: nodesMax * capacity.allocatableMemoryMiB, demand: sum((g) => g.pods * g.memory) },
    { name: "pods", unit: "", capacity: nodesMax * capacity.maxPods, demand: sum((g) => g.pods) },
  ];
  // DaemonSets grow with the nodes: n nodes hold n × (allocatable − one DaemonSet pod each).
  const daemon = systemPods.filter((s) => s.kind === "DaemonSet");
  const perNodeDaemon = {
    cpu: daemon.reduce((n, s) => n + millicores(s.requests.cpu), 0),
    memory: daemon.reduce((n, s) => n + mebibytes(s.requests.memory), 0),
    pods: daemon.length,
  };
  const rest = {
    cpu: dimensions[0].demand - nodesMax * perNodeDaemon.cpu,
    memory: dimensions[1].demand - nodesMax * perNodeDaemon.memory,
    pods: dimensions[2].demand - nodesMax * perNodeDaemon.pods,
  };
  const nodesFor = (demand: number, perNode: number) => (demand <= 0 ? 0 : perNode <= 0 ? Infinity : Math.ceil(demand / perNode));
  const nodesNeeded = Math.max(
    1,
    nodesFor(rest.cpu, capacity.allocatableCpuMillicores - perNodeDaemon.cpu),
    nodesFor(rest.memory, capacity.allocatableMemoryMiB - perNodeDaemon.memory),
    nodesFor(rest.pods, capacity.maxPods - perNodeDaemon.pods),
  );
  const tooLarge = groups
    .filter((g) => g.cpu > capacity.allocatableCpuMillicores || g.memory > capacity.allocatableMemoryMiB)
    .map((g) => `${g.name} requests ${g.cpu}m, ${g.memory} MiB each`);
  const terms = groups.map((g) => `${g.name} × ${g.cpu || g.memory ? `(${g.cpu}m, ${g.memory} MiB)` : "(no requests)"}`);
  const ok = dimensions.every((d) => d.demand <= d.capacity) && tooLarge.length === 0;
  return { nodesMax, instanceType: type, perNode: capacity, dimensions, terms, tooLarge, nodesNeeded, ok };
}
