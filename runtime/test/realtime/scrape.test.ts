import { readdirSync, readFileSync } from "node:fs";
import { createServer, get } from "node:http";
import { join } from "node:path";
import { buildRuleGroups } from "../../../dashboards/rules";
import { platformOverview } from "../../../dashboards/platform-overview";
import { serviceOverview } from "../../../dashboards/service-overview";
import { createMetrics } from "../../src/metrics/http-metrics";
import { METRIC } from "../../src/metrics/names";
import { MessageBatcher, WebSocketManager } from "../../src/realtime";
import { panelsOf, parsePromql, substituteGrafanaVariables } from "../../../test/dashboards/exprs";
import { closeServer, listen, openClient, waitFor } from "./helpers";

/**
 * Every uaip_ws_* / uaip_batch_* series a rule or a dashboard reads is in a real scrape of
 * /metrics while the manager and the batcher run ("every metric a rule uses is emitted").
 */
const REALTIME = /^uaip_(ws|batch)_[a-z0-9_]+$/;

function usedByRulesAndDashboards(): Set<string> {
  const groups = buildRuleGroups();
  const exprs = [
    ...groups.recording.rules.map((r) => r.expr),
    ...groups.alerts.rules.map((r) => r.expr),
    ...[serviceOverview(), platformOverview()].flatMap((d) =>
      panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => substituteGrafanaVariables(t.expr ?? ""))),
    ),
  ];
  const names = new Set(exprs.flatMap((e) => parsePromql(e).metrics).filter((m) => REALTIME.test(m)));
  // The generated files too, in case one was written by hand.
  const root = join(__dirname, "../../../dashboards");
  for (const dir of ["generated", "rules"]) {
    for (const file of readdirSync(join(root, dir))) {
      for (const m of readFileSync(join(root, dir, file), "utf8").matchAll(/\buaip_(?:ws|batch)_[a-z0-9_]+/g)) names.add(m[0]);
    }
  }
  return names;
}

function scrape(url: string): Promise<string> {
  return new Promise((resolve, reject) =>
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c)).on("end", () => resolve(body));
    }).on("error", reject),
  );
}

/** Series names (with _bucket/_sum/_count) in a Prometheus text exposition. */
function seriesNames(text: string): Set<string> {
  return new Set(text.split("\n").flatMap((line) => (line && !line.startsWith("#") ? [line.split(/[{ ]/)[0]] : [])));
}

describe("a real /metrics scrape with the WebSocketManager and MessageBatcher running", () => {
  it("shows every uaip_ws_* and uaip_batch_* series the rules and dashboards use, with live values", async () => {
    const used = usedByRulesAndDashboards();
    expect(used).toContain(METRIC.wsConnections); // UaipWebSocketNearMax and the platform panel
    expect(used).toContain(METRIC.wsMaxConnections);

    const metrics = createMetrics({ serviceName: "orchestration-pipeline" });
    const manager = new WebSocketManager(
      { maxConnections: 50, heartbeatInterval: 250, reconnectStrategy: { initialDelay: 100, maxDelay: 1_000, factor: 2 } },
      { registry: metrics.registry },
    );
    const batcher = new MessageBatcher<number>({
      batchSize: 10,
      flushInterval: 20,
      registry: metrics.registry,
      broadcast: async (b) => void manager.broadcast(JSON.stringify(b)),
    });
    const server = metrics.instrumentServer(
      createServer((req, res) => (req.url === "/metrics" ? metrics.metricsHandler(req, res) : res.end())),
    );
    const { url, port } = await listen(server);
    manager.attach(server, { path: "/ws" });
    const client = await openClient(`${url}/ws`);
    try {
      let received = 0;
      client.on("message", (d: Buffer) => (received += (JSON.parse(d.toString()) as number[]).length));
      for (let i = 0; i < 25; i++) await batcher.addMessage(i);
      await waitFor(() => received === 25);
      client.send("hello");
      // Two heartbeats (an interval long enough that a loaded machine still answers in time).
      await new Promise((r) => setTimeout(r, 600));

      const text = await scrape(`http://127.0.0.1:${port}/metrics`);
      const present = seriesNames(text);
      const missing = [...used].filter((name) => !present.has(name));
      expect(missing).toEqual([]);

      // Every realtime name in METRIC is emitted, not only those in use today.
      const histograms = [METRIC.batchSize, METRIC.wsPingLatencySeconds];
      const exported = Object.values(METRIC)
        .filter((n) => REALTIME.test(n))
        .flatMap((n) => ((histograms as string[]).includes(n) ? [`${n}_bucket`, `${n}_sum`, `${n}_count`] : [n]));
      expect(exported.filter((n) => !present.has(n))).toEqual([]);

      expect(text).toMatch(/^uaip_ws_connections\{service="orchestration-pipeline"\} 1$/m);
      expect(text).toMatch(/^uaip_ws_max_connections\{service="orchestration-pipeline"\} 50$/m);
      expect(text).toMatch(/^uaip_ws_messages_total\{direction="sent",service="orchestration-pipeline"\} 3$/m);
      expect(text).toMatch(/^uaip_ws_messages_total\{direction="received",service="orchestration-pipeline"\} 1$/m);
      expect(text).toMatch(/^uaip_batch_flushes_total\{result="success",service="orchestration-pipeline"\} 3$/m);
      expect(text).toMatch(/^uaip_batch_size_sum\{service="orchestration-pipeline"\} 25$/m);
      expect(text).toMatch(/^uaip_ws_ping_latency_seconds_count\{service="orchestration-pipeline"\} [1-9]/m);
    } finally {
      client.terminate();
      await batcher.close();
      await manager.drain(100);
      await closeServer(server);
      metrics.close();
    }
  });
});
