import { posix } from "node:path";
import { dashboardJson } from "./dashboard-json";
import type { MonitoringOptions } from "./options";
import { prometheusConfig } from "./prometheus-config";
import { ruleFiles } from "./rules";
import { toYaml } from "./serialize";

/**
 * Every generated monitoring file: dashboard JSON, rule YAML and the static prometheus.yml.
 * The local platform uploads them; `npm run generate` (generate.ts) writes them under dashboards/,
 * and a test fails while the committed files differ from what the builders produce.
 */

/** Where the static config lives, relative to dashboards/ (rule paths in it are relative to it). */
export const PROMETHEUS_CONFIG_PATH = "prometheus/prometheus.yml";

/** Every generated file, path relative to dashboards/ → content, in a stable order. */
export function generatedFiles(options: MonitoringOptions = {}): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, json] of Object.entries(dashboardJson(options))) files[`generated/${name}`] = json;
  const rules = ruleFiles(options);
  for (const [path, content] of Object.entries(rules)) files[path] = toYaml(content);
  const fromConfigDir = Object.keys(rules).map((p) => posix.relative(posix.dirname(PROMETHEUS_CONFIG_PATH), p));
  files[PROMETHEUS_CONFIG_PATH] = toYaml(prometheusConfig(fromConfigDir, options));
  return files;
}
