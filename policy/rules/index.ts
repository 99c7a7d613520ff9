import { connectionBudget } from "./connection-budget";
import { rdsProxyTls, valkeyOnReplicationGroups } from "./data-tier";
import { ebsEncrypted, elasticacheAtRestEncrypted, logGroupKms, rdsStorageEncrypted, s3Encrypted } from "./encryption-at-rest";
import { albListenerTls, cloudfrontTls, elasticacheInTransit, rdsForceSsl, s3TlsOnly } from "./encryption-in-transit";
import { noReplicasUnderHpa } from "./hpa-replicas";
import { noLatestImages } from "./images";
import { imdsV2HopLimit } from "./imds";
import { noWorldOpenIngress } from "./ingress";
import { resourceMessages, stackFindings } from "./guard";
import { label, UNKNOWN } from "./match";
import { prodResilience } from "./prod-resilience";
import { requiredTags } from "./tags";
import type { PlannedResource, Rule, Violation } from "./types";

export type { EnforcementLevel, PlannedResource, Rule, Violation } from "./types";

/** Every rule of the pack, in the order reports list them. */
export const RULES: readonly Rule[] = [
  rdsStorageEncrypted,
  elasticacheAtRestEncrypted,
  ebsEncrypted,
  s3Encrypted,
  logGroupKms,
  rdsForceSsl,
  elasticacheInTransit,
  albListenerTls,
  cloudfrontTls,
  s3TlsOnly,
  rdsProxyTls,
  valkeyOnReplicationGroups,
  noWorldOpenIngress,
  prodResilience,
  imdsV2HopLimit,
  requiredTags,
  noLatestImages,
  noReplicasUnderHpa,
  connectionBudget,
];

/** Runs rules over planned resources (the offline twin of `pulumi preview --policy-pack policy`). */
export function runRules(resources: PlannedResource[], rules: readonly Rule[] = RULES): Violation[] {
  const violations: Violation[] = [];
  for (const rule of rules) {
    const base = { rule: rule.name, enforcementLevel: rule.enforcementLevel };
    if (rule.kind === "resource") {
      for (const r of resources)
        for (const message of resourceMessages(rule, r)) violations.push({ ...base, urn: r.urn, resource: label(r), message });
    } else {
      for (const f of stackFindings(rule, resources))
        violations.push({
          ...base,
          urn: f.resource?.urn ?? "",
          resource: f.resource ? label(f.resource) : "(stack)",
          message: f.message,
        });
    }
  }
  return violations;
}

/** The offline plan records a value the mocks could not resolve as `{ __pulumiUnknown: true }`. */
function markUnknowns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(markUnknowns);
  if (typeof value === "object" && value !== null) {
    if ((value as { __pulumiUnknown?: unknown }).__pulumiUnknown === true) return UNKNOWN;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markUnknowns(v)]));
  }
  return value;
}

/** A plan's resources as the policy pack sees them (the plan calls inputs what policies call props). */
export function plannedResources(plan: {
  resources: { urn: string; type: string; name: string; inputs: unknown }[];
}): PlannedResource[] {
  return plan.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    props: (markUnknowns(r.inputs) ?? {}) as Record<string, unknown>,
  }));
}
