/**
 * The load run's Prometheus: Debian's `prometheus` running the generated prometheus.yml and rule
 * files (dashboards/files.ts, the same builders as the local stack's), with the targets moved to
 * loopback and the scrape interval the run can afford.
 */
import { generatedFiles, PROMETHEUS_CONFIG_PATH, type MonitoringOptions } from "../../dashboards";
import { buildRuleGroups } from "../../dashboards/rules";
import type { Profile } from "../../profile/schema";
import { PrometheusServer } from "../../tools/local-servers/prometheus-server";
import { promDurationSeconds, rangeWindowsS } from "./query-check";

/** A quick run lasts about a minute: at 15 s a series would have four points. 5 s gives a dozen. */
export const QUICK_SCRAPE_INTERVAL = "5s";
/**
 * Prometheus' own advice for rate(): a window of at least 4 scrape intervals, so that a missed
 * scrape still leaves two samples. Every rule window must satisfy it at the run's interval.
 */
export const SAMPLES_PER_WINDOW = 4;

export class ScrapeIntervalError extends Error {
  readonly code = "UAIP_LOAD_SCRAPE_INTERVAL";
}

/**
 * The interval the run scrapes and evaluates at: the profile's (monitoring.scrapeInterval), or for
 * a quick run the shorter QUICK_SCRAPE_INTERVAL. Shortening never breaks a rule: its windows get
 * more samples, not fewer. It still refuses an interval at which some rule window would hold fewer
 * than SAMPLES_PER_WINDOW scrapes (e.g. a profile of "2m" against the rules' 5m windows), naming them.
 */
export function runScrapeInterval(profileInterval: string, mode: "quick" | "full", ruleExprs: readonly string[]): string {
  const profileS = promDurationSeconds(profileInterval);
  const interval =
    mode === "quick" && promDurationSeconds(QUICK_SCRAPE_INTERVAL) < profileS ? QUICK_SCRAPE_INTERVAL : profileInterval;
  const intervalS = promDurationSeconds(interval);
  const short = [...new Set(rangeWindowsS(ruleExprs))].filter((w) => w < SAMPLES_PER_WINDOW * intervalS).sort((a, b) => a - b);
  if (short.length)
    throw new ScrapeIntervalError(
      `monitoring.scrapeInterval="${profileInterval}": the rule windows ${short.map((s) => `${s}s`).join(", ")} hold fewer than ${SAMPLES_PER_WINDOW} scrapes at ${interval}; use an interval of at most ${Math.floor(Math.min(...short) / SAMPLES_PER_WINDOW)}s`,
    );
  return interval;
}

/** The monitoring options the stack gives its Prometheus (index.ts), from the profile. */
export function profileMonitoringOptions(profile: Profile, scrapeInterval: string): MonitoringOptions {
  return {
    scrapeInterval,
    slo: profile.monitoring.slo,
    heapThreshold: profile.runtime.memory.memoryMonitoring.threshold,
  };
}

/**
 * prometheus.yml and the rule files as generated, with every service scraped on 127.0.0.1 at its
 * port. The target's host is all that changes: the services label their own series (`service`),
 * and the scrape job keeps those labels (honor_labels), as in the stack.
 */
export function loopbackPrometheusFiles(
  options: MonitoringOptions,
  services: readonly { name: string; port: number }[],
): Record<string, string> {
  const files = generatedFiles({ ...options, services: services.map((s) => ({ name: "127.0.0.1", port: s.port })) });
  return Object.fromEntries(Object.entries(files).filter(([p]) => p === PROMETHEUS_CONFIG_PATH || p.startsWith("rules/")));
}

/** Starts the run's Prometheus; the interval is chosen and checked by runScrapeInterval. */
export async function startRunPrometheus(
  profile: Profile,
  services: readonly { name: string; port: number }[],
  options: { mode: "quick" | "full"; keep: boolean },
): Promise<{ prometheus: PrometheusServer; scrapeInterval: string; monitoring: MonitoringOptions }> {
  const groups = buildRuleGroups();
  const exprs = [...groups.recording.rules, ...groups.alerts.rules].map((r) => r.expr);
  const scrapeInterval = runScrapeInterval(profile.monitoring.scrapeInterval, options.mode, exprs);
  const monitoring = profileMonitoringOptions(profile, scrapeInterval);
  const prometheus = await PrometheusServer.start({
    files: loopbackPrometheusFiles(monitoring, services),
    configPath: PROMETHEUS_CONFIG_PATH,
    keep: options.keep,
  });
  return { prometheus, scrapeInterval, monitoring };
}
