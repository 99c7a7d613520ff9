import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import type { MonitoringOptions } from "./options";
import { platformOverview, PLATFORM_OVERVIEW_UID } from "./platform-overview";
import { prometheusConfig } from "./prometheus-config";
import { ruleFiles } from "./rules";
import { toJson, toYaml } from "./serialize";
import { serviceOverview, SERVICE_OVERVIEW_UID } from "./service-overview";

/**
 * Writes every generated monitoring file: dashboard JSON, rule YAML and the static
 * prometheus.yml. Run `npm run generate` after changing a builder; a test fails while the
 * committed files differ from what the builders produce.
 */

/** Where the static config lives, relative to dashboards/ (rule paths in it are relative to it). */
export const PROMETHEUS_CONFIG_PATH = "prometheus/prometheus.yml";

/** The dashboards, keyed by the file name under dashboards/generated/ (also the ConfigMap data key). */
export function dashboardJson(options: MonitoringOptions = {}): Record<string, string> {
  return {
    [`${SERVICE_OVERVIEW_UID}.json`]: toJson(serviceOverview(options)),
    [`${PLATFORM_OVERVIEW_UID}.json`]: toJson(platformOverview(options)),
  };
}

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

function main(): void {
  const root = __dirname;
  for (const [path, content] of Object.entries(generatedFiles())) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote dashboards/${path}`);
  }
}

if (require.main === module) main();
