/**
 * The plan's monthly cost estimate: pure functions over the planned resources, the profile's
 * usage assumptions and the vendored price snapshot. Fixed cost is what the resources bill every
 * hour (730 h a month); usage cost is the stated assumptions times the usage prices; the node
 * range is the cluster autoscaler's minimum to maximum. A SKU the snapshot lacks is listed as
 * unpriced, by name, and counts for nothing in the totals.
 */
import type { ServiceRequestCost } from "./per-request";
import { ageInDays, priceOf, STALE_AFTER_DAYS, unpricedReason, type Price, type PriceSnapshot } from "./prices";
import {
  BILLABLE_RULES,
  FREE_TYPE_REASONS,
  FREE_TYPES,
  isAwsResource,
  type CostResource,
  type Quantity,
  type RuleContext,
  type UsageAssumptions,
} from "./resource-prices";

export interface CostLine {
  /** The component the resource belongs to (its parent's name), "" at the top. */
  component: string;
  resource: string;
  type: string;
  sku: string;
  what: string;
  basis: Quantity["basis"];
  quantity: number;
  unit: string;
  usdPerUnit: number;
  /** Billed every month whatever the traffic. */
  fixedMonthly: number;
  /** From the usage assumptions. */
  usageMonthly: number;
  source: string;
  asOf: string;
}

export interface UnpricedItem {
  component: string;
  resource: string;
  type: string;
  /** The SKU the snapshot has no price for, or the type no rule classifies. */
  sku: string;
  what: string;
  /** How much of the SKU the resource bills (0 for an unclassified type), so a price added later is a multiplication. */
  quantity: number;
  basis?: Quantity["basis"];
  /** Why the snapshot has no price for the SKU, when it declares one (vendor/aws/prices/snapshot.json `unpriced`). */
  reason?: string;
}

/** An AWS type of the plan that bills nothing by itself, and why (FREE_TYPE_REASONS). */
export interface FreeType {
  type: string;
  reason: string;
}

export interface NodeRangeCost {
  component: string;
  resource: string;
  minNodes: number;
  maxNodes: number;
  /** Monthly cost of the minimum at the group's first type (as the fixed lines price it), and of the maximum at the dearest listed type; both with each node's volumes. */
  minMonthly: number;
  maxMonthly: number;
}

export interface CostReport {
  stack: string;
  region: string;
  currency: "USD";
  hoursPerMonth: number;
  assumptions: UsageAssumptions;
  lines: CostLine[];
  unpriced: UnpricedItem[];
  /** The plan's AWS types that bill nothing by themselves, with the reason. */
  free: FreeType[];
  nodeRanges: NodeRangeCost[];
  totals: { fixedMonthly: number; usageMonthly: number; monthly: number; monthlyAtMaxNodes: number };
  /** The oldest `asOf` among the prices used. */
  oldestPrice?: string;
  warnings: string[];
  /** Dollars per million requests at the SLO, per service with a targetRps (tools/cost/per-request.ts). */
  perRequest?: ServiceRequestCost[];
}

export interface CostInput {
  stack: string;
  region: string;
  resources: CostResource[];
  assumptions: UsageAssumptions;
  /** Whether EKS bills this Kubernetes version at the extended-support rate (profile/support-calendar.ts). */
  eksExtendedSupport: (version: string) => boolean;
  snapshot: PriceSnapshot;
  /** `YYYY-MM-DD`: the day of the plan (injected so tests are deterministic). */
  today: string;
}

/** A component's name from its URN (`...::uaip:aws:Database::uaip-db` -> `uaip-db`). */
function componentOf(parent: string | undefined): string {
  return parent ? (parent.split("::").pop() ?? "") : "";
}

