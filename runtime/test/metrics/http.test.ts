import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { spawnSync } from "node:child_process";
import { Registry } from "prom-client";
import { requireBinary } from "../../../test/helpers/redis";
import { createMetrics, MetricsOptionsError } from "../../src/metrics/http-metrics";
import { DEFAULT_METRIC, HTTP_DURATION_BUCKETS, METRIC } from "../../src/metrics/names";
import { useLoopbackServers } from "../loopback-servers";

const listen = useLoopbackServers();

const settle = () => new Promise((r) => setTimeout(r, 20));
/** Polls until `condition` holds (a loaded CI machine may take longer than any fixed sleep). */
async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("createMetrics: node:http instrumentation and /metrics", () => {
  it("serves /metrics with the registry content type, every metric name and the service label", async () => {
    const m = createMetrics({ serviceName: "agent-intelligence" });
    const server = m.instrumentServer(
      createServer((req, res) => {
        if (req.url === "/metrics") return m.metricsHandler(req, res);
        res.statusCode = req.url?.startsWith("/fail") ? 502 : 200;
        res.end("hello");
      }),
    );
    const url = await listen(server);
    await fetch(`${url}/users/17?x=1`).then((r) => r.text());
    await fetch(`${url}/users/18`).then((r) => r.text());
    await fetch(`${url}/fail/1`).then((r) => r.text());
    await waitFor(() => m.snapshot().requestMetrics.totalRequests === 3);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toBe(m.registry.contentType);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    for (const name of [
      METRIC.httpRequestsTotal,
      METRIC.httpRequestErrorsTotal,
      METRIC.httpRequestsInFlight,
      METRIC.httpRequestDurationSeconds,
      METRIC.networkReceivedBytesTotal,
      METRIC.networkSentBytesTotal,
      DEFAULT_METRIC.processCpuSecondsTotal,
      DEFAULT_METRIC.processResidentMemoryBytes,
      DEFAULT_METRIC.heapUsedBytes,
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
    expect(body).toContain(
      `${METRIC.httpRequestsTotal}{method="GET",route="/users/:id",status_code="200",service="agent-intelligence"} 2`,
    );
    expect(body).toContain(
      `${METRIC.httpRequestErrorsTotal}{method="GET",route="/fail/:id",status_code="502",service="agent-intelligence"} 1`,
    );
    expect(body).toContain(
      `${METRIC.httpRequestDurationSeconds}_bucket{le="0.5",method="GET",route="/users/:id",status_code="200",service="agent-intelligence"} 2`,
    );
    // The scrape itself is in flight while it is collected.
    expect(body).toContain(`${METRIC.httpRequestsInFlight}{service="agent-intelligence"} 1`);
    expect(Number(/uaip_http_network_received_bytes_total\{[^}]*\} (\d+)/.exec(body)![1])).toBeGreaterThan(100);
    expect(Number(/uaip_http_network_sent_bytes_total\{[^}]*\} (\d+)/.exec(body)![1])).toBeGreaterThan(100);
    if (process.platform === "linux") expect(body).toContain(`# TYPE ${METRIC.diskReadBytesTotal} counter`);
    // Histogram buckets are the shared ones (bracket the 500 ms SLO).
    for (const le of HTTP_DURATION_BUCKETS) expect(body).toContain(`le="${le}"`);
    await new Promise((r) => server.close(r));
    m.close();
  });

  it("has duration buckets at most 1.5x apart from 50 ms to the SLO region, so histogram_quantile interpolates within a few %", () => {
    // A 50-100 ms bucket put an exact p95 of 70 ms at 84-88 ms (npm run load); 1.5x steps keep it within ~5 %.
    const from50ms = HTTP_DURATION_BUCKETS.filter((le) => le >= 0.05 && le <= 1);
    for (let i = 1; i < from50ms.length; i++) expect(from50ms[i] / from50ms[i - 1]).toBeLessThanOrEqual(1.5);
    expect(HTTP_DURATION_BUCKETS).toContain(0.5);
  });

  it("exposes a histogram that is cumulative, ends in +Inf with _sum/_count, and passes promtool check metrics", async () => {
    const m = createMetrics({ serviceName: "svc", collectDefault: false });
    m.observe("GET", "/a", 200, 120);
    m.observe("GET", "/a", 200, 700);
    m.observe("GET", "/a", 503, 3);
    const body = await m.registry.metrics();
    const line = (le: string) =>
      Number(
        new RegExp(
          `_bucket\\{le="${le.replace("+", "\\+")}",method="GET",route="/a",status_code="200",service="svc"\\} (\\S+)`,
        ).exec(body)![1],
      );
    expect([line("0.1"), line("0.2"), line("0.6"), line("0.75"), line("+Inf")]).toEqual([0, 1, 1, 2, 2]);
    expect(body).toContain(
      `${METRIC.httpRequestDurationSeconds}_sum{method="GET",route="/a",status_code="200",service="svc"} 0.82`,
    );
    expect(body).toContain(
      `${METRIC.httpRequestDurationSeconds}_count{method="GET",route="/a",status_code="200",service="svc"} 2`,
    );
    expect(body).toContain(`${METRIC.httpRequestErrorsTotal}{method="GET",route="/a",status_code="503",service="svc"} 1`);
    const lint = spawnSync(requireBinary("promtool"), ["check", "metrics"], { input: body, encoding: "utf8" });
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.status).toBe(0);
    // A second scrape does not double-count (deltas are pushed once).
    const again = await m.registry.metrics();
    expect(again).toContain(`${METRIC.httpRequestsTotal}{method="GET",route="/a",status_code="200",service="svc"} 2`);
    m.close();
  });

  it("caps route cardinality on real traffic: beyond maxRoutes the label is __other__", async () => {
    const m = createMetrics({ serviceName: "svc", collectDefault: false, maxRoutes: 3 });
    const server = m.instrumentServer(createServer((_req, res) => res.end()));
    const url = await listen(server);
    for (const p of ["/a", "/b", "/c", "/d", "/e", "/a"]) await fetch(url + p).then((r) => r.text());
    await waitFor(() => m.snapshot().requestMetrics.totalRequests === 6);
    const metric = await m.registry.getSingleMetric(METRIC.httpRequestsTotal)!.get();
    const byRoute = Object.fromEntries(metric.values.map((v) => [v.labels.route, v.value]));
    expect(byRoute).toEqual({ "/a": 2, "/b": 1, "/c": 1, __other__: 2 });
    await new Promise((r) => server.close(r));
    m.close();
  });

  it("Express-style middleware labels by req.baseUrl + req.route.path and counts a request once", async () => {
    const m = createMetrics({ serviceName: "svc", collectDefault: false });
    const mw = m.middleware();
    // A tiny stand-in for Express' router: it sets req.route / req.baseUrl after matching.
    const app = (req: IncomingMessage, res: ServerResponse) =>
      mw(req, res, () => {
        Object.assign(req, { baseUrl: "/api", route: { path: "/orders/:orderId" } });
        res.end("ok");
      });
    const server = m.instrumentServer(createServer(app)); // instrumented twice on purpose
    const url = await listen(server);
    await fetch(`${url}/api/orders/abc-def`).then((r) => r.text());
    await waitFor(() => m.snapshot().requestMetrics.totalRequests === 1);
    const metric = await m.registry.getSingleMetric(METRIC.httpRequestsTotal)!.get();
    expect(metric.values).toEqual([
      expect.objectContaining({ value: 1, labels: expect.objectContaining({ route: "/api/orders/:orderId" }) }),
    ]);
    await new Promise((r) => server.close(r));
    m.close();
  });

  it("a client that hangs up early is recorded as 499, not left in flight", async () => {
    const m = createMetrics({ serviceName: "svc", collectDefault: false });
    const server = m.instrumentServer(createServer(() => {})); // never answers
    const url = new URL(await listen(server));
    const req = request({ host: url.hostname, port: url.port, path: "/hang" });
    req.on("error", () => {});
    req.end();
    await waitFor(() => m.snapshot().requestMetrics.activeRequests === 1);
    req.destroy();
    await waitFor(() => m.snapshot().requestMetrics.activeRequests === 0);
    const metric = await m.registry.getSingleMetric(METRIC.httpRequestsTotal)!.get();
    expect(metric.values[0].labels.status_code).toBe("499");
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    m.close();
  });

  it("one createMetrics per registry; close() detaches from the server and removes its metrics", async () => {
    const registry = new Registry();
    const m = createMetrics({ serviceName: "svc", registry, collectDefault: false });
    expect(() => createMetrics({ serviceName: "svc", registry })).toThrow(MetricsOptionsError);
    expect(() => createMetrics({ serviceName: "" })).toThrow(
      expect.objectContaining({ code: "UAIP_METRICS_OPTIONS_INVALID", key: "serviceName" }),
    );
    expect(() => createMetrics({ serviceName: "s", window: -1 })).toThrow(expect.objectContaining({ key: "window" }));
    const server = m.instrumentServer(createServer((_req, res) => res.end()));
    const url = await listen(server);
    m.close();
    expect(registry.getSingleMetric(METRIC.httpRequestsTotal)).toBeUndefined();
    await fetch(url).then((r) => r.text());
    await settle();
    expect(m.snapshot().requestMetrics.totalRequests).toBe(0);
    await new Promise((r) => server.close(r));
  });
});
