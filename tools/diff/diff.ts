/**
 * The offline plan diff: what a change to the code or a stack file does to a stack, computed
 * from two plan JSONs (`npm run plan -- --json`), with no CLI and no cloud. Pure functions.
 */
import type { Violation } from "../../policy/rules";
import type { ServiceCapacity } from "../../profile/capacity-checks";
import { costDelta, type CostDelta } from "../cost/delta";
import type { CostReport } from "../cost/estimate";
import type { PlanJson } from "../plan";
import { flatten } from "./flatten";
import { replacingKey } from "./replace-on-change";

type Check = PlanJson["checks"][number];

/** What the diff needs of a plan (the shape `npm run plan -- --json` writes). */
export interface PlanLike {
  stack: string;
  resources: { urn: string; type: string; name: string; parent?: string; inputs: unknown }[];
  outputs: Record<string, unknown>;
  checks: Check[];
  /** The plan's cost estimate (AWS stacks; absent in older plans). */
  cost?: CostReport;
  /** The services' measured capacity and throughput numbers (absent in older plans). */
  capacity?: ServiceCapacity[];
}

export const MASK = "[secret]";

/** An input key whose name says it holds a secret is never shown, whatever the plan recorded. */
const SECRET_KEY = /(password|passwd|secrets?$|token$|private_?key|credentials?$|kubeconfig)/i;

export interface ValueChange {
  path: string;
  before?: unknown;
  after?: unknown;
  /** The value is a secret: before/after are the mask; only the fact of a change is shown. */
  masked: boolean;
  /** The replace-on-change input this path falls under, when it forces a replacement. */
  replaces?: string;
}

export interface ResourceRef {
  urn: string;
  type: string;
  name: string;
}

export interface ResourceChange extends ResourceRef {
  changes: ValueChange[];
  /** Replace-on-change inputs that changed; empty for an in-place update. */
  replaceReasons: string[];
}

/** A resource whose URN changed (renamed): Pulumi deletes the old one and creates the new one. */
export interface Rename {
  type: string;
  before: ResourceRef;
  after: ResourceRef;
  changes: ValueChange[];
}

export interface CheckChange {
  name: string;
  before?: Check;
  after?: Check;
  /** fixed: failed -> ok; broken: ok -> failed; added/removed; detail: same state, new numbers. */
  kind: "fixed" | "broken" | "added" | "removed" | "detail";
}

/**
 * A service whose capacity numbers differ: its capacity file changed (rate per core, commit), or
 * what the throughput check computes from it (hpa.max, limits, headroom, targetRps). Absent on one
 * side: no capacity file there.
 */
export interface CapacityChange {
  service: string;
  before?: ServiceCapacity;
  after?: ServiceCapacity;
}

/** The capacity changes between two plans, by service, in head order then base-only services. */
export function diffCapacity(base: ServiceCapacity[] = [], head: ServiceCapacity[] = []): CapacityChange[] {
  const before = new Map(base.map((c) => [c.service, c]));
  const after = new Map(head.map((c) => [c.service, c]));
  const services = [...new Set([...after.keys(), ...before.keys()])];
  return services
    .map((service) => ({ service, before: before.get(service), after: after.get(service) }))
    .filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after))
    .map((c) => ({ service: c.service, ...(c.before ? { before: c.before } : {}), ...(c.after ? { after: c.after } : {}) }));
}

export interface PlanDiff {
  stack: string;
  added: ResourceRef[];
  removed: ResourceRef[];
  updated: ResourceChange[];
  /** Changed in place by a replace-on-change input. */
  replaced: ResourceChange[];
  renamed: Rename[];
  unchanged: number;
  checks: CheckChange[];
  /** Checks failing at head: the plan exits non-zero on any. */
  failedChecks: Check[];
  outputs: ValueChange[];
  policy?: { introduced: Violation[]; resolved: Violation[]; atHead: Violation[] };
  /** The monthly cost of the change (both plans carry an estimate). */
  cost?: CostDelta;
  /** Services whose capacity numbers changed (a capacity file, or what the throughput check computes from it). */
  capacity?: CapacityChange[];
  /** Set when the head plan failed (bad stack file, failed check): nothing was planned. */
  failure?: string;
  noChanges: boolean;
}

