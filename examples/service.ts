/**
 * A minimal UAIP service on @uaip/runtime: what the stack's Deployments run. It reads its
 * settings from the environment the stack writes (ConfigMap + Secret), and serves
 *   /healthz   liveness (the process answers), also under memory pressure: a restart would not help
 *   /readyz    readiness: 503 once draining or while the memory monitor reports pressure (the ALB
 *              then moves traffic to other pods). Not tied to Redis: the runtime degrades without it,
 *              and pulling every pod on a Redis outage would turn a slowdown into downtime
 *   /metrics   Prometheus text format
 *   /_admin/profile   POST, bearer UAIP_ADMIN_TOKEN: an N-second CPU profile (off without the token;
 *              never routed by the ALB, reach it with kubectl port-forward)
 *   /<service>/items/:id   a cached, rate-limited, compressed read (the ALB routes /<service>/* here);
 *              under memory pressure new requests get 503 + Retry-After
 *   /<service>/ws          WebSocket on the same port (one ALB target): every item read, and every
 *                          text message a client sends, goes to all clients through the batcher
 *                          (one JSON-array frame per batch)
 *
 *   UAIP_SERVICE_NAME=agent-intelligence UAIP_PORT=3001 npx tsx examples/service.ts
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRuntime, loadRuntimeConfig, rateLimitMiddleware, type UaipRuntime } from "@uaip/runtime";

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

/** Stands in for a database read: what the cache saves. */
async function loadItem(id: string): Promise<{ id: string; loadedAt: number }> {
  await new Promise((r) => setTimeout(r, 5));
  return { id, loadedAt: Date.now() };
}

export interface UaipService {
  server: Server;
  /** Fails readiness so the ALB stops sending new requests (SIGTERM after the preStop sleep). */
  drain(): void;
}

/** Queues a message for every WebSocket client; a failed or refused batch is logged, not lost silently. */
function publish(runtime: UaipRuntime, message: unknown): void {
  runtime.realtime.batcher.addMessage(message).catch((err: unknown) => console.warn(`ws broadcast: ${(err as Error).message}`));
}

export function createService(runtime: UaipRuntime): UaipService {
  let draining = false;
  const { config, metrics, cache, limiter, memoryMonitor, pressureGate, compressor, profileTrigger } = runtime;
  const limit = rateLimitMiddleware(limiter);
  const compress = compressor.middleware();
  const itemPath = new RegExp(`^/${config.serviceName}/items/([\\w-]{1,64})$`);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const status = draining ? "draining" : memoryMonitor.ready ? "ready" : "under_pressure";
      return json(res, status === "ready" ? 200 : 503, { status, pressure: memoryMonitor.pressure, cache: cache.l2State });
    }
    if (path === "/metrics") return metrics.metricsHandler(req, res);
    if (profileTrigger.handle(req, res)) return;
    // Shed new work while under pressure; requests already admitted finish.
    if (pressureGate.shed(req, res)) return;
    const match = itemPath.exec(path);
    if (!match || req.method !== "GET") return json(res, 404, { error: { code: "NOT_FOUND" } });
    limit(req, res, (err?: unknown) => {
      if (err) return json(res, 500, { error: { code: "INTERNAL" } });
      compress(req, res, () =>
        cache.getOrSet(`item:${match[1]}`, () => loadItem(match[1])).then(
          (item) => {
            json(res, 200, item);
            publish(runtime, { type: "item.read", id: item.id });
          },
          () => json(res, 500, { error: { code: "INTERNAL" } }),
        ),
      );
    });
  };
  const server = runtime.configureServer(metrics.instrumentServer(createServer(handler)));
  const wss = runtime.realtime.ws.attach(server, { path: `/${config.serviceName}/ws` });
  wss.on("connection", (socket) =>
    socket.on("message", (data, isBinary) => {
      if (!isBinary) publish(runtime, { type: "client.message", text: data.toString() });
    }),
  );
  return { server, drain: () => void (draining = true) };
}

/** CDN paths of a cache key: `item:<id>` is served at `/<service>/items/<id>`; other keys are not behind the CDN. */
export const itemCdnPaths = (serviceName: string) => (key: string) => (key.startsWith("item:") ? `/${serviceName}/items/${key.slice("item:".length)}` : undefined);

async function main(): Promise<void> {
  const config = loadRuntimeConfig(process.env);
  const runtime = createRuntime({ config, cdnPaths: itemCdnPaths(config.serviceName) });
  // Start anyway when Redis is late: the runtime degrades (misses, in-memory limits) meanwhile.
  if (!(await runtime.ready())) console.warn("redis not reachable yet; starting degraded");
  const { server, drain } = createService(runtime);
  server.listen(runtime.config.port, () => console.log(`${runtime.config.serviceName} listening on ${runtime.config.port}`));
  // SIGTERM arrives after the preStop sleep: stop accepting, send what the batcher holds, close the
  // WebSockets with 1001 (server.close() would wait for them forever), finish in-flight requests, release.
  process.once("SIGTERM", () => {
    drain();
    void runtime.realtime.close().finally(() => server.close(() => void runtime.close()));
  });
}

if (require.main === module) void main();
