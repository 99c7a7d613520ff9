/**
 * A minimal UAIP service on @uaip/runtime: what the stack's Deployments run. It reads its
 * settings from the environment the stack writes (ConfigMap + Secret), and serves
 *   /healthz   liveness (the process answers)
 *   /readyz    readiness: 503 once draining. Not tied to Redis: the runtime degrades without it,
 *              and pulling every pod on a Redis outage would turn a slowdown into downtime
 *   /metrics   Prometheus text format
 *   /<service>/items/:id   a cached, rate-limited read (the ALB routes /<service>/* here)
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

export function createService(runtime: UaipRuntime): UaipService {
  let draining = false;
  const { config, metrics, cache, limiter } = runtime;
  const limit = rateLimitMiddleware(limiter);
  const itemPath = new RegExp(`^/${config.serviceName}/items/([\\w-]{1,64})$`);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") return json(res, draining ? 503 : 200, { status: draining ? "draining" : "ready", cache: cache.l2State });
    if (path === "/metrics") return metrics.metricsHandler(req, res);
    const match = itemPath.exec(path);
    if (!match || req.method !== "GET") return json(res, 404, { error: { code: "NOT_FOUND" } });
    limit(req, res, (err?: unknown) => {
      if (err) return json(res, 500, { error: { code: "INTERNAL" } });
      cache.getOrSet(`item:${match[1]}`, () => loadItem(match[1])).then(
        (item) => json(res, 200, item),
        () => json(res, 500, { error: { code: "INTERNAL" } }),
      );
    });
  };
  const server = runtime.configureServer(metrics.instrumentServer(createServer(handler)));
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
  // SIGTERM arrives after the preStop sleep: stop accepting, finish in-flight requests, release.
  process.once("SIGTERM", () => {
    drain();
    server.close(() => void runtime.close());
  });
}

if (require.main === module) void main();
