/**
 * Every dashboard panel's queries and every recording rule's expression, evaluated through a real
 * Prometheus' `/api/v1/query_range` over a run's window. A query that returns no series, or only
 * NaN, fails the run, unless its declared expected-empty condition (dashboards/expected-empty.ts)
 * holds for the run; the failure names the dashboard, the panel and the query.
 */
import type { DashboardQueries, RuleQuery } from "../../dashboards/queries";
import type { RunFacts } from "../../dashboards/expected-empty";
import type { PrometheusServer, RangeSeries } from "../../tools/local-servers/prometheus-server";

export type QueryStatus = "data" | "expected-empty" | "empty" | "nan" | "error";

export interface QueryCheck {
  kind: "panel" | "rule";
  /** Who to blame: `UAIP / Platform overview › Cache errors [A]`, or the rule's record name. */
  name: string;
  /** The dashboard variable value the expression was run with (the service overview's `$service`). */
  service?: string;
  /** The expression as sent, variables substituted. */
  expr: string;
  series: number;
  status: QueryStatus;
  /** The expected-empty reason, or the query error. */
  detail?: string;
}

/** A check and the series it returned (kept in memory for the dashboard previews, not in report.json). */
export interface QueryResult extends QueryCheck {
  result: RangeSeries[];
}

export interface Window {
  /** Unix seconds. */
  start: number;
  end: number;
  stepS: number;
}

export class QueryCheckError extends Error {
  readonly code = "UAIP_QUERY_CHECK";
}

const DURATION_UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** A Prometheus duration ("15s", "5m", "1d", "1h30m") in seconds. */
export function promDurationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|[smhdwy])/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== text)
    throw new QueryCheckError(`"${text}" is not a Prometheus duration (e.g. "15s", "5m", "1h30m")`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (unit === "ms" ? 0.001 : DURATION_UNIT_S[unit]), 0);
}

/** Grafana's `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval), with $__interval the step. */
export function grafanaRateIntervalS(stepS: number, scrapeS: number): number {
  return Math.max(stepS + scrapeS, 4 * scrapeS);
}

/** Substitutes the dashboard variables the UAIP dashboards use; any other `$variable` is left for Prometheus to refuse. */
export function substitute(expr: string, vars: { service?: string; rateIntervalS: number }): string {
  let out = expr.replaceAll("$__rate_interval", `${vars.rateIntervalS}s`);
  if (vars.service !== undefined) out = out.replaceAll("$service", vars.service);
  return out;
}

/** Every range-vector window (`[5m]`) in the expressions, in seconds. */
export function rangeWindowsS(exprs: readonly string[]): number[] {
  return exprs.flatMap((e) =>
    [...e.matchAll(/\[(\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)(?::[^\]]*)?\]/g)].map((m) => promDurationSeconds(m[1])),
  );
}

/**
 * The verdict on one query's result. Empty, or every point NaN, is a failure unless `emptyAllowed`
 * (the declared condition, already evaluated against the run's facts).
 */
export function classify(series: readonly RangeSeries[], emptyAllowed: boolean): QueryStatus {
  const values = series.flatMap((s) => s.values.map(([, v]) => v));
  if (values.length === 0) return emptyAllowed ? "expected-empty" : "empty";
  if (values.every((v) => v === "NaN")) return emptyAllowed ? "expected-empty" : "nan";
  return "data";
}

export const FAILING: readonly QueryStatus[] = ["empty", "nan", "error"];

async function run(
  prom: Pick<PrometheusServer, "queryRange">,
  check: Omit<QueryCheck, "series" | "status">,
  window: Window,
  allowed: { reason: string; holds: boolean } | undefined,
): Promise<QueryResult> {
  try {
    const result = await prom.queryRange(check.expr, window.start, window.end, window.stepS);
    const status = classify(result, allowed?.holds ?? false);
    return {
      ...check,
      series: result.length,
      status,
      ...(status === "expected-empty" ? { detail: allowed!.reason } : {}),
      result,
    };
  } catch (err) {
    return { ...check, series: 0, status: "error", detail: (err as Error).message, result: [] };
  }
}

/**
 * Runs every panel target (once per service when it uses `$service`) and every recording rule
 * over the window. `scrapeS` sets `$__rate_interval` as Grafana would.
 */
export async function checkQueries(
  prom: Pick<PrometheusServer, "queryRange">,
  input: {
    dashboards: readonly DashboardQueries[];
    rules: readonly RuleQuery[];
    services: readonly string[];
    window: Window;
    scrapeS: number;
    facts: RunFacts;
  },
): Promise<QueryResult[]> {
  // A `$service` panel checked for no service would pass unchecked.
  if (input.services.length === 0) throw new QueryCheckError("checkQueries: no services to set $service to");
  const rateIntervalS = grafanaRateIntervalS(input.window.stepS, input.scrapeS);
  const jobs: Promise<QueryResult>[] = [];
  for (const d of input.dashboards) {
    for (const p of d.panels) {
      for (const t of p.targets) {
        const services = t.expr.includes("$service") ? input.services : [undefined];
        for (const service of services) {
          const allowed = t.emptyWhen && { reason: t.emptyWhen.reason, holds: t.emptyWhen.holds(input.facts) };
          jobs.push(
            run(
              prom,
              {
                kind: "panel",
                name: `${d.title} › ${p.title} [${t.refId}]`,
                ...(service === undefined ? {} : { service }),
                expr: substitute(t.expr, { service, rateIntervalS }),
              },
              input.window,
              allowed,
            ),
          );
        }
      }
    }
  }
  for (const r of input.rules) {
    const allowed = r.emptyWhen && { reason: r.emptyWhen.reason, holds: r.emptyWhen.holds(input.facts) };
    jobs.push(run(prom, { kind: "rule", name: r.record, expr: r.expr }, input.window, allowed));
  }
  return Promise.all(jobs);
}

/** One line per failing query, naming it, the service it ran for and what came back. */
export function queryFailures(checks: readonly QueryCheck[]): string[] {
  const what: Record<string, string> = { empty: "returned no series", nan: "returned only NaN", error: "failed" };
  return checks
    .filter((c) => FAILING.includes(c.status))
    .map(
      (c) =>
        `${c.kind} ${c.name}${c.service ? ` (service ${c.service})` : ""} ${what[c.status]}${c.detail ? `: ${c.detail}` : ""}; query: ${c.expr}`,
    );
}

export interface AlertSeen {
  alertname: string;
  /** The worst state seen: firing beats pending. */
  state: "pending" | "firing";
  labels: Record<string, string>;
}

/** Alerts that went pending or fired during the window, from Prometheus' own `ALERTS` series. */
export async function alertsDuring(prom: Pick<PrometheusServer, "queryRange">, window: Window): Promise<AlertSeen[]> {
  const series = await prom.queryRange("ALERTS", window.start, window.end, window.stepS);
  const byKey = new Map<string, AlertSeen>();
  for (const s of series) {
    const { __name__: _name, alertstate, ...labels } = s.metric;
    const key = JSON.stringify(labels);
    const state = alertstate === "firing" ? "firing" : "pending";
    const seen = byKey.get(key);
    if (!seen || state === "firing") byKey.set(key, { alertname: labels.alertname ?? "", state, labels });
  }
  return [...byKey.values()].sort((a, b) => a.alertname.localeCompare(b.alertname));
}
