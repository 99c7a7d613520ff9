import type { Server } from "node:http";
import { CacheInvalidator, CacheManager } from "./cache";
import { ResponseCompressor } from "./compression";
import { loadRuntimeConfig, type RuntimeConfig } from "./config/load";
import { ConnectionPoolManager, createPool, StatsRefresher, type ManagedPool } from "./db";
import { createMetrics, type HttpMetrics } from "./metrics";
import { CPUProfiler, ProfileTrigger } from "./profiler";
import { RateLimiter, RedisStore } from "./ratelimit";
import { createRealtime, type Realtime, type RealtimeOptions } from "./realtime";
import { MemoryMonitor, PressureGate } from "./resources";

/** Everything a UAIP service needs at start-up, built from one RuntimeConfig. */
export interface UaipRuntime {
  config: RuntimeConfig;
  metrics: HttpMetrics;
  cache: CacheManager;
  invalidator: CacheInvalidator;
  limiter: RateLimiter;
  /** WebSocketManager (`realtime.ws.attach(server, { path })`), MessageBatcher and reconnecting client, from `ws`/`batching`. */
  realtime: Realtime;
  /** Samples memory and the event loop (started when memory.memoryMonitoring.enabled); `ready` is the readiness answer. */
  memoryMonitor: MemoryMonitor;
  /** 503 + Retry-After for new requests while the memory monitor reports pressure (probes and /metrics pass). */
  pressureGate: PressureGate;
  /** gzip/brotli for responses, from the compression settings. */
  compressor: ResponseCompressor;
  /** CPU profiles on demand; `profileTrigger` serves POST /_admin/profile only when UAIP_ADMIN_TOKEN is set. */
  profiler: CPUProfiler;
  profileTrigger: ProfileTrigger;
  /**
   * The PostgreSQL pool (with its ConnectionPoolManager running, and the operation_stats refresher
   * when UAIP_DB_STATS_REFRESH_INTERVAL_MS > 0), or undefined when UAIP_DB_HOST is not set.
   */
  db: ManagedPool | undefined;
  /**
   * Resolves true once Redis serves both the cache and the limiter (or no Redis is configured),
   * false after `timeoutMs`. Until then both work degraded: cache misses, limiter counts in memory.
   * Never throws. Await it before listening, so the first requests are counted in Redis.
   */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Applies the keep-alive timeout the load balancer needs (and a headers timeout above it). */
  configureServer(server: Server): Server;
  /** Releases every connection and timer. */
  close(): Promise<void>;
}

/** The `redis://` or `rediss://` URL of the configured Redis, or undefined for "no Redis". */
export function redisUrl(config: RuntimeConfig): string | undefined {
  const { host, port, tls } = config.cache.redis;
  return host ? `${tls ? "rediss" : "redis"}://${host}:${port}` : undefined;
}

export interface CreateRuntimeOptions {
  /**
   * WebSocket options beyond the profile. `drainTimeoutMs` must fit the pod's termination grace
   * period after its preStop sleep (deregistration delay + 5 s in the stack). @default see WebSocketManagerOptions
   */
  realtime?: RealtimeOptions;
}

/**
 * Builds the runtime from the settings the stack wrote into the service's ConfigMap and Secret
 * (`loadRuntimeConfig(process.env)` by default): metrics, the two-tier cache with its
 * invalidator, the rate limiter, the WebSocket manager with its batcher, the memory monitor with
 * its pressure gate, response compression, the CPU profiler and, when UAIP_DB_HOST is set, the
 * PostgreSQL pool, all on one prom-client registry.
 */
export function createRuntime(config: RuntimeConfig = loadRuntimeConfig(), options: CreateRuntimeOptions = {}): UaipRuntime {
  const metrics = createMetrics({ serviceName: config.serviceName });
  const url = redisUrl(config);
  const cache = new CacheManager({ config: config.cache, url, password: config.redisAuthToken, registry: metrics.registry });
  const invalidator = new CacheInvalidator({ cache });
  const store = url
    ? new RedisStore({
        url,
        keyPrefix: `${config.cache.redis.keyPrefix}rl:`,
        commandTimeoutMs: config.cache.redis.commandTimeoutMs,
        redisOptions: { password: config.redisAuthToken, ...(config.cache.redis.tls ? { tls: {} } : {}) },
      })
    : undefined;
  const limiter = new RateLimiter({ ...config.rateLimit, store, registry: metrics.registry });
  const db = config.database.host ? createPool(config, { registry: metrics.registry, applicationName: config.serviceName }) : undefined;
  const poolManager = db ? new ConnectionPoolManager(db).start() : undefined;
  const statsRefresher =
    db && config.database.statsRefreshIntervalMs > 0 ? new StatsRefresher({ pool: db, intervalMs: config.database.statsRefreshIntervalMs, registry: metrics.registry }).start() : undefined;
  const realtime = createRealtime(config, metrics.registry, options.realtime);
  const memoryMonitor = new MemoryMonitor(config.memory, { registry: metrics.registry }).start();
  const pressureGate = new PressureGate(memoryMonitor);
  const compressor = new ResponseCompressor(config.compression);
  const profiler = new CPUProfiler();
  const profileTrigger = new ProfileTrigger({ profiler, token: config.adminToken });

  return {
    config,
    metrics,
    cache,
    invalidator,
    limiter,
    db,
    realtime,
    memoryMonitor,
    pressureGate,
    compressor,
    profiler,
    profileTrigger,
    async ready(timeoutMs = 5_000) {
      const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs).unref());
      const storeReady = store ? Promise.race([store.ready().then(() => true), timeout]) : Promise.resolve(true);
      const [cacheOk, storeOk] = await Promise.all([cache.ready(timeoutMs), storeReady]);
      return cacheOk && storeOk;
    },
    configureServer(server) {
      // Longer than the ALB idle timeout, so the ALB never reuses a socket the service has closed.
      server.keepAliveTimeout = config.http.keepAliveTimeout;
      // Node requires headersTimeout > keepAliveTimeout, or idle sockets are cut early.
      server.headersTimeout = config.http.keepAliveTimeout + 1_000;
      return server;
    },
    async close() {
      // The limiter does not own a store it was given; this runtime made it, so it closes it.
      memoryMonitor.close();
      profiler.close();
      poolManager?.stop();
      await statsRefresher?.stop();
      await Promise.allSettled([invalidator.close(), cache.close(), limiter.close(), store?.close(), realtime.close(), db?.close()]);
      metrics.close();
    },
  };
}
