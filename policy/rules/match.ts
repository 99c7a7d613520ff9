import type { PlannedResource } from "./types";

/**
 * pulumi-aws keeps old module names as aliases of the same resource: `aws:alb/*` and
 * `aws:elasticloadbalancingv2/*` are `aws:lb/*`; `aws:applicationloadbalancing/*` too; S3's
 * `BucketV2` family became `Bucket` in v7. A rule written for one spelling must catch all of
 * them, or a resource written with the alias slips through (AWSGuard matches only some).
 */
const MODULE_ALIASES: Record<string, string> = {
  alb: "lb",
  elasticloadbalancingv2: "lb",
  applicationloadbalancing: "lb",
};

/** The canonical token of a type: `aws:alb/listener:Listener` -> `aws:lb/listener:Listener`. */
export function canonicalType(type: string): string {
  const m = /^aws:([^/]+)\/([^:]+):(.+)$/.exec(type);
  if (!m) return type;
  const module = MODULE_ALIASES[m[1]] ?? m[1];
  // S3 v6 -> v7: BucketV2 / BucketServerSideEncryptionConfigurationV2 / ... lost the suffix.
  const strip = (s: string) => (module === "s3" ? s.replace(/V2$/, "") : s);
  return `aws:${module}/${strip(m[2])}:${strip(m[3])}`;
}

export function isType(resource: { type: string }, ...types: string[]): boolean {
  const canonical = canonicalType(resource.type);
  return types.includes(canonical);
}

/** Kubernetes kinds regardless of API version: `kubernetes:apps/v1:Deployment` is `apps:Deployment`. */
export function isKind(resource: { type: string }, ...kinds: string[]): boolean {
  const m = /^kubernetes:([^/]+)\/[^:]+:(.+)$/.exec(resource.type);
  return !!m && kinds.includes(`${m[1]}:${m[2]}`);
}

/** The environment a resource belongs to, from its `environment` tag (every UAIP resource has one). */
export function environmentOf(resource: PlannedResource): string | undefined {
  const tags = resource.props.tags;
  return tags && typeof tags === "object" && typeof tags.environment === "string" ? tags.environment : undefined;
}

export const isProd = (env: string | undefined): boolean => env === "prod" || env === "production";

/**
 * The objects of a list read from props. Props are user data: a list may be missing, not a list, or hold null and
 * scalars, and no rule may crash on that (a crash stops the whole policy run instead of naming the resource). What is
 * not an object has no fields a rule could read, so it is left out.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests and provider inputs are untyped JSON here
export function recordsIn<T extends object = Record<string, any>>(value: unknown): T[] {
  return Array.isArray(value) ? value.filter((x): x is T => isRecord(x)) : [];
}

/** An object with fields a rule can read: not null, not a list, not a scalar. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The strings of a list read from props (CIDR blocks, security group ids); anything else in it is left out. */
export function stringsIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === "string") : [];
}

/** `"true"`, `true` -> true. Launch template EBS flags are strings in pulumi-aws. */
export function truthy(value: unknown): boolean {
  return value === true || value === "true";
}

export function label(resource: PlannedResource): string {
  return `${resource.type} ${resource.name}`;
}

/**
 * What a value the engine cannot know yet (a new resource's id or name during `pulumi preview`)
 * becomes before the rules see it: rules that follow a reference treat it as "cannot tell".
 */
export const UNKNOWN = "<unknown during preview>";

/**
 * The resource a reference points at, by a name-like prop: the one whose prop equals it, or,
 * when the reference is unknown during preview, the only candidate there is.
 */
export function resolveRef(ref: unknown, candidates: PlannedResource[], prop: string): PlannedResource | undefined {
  if (ref === UNKNOWN) return candidates.length === 1 ? candidates[0] : undefined;
  return candidates.find((c) => c.props[prop] === ref);
}
