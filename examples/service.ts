/**
 * The UAIP reference service on @uaip/runtime: what the stack's Deployments run, on every part of
 * the runtime. It reads its settings from the environment the stack writes (ConfigMap + Secret):
 *   /healthz   liveness (the process answers), also under memory pressure: a restart would not help
 *   /readyz    readiness: 503 once draining or while the memory monitor reports pressure (the ALB
 *              then moves traffic to other pods). Not tied to Redis: the runtime degrades without it,
 *              and pulling every pod on a Redis outage would turn a slowdown into downtime
 *   /metrics   Prometheus text format
 *   /_admin/profile   POST, bearer UAIP_ADMIN_TOKEN: an N-second CPU profile (off without the token;
 *              never routed by the ALB, reach it with kubectl port-forward)
 * and under its own prefix (the ALB routes /<service>/* here), rate-limited per client behind the
 * load balancer, compressed, and shed with 503 + Retry-After under memory pressure:
 *   POST  /<service>/operations       the seed's { type, payload }: PostgreSQL + audit_logs, announced on the feed
 *   GET   /<service>/operations/:id   cached (getOrSet), invalidated by PATCH
 *   PATCH /<service>/operations/:id   { status }
 *   GET   /<service>/stats            the seed's operation_stats view
 *   GET   /<service>/items/:id        a cached read with no database behind it (the cache on its own)
 *   /<service>/ws                     WebSocket feed on the same port (one ALB target): operation events, item
 *                                     reads and clients' text messages, in batches (one JSON-array frame each)
 *
 *   UAIP_SERVICE_NAME=agent-intelligence UAIP_PORT=3001 ... npx tsx examples/service.ts
 *   node examples/dist/service.js     (built: npx tsc -p examples/tsconfig.build.json)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  clientAddressKey,
  createRuntime,
  loadRuntimeConfig,
  rateLimitMiddleware,
  UaipError,
  type RuntimeConfig,
  type UaipRuntime,
} from "@uaip/runtime";
import { errorBody, jsonReplies } from "./reference/http";
import { operationRoutes, type OperationEvent } from "./reference/operations-routes";

/** Stands in for a slow backend read: what the cache saves on /items. */
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
  // Every answer is JSON built in memory: compressor.send compresses it (see reference/http.ts).
  const { json, sendError } = jsonReplies(compressor);
  const prefix = `/${config.serviceName}/`;
  const itemPath = new RegExp(`^/${config.serviceName}/items/([\\w-]{1,64})$`);
  // The audit log's actor: the client as the limiter sees it (X-Forwarded-For through the trusted hops).
  const actor = clientAddressKey({
    hops: config.http.trustedProxyHops,
    cidrs: config.http.trustedProxyCidrs.split(",").filter((c) => c.trim() !== ""),
  });
  const operations = operationRoutes(runtime, (event: OperationEvent) => publish(runtime, event), actor);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const status = draining ? "draining" : memoryMonitor.ready ? "ready" : "under_pressure";
      return json(res, status === "ready" ? 200 : 503, { status, pressure: memoryMonitor.pressure, cache: cache.l2State });
    }
    if (path === "/metrics") return metrics.metricsHandler(req, res);
    if (profileTrigger.handle(req, res)) return;
    // Shed new work while under pressure; requests already admitted finish.
    if (pressureGate.shed(req, res)) return;
    if (!path.startsWith(prefix)) return json(res, 404, errorBody("NOT_FOUND"));
    limit(req, res, (err?: unknown) => {
      if (err) return sendError(res, err);
      if (operations.handle(req, res, path)) return;
      const match = itemPath.exec(path);
      if (!match || req.method !== "GET") return json(res, 404, errorBody("NOT_FOUND"));
      cache
        .getOrSet(`item:${match[1]}`, () => loadItem(match[1]))
        .then(
          (item) => {
            json(res, 200, item);
            publish(runtime, { type: "item.read", id: item.id });
          },
          (error: unknown) => sendError(res, error),
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

/**
 * CDN paths of a cache key: what the CDN serves for it, so an invalidation purges exactly that.
 * `item:<id>` is `/<service>/items/<id>`, `operation:<id>` is `/<service>/operations/<id>`,
 * `stats` is `/<service>/stats`; other keys are not behind the CDN.
 */
export const serviceCdnPaths =
  (serviceName: string) =>
  (key: string): string | undefined => {
    if (key === "stats") return `/${serviceName}/stats`;
    const [kind, id] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    if (kind === "item") return `/${serviceName}/items/${id}`;
    if (kind === "operation") return `/${serviceName}/operations/${id}`;
    return undefined;
  };

/** The settings, or a one-line reason the service cannot start (the variable and the fix). */
export function loadServiceConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const config = loadRuntimeConfig(env);
  if (!config.database.host) {
    throw new UaipError(
      "UAIP_SERVICE_ENV_INCOMPLETE",
      "UAIP_DB_HOST is empty: the reference service stores operations in PostgreSQL; set UAIP_DB_* (the stack's ConfigMap does)",
    );
  }
  return config;
}

async function main(): Promise<void> {
  let config: RuntimeConfig;
  try {
    config = loadServiceConfig(process.env);
  } catch (err) {
    // Fail fast with the variable and the fix; secrets are never in these messages.
    console.error(`cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  const runtime = createRuntime({ config, cdnPaths: serviceCdnPaths(config.serviceName) });
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