function isSecretPath(path: string, resourceType: string): boolean {
  if (/^kubernetes:core\/v1:Secret$/.test(resourceType) && /^(data|stringData)\b/.test(path)) return true;
  return path.split(/[.[\]"]+/).some((segment) => SECRET_KEY.test(segment));
}

/** Key-by-key changes between two values; secrets masked by key name or by the plan's marker. */
export function diffValues(before: unknown, after: unknown, resourceType = ""): ValueChange[] {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: ValueChange[] = [];
  for (const path of paths) {
    const [x, y] = [a.get(path), b.get(path)];
    if (a.has(path) && b.has(path) && JSON.stringify(x) === JSON.stringify(y)) continue;
    const masked = x === MASK || y === MASK || isSecretPath(path, resourceType);
    const change: ValueChange = { path, masked };
    if (a.has(path)) change.before = masked ? MASK : x;
    if (b.has(path)) change.after = masked ? MASK : y;
    const replaces = replacingKey(resourceType, path);
    if (replaces) change.replaces = replaces;
    changes.push(change);
  }
  return changes;
}

const ref = (r: ResourceRef): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });

/** The part of two names that differs: `uaip-services-a-deployment` vs `...-b-deployment` -> [a, b]. */
export function nameSubstitution(before: string, after: string): [string, string] {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  )
    end++;
  return [before.slice(start, before.length - end), after.slice(start, after.length - end)];
}

/**
 * Pairs removed and added resources of the same type that are the same thing renamed. A service
 * rename changes many names the same way (`a` -> `b` inside each), so candidate pairs are ranked
 * by how many pairs share their substitution, and assigned greedily.
 */
export function pairRenames<T extends ResourceRef>(removed: T[], added: T[]): [T, T][] {
  const candidates: { r: T; a: T; key: string }[] = [];
  for (const r of removed)
    for (const a of added) if (r.type === a.type) candidates.push({ r, a, key: nameSubstitution(r.name, a.name).join("\u0000") });
  const weight = new Map<string, number>();
  for (const c of candidates) weight.set(c.key, (weight.get(c.key) ?? 0) + 1);
  candidates.sort((x, y) => weight.get(y.key)! - weight.get(x.key)! || x.r.name.localeCompare(y.r.name));
  const used = new Set<T>();
  const pairs: [T, T][] = [];
  for (const c of candidates) {
    if (used.has(c.r) || used.has(c.a)) continue;
    // A lone pair of one type (e.g. the stack's only DB renamed) is a rename; several unrelated
    // resources of a type pair only through a substitution seen at least twice.
    const lone = removed.filter((r) => r.type === c.r.type).length === 1 && added.filter((a) => a.type === c.a.type).length === 1;
    if (!lone && weight.get(c.key)! < 2) continue;
    used.add(c.r);
    used.add(c.a);
    pairs.push([c.r, c.a]);
  }
  return pairs;
}

function policyKey(v: Violation): string {
  return `${v.rule}\u0000${v.resource}\u0000${v.message}`;
}

/**
 * Component resources (`uaip:services:UaipService`, the stack) own nothing in the cloud: their
 * children carry the changes. Provider resource tokens always have a module path (`aws:rds/...`).
 */
export function isComponentType(type: string): boolean {
  return !type.split(":")[1]?.includes("/");
}

