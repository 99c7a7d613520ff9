/**
 * The cost of a change: the monthly estimate of each resource at base and at head, and the
 * total, for `plan --diff`. Unpriced items that appear or go are named: their cost is unknown,
 * not zero.
 */
import type { CostReport } from "./estimate";

export interface ResourceCostChange {
  resource: string;
  type: string;
  before: number;
  after: number;
  delta: number;
}

export interface CostDelta {
  before: number;
  after: number;
  delta: number;
  /** Resources whose monthly estimate changed (created and deleted ones included), largest change first. */
  changed: ResourceCostChange[];
  /** `resource sku` pairs unpriced at head and not at base, and the reverse. */
  unpricedAdded: string[];
  unpricedRemoved: string[];
}

/** Below a hundredth of a cent a month, a difference is float noise. */
const EPSILON = 1e-4;

function perResource(report: CostReport): Map<string, { resource: string; type: string; monthly: number }> {
  const out = new Map<string, { resource: string; type: string; monthly: number }>();
  for (const l of report.lines) {
    const key = `${l.type} ${l.resource}`;
    const entry = out.get(key) ?? { resource: l.resource, type: l.type, monthly: 0 };
    entry.monthly += l.fixedMonthly + l.usageMonthly;
    out.set(key, entry);
  }
  return out;
}

export function costDelta(base: CostReport | undefined, head: CostReport | undefined): CostDelta | undefined {
  if (!base || !head) return undefined;
  const [b, h] = [perResource(base), perResource(head)];
  const changed: ResourceCostChange[] = [];
  for (const key of new Set([...b.keys(), ...h.keys()])) {
    const before = b.get(key)?.monthly ?? 0;
    const after = h.get(key)?.monthly ?? 0;
    const { resource, type } = (h.get(key) ?? b.get(key))!;
    if (Math.abs(after - before) > EPSILON) changed.push({ resource, type, before, after, delta: after - before });
  }
  changed.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
  const unpriced = (r: CostReport) => new Set(r.unpriced.map((u) => `${u.resource} ${u.sku}`));
  const [ub, uh] = [unpriced(base), unpriced(head)];
  return {
    before: base.totals.monthly,
    after: head.totals.monthly,
    delta: head.totals.monthly - base.totals.monthly,
    changed,
    unpricedAdded: [...uh].filter((u) => !ub.has(u)),
    unpricedRemoved: [...ub].filter((u) => !uh.has(u)),
  };
}

/** Whether the change moves the bill or what can be priced. */
export function costChanged(d: CostDelta): boolean {
  return d.changed.length > 0 || d.unpricedAdded.length > 0 || d.unpricedRemoved.length > 0;
}
