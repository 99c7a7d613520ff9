import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getHeapStatistics } from "node:v8";
import { buildRuleGroups } from "../../../dashboards/rules";
import { platformOverview } from "../../../dashboards/platform-overview";
import { serviceOverview } from "../../../dashboards/service-overview";
import { DEFAULT_METRIC, METRIC } from "../../src/metrics/names";
import { createMetrics, type HttpMetrics } from "../../src/metrics/http-metrics";
import { MemoryMonitor } from "../../src/resources";
import { panelsOf, parsePromql, substituteGrafanaVariables } from "../../../test/dashboards/exprs";

/**
 * Every memory / event-loop series that an alert rule or a dashboard panel reads must be in a real
 * scrape of a service running createMetrics + MemoryMonitor on one registry (the runtime's wiring).
 */
const MONITOR_SERIES = new Set<string>([
  METRIC.memoryHeapLimitBytes,
  METRIC.memoryPressure,
  METRIC.memoryGcTotal,
  METRIC.pressureRejectedRequestsTotal,
  METRIC.eventLoopDelayP99Seconds,
  METRIC.eventLoopUtilization,
  DEFAULT_METRIC.heapUsedBytes,
  DEFAULT_METRIC.heapTotalBytes,
  DEFAULT_METRIC.processResidentMemoryBytes,
  DEFAULT_METRIC.eventLoopLagP99Seconds,
]);

function usedByRulesAndDashboards(): Set<string> {
  const groups = buildRuleGroups();
  const exprs = [...groups.recording.rules.map((r) => r.expr), ...groups.alerts.rules.map((r) => r.expr)];
  for (const d of [serviceOverview(), platformOverview()])
    for (const p of panelsOf(d)) for (const t of p.targets ?? []) if (t.expr) exprs.push(substituteGrafanaVariables(t.expr));
  return new Set(exprs.flatMap((e) => parsePromql(e).metrics).filter((m) => MONITOR_SERIES.has(m)));
}

describe("a real /metrics scrape carries every memory-monitor series the rules and dashboards use", () => {
  let server: Server;
  let metrics: HttpMetrics;
  let monitor: MemoryMonitor;

  beforeAll(async () => {
    metrics = createMetrics({ serviceName: "scrape-test" });
    monitor = new MemoryMonitor(
      // The limit of this jest worker's own heap: a fixed 384 MiB is below what a busy worker uses,
      // and the ratio below must be a fraction of a limit the process really has.
      { heapSizeLimit: Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20), memoryMonitoring: { interval: 50 } },
      { registry: metrics.registry },
    ).start();
    monitor.monitor();
    server = createServer(metrics.metricsHandler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });

  afterAll(async () => {
    monitor.close();
    metrics.close();
    await new Promise((r) => server.close(r));
  });

  it("scrapes them with the service label, and the heap alert's ratio is computable", async () => {
    const used = usedByRulesAndDashboards();
    // Not vacuous: UaipHeapNearLimit and the memory panel read these.
    expect([...used]).toEqual(
      expect.arrayContaining([METRIC.memoryHeapLimitBytes, DEFAULT_METRIC.heapUsedBytes, DEFAULT_METRIC.eventLoopLagP99Seconds]),
    );

    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const samples = new Map<string, number>();
    for (const line of text.split("\n")) {
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
      if (m && (m[2] ?? "").includes('service="scrape-test"')) samples.set(m[1], Number(m[3]));
    }
    for (const name of used) expect({ name, scraped: samples.has(name) }).toEqual({ name, scraped: true });

    const limit = samples.get(METRIC.memoryHeapLimitBytes)!;
    expect(limit).toBe(monitor.heapLimitBytes);
    const ratio = samples.get(DEFAULT_METRIC.heapUsedBytes)! / limit;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
  });
});
