import type { CapacityFile } from "./capacity-file";
import { EC2_INSTANCE_CAPACITY_SOURCE } from "./aws-catalog";
import { type Check, result, warning } from "./check-result";
import { nodeFit } from "./node-fit";
import { cpuToCores } from "./quantity";
import type { Profile, ServiceProfile } from "./schema";

/**
 * The checks that size the profile by what a pod can really serve: the measured knee of each
 * service (capacity/<service>.json, profile/capacity-file.ts) against its targetRps, its HPA's CPU
 * target and its pool (Little's law), and the node group against everything the cluster runs at
 * full scale (node-fit.ts). Pure: the files arrive already read (tools/capacity-files.ts).
 */

/** A service's capacity file as the reader found it. */
export type CapacityInput =
  | { path: string; state: "missing" }
  /** Present but not a capacity file: every problem, by key. */
  | { path: string; state: "invalid"; problems: string[] }
  /** `stale`: why its numbers may not be the code's (older than the service's code, or git could not tell). */
  | { path: string; state: "ok"; file: CapacityFile; stale?: string };

/** By service name. */
export type CapacityInputs = ReadonlyMap<string, CapacityInput>;

/** Node.js runs one event loop per pod: a pod serves at most one core's worth of the knee. */
export const CORES_PER_EVENT_LOOP = 1;

/** The numbers of one service's capacity: what the checks compare and the plan diff shows. */
export interface ServiceCapacity {
  service: string;
  path: string;
  commit: string;
  measuredAt: string;
  /** knee.rateRpsPerCore of the file. */
  rateRpsPerCore: number;
  /** resources.limits.cpu in cores. */
  cpuLimitCores: number;
  /** min(cpuLimitCores, one core per event loop). */
  coresPerPod: number;
  /** rateRpsPerCore × coresPerPod. */
  perPodRps: number;
  hpaMax: number;
  headroom: number;
  /** hpaMax × perPodRps × (1 − headroom): what the service serves at peak with its headroom kept. */
  servesRps: number;
  targetRps?: number;
  /** The pod's CPU at the knee (perPodRps × knee.cpuMsPerRequest / 1000 cores) as a percent of resources.requests.cpu. */
  cpuAtKneePercentOfRequest: number;
  cpuTarget: number;
  /** Connection checkouts per request at the knee (knee.dbHoldsPerRequest; 1 when the file predates it). */
  dbHoldsPerRequest: number;
  /** Little's law at the knee: perPodRps × dbHoldsPerRequest × knee.dbP95Ms / 1000 connections busy; null when the route does not query. */
  dbBusyConnections: number | null;
  poolMax: number;
}

export function serviceCapacity(s: ServiceProfile, path: string, file: CapacityFile): ServiceCapacity {
  const cpuLimitCores = cpuToCores(s.resources.limits.cpu) ?? 0;
  const coresPerPod = Math.min(cpuLimitCores, CORES_PER_EVENT_LOOP);
  const perPodRps = file.knee.rateRpsPerCore * coresPerPod;
  const requestCores = cpuToCores(s.resources.requests.cpu) ?? 0;
  const cpuAtKneeCores = (perPodRps * file.knee.cpuMsPerRequest) / 1000;
  // Only the requests that take a connection hold one (a cached read takes none).
  const holds = file.knee.dbHoldsPerRequest ?? 1;
  return {
    service: s.name,
    path,
    commit: file.commit,
    measuredAt: file.measuredAt,
    rateRpsPerCore: file.knee.rateRpsPerCore,
    cpuLimitCores,
    coresPerPod,
    perPodRps,
    hpaMax: s.hpa.max,
    headroom: s.headroom,
    servesRps: s.hpa.max * perPodRps * (1 - s.headroom),
    ...(s.targetRps !== undefined ? { targetRps: s.targetRps } : {}),
    cpuAtKneePercentOfRequest: requestCores > 0 ? (cpuAtKneeCores / requestCores) * 100 : Infinity,
    cpuTarget: s.hpa.cpuTarget,
    dbHoldsPerRequest: holds,
    dbBusyConnections: file.knee.dbP95Ms === null ? null : (perPodRps * holds * file.knee.dbP95Ms) / 1000,
    poolMax: s.pool.max,
  };
}

/** Every service with a readable capacity file, in profile order. */
export function capacitySummary(p: Profile, capacity: CapacityInputs): ServiceCapacity[] {
  return p.services.flatMap((s) => {
    const input = capacity.get(s.name);
    return input?.state === "ok" ? [serviceCapacity(s, input.path, input.file)] : [];
  });
}

/** A number as the messages show it: whole numbers as is, others to two decimals. */
export function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

function throughputCheck(i: number, c: ServiceCapacity, targetRps: number): Check {
  const ok = c.servesRps >= targetRps;
  const perPod = `capacity per pod ${num(c.perPodRps)} req/s (${c.path}: knee ${num(c.rateRpsPerCore)} req/s per core × min(resources.limits.cpu ${num(c.cpuLimitCores)}, ${CORES_PER_EVENT_LOOP} core per event loop))`;
  const compared = `services[${i}] hpa.max ${c.hpaMax} × ${perPod} × (1 − headroom ${num(c.headroom)}) = ${num(c.servesRps)} req/s ${ok ? ">=" : "<"} targetRps ${num(targetRps)}`;
  const usable = c.perPodRps * (1 - c.headroom);
  const needed = usable > 0 ? Math.ceil(targetRps / usable) : Infinity;
  const cpuFix = c.cpuLimitCores < CORES_PER_EVENT_LOOP ? `, raise resources.limits.cpu toward ${CORES_PER_EVENT_LOOP} core` : "";
  return result(
    `throughput:${c.service}`,
    ok,
    compared,
    `raise hpa.max to ${needed} (the smallest that serves targetRps)${cpuFix}, or lower headroom or targetRps`,
  );
}

