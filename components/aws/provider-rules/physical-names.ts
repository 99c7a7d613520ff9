import type { Check } from "../../../profile/checks";
import { AUTO_NAME_SUFFIX_LENGTH, AWS_NAME_RULES, UNNAMED_AWS_TYPES, type NameRule, type NameScope } from "./aws-name-rules";
import { inputsOf, type PlannedResource, type PlannedStack } from "./types";

/** What `pulumi up` would send to AWS as the resource's name. */
export interface PhysicalName {
  type: string;
  logicalName: string;
  field: string;
  /** The explicit name, or the auto-name with its random part shown as "xxxxxxx". */
  value: string;
  autoNamed: boolean;
  rule: NameRule;
}

/** The random part of an auto-name, shown as x's (the suffix is "-" + this). */
const RANDOM_PART = "x".repeat(AUTO_NAME_SUFFIX_LENGTH - 1);

/** The physical names a plan would create, one per named field of every AWS resource. */
export function physicalNames(resources: readonly PlannedResource[]): PhysicalName[] {
  return resources.flatMap((r) =>
    (AWS_NAME_RULES[r.type] ?? []).flatMap((rule): PhysicalName[] => {
      const explicit = inputsOf(r)[rule.field];
      if (typeof explicit === "string")
        return [{ type: r.type, logicalName: r.name, field: rule.field, value: explicit, autoNamed: false, rule }];
      if (rule.autoNameMax === undefined) return [];
      const auto = `${r.name}-${RANDOM_PART}`;
      return [
        {
          type: r.type,
          logicalName: r.name,
          field: rule.field,
          value: rule.autoNameLowercase ? auto.toLowerCase() : auto,
          autoNamed: true,
          rule,
        },
      ];
    }),
  );
}

function nameProblem(n: PhysicalName): string | undefined {
  const { rule, value } = n;
  const limit = n.autoNamed ? Math.min(rule.awsMax, rule.autoNameMax ?? rule.awsMax) : rule.awsMax;
  const who = `${n.type} "${n.logicalName}" ${n.field}`;
  if (value.length > limit) {
    const fix = n.autoNamed
      ? `pulumi-aws names it "${n.logicalName}" + "-" + 7 random characters (${value.length} > ${limit}${rule.autoNameMax !== undefined && rule.autoNameMax < rule.awsMax ? ", pulumi-aws's own cap" : rule.awsMax < (rule.autoNameMax ?? Infinity) ? ", AWS's limit" : ""}); give it an explicit name of at most ${limit} characters or shorten the logical name by ${value.length - limit}`
      : `${value.length} > AWS's limit ${limit}; shorten it by ${value.length - limit} characters (shorter service/stack name)`;
    return `${who} "${value}": ${fix}`;
  }
  const filled = n.autoNamed ? value.replace(RANDOM_PART, "abcdef0") : value;
  const sample = rule.lowercase ? filled.toLowerCase() : filled;
  if (rule.pattern && !rule.pattern.test(sample))
    return `${who} "${value}" breaks AWS's naming rule ${rule.pattern}; use letters, digits and single hyphens`;
  return undefined;
}

/**
 * Every physical name fits AWS's limit (and, for auto-names, pulumi-aws's own cap, which refuses
 * the preview), and every AWS type of the plan is classified in the rule table.
 */
export function checkNameLimits(plan: PlannedStack): Check {
  const unknown = [
    ...new Set(
      plan.resources
        .map((r) => r.type)
        .filter((t) => t.startsWith("aws:") && !AWS_NAME_RULES[t] && !UNNAMED_AWS_TYPES.includes(t)),
    ),
  ];
  const problems = physicalNames(plan.resources).flatMap((n) => nameProblem(n) ?? []);
  if (unknown.length)
    problems.push(
      ...unknown.map(
        (t) =>
          `${t} has no entry in components/aws/provider-rules/aws-name-rules.ts; add its name field and AWS limit (or list it as unnamed)`,
      ),
    );
  const named = physicalNames(plan.resources).length;
  return {
    name: "aws-name-limits",
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${named} physical names of ${plan.stack} fit AWS's limits and pulumi-aws's auto-name caps`,
  };
}

const SHARED_SCOPES: readonly NameScope[] = ["region", "account", "global"];

/**
 * No two stacks create the same explicit physical name where AWS wants it unique (worst case:
 * all stacks in one account and region). Auto-names carry a random suffix and cannot collide.
 */
export function checkNameCollisions(plans: readonly PlannedStack[]): Check {
  const owners = new Map<string, string[]>();
  for (const plan of plans) {
    for (const n of physicalNames(plan.resources)) {
      if (n.autoNamed || !SHARED_SCOPES.includes(n.rule.scope)) continue;
      const key = `${n.type} ${n.field} "${n.value}"`;
      owners.set(key, [...(owners.get(key) ?? []), `${plan.stack}:${n.logicalName}`]);
    }
  }
  const clashes = [...owners].filter(([, who]) => who.length > 1);
  return {
    name: "aws-name-collisions",
    ok: clashes.length === 0,
    detail: clashes.length
      ? clashes.map(([key, who]) => `${key} is created by ${who.join(" and ")}; scope the name with the stack name`).join("; ")
      : `no explicit physical name is shared by the stacks ${plans.map((p) => p.stack).join(", ")}`,
  };
}
