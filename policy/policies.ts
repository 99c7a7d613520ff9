import type { Policy, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RULES } from "./rules";
import { resourceMessages, stackFindings } from "./rules/guard";
import type { PlannedResource, Rule } from "./rules";
import { UNKNOWN } from "./rules/match";

/** @pulumi/policy's markers for values unknown during preview (`@pulumi/policy/proxy`). */
const UNKNOWN_SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/**
 * The props as plain data. @pulumi/policy hands rules a proxy that throws on any unknown value,
 * which would turn a whole stack rule into "can't run during preview" as soon as one new
 * resource has an unknown id. Unknowns become UNKNOWN instead, and rules decide what they mean.
 */
export function knownProps(props: unknown): Record<string, unknown> {
  const target = (props as Record<string, unknown> | undefined)?.["__getSpecialProxyTarget"] ?? props;
  const copy = (value: unknown): unknown => {
    if (typeof value === "string") return UNKNOWN_SENTINELS.has(value) ? UNKNOWN : value;
    if (Array.isArray(value)) return value.map(copy);
    if (typeof value === "object" && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
    return value;
  };
  return (copy(target) ?? {}) as Record<string, unknown>;
}

/**
 * The rules as @pulumi/policy policies. Kept apart from index.ts, whose `new PolicyPack` starts
 * the policy server, so tests can run these validators without the CLI.
 */
export function toPolicy(rule: Rule): Policy {
  if (rule.kind === "resource") {
    const policy: ResourceValidationPolicy = {
      name: rule.name,
      description: rule.description,
      enforcementLevel: rule.enforcementLevel,
      validateResource: (args, reportViolation) => {
        const resource: PlannedResource = { type: args.type, name: args.name, urn: args.urn, props: knownProps(args.props) };
        for (const message of resourceMessages(rule, resource)) reportViolation(message);
      },
    };
    return policy;
  }
  const policy: StackValidationPolicy = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    validateStack: (args, reportViolation) => {
      const resources: PlannedResource[] = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: knownProps(r.props),
      }));
      for (const finding of stackFindings(rule, resources)) reportViolation(finding.message, finding.resource?.urn);
    },
  };
  return policy;
}

export const policies: Policy[] = RULES.map(toPolicy);