export function diffPlans(base: PlanLike, head: PlanLike, policy?: { base: Violation[]; head: Violation[] }): PlanDiff {
  const cloud = (plan: PlanLike) => plan.resources.filter((r) => !isComponentType(r.type));
  const before = new Map(cloud(base).map((r) => [r.urn, r]));
  const after = new Map(cloud(head).map((r) => [r.urn, r]));
  const updated: ResourceChange[] = [];
  const replaced: ResourceChange[] = [];
  let unchanged = 0;
  for (const [urn, h] of after) {
    const b = before.get(urn);
    if (!b) continue;
    const changes = diffValues(b.inputs, h.inputs, h.type);
    if (changes.length === 0) {
      unchanged++;
      continue;
    }
    const replaceReasons = [...new Set(changes.flatMap((c) => (c.replaces ? [c.replaces] : [])))];
    (replaceReasons.length ? replaced : updated).push({ ...ref(h), changes, replaceReasons });
  }
  const removedAll = [...before.values()].filter((r) => !after.has(r.urn));
  const addedAll = [...after.values()].filter((r) => !before.has(r.urn));
  const pairs = pairRenames(removedAll, addedAll);
  const paired = new Set(pairs.flat());
  const renamed: Rename[] = pairs.map(([r, a]) => ({
    type: a.type,
    before: ref(r),
    after: ref(a),
    changes: diffValues(r.inputs, a.inputs, a.type),
  }));

  const baseChecks = new Map(base.checks.map((c) => [c.name, c]));
  const headChecks = new Map(head.checks.map((c) => [c.name, c]));
  const checks: CheckChange[] = [];
  for (const name of [...new Set([...baseChecks.keys(), ...headChecks.keys()])]) {
    const [b, h] = [baseChecks.get(name), headChecks.get(name)];
    if (!b) checks.push({ name, after: h, kind: "added" });
    else if (!h) checks.push({ name, before: b, kind: "removed" });
    else if (b.ok !== h.ok) checks.push({ name, before: b, after: h, kind: h.ok ? "fixed" : "broken" });
    else if (b.detail !== h.detail) checks.push({ name, before: b, after: h, kind: "detail" });
  }

  const outputs = diffValues(base.outputs, head.outputs);
  let policyDiff: PlanDiff["policy"];
  if (policy) {
    const baseKeys = new Set(policy.base.map(policyKey));
    const headKeys = new Set(policy.head.map(policyKey));
    policyDiff = {
      introduced: policy.head.filter((v) => !baseKeys.has(policyKey(v))),
      resolved: policy.base.filter((v) => !headKeys.has(policyKey(v))),
      atHead: policy.head,
    };
  }
  const diff: PlanDiff = {
    stack: head.stack,
    added: addedAll.filter((r) => !paired.has(r)).map(ref),
    removed: removedAll.filter((r) => !paired.has(r)).map(ref),
    updated,
    replaced,
    renamed,
    unchanged,
    checks,
    failedChecks: head.checks.filter((c) => !c.ok),
    outputs,
    noChanges: false,
  };
  const cost = costDelta(base.cost, head.cost);
  if (cost) diff.cost = cost;
  const capacity = diffCapacity(base.capacity, head.capacity);
  if (capacity.length) diff.capacity = capacity;
  if (policyDiff) diff.policy = policyDiff;
  diff.noChanges =
    !diff.added.length &&
    !diff.removed.length &&
    !updated.length &&
    !replaced.length &&
    !renamed.length &&
    !checks.length &&
    !outputs.length &&
    !capacity.length &&
    !(policyDiff && (policyDiff.introduced.length || policyDiff.resolved.length));
  return diff;
}

/** `  ✗ name: detail` lines of the plan's "cross-layer checks failed" error. */
export function failedChecksIn(message: string): Check[] {
  return [...message.matchAll(/^\s*✗ ([^:\n]+): (.*)$/gm)].map((m) => ({ name: m[1], ok: false, detail: m[2] }));
}

/**
 * The diff when the head plan failed: the program stops at the first failed check (index.ts
 * asserts them), so no resources exist to compare; the checks that broke are what the PR must see.
 */
export function diffFailedPlan(base: PlanLike, stack: string, failure: string): PlanDiff {
  const failed = failedChecksIn(failure);
  const baseChecks = new Map(base.checks.map((c) => [c.name, c]));
  const checks: CheckChange[] = failed.map((after) => {
    const before = baseChecks.get(after.name);
    if (!before) return { name: after.name, after, kind: "added" };
    return { name: after.name, before, after, kind: before.ok ? "broken" : "detail" };
  });
  return {
    stack,
    added: [],
    removed: [],
    updated: [],
    replaced: [],
    renamed: [],
    unchanged: 0,
    checks,
    failedChecks: failed,
    outputs: [],
    failure,
    noChanges: false,
  };
}