function hpaTargetCheck(i: number, c: ServiceCapacity, s: ServiceProfile): Check {
  const ok = c.cpuTarget < c.cpuAtKneePercentOfRequest;
  const atKnee = `the pod's CPU at the knee ${num(c.cpuAtKneePercentOfRequest)}% of resources.requests.cpu ${s.resources.requests.cpu} (${num(c.perPodRps)} req/s × ${c.path} knee.cpuMsPerRequest)`;
  return result(
    `hpa-target-vs-knee:${c.service}`,
    ok,
    `services[${i}] hpa.cpuTarget ${c.cpuTarget}% ${ok ? "<" : ">="} ${atKnee}`,
    `the HPA would scale only after the pods are past their knee: lower hpa.cpuTarget below ${num(c.cpuAtKneePercentOfRequest)} or lower resources.requests.cpu`,
  );
}

function littlesLawCheck(i: number, c: ServiceCapacity, file: CapacityFile): Check {
  const name = `pool-vs-littles-law:${c.service}`;
  if (c.dbBusyConnections === null)
    return result(
      name,
      true,
      `services[${i}] ${c.path}: the measured route holds no database connection (knee.dbP95Ms null)`,
      "",
    );
  const ok = c.poolMax >= c.dbBusyConnections;
  return result(
    name,
    ok,
    `services[${i}] pool.max ${c.poolMax} ${ok ? ">=" : "<"} ${num(c.perPodRps)} req/s per pod × ${num(c.dbHoldsPerRequest)} connection checkouts per request (knee.dbHoldsPerRequest${file.knee.dbHoldsPerRequest === undefined ? " not measured: 1 assumed" : ""}) × knee.dbP95Ms ${num(file.knee.dbP95Ms!)} ms / 1000 = ${num(c.dbBusyConnections)} connections busy at the knee (Little's law)`,
    `requests would queue for a connection before the pod reaches its knee: raise pool.max to ${Math.ceil(c.dbBusyConnections)} (the connection budget counts it)`,
  );
}

/** The capacity file's own state: a warning when missing (with a targetRps) or stale, a failure when unreadable. */
function fileCheck(s: ServiceProfile, input: CapacityInput | undefined): Check | undefined {
  const name = `capacity-file:${s.name}`;
  const measure = `run npm run capacity -- --service ${s.name} and commit the file`;
  if (!input || input.state === "missing") {
    if (s.targetRps === undefined) return undefined;
    const path = input?.path ?? `capacity/${s.name}.json`;
    return warning(
      name,
      `${path} is missing: targetRps ${num(s.targetRps)} is not checked against a measured capacity; ${measure}`,
    );
  }
  if (input.state === "invalid")
    return result(name, false, `${input.path} is not a capacity file: ${input.problems.join("; ")}`, measure);
  if (input.stale) return warning(name, `${input.path}: ${input.stale}; ${measure}`);
  return undefined;
}

function nodeFitCheck(p: Profile): Check | undefined {
  if (p.platform !== "aws") return undefined;
  const fit = nodeFit(p);
  const name = "node-group-fit";
  if ("unknownType" in fit)
    return warning(
      name,
      `cluster.instanceTypes ${fit.unknownType}: no allocatable CPU, memory and pods known for it (${EC2_INSTANCE_CAPACITY_SOURCE}); the node group's fit is not checked`,
    );
  const per = fit.perNode;
  const capacity = fit.dimensions.map((d) => `${d.name} ${d.capacity}${d.unit}`).join(", ");
  const demand = fit.dimensions.map((d) => `${d.name} ${d.demand}${d.unit}`).join(", ");
  const over = fit.dimensions
    .filter((d) => d.demand > d.capacity)
    .map((d) => `${d.name} ${d.demand}${d.unit} > ${d.capacity}${d.unit}`);
  const compared =
    `cluster.nodes.max ${fit.nodesMax} × ${fit.instanceType} allocatable (${per.allocatableCpuMillicores}m CPU, ${per.allocatableMemoryMiB} MiB, ${per.maxPods} pods) = ${capacity}` +
    ` ${fit.ok ? ">=" : "vs"} requests at hpa.max with every rollout's surge and the system pods: ${demand}` +
    ` (${fit.terms.join("; ")})${over.length ? `; short: ${over.join(", ")}` : ""}${fit.tooLarge.length ? `; larger than one node: ${fit.tooLarge.join(", ")}` : ""}`;
  const fix = fit.tooLarge.length
    ? "pick a larger cluster.instanceTypes or lower those requests"
    : `raise cluster.nodes.max to ${fit.nodesNeeded}, pick a larger cluster.instanceTypes, or lower hpa.max or resources.requests`;
  return result(name, fit.ok, compared, fix);
}

/** The capacity checks, in report order: per service (file, throughput, HPA target, Little's law), then the node group. */
export function capacityChecks(p: Profile, capacity: CapacityInputs): Check[] {
  const checks: Check[] = [];
  p.services.forEach((s, i) => {
    const input = capacity.get(s.name);
    const file = fileCheck(s, input);
    if (file) checks.push(file);
    if (input?.state !== "ok") return;
    const c = serviceCapacity(s, input.path, input.file);
    if (s.targetRps !== undefined) checks.push(throughputCheck(i, c, s.targetRps));
    checks.push(hpaTargetCheck(i, c, s), littlesLawCheck(i, c, input.file));
  });
  const nodes = nodeFitCheck(p);
  if (nodes) checks.push(nodes);
  return checks;
}
