import { createRequire } from "node:module";
import { join } from "node:path";
import { constants as zlibConstants } from "node:zlib";
import compress from "@fastify/compress";
import rateLimit from "@fastify/rate-limit";
import Fastify from "fastify";
import { Redis } from "ioredis";
import pg from "pg";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RuntimeConfig } from "@uaip/runtime";
import { HTTP_DURATION_BUCKETS } from "@uaip/runtime/metrics";
import { operationKey } from "../examples/reference/operations-routes";
import type { Operation } from "../examples/reference/operations-store";

// lru-cache 11 as the runtime uses it (the repository root resolves an older major for other tools).
const runtimeRequire = createRequire(join(__dirname, "../runtime/package.json"));
const { LRUCache } = runtimeRequire("lru-cache") as typeof import("../runtime/node_modules/lru-cache");

/**
 * The peer of reference-service.bench.ts: the reference service's cached GET /<service>/operations/:id
 * as a service team would build it on Fastify with the libraries each part's docs point to, from the
 * same settings (the RuntimeConfig the reference service loads from the same env):
 *  - @fastify/rate-limit with its Redis store, the same window and limit, keyed by the client address
 *    behind the same number of trusted proxy hops (Fastify's trustProxy: the same X-Forwarded-For entry);
 *    a Redis round trip per request (the plugin has no local reservations; the reference service's
 *    stack setting rateLimit.reserve does, and stays on);
 *  - lru-cache (the same size and TTL) in front of ioredis (the same key and TTL), loading a miss from
 *    PostgreSQL with the same query and the same JSON shape;
 *  - prom-client: the same request histogram (name, labels, buckets), the request counter, default metrics;
 *  - @fastify/compress with the same threshold, gzip level and brotli quality.
 */
export async function serveFastifyPeer(config: RuntimeConfig): Promise<number> {
  const service = config.serviceName;
  const redisUrl = `redis://${config.cache.redis.host}:${config.cache.redis.port}`;
  const hops = config.http.trustedProxyHops;
  // proxy-addr's numeric trust (the nth hop), as a function: Fastify's types take no number here.
  const app = Fastify({ logger: false, trustProxy: (_address: string, hop: number) => hop < hops });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["method", "route", "status_code"] as const;
  const duration = new Histogram({
    name: "uaip_http_request_duration_seconds",
    help: "HTTP request duration, seconds",
    labelNames,
    buckets: [...HTTP_DURATION_BUCKETS],
    registers: [registry],
  });
  const requests = new Counter({ name: "uaip_http_requests_total", help: "HTTP requests", labelNames, registers: [registry] });
  app.addHook("onRequest", (request, _reply, done) => {
    (request as { startedAt?: bigint }).startedAt = process.hrtime.bigint();
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? "__other__", status_code: reply.statusCode };
    duration.observe(labels, Number(process.hrtime.bigint() - (request as { startedAt?: bigint }).startedAt!) / 1e9);
    requests.inc(labels);
    done();
  });

  await app.register(compress, {
    threshold: config.compression.threshold,
    zlibOptions: { level: config.compression.level },
    brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } },
  });
  await app.register(rateLimit, {
    max: config.rateLimit.maxRequests,
    timeWindow: config.rateLimit.windowMs,
    // The plugin's README example: a short connect timeout and one retry.
    redis: new Redis(redisUrl, { connectTimeout: 500, maxRetriesPerRequest: 1 }),
    // The same client key under its own prefix (the reference service keeps a hash at ...rl:<client>).
    nameSpace: `${config.cache.redis.keyPrefix ?? `uaip:${service}:`}peer-rl:`,
  });

  const l1 = new LRUCache<string, Operation>({ max: config.cache.memory.maxSize, ttl: config.cache.memory.ttl });
  const l2 = new Redis(redisUrl, { commandTimeout: config.cache.redis.commandTimeoutMs });
  const db = new pg.Pool({
    host: config.database.host,
    port: config.database.port,
    database: config.database.name,
    user: config.database.user,
    password: config.database.password,
    max: config.pool.maxConnections,
  });
  const prefix = `${config.cache.redis.keyPrefix ?? `uaip:${service}:`}peer:`;

  app.get<{ Params: { id: string } }>(`/${service}/operations/:id`, async (request, reply) => {
    const key = prefix + operationKey(request.params.id);
    const cached = l1.get(key);
    if (cached !== undefined) return cached;
    const raw = await l2.get(key);
    if (raw !== null) {
      const value = JSON.parse(raw) as Operation;
      l1.set(key, value);
      return value;
    }
    const { rows } = await db.query<{
      id: string;
      status: string;
      created_at: Date;
      payload: { type: string; payload: unknown };
    }>("SELECT id, status, created_at, payload FROM operations WHERE id = $1", [request.params.id]);
    if (!rows[0]) return reply.code(404).send({ error: { code: "NOT_FOUND" } });
    const row = rows[0];
    const operation: Operation = {
      id: String(row.id),
      type: row.payload.type,
      status: row.status,
      payload: row.payload.payload,
      createdAt: row.created_at.toISOString(),
    };
    await l2.set(key, JSON.stringify(operation), "PX", config.cache.redis.ttl);
    l1.set(key, operation);
    return operation;
  });

  await app.listen({ port: 0, host: "127.0.0.1" });
  return (app.server.address() as { port: number }).port;
}
