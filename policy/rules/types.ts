/**
 * The shapes every rule of the policy pack works on. Rules are plain functions over planned
 * resources, so the same code runs under `pulumi preview --policy-pack policy` (through
 * policy/policies.ts) and offline over a saved plan (tools/policy.ts, `npm run plan`).
 */

export type EnforcementLevel = "mandatory" | "advisory";

/** One resource as a policy sees it: `props` are the resource's inputs. */
export interface PlannedResource {
  type: string;
  name: string;
  urn: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- provider inputs are untyped JSON
  props: Record<string, any>;
}

/** Checks one resource at a time; returns one message per problem (empty when compliant). */
export interface ResourceRule {
  kind: "resource";
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  check(resource: PlannedResource): string[];
}

export interface StackFinding {
  /** The resource at fault; absent for a stack-wide finding. */
  resource?: PlannedResource;
  message: string;
}

/** Checks relations between resources (budget, HPA ownership, which SG fronts which LB). */
export interface StackRule {
  kind: "stack";
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  check(resources: PlannedResource[]): StackFinding[];
}

export type Rule = ResourceRule | StackRule;

export interface Violation {
  rule: string;
  enforcementLevel: EnforcementLevel;
  /** URN and `type name` of the resource at fault; "" for a stack-wide finding. */
  urn: string;
  resource: string;
  message: string;
}
