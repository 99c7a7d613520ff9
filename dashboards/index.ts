/**
 * What the Monitoring component and the generator take from dashboards/: the rules, the
 * dashboard JSON and the shared constants, all computed from the same options.
 */
import type { MonitoringOptions } from "./options";
import { platformOverview, PLATFORM_OVERVIEW_UID } from "./platform-overview";
import { toJson } from "./serialize";
import { serviceOverview, SERVICE_OVERVIEW_UID } from "./service-overview";

export * from "./options";
export { prometheusRuleSpec, buildRuleGroups, ruleFiles } from "./rules";
export { SERVICE_OVERVIEW_UID } from "./service-overview";
export { PLATFORM_OVERVIEW_UID } from "./platform-overview";

/** The dashboards as JSON, keyed by file name `<uid>.json` (the generated file and the ConfigMap data key). */
export function dashboardJson(options: MonitoringOptions = {}): Record<string, string> {
  return {
    [`${SERVICE_OVERVIEW_UID}.json`]: toJson(serviceOverview(options)),
    [`${PLATFORM_OVERVIEW_UID}.json`]: toJson(platformOverview(options)),
  };
}
