// A service under test in its own process, started with a small --max-old-space-size and
// --expose-gc: the parent tells it over IPC to allocate (hold) heap, release it, or finish the
// slow request it holds open; it reports its port once listening.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createMetrics } from "../../src/metrics/http-metrics";
import { MemoryMonitor, PressureGate } from "../../src/resources";

const metrics = createMetrics({ serviceName: "pressure-child" });
const monitor = new MemoryMonitor(
  { heapSizeLimit: 64, gcThreshold: 8, memoryMonitoring: { enabled: true, interval: 50, threshold: 0.5 } },
  { registry: metrics.registry, gcCooldownMs: 0 },
).start();
const gate = new PressureGate(monitor);
let held: number[][] = [];
const slow: (() => void)[] = [];

const server = createServer(
  gate.wrap((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/healthz") return send(200, { status: "ok" });
    if (req.url === "/readyz") return send(monitor.ready ? 200 : 503, { ready: monitor.ready, pressure: monitor.pressure });
    if (req.url === "/metrics") return metrics.metricsHandler(req, res);
    if (req.url === "/slow") {
      slow.push(() => send(200, { slow: "done" }));
      return void process.send!({ slowAdmitted: true });
    }
    send(200, { work: "done" });
  }),
);
metrics.instrumentServer(server);

process.on("message", (msg: string) => {
  if (msg === "allocate") {
    // Doubles in plain arrays live on the V8 heap (Buffers would not): 1 MiB per array.
    const target = monitor.heapLimitBytes * 0.62;
    while (process.memoryUsage().heapUsed < target) held.push(new Array(131_072).fill(1.5));
    process.send!({ allocated: process.memoryUsage().heapUsed, limit: monitor.heapLimitBytes });
  } else if (msg === "release") {
    held = [];
    process.send!({ released: true });
  } else if (msg === "finish-slow") {
    for (const finish of slow.splice(0)) finish();
  }
});

server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));
