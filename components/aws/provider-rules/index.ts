/**
 * Offline checks of the cloud providers' real rules, over a plan (what mocks never check):
 * physical-name limits, engine version pins, IAM for the runtime's AWS calls, IMDS and in-pod
 * AWS clients, CDN behaviours that lead somewhere; and, over all stacks, name collisions.
 */
import type { Check } from "../../../profile/checks";
import { checkCdnRoutes } from "./cdn-routes";
import { checkInPodAwsClients } from "./in-pod-aws-clients";
import { checkRuntimePermissions } from "./permissions";
import { checkNameLimits } from "./physical-names";
import type { PlannedStack } from "./types";
import { checkVersionPins } from "./version-pins";

export { checkNameCollisions } from "./physical-names";
export type { PlannedResource, PlannedStack } from "./types";

/** The per-stack provider-rule checks; a Docker-only (local) plan has no AWS resources to check. */
export function providerRuleChecks(plan: PlannedStack): Check[] {
  if (!plan.resources.some((r) => r.type.startsWith("aws:"))) return [];
  return [
    checkNameLimits(plan),
    checkVersionPins(plan),
    checkRuntimePermissions(plan),
    checkInPodAwsClients(plan),
    checkCdnRoutes(plan),
  ];
}
