import { createServer, type Server } from "node:http";
import { HttpMetrics } from "@uaip/runtime";
import { generatedFiles, PROMETHEUS_CONFIG_PATH } from "../../dashboards/files";
import { RECORD } from "../../dashboards/promql";
import { PrometheusServer } from "../../tools/local-servers/prometheus-server";
import { freePort } from "../helpers/redis";

/**
 * End to end on loopback: the runtime's real /metrics (HttpMetrics) scraped by a real Prometheus
 * running the generated prometheus.yml and rule files. Shows the rules work on what the runtime
 * actually exports (names, `service` default label, histogram buckets), not only on hand-written
 * promtool series.
 */

const SERVICE = "e2e-service";
let prometheus: PrometheusServer | undefined;
let server: Server;
let metrics: HttpMetrics;
let api: string;
let traffic: NodeJS.Timeout;

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.status === "success" ? body.data.result : [];
}

/** Polls until the query returns a sample (Prometheus needs a few scrapes and evaluations). */
async function eventually(
  expr: string,
  timeoutMs = 40_000,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await query(expr).catch(() => []);
    if (result.length > 0) return result;
    if (Date.now() > deadline) throw new Error(`no result for ${expr} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  metrics = new HttpMetrics({ serviceName: SERVICE });
  server = createServer(metrics.metricsHandler);
  const appPort = await freePort();
  await new Promise<void>((resolve) => server.listen(appPort, "127.0.0.1", resolve));
  // Half of the requests fail (a fast burn) and each takes 80 ms (p95 in the 50-100 ms bucket).
  const record = (): void => {
    for (let i = 0; i < 10; i++) metrics.observe("GET", "/agents/:id", i % 2 ? 500 : 200, 80);
  };
  record();
  traffic = setInterval(record, 200);
  traffic.unref();

  // The generated files, with the target on loopback and 1 s intervals instead of 15 s.
  const files = generatedFiles({ services: [{ name: "127.0.0.1", port: appPort }], scrapeInterval: "1s" });
  prometheus = await PrometheusServer.start({
    files: Object.fromEntries(Object.entries(files).filter(([p]) => p === PROMETHEUS_CONFIG_PATH || p.startsWith("rules/"))),
    configPath: PROMETHEUS_CONFIG_PATH,
  });
  api = prometheus.url;
}, 30_000);

afterAll(async () => {
  clearInterval(traffic);
  await prometheus?.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  metrics.close();
});

describe("generated config and rules against the runtime's real /metrics", () => {
  it("scrapes the service under the seed's job, keeping the runtime's `service` label", async () => {
    const up = await eventually('up{job="uaip-services"} == 1');
    expect(up).toHaveLength(1);
    const requests = await eventually("uaip_http_requests_total");
    expect(new Set(requests.map((r) => r.metric.service))).toEqual(new Set([SERVICE]));
  }, 45_000);

  it("records request rate, error ratio and p95 latency per service", async () => {
    const ratio = await eventually(`${RECORD.errorRatio("5m")}{service="${SERVICE}"}`);
    expect(Number(ratio[0]!.value[1])).toBeCloseTo(0.5, 1);
    const rate = await eventually(`${RECORD.requestRate}{service="${SERVICE}"}`);
    expect(Number(rate[0]!.value[1])).toBeGreaterThan(0);
    const p95 = await eventually(`${RECORD.latencyP95}{service="${SERVICE}"}`);
    expect(Number(p95[0]!.value[1])).toBeGreaterThan(0.05);
    expect(Number(p95[0]!.value[1])).toBeLessThanOrEqual(0.1);
  }, 45_000);

  it("raises the fast-burn page (pending until its `for` elapses) for a 50% error rate", async () => {
    const alerts = await eventually(`ALERTS{alertname="UaipErrorBudgetBurnFast", service="${SERVICE}"}`);
    expect(alerts[0]!.metric).toMatchObject({ severity: "critical", alertstate: "pending" });
    // Latency (80 ms) is within the SLO: no latency alert.
    expect(await query(`ALERTS{alertname="UaipLatencyP95AboveSlo"}`)).toEqual([]);
  }, 45_000);
});
