// A service from zero: plain JavaScript, node:http, and the packed @uaip/runtime installed next to
// it (`npm install ./uaip-runtime-x.y.z.tgz`), each part built by hand in the seed's shapes instead
// of createRuntime. It uses no PostgreSQL, WebSockets or CDN, so it installs none of the optional
// peers (pg, ws, @aws-sdk/client-cloudfront).
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node --max-old-space-size=384 server.js   (npm start)
//
//   GET  /items/:id             an item, from the two-tier cache (computed on a miss)
//   POST /items/:id/invalidate  removes the item from every instance's cache and from Redis
//   GET  /healthz, /readyz      liveness; readiness (false under memory pressure)
//   GET  /metrics               Prometheus metrics
"use strict";
const http = require("node:http");
const { CacheManager, CacheInvalidator } = require("@uaip/runtime/cache");
const { RateLimiter, clientAddressKey } = require("@uaip/runtime/ratelimit");
const { createMetrics } = require("@uaip/runtime/metrics");
const { MemoryMonitor, PressureGate } = require("@uaip/runtime/resources");
const { ResponseCompressor } = require("@uaip/runtime/compression");

const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const { hostname, port } = new URL(redisUrl);

// The seed's ServiceMetrics: RED metrics of every request, served on /metrics.
const metrics = createMetrics({ serviceName: "from-zero" });

// The seed's CacheConfig, as written (memory, redis and cdn), plus the registry for its metrics.
const cache = new CacheManager({
  memory: { maxSize: 10_000, ttl: 60_000 },
  redis: { host: hostname, port: Number(port || 6379), maxConnections: 10, keyPrefix: "from-zero:" },
  cdn: { enabled: false, provider: "cloudfront" },
  registry: metrics.registry,
});
const invalidator = new CacheInvalidator({ cache });

// The seed's RateLimitConfig: windowMs, maxRequests and a keyGenerator (the client address; no proxy in front).
const limiter = new RateLimiter({
  windowMs: Number(process.env.RATE_LIMIT_WINDOW_MS || 60_000),
  maxRequests: Number(process.env.RATE_LIMIT_MAX || 100),
  keyGenerator: clientAddressKey({ hops: 0 }),
  redis: redisUrl,
  registry: metrics.registry,
});

// The seed's MemoryConfig: sizes in MiB (or "384Mi"); pressure is measured against the smaller of
// heapSizeLimit and the limit V8 enforces, so it works without --max-old-space-size too (with a
// warning that the two differ: `npm start` passes the matching flag).
const monitor = new MemoryMonitor(
  {
    heapSizeLimit: process.env.HEAP_SIZE_LIMIT || "384Mi",
    gcThreshold: "256Mi",
    memoryMonitoring: { enabled: true, interval: 5_000, threshold: 0.85 },
  },
  { registry: metrics.registry },
).start();
const gate = new PressureGate(monitor);

// The seed's CompressionConfig: level, threshold and a filter.
const compressor = new ResponseCompressor({ level: 6, threshold: 1_024, filter: () => true });

function json(res, status, body) {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  compressor.send(res, JSON.stringify(body));
}

/** What a real service would read from its database: here, a slow computation. */
async function loadItem(id) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { id, name: `item ${id}`, description: "x".repeat(2_000), loadedAt: new Date().toISOString() };
}

async function route(req, res) {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/healthz") return json(res, 200, { status: "ok" });
  if (url.pathname === "/readyz")
    return json(res, monitor.ready ? 200 : 503, { ready: monitor.ready, pressure: monitor.pressure });
  if (url.pathname === "/metrics") return metrics.metricsHandler(req, res);

  // The seed's shape: checkLimit(req) is true while the client is within its limit.
  if (!(await limiter.checkLimit(req))) return json(res, 429, { error: "too many requests" });

  const item = /^\/items\/([\w-]+)$/.exec(url.pathname);
  if (item && req.method === "GET") {
    const key = `item:${item[1]}`;
    // The seed's cache shape: get, and on a miss compute and set.
    let value = await cache.get(key);
    const hit = value !== null;
    if (!hit) {
      value = await loadItem(item[1]);
      await cache.set(key, value);
    }
    res.setHeader("X-Cache", hit ? "hit" : "miss");
    return json(res, 200, value);
  }
  const invalidate = /^\/items\/([\w-]+)\/invalidate$/.exec(url.pathname);
  if (invalidate && req.method === "POST") {
    const report = await invalidator.invalidate(`item:${invalidate[1]}`);
    return json(res, 200, { invalidated: invalidate[1], complete: report.complete });
  }
  return json(res, 404, { error: "not found" });
}

const server = http.createServer(
  gate.wrap((req, res) => {
    route(req, res).catch((error) => {
      // A UaipError carries a stable code; anything else is a bug worth a 500 and a log line.
      console.error(`from-zero: ${req.method} ${req.url}: ${error.code || error.name}: ${error.message}`);
      if (!res.headersSent) json(res, 500, { error: "internal error", code: error.code });
      else res.destroy();
    });
  }),
);
metrics.instrumentServer(server);

server.listen(Number(process.env.PORT || 3000), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});

async function shutdown() {
  server.close();
  monitor.close();
  await Promise.allSettled([invalidator.close(), cache.close(), limiter.close()]);
  metrics.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
