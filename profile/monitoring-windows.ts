import { buildRuleGroups } from "../dashboards/rules";
import type { Check } from "./checks";
import type { Profile } from "./schema";

/**
 * Monitoring windows against the scrape interval and the retention, read from the rules the stack
 * deploys (dashboards/rules.ts), never retyped:
 * - every range window (`rate(...[5m])`) spans at least RATE_WINDOW_SCRAPES scrapes: rate() needs two
 *   samples in its window, and four leave room for a missed scrape and for alignment (the same
 *   factor as Grafana's $__rate_interval). A 5m scrape interval leaves a [5m] window empty or with
 *   one sample, so the rule returns nothing and its alert can never fire;
 * - the retention holds the longest window: a 3d burn-rate window over 2h of data judges the error
 *   budget on a fraction of what it claims to.
 */
export const RATE_WINDOW_SCRAPES = 4;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration ("15s", "1h30m", "3d") in ms; undefined when it is not one. */
export function promDurationMs(text: string): number | undefined {
  if (!/^(\d+(ms|[smhdwy]))+$/.test(text)) return undefined;
  return [...text.matchAll(/(\d+)(ms|[smhdwy])/g)].reduce((sum, m) => sum + Number(m[1]) * UNIT_MS[m[2]!]!, 0);
}

/** Every range window the rules use, e.g. ["5m", "30m", ..., "3d"], sorted by length. */
export function ruleWindows(p: Pick<Profile, "monitoring">): string[] {
  const groups = buildRuleGroups({ scrapeInterval: p.monitoring.scrapeInterval, slo: p.monitoring.slo });
  return rangeWindows([...groups.recording.rules, ...groups.alerts.rules].map((r) => r.expr));
}

/** The range windows of PromQL expressions (`[5m]`, a subquery's `[1h:1m]`), once each, shortest first. */
export function rangeWindows(exprs: readonly string[]): string[] {
  const windows = new Set(exprs.flatMap((e) => [...e.matchAll(/\[(\w+)(?::\w*)?\]/g)].map((m) => m[1]!)));
  return [...windows].filter((w) => promDurationMs(w) !== undefined).sort((a, b) => promDurationMs(a)! - promDurationMs(b)!);
}

export function checkMonitoringWindows(p: Profile): Check[] {
  const windows = ruleWindows(p);
  const scrape = promDurationMs(p.monitoring.scrapeInterval);
  const retention = promDurationMs(p.monitoring.retention);
  const shortest = windows[0]!;
  const longest = windows[windows.length - 1]!;
  const checks: Check[] = [];
  if (scrape !== undefined) {
    const ok = promDurationMs(shortest)! >= RATE_WINDOW_SCRAPES * scrape;
    checks.push({
      name: "monitoring-scrape-vs-rule-windows",
      ok,
      detail: `the rules' shortest window [${shortest}] ${ok ? ">=" : "<"} ${RATE_WINDOW_SCRAPES} × monitoring.scrapeInterval ${p.monitoring.scrapeInterval}${ok ? "" : `; rate() over it would have too few samples and its alerts never fire: set monitoring.scrapeInterval to at most ${formatMs(promDurationMs(shortest)! / RATE_WINDOW_SCRAPES)}`}`,
    });
  }
  if (retention !== undefined) {
    const ok = retention >= promDurationMs(longest)!;
    checks.push({
      name: "monitoring-retention-vs-rule-windows",
      ok,
      detail: `monitoring.retention ${p.monitoring.retention} ${ok ? ">=" : "<"} the rules' longest window [${longest}]${ok ? "" : `; the burn-rate alerts would judge the error budget on less data than they claim: set monitoring.retention to at least "${longest}"`}`,
    });
  }
  return checks;
}

/** A length in ms as the Prometheus duration a fix suggests: the longest of d, h, m, s that divides it, else whole seconds. */
export function formatMs(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const)
    if (ms >= UNIT_MS[unit]! && ms % UNIT_MS[unit]! === 0) return `"${ms / UNIT_MS[unit]!}${unit}"`;
  return `"${Math.floor(ms / 1000)}s"`;
}
