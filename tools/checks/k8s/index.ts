import type { Check } from "../../../profile/checks";
import { checkHelmValues } from "./helm-values";
import { checkHpaMetricSources } from "./hpa-metrics";
import {
  checkCustomResourcesAfterCrds,
  checkObjectsAfterNamespaces,
  checkVolumesAfterStorageClasses,
  checkWaitsForNodes,
} from "./ordering";
import type { PlanResource } from "./plan-resource";
import { checkRdsCaBundle } from "./rds-ca";
import { checkKubernetesSchemas } from "./schemas";
import { checkEksScrapeTargets, checkNetworkPolicies, checkReadinessGates, checkServiceLinks } from "./pod-hygiene";
import { checkPodEnv } from "./pod-env";

export type { PlanResource } from "./plan-resource";

/**
 * The Kubernetes-side provider rules, checked over a whole plan (what mocks never check). The
 * offline plan appends them to the cross-layer checks and fails on any that is not ok.
 */
export function kubernetesPlanChecks(resources: PlanResource[]): Check[] {
  return [
    checkWaitsForNodes(resources),
    checkCustomResourcesAfterCrds(resources),
    checkVolumesAfterStorageClasses(resources),
    checkObjectsAfterNamespaces(resources),
    checkHpaMetricSources(resources),
    checkServiceLinks(resources),
    checkReadinessGates(resources),
    checkNetworkPolicies(resources),
    checkEksScrapeTargets(resources),
    checkRdsCaBundle(resources),
    checkKubernetesSchemas(resources),
    checkHelmValues(resources),
    checkPodEnv(resources),
  ];
}