export function estimateCost(input: CostInput): CostReport {
  const { snapshot, region, today } = input;
  const hours = snapshot.hoursPerMonth;
  const aws = input.resources.filter(isAwsResource);
  const counts = new Map<string, number>();
  for (const r of aws) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  const contextOf = (r: CostResource): RuleContext => ({
    assumptions: input.assumptions,
    eksExtendedSupport: input.eksExtendedSupport,
    countOf: (t) => counts.get(t) ?? 0,
    dependencies: (t) => aws.filter((d) => d.type === t && d.urn !== undefined && (r.dependsOn ?? []).includes(d.urn)),
    dependents: (t) => aws.filter((d) => d.type === t && r.urn !== undefined && (d.dependsOn ?? []).includes(r.urn)),
    siblings: (t) => aws.filter((d) => d.type === t && d !== r && d.parent === r.parent),
    resources: aws,
  });

  const lines: CostLine[] = [];
  const unpriced: UnpricedItem[] = [];
  const nodeRanges: NodeRangeCost[] = [];
  const used: Price[] = [];
  const price = (sku: string) => {
    const p = priceOf(snapshot, sku, region);
    if (p) used.push(p);
    return p;
  };

  for (const r of aws) {
    const component = componentOf(r.parent);
    const rule = BILLABLE_RULES[r.type];
    if (!rule) {
      if (!FREE_TYPES.has(r.type))
        unpriced.push({
          component,
          resource: r.name,
          type: r.type,
          sku: "(type not classified in tools/cost/resource-prices.ts)",
          what: "",
          quantity: 0,
        });
      continue;
    }
    const billing = rule(r.inputs ?? {}, contextOf(r));
    for (const q of billing.quantities) {
      const p = price(q.sku);
      if (!p) {
        const reason = unpricedReason(snapshot, q.sku);
        unpriced.push({
          component,
          resource: r.name,
          type: r.type,
          sku: q.sku,
          what: q.what,
          quantity: q.quantity,
          basis: q.basis,
          ...(reason ? { reason } : {}),
        });
        continue;
      }
      const monthly = q.quantity * p.usd * (q.basis === "hourly" ? hours : 1);
      lines.push({
        component,
        resource: r.name,
        type: r.type,
        sku: q.sku,
        what: q.what,
        basis: q.basis,
        quantity: q.quantity,
        unit: p.unit,
        usdPerUnit: p.usd,
        fixedMonthly: q.basis === "usage" ? 0 : monthly,
        usageMonthly: q.basis === "usage" ? monthly : 0,
        source: p.source.url,
        asOf: p.asOf,
      });
    }
    if (billing.nodes) {
      const perHour = billing.nodes.skus.map((s) => price(s)?.usd);
      const perNodeMonthly = billing.nodes.perNode.map((v) => {
        const p = price(v.sku);
        return p === undefined ? undefined : v.quantity * p.usd;
      });
      // A type or volume without a price is already listed as unpriced above: no range is better than a wrong one.
      if (perHour.length === 0 || [...perHour, ...perNodeMonthly].some((u) => u === undefined)) continue;
      const known = perHour as number[];
      const volumes = sum(perNodeMonthly as number[]);
      nodeRanges.push({
        component,
        resource: r.name,
        minNodes: billing.nodes.min,
        maxNodes: billing.nodes.max,
        minMonthly: billing.nodes.min * (known[0]! * hours + volumes),
        maxMonthly: billing.nodes.max * (Math.max(...known) * hours + volumes),
      });
    }
  }

  const fixedMonthly = sum(lines.map((l) => l.fixedMonthly));
  const usageMonthly = sum(lines.map((l) => l.usageMonthly));
  // The always-on lines price the node minimum at the group's first type; at the maximum, every node at the dearest.
  const ranged = new Set(nodeRanges.map((n) => n.resource));
  const nodeMinimums = sum(
    lines.filter((l) => l.type === "aws:eks/nodeGroup:NodeGroup" && ranged.has(l.resource)).map((l) => l.fixedMonthly),
  );
  const monthlyAtMaxNodes = fixedMonthly + usageMonthly - nodeMinimums + sum(nodeRanges.map((n) => n.maxMonthly));

  const oldestPrice = used.map((p) => p.asOf).sort()[0];
  const warnings: string[] = [];
  // Another region's price is never used; say so, so a stack outside the covered regions is not read as cheap.
  const elsewhere = [...new Set(unpriced.map((u) => u.sku))].filter((sku) => snapshot.prices.some((p) => p.sku === sku));
  if (elsewhere.length)
    warnings.push(
      `${elsewhere.length} SKU(s) have prices for ${[...new Set(snapshot.prices.filter((p) => elsewhere.includes(p.sku)).map((p) => p.region))].join(", ")} but none for ${region}, and another region's price is never used: ${elsewhere.join(", ")}; add ${region}'s prices to vendor/aws/prices/snapshot.json (its README says how)`,
    );
  const stale = [...new Set(used.filter((p) => ageInDays(p.asOf, today) > STALE_AFTER_DAYS).map((p) => `${p.sku} (${p.asOf})`))];
  if (stale.length)
    warnings.push(
      `prices older than ${STALE_AFTER_DAYS} days on ${today}: ${stale.join(", ")}; refresh vendor/aws/prices/snapshot.json (its README says how)`,
    );
  const extended = lines.find((l) => l.sku === "eks.cluster.extendedSupport");
  if (extended)
    warnings.push(
      `${extended.resource} runs a Kubernetes version in EKS extended support: the control plane bills $${extended.usdPerUnit}/h instead of the standard rate (6×); upgrade cluster.version`,
    );
  if (unpriced.length)
    warnings.push(
      `${unpriced.length} billed item(s) have no price in the snapshot and count for $0: ${[...new Set(unpriced.map((u) => u.sku))].join(", ")}`,
    );

  return {
    stack: input.stack,
    region,
    currency: "USD",
    hoursPerMonth: hours,
    assumptions: input.assumptions,
    lines,
    unpriced,
    free: [...new Set(aws.map((r) => r.type).filter((t) => FREE_TYPES.has(t)))]
      .sort()
      .map((type) => ({ type, reason: FREE_TYPE_REASONS[type]! })),
    nodeRanges,
    totals: { fixedMonthly, usageMonthly, monthly: fixedMonthly + usageMonthly, monthlyAtMaxNodes },
    ...(oldestPrice ? { oldestPrice } : {}),
    warnings,
  };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
