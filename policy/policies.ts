import type { Policy, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RULES } from "./rules";
import type { PlannedResource, Rule } from "./rules";

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
        const resource: PlannedResource = { type: args.type, name: args.name, urn: args.urn, props: args.props };
        for (const message of rule.check(resource)) reportViolation(message);
      },
    };
    return policy;
  }
  const policy: StackValidationPolicy = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    validateStack: (args, reportViolation) => {
      const resources: PlannedResource[] = args.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props }));
      for (const finding of rule.check(resources)) reportViolation(finding.message, finding.resource?.urn);
    },
  };
  return policy;
}

export const policies: Policy[] = RULES.map(toPolicy);
