import { LABEL, METRIC } from "@uaip/runtime/metrics";
import { DATASOURCE_UID } from "../../dashboards/options";
import { PLATFORM_OVERVIEW_UID, platformOverview } from "../../dashboards/platform-overview";
import { SERVICE_OVERVIEW_UID, serviceOverview } from "../../dashboards/service-overview";
import { panelsOf } from "./exprs";

const service = serviceOverview();
const platform = platformOverview();

describe.each([
  ["service overview", service, SERVICE_OVERVIEW_UID],
  ["platform overview", platform, PLATFORM_OVERVIEW_UID],
])("%s dashboard", (_name, dashboard, uid) => {
  it("has its stable uid", () => {
    expect(dashboard.uid).toBe(uid);
  });

  it.each(panelsOf(dashboard).map((p) => [p.title ?? "(untitled)", p]))(
    "panel %s has a description, a unit and the fixed datasource",
    (_title, panel) => {
      expect(panel.description?.length ?? 0).toBeGreaterThan(20);
      expect(panel.fieldConfig?.defaults?.unit).toMatch(/^(reqps|percentunit|s|short|bytes|Bps|ops)$/);
      expect(panel.datasource?.uid).toBe(DATASOURCE_UID);
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid).toBe(DATASOURCE_UID);
        expect(target.expr).toBeTruthy();
      }
    },
  );

  it("numbers its panels uniquely and stably", () => {
    const ids = (dashboard.panels ?? []).map((p) => (p as { id?: number }).id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });
});

describe("service overview", () => {
  it("has a `service` variable fed by the runtime's request counter", () => {
    const variable = service.templating?.list?.find((v) => v.name === LABEL.service);
    expect(variable?.type).toBe("query");
    expect(variable?.query).toBe(`label_values(${METRIC.httpRequestsTotal}, ${LABEL.service})`);
    expect(variable?.datasource?.uid).toBe(DATASOURCE_UID);
  });

  it("has the seed's DashboardMetrics panels plus in-flight requests", () => {
    expect(panelsOf(service).map((p) => p.title)).toEqual([
      "Request rate",
      "Error rate",
      "Response time",
      "In-flight requests",
      "CPU usage",
      "Memory usage",
      "Disk IO",
      "Network IO",
    ]);
  });

  it("filters every query on the selected service", () => {
    for (const panel of panelsOf(service)) for (const t of panel.targets ?? []) expect(t.expr).toContain('service="$service"');
  });

  it("shows avg, p95, p99 and max response time", () => {
    const response = panelsOf(service).find((p) => p.title === "Response time");
    expect(response?.targets?.map((t) => t.expr?.match(/^histogram_quantile\(([\d.]+)/)?.[1] ?? "avg")).toEqual([
      "avg",
      "0.95",
      "0.99",
      "1",
    ]);
  });

  it("draws the profile's SLOs as thresholds", () => {
    const custom = serviceOverview({ slo: { latencyP95Ms: 300, errorRate: 0.005 } });
    const steps = (title: string): unknown =>
      (
        panelsOf(custom).find((p) => p.title === title) as {
          fieldConfig?: { defaults?: { thresholds?: { steps?: { value: number | null }[] } } };
        }
      )?.fieldConfig?.defaults?.thresholds?.steps?.map((s) => s.value);
    expect(steps("Response time")).toEqual([null, 0.3]);
    expect(steps("Error rate")).toEqual([null, 0.005]);
  });
});

describe("platform overview", () => {
  it("has RED for all services, cache, limiter, DB pool, WebSockets and HPA panels", () => {
    expect(panelsOf(platform).map((p) => p.title)).toEqual([
      "Request rate by service",
      "Error ratio by service",
      "p95 latency by service",
      "Cache hit ratio by tier",
      "Cache errors",
      "Rate-limiter rejections",
      "DB pool: in use and waiting",
      "WebSocket connections",
      "HPA replicas vs max",
    ]);
  });

  it("compares HPA current replicas with max in the services' namespace", () => {
    const exprs = panelsOf(platformOverview({ servicesNamespace: "uaip-prod" }))
      .find((p) => p.title === "HPA replicas vs max")
      ?.targets?.map((t) => t.expr);
    expect(exprs).toEqual([
      'max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{namespace="uaip-prod"})',
      'max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{namespace="uaip-prod"})',
    ]);
  });
});
