import type { MonitoringOptions } from "./options";
import { platformOverview, PLATFORM_OVERVIEW_UID } from "./platform-overview";
import { toJson } from "./serialize";
import { serviceOverview, SERVICE_OVERVIEW_UID } from "./service-overview";

/** The dashboards as JSON, keyed by file name `<uid>.json` (the generated file and the ConfigMap data key). */
export function dashboardJson(options: MonitoringOptions = {}): Record<string, string> {
  return {
    [`${SERVICE_OVERVIEW_UID}.json`]: toJson(serviceOverview(options)),
    [`${PLATFORM_OVERVIEW_UID}.json`]: toJson(platformOverview(options)),
  };
}
