import { METRICS_PATH, SCRAPE_JOB, resolveMonitoringOptions, type MonitoringOptions } from "./options";

/**
 * The seed's static Prometheus configuration (job `uaip-services`, 15 s, the three targets,
 * `/metrics`) plus the generated rule files, for the local stack and for users who run
 * Prometheus outside Kubernetes. Rule paths are relative to this file (dashboards/prometheus/).
 */
export function prometheusConfig(ruleFilePaths: readonly string[], options: MonitoringOptions = {}): Record<string, unknown> {
  const o = resolveMonitoringOptions(options);
  return {
    global: { scrape_interval: o.scrapeInterval, evaluation_interval: o.scrapeInterval },
    rule_files: [...ruleFilePaths],
    scrape_configs: [
      {
        job_name: SCRAPE_JOB,
        scrape_interval: o.scrapeInterval,
        metrics_path: METRICS_PATH,
        // The services set their own `service` label (registry default label); keep it as exported.
        honor_labels: true,
        static_configs: [{ targets: o.services.map((s) => `${s.name}:${s.port}`) }],
      },
    ],
  };
}
