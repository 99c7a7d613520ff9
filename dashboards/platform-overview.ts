import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import type { PanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { LABEL, LABEL_VALUE, METRIC } from "@uaip/runtime/metrics";
import { resolveMonitoringOptions, type MonitoringOptions } from "./options";
import { numberPanels, timeseries, uaipDashboard, withObjective } from "./panels";
import { EMPTY_WHEN, mayBeEmpty } from "./expected-empty";
import { CACHE_LOOKUPS, RECORD, sel, sumRate } from "./promql";

/**
 * Platform overview: every service's RED on one screen, then the shared capacity limits
 * (cache, limiter, DB pool, WebSockets, HPA). One function per panel.
 */

export const PLATFORM_OVERVIEW_UID = "uaip-platform-overview";

const RATE = "$__rate_interval";
const S = "{{service}}";

/** kube-state-metrics series (shipped by kube-prometheus-stack) for the HPA panel. */
export const KSM = {
  hpaCurrentReplicas: "kube_horizontalpodautoscaler_status_current_replicas",
  hpaMaxReplicas: "kube_horizontalpodautoscaler_spec_max_replicas",
} as const;

export function requestRateByServicePanel(): PanelBuilder {
  return timeseries("Request rate by service", "Requests per second per service (recording rule, 5m rate).", "reqps", [
    { expr: RECORD.requestRate, legend: S },
  ]);
}

export function errorRatioByServicePanel(errorRateSlo: number): PanelBuilder {
  return withObjective(
    timeseries(
      "Error ratio by service",
      "Share of failed requests per service over 5m; the dashed line is the error-rate SLO.",
      "percentunit",
      [{ expr: RECORD.errorRatio("5m"), legend: S }],
    ),
    errorRateSlo,
  );
}

export function latencyByServicePanel(latencySloSeconds: number): PanelBuilder {
  return withObjective(
    timeseries(
      "p95 latency by service",
      "95th percentile request duration per service over 5m; the dashed line is the p95 SLO.",
      "s",
      [{ expr: RECORD.latencyP95, legend: S }],
    ),
    latencySloSeconds,
  );
}

export function cacheHitRatioPanel(): PanelBuilder {
  const hits = sumRate(sel(METRIC.cacheRequestsTotal, { [LABEL.result]: LABEL_VALUE.hit }), RATE, [LABEL.tier]);
  const lookups = sumRate(sel(METRIC.cacheRequestsTotal, {}, CACHE_LOOKUPS), RATE, [LABEL.tier]);
  return timeseries(
    "Cache hit ratio by tier",
    `Hits / lookups across all services, per tier (${LABEL_VALUE.tierMemory} in-process, ${LABEL_VALUE.tierRedis} Redis).`,
    "percentunit",
    [{ expr: mayBeEmpty(`${hits} / ${lookups}`, EMPTY_WHEN.noCacheReads), legend: "{{tier}}" }],
  );
}

export function cacheErrorsPanel(): PanelBuilder {
  return timeseries(
    "Cache errors",
    "Cache (Redis) errors per second per service; the runtime falls back to its in-process cache meanwhile.",
    "ops",
    [{ expr: mayBeEmpty(sumRate(METRIC.cacheErrorsTotal, RATE), EMPTY_WHEN.noRedisFaults), legend: S }],
  );
}

export function limiterRejectionsPanel(): PanelBuilder {
  return timeseries("Rate-limiter rejections", "Requests rejected by the rate limiter per second, per service.", "reqps", [
    {
      expr: mayBeEmpty(
        sumRate(sel(METRIC.rateLimitRequestsTotal, { [LABEL.result]: LABEL_VALUE.rejected }), RATE),
        EMPTY_WHEN.noLimiterRejections,
      ),
      legend: S,
    },
  ]);
}

export function dbPoolPanel(): PanelBuilder {
  return timeseries(
    "DB pool: in use and waiting",
    "PostgreSQL pool connections in use, and requests waiting for one, summed over each service's replicas.",
    "short",
    [
      {
        expr: `sum by (service) (${sel(METRIC.dbPoolConnections, { [LABEL.state]: LABEL_VALUE.inUse })})`,
        legend: `${S} in use`,
      },
      { expr: `sum by (service) (${METRIC.dbPoolWaitingRequests})`, legend: `${S} waiting` },
    ],
  );
}

export function wsConnectionsPanel(): PanelBuilder {
  return timeseries(
    "WebSocket connections",
    "Open WebSocket connections per service against the sum of the per-process maxima.",
    "short",
    [
      { expr: `sum by (service) (${METRIC.wsConnections})`, legend: `${S} open` },
      { expr: `sum by (service) (${METRIC.wsMaxConnections})`, legend: `${S} max` },
    ],
  );
}

export function hpaReplicasPanel(namespace: string): PanelBuilder {
  const ns = { namespace };
  return timeseries(
    "HPA replicas vs max",
    "Current replicas of each HorizontalPodAutoscaler against its maximum (kube-state-metrics). At max, the HPA can no longer absorb load.",
    "short",
    [
      {
        expr: mayBeEmpty(`max by (horizontalpodautoscaler) (${sel(KSM.hpaCurrentReplicas, ns)})`, EMPTY_WHEN.notKubernetes),
        legend: "{{horizontalpodautoscaler}} current",
      },
      {
        expr: mayBeEmpty(`max by (horizontalpodautoscaler) (${sel(KSM.hpaMaxReplicas, ns)})`, EMPTY_WHEN.notKubernetes),
        legend: "{{horizontalpodautoscaler}} max",
      },
    ],
  );
}

export function platformOverview(options: MonitoringOptions = {}): dashboard.Dashboard {
  const o = resolveMonitoringOptions(options);
  const built = uaipDashboard(
    "UAIP / Platform overview",
    PLATFORM_OVERVIEW_UID,
    "All UAIP services' RED metrics and the shared capacity limits: cache, rate limiter, DB pool, WebSockets, HPA.",
  )
    .withRow(new dashboard.RowBuilder("Services (RED)"))
    .withPanel(requestRateByServicePanel())
    .withPanel(errorRatioByServicePanel(o.slo.errorRate))
    .withPanel(latencyByServicePanel(o.slo.latencyP95Ms / 1000))
    .withRow(new dashboard.RowBuilder("Cache and rate limiter"))
    .withPanel(cacheHitRatioPanel())
    .withPanel(cacheErrorsPanel())
    .withPanel(limiterRejectionsPanel())
    .withRow(new dashboard.RowBuilder("Capacity"))
    .withPanel(dbPoolPanel())
    .withPanel(wsConnectionsPanel())
    .withPanel(hpaReplicasPanel(o.servicesNamespace))
    .build();
  return numberPanels(built);
}
