import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import type { PanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { DEFAULT_METRIC, LABEL, METRIC } from "@uaip/runtime/metrics";
import { DATASOURCE, resolveMonitoringOptions, type MonitoringOptions } from "./options";
import { numberPanels, timeseries, uaipDashboard, withObjective } from "./panels";
import { DURATION, sel, sumRate } from "./promql";

/**
 * Service overview: the seed's DashboardMetrics (request rate, response time, error rate,
 * resource usage) plus in-flight requests, for the service picked in the `service` variable.
 * One function per panel.
 */

export const SERVICE_OVERVIEW_UID = "uaip-service-overview";

const RATE = "$__rate_interval";
const ONE = { [LABEL.service]: "$service" };
const of = (metric: string): string => sel(metric, ONE);

export function requestRatePanel(): PanelBuilder {
  return timeseries(
    "Request rate",
    "HTTP requests per second served by the selected service, all routes and status codes.",
    "reqps",
    [{ expr: sumRate(of(METRIC.httpRequestsTotal), RATE), legend: "{{service}}" }],
  );
}

export function errorRatePanel(errorRateSlo: number): PanelBuilder {
  const errors = sumRate(of(METRIC.httpRequestErrorsTotal), RATE);
  const requests = sumRate(of(METRIC.httpRequestsTotal), RATE);
  return withObjective(
    timeseries(
      "Error rate",
      "Share of requests that failed. The dashed line is the error-rate SLO; the burn-rate alerts fire well before a sustained breach.",
      "percentunit",
      [{ expr: `(${errors} or ${requests} * 0) / ${requests}`, legend: "{{service}}" }],
    ),
    errorRateSlo,
  );
}

export function inFlightPanel(): PanelBuilder {
  return timeseries(
    "In-flight requests",
    "Requests being processed right now, per instance. Growth with flat traffic means requests are getting slower.",
    "short",
    [{ expr: `sum by (instance) (${of(METRIC.httpRequestsInFlight)})`, legend: "{{instance}}" }],
  );
}

export function responseTimePanel(latencySloSeconds: number): PanelBuilder {
  const quantile = (q: string): string => `histogram_quantile(${q}, ${sumRate(of(DURATION.bucket), RATE, ["le"])})`;
  return withObjective(
    timeseries(
      "Response time",
      "Average, p95 and p99 request duration from the histogram; max is the upper bound of the highest non-empty bucket. The dashed line is the p95 SLO.",
      "s",
      [
        { expr: `${sumRate(of(DURATION.sum), RATE, [])} / ${sumRate(of(DURATION.count), RATE, [])}`, legend: "avg" },
        { expr: quantile("0.95"), legend: "p95" },
        { expr: quantile("0.99"), legend: "p99" },
        { expr: quantile("1"), legend: "max" },
      ],
    ),
    latencySloSeconds,
  );
}

export function cpuPanel(): PanelBuilder {
  return timeseries("CPU usage", "CPU time used per instance; 100% is one full core.", "percentunit", [
    { expr: sumRate(of(DEFAULT_METRIC.processCpuSecondsTotal), RATE, ["instance"]), legend: "{{instance}}" },
  ]);
}

export function memoryPanel(): PanelBuilder {
  return timeseries(
    "Memory usage",
    "Resident memory, V8 heap used and the heap limit the memory monitor works against, per instance.",
    "bytes",
    [
      { expr: `sum by (instance) (${of(DEFAULT_METRIC.processResidentMemoryBytes)})`, legend: "rss {{instance}}" },
      { expr: `sum by (instance) (${of(DEFAULT_METRIC.heapUsedBytes)})`, legend: "heap used {{instance}}" },
      { expr: `max by (instance) (${of(METRIC.memoryHeapLimitBytes)})`, legend: "heap limit {{instance}}" },
    ],
  );
}

export function diskIoPanel(): PanelBuilder {
  return timeseries("Disk IO", "Bytes read from and written to disk per second by the process.", "Bps", [
    { expr: sumRate(of(METRIC.diskReadBytesTotal), RATE, ["instance"]), legend: "read {{instance}}" },
    { expr: sumRate(of(METRIC.diskWriteBytesTotal), RATE, ["instance"]), legend: "write {{instance}}" },
  ]);
}

export function networkIoPanel(): PanelBuilder {
  return timeseries("Network IO", "HTTP bytes received and sent per second by the process.", "Bps", [
    { expr: sumRate(of(METRIC.networkReceivedBytesTotal), RATE, ["instance"]), legend: "received {{instance}}" },
    { expr: sumRate(of(METRIC.networkSentBytesTotal), RATE, ["instance"]), legend: "sent {{instance}}" },
  ]);
}

function serviceVariable(): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(LABEL.service)
    .label("Service")
    .datasource(DATASOURCE)
    .query(`label_values(${METRIC.httpRequestsTotal}, ${LABEL.service})`)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

export function serviceOverview(options: MonitoringOptions = {}): dashboard.Dashboard {
  const o = resolveMonitoringOptions(options);
  const built = uaipDashboard(
    "UAIP / Service overview",
    SERVICE_OVERVIEW_UID,
    "RED metrics, response-time percentiles and resource usage of one UAIP service.",
  )
    .withVariable(serviceVariable())
    .withRow(new dashboard.RowBuilder("Requests"))
    .withPanel(requestRatePanel())
    .withPanel(errorRatePanel(o.slo.errorRate))
    .withPanel(responseTimePanel(o.slo.latencyP95Ms / 1000))
    .withPanel(inFlightPanel())
    .withRow(new dashboard.RowBuilder("Resources"))
    .withPanel(cpuPanel())
    .withPanel(memoryPanel())
    .withPanel(diskIoPanel())
    .withPanel(networkIoPanel())
    .build();
  return numberPanels(built);
}
