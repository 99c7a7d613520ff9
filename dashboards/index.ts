/**
 * The library the components take from dashboards/: the rules, the dashboard JSON, every
 * generated file and the shared constants, all computed from the same options.
 * The CLI that writes the files is generate.ts.
 */
export * from "./options";
export { prometheusRuleSpec, buildRuleGroups, ruleFiles } from "./rules";
export { SERVICE_OVERVIEW_UID } from "./service-overview";
export { PLATFORM_OVERVIEW_UID } from "./platform-overview";
export { dashboardJson } from "./dashboard-json";
export { generatedFiles, PROMETHEUS_CONFIG_PATH } from "./files";
