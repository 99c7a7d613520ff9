/**
 * Dollars per million requests at the SLO (issue #29, item 4): for each service with a
 * `targetRps` and a measured capacity (`capacity/<service>.json`), what serving that rate costs.
 *
 * - Compute: the pods needed at the SLO, `ceil(targetRps / (knee.rateRpsPerCore × min(cpu limit, 1)
 *   × (1 − headroom)))` (one event loop uses at most one core), times their share of a node by CPU
 *   request (`requests.cpu / node vCPUs`), times the node's hourly price.
 * - Data tier: the database and cache lines of the estimate (DATA_TIER_TYPES), shared among the
 *   services in proportion to their targetRps.
 *
 * Both are priced as if the service ran at targetRps all month, and divided by that month's
 * requests. A figure that cannot be priced is left out and the reason named, never guessed.
 */
import type { CapacityFile } from "../../profile/capacity-file";
import { cpuToCores } from "../../profile/quantity";
import type { ServiceProfile } from "../../profile/schema";
import type { CostReport } from "./estimate";
import { DATA_TIER_TYPES, NODE_GROUP } from "./resource-prices";

export type ServiceDemand = Pick<ServiceProfile, "name" | "targetRps" | "headroom" | "resources">;

export interface ServiceRequestCost {
  service: string;
  targetRps: number;
  /** Requests per second one pod serves within the SLO, after headroom. */
  perPodRps?: number;
  /** Pods needed to serve targetRps at the SLO. */
  pods?: number;
  /** The node type the pods are priced on (the first node group's first type), and its vCPUs. */
  nodeType?: string;
  nodeVcpus?: number;
  /** Monthly cost at targetRps all month: the pods' share of nodes, and the service's share of the data tier. */
  computeMonthly?: number;
  dataTierShare?: number;
  dataTierMonthly?: number;
  /** Dollars per million requests; `total` only when both parts are known. */
  usdPerMillion: { compute?: number; dataTier?: number; total?: number };
  /** What could not be priced, and why (no capacity file, an unpriced node type, unpriced data-tier items). */
  missing: string[];
}

/** Pods serving `targetRps` at the SLO: ceil(targetRps / (rate per core × min(cpu limit, 1) × (1 − headroom))). */
export function podsAtSlo(
  targetRps: number,
  rateRpsPerCore: number,
  cpuLimitCores: number,
  headroom: number,
): { perPodRps: number; pods: number } {
  const perPodRps = rateRpsPerCore * Math.min(cpuLimitCores, 1) * (1 - headroom);
  return { perPodRps, pods: Math.ceil(targetRps / perPodRps) };
}

export function requestCosts(args: {
  report: CostReport;
  services: readonly ServiceDemand[];
  capacity: ReadonlyMap<string, CapacityFile>;
  /** Problems reading capacity files, by service (a file that does not parse is named, not skipped silently). */
  capacityErrors?: ReadonlyMap<string, string>;
  vcpus: (instanceType: string) => number | undefined;
}): ServiceRequestCost[] {
  const { report } = args;
  const hours = report.hoursPerMonth;
  const withTarget = args.services.filter((s): s is ServiceDemand & { targetRps: number } => s.targetRps !== undefined);
  const totalRps = withTarget.reduce((sum, s) => sum + s.targetRps, 0);

  // The node the pods land on: the first priced instance line of the first node group.
  const nodeLine = report.lines.find((l) => l.type === NODE_GROUP && l.sku.startsWith("ec2.instance."));
  const nodeType = nodeLine?.sku.slice("ec2.instance.".length);
  const nodeVcpus = nodeType ? args.vcpus(nodeType) : undefined;
  const unpricedNode = report.unpriced.find((u) => u.type === NODE_GROUP && u.sku.startsWith("ec2.instance."));

  const dataTierMonthly = report.lines
    .filter((l) => DATA_TIER_TYPES.has(l.type))
    .reduce((sum, l) => sum + l.fixedMonthly + l.usageMonthly, 0);
  const dataTierUnpriced = [...new Set(report.unpriced.filter((u) => DATA_TIER_TYPES.has(u.type)).map((u) => u.sku))];

  return withTarget.map((s) => {
    const missing: string[] = [];
    const out: ServiceRequestCost = { service: s.name, targetRps: s.targetRps, usdPerMillion: {}, missing };
    const requestsPerMonth = s.targetRps * 3600 * hours;

    const capacity = args.capacity.get(s.name);
    const limit = cpuToCores(s.resources.limits.cpu);
    const request = cpuToCores(s.resources.requests.cpu);
    if (!capacity) missing.push(args.capacityErrors?.get(s.name) ?? `no capacity/${s.name}.json (run npm run capacity)`);
    else if (limit === undefined || request === undefined) missing.push(`resources.cpu of ${s.name} is not a CPU quantity`);
    else {
      Object.assign(out, podsAtSlo(s.targetRps, capacity.knee.rateRpsPerCore, limit, s.headroom));
      if (!nodeLine || nodeType === undefined)
        missing.push(`compute: the node type is unpriced${unpricedNode ? ` (${unpricedNode.sku})` : ""}`);
      else if (nodeVcpus === undefined)
        missing.push(`compute: no vCPU count for ${nodeType} in vendor/aws/ec2-instance-capacity.json`);
      else {
        out.nodeType = nodeType;
        out.nodeVcpus = nodeVcpus;
        out.computeMonthly = out.pods! * (request / nodeVcpus) * nodeLine.usdPerUnit * hours;
        out.usdPerMillion.compute = (out.computeMonthly / requestsPerMonth) * 1e6;
      }
    }

    out.dataTierShare = s.targetRps / totalRps;
    out.dataTierMonthly = dataTierMonthly * out.dataTierShare;
    out.usdPerMillion.dataTier = (out.dataTierMonthly / requestsPerMonth) * 1e6;
    if (dataTierUnpriced.length) missing.push(`data tier: unpriced, counted as $0: ${dataTierUnpriced.join(", ")}`);

    if (out.usdPerMillion.compute !== undefined) out.usdPerMillion.total = out.usdPerMillion.compute + out.usdPerMillion.dataTier;
    return out;
  });
}
