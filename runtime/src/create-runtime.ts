import type { IncomingMessage, Server } from "node:http";
import { CacheInvalidator, CacheManager, type CdnPathMapper, type CdnPurger } from "./cache";
import { ResponseCompressor } from "./compression";
import { defaultKeyPrefix, loadRuntimeConfig, type RuntimeConfig } from "./config/load";
import { RuntimeConfigError } from "./errors";
import { ConnectionPoolManager, createPool, StatsRefresher, type ManagedPool } from "./db";
import { createMetrics, type HttpMetrics } from "./metrics";
import { checkOptions, keysOf, showValue } from "./options";
import { CPUProfiler, ProfileTrigger } from "./profiler";
import { clientAddressKey, RateLimiter, RedisStore } from "./ratelimit";
import { createRealtime, type Realtime, type RealtimeOptions } from "./realtime";
import { MemoryMonitor, PressureGate } from "./resources";
import { EpisodeLog } from "./metrics/episode-log";
import { METRIC } from "./metrics/names";
import { setTimer } from "./timer";

/**
 * What a service can pass to createRuntime besides its settings. Each field is optional and
 * documented with its default; new runtime parts add their hooks here.
 */
export interface CreateRuntimeOptions {
  /** The service's settings. @default loadRuntimeConfig(process.env) */
  config?: RuntimeConfig;
  /**
   * Maps a request to its rate-limit key.
   * @default the client address per `http.trustedProxyHops` / `http.trustedProxyCidrs` (clientAddressKey)
   */
  keyGenerator?: (req: IncomingMessage) => string;
  /** Maps a cache key or pattern to the CDN paths to purge. @default defaultCdnPaths(cache.cdn.pathPrefix): `/<service>/*` for keys that are not paths */
  cdnPaths?: CdnPathMapper;
  /** A CDN purger to use instead of the CloudFrontPurger built from `cache.cdn`. @default per settings */
  purger?: CdnPurger;
  /**
   * WebSocket options beyond the profile. `drainTimeoutMs` must fit the pod's termination grace
   * period after its preStop sleep (max(deregistration delay, 10 s) + 5 s in the stack). @default see WebSocketManagerOptions
   */
  realtime?: RealtimeOptions;
  /**
   * Where the runtime logs a dependency outage it answers degraded (Redis for the cache or the limiter):
   * one line when it starts, one when it ends, however many calls it touched (those are counted on
   * uaip_cache_errors_total / uaip_ratelimit_store_errors_total). @default console.warn
   */
  log?: (line: string) => void;
}

/** Every option createRuntime honours. */
export const CREATE_RUNTIME_OPTIONS = keysOf<CreateRuntimeOptions>()(
  "config",
  "keyGenerator",
  "cdnPaths",
  "purger",
  "realtime",
  "log",
);

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

/**
 * Where a service's rate-limit counters live: `uaip:<service>:rl:`, always per service (even when
 * services share a cache namespace) and outside the cache's `<keyPrefix>c:` entries, so no cache
 * invalidation pattern can reach them.
 */
export function rateLimitKeyPrefix(serviceName: string): string {
  return `${defaultKeyPrefix(serviceName)}rl:`;
}

/** What a check answered by the failure policy does, for the outage log line. */
const FAILURE_POLICY_EFFECT = {
  allow: "policy allow: admitted, uncounted",
  memory: "policy memory: counted in this replica, its share of the limit",
  deny: "policy deny: refused with 503",
} as const;

const isConfig = (value: object): value is RuntimeConfig => "serviceName" in value && "cache" in value && "rateLimit" in value;

/**
 * Builds the runtime from the settings the stack wrote into the service's ConfigMap and Secret
 * (`loadRuntimeConfig(process.env)` by default): metrics, the two-tier cache with its
 * invalidator, the rate limiter, the WebSocket manager with its batcher, the memory monitor with
 * its pressure gate, response compression, the CPU profiler and, when UAIP_DB_HOST is set, the
 * PostgreSQL pool, all on one prom-client registry.
 *
 *   createRuntime()                                   // settings from process.env
 *   createRuntime(loadRuntimeConfig(env))             // explicit settings
 *   createRuntime({ keyGenerator, cdnPaths })         // settings from process.env, plus hooks
 *   createRuntime(config, { keyGenerator, cdnPaths, realtime })
 */
export function createRuntime(configOrOptions?: RuntimeConfig | CreateRuntimeOptions, extra?: CreateRuntimeOptions): UaipRuntime {
  const fromFirst =
    configOrOptions !== undefined &&
    configOrOptions !== null &&
    typeof configOrOptions === "object" &&
    !isConfig(configOrOptions);
  const options = checkOptions(
    "createRuntime",
    fromFirst ? configOrOptions : extra,
    CREATE_RUNTIME_OPTIONS,
    (key, message) => new RuntimeConfigError(key, message),
    {
      redis: "Redis comes from the settings (config.cache.redis, UAIP_REDIS_*)",
      keyPrefix: "the cache namespace is config.cache.redis.keyPrefix (UAIP_REDIS_KEY_PREFIX)",
    },
  ) as CreateRuntimeOptions;
  if (fromFirst && extra !== undefined)
    throw new RuntimeConfigError(
      "options",
      "createRuntime(options) takes the config inside options.config; do not pass a second argument",
    );
  if (!fromFirst && configOrOptions !== undefined && options.config !== undefined) {
    throw new RuntimeConfigError("config", "config given twice: as the first argument and as options.config");
  }
  for (const key of ["keyGenerator", "cdnPaths", "log"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "function")
      throw new RuntimeConfigError(key, `createRuntime: ${key} must be a function, got ${showValue(options[key])}`);
  }
  const config = (fromFirst ? options.config : (configOrOptions as RuntimeConfig | undefined)) ?? loadRuntimeConfig();

  const metrics = createMetrics({ serviceName: config.serviceName });
  const url = redisUrl(config);
  const cacheConfig = {
    ...config.cache,
    redis: { ...config.cache.redis, keyPrefix: config.cache.redis.keyPrefix ?? defaultKeyPrefix(config.serviceName) },
  };
  const log = options.log ?? ((line: string) => console.warn(line));
  const cacheOutage = new EpisodeLog("cache (Redis)", log, METRIC.cacheErrorsTotal);
  const limiterOutage = new EpisodeLog("rate limiter (Redis store)", log, METRIC.rateLimitStoreErrorsTotal);
  const cache = new CacheManager({
    config: cacheConfig,
    url,
    password: config.redisAuthToken,
    registry: metrics.registry,
    onEvent: (event) => {
      if (event.type === "error") cacheOutage.failed(`${event.operation} answered without Redis`, event.error);
      else if (event.type === "breaker" && event.to === "closed") cacheOutage.recovered("circuit breaker closed");
    },
  });
  const invalidator = new CacheInvalidator({
    cache,
    ...(options.purger ? { purger: options.purger } : {}),
    ...(options.cdnPaths ? { cdnPaths: options.cdnPaths } : {}),
  });
  // reserve is the RedisStore's (the limiter refuses unknown options); without Redis it has nothing to reserve from.
  const { reserve, ...rateLimit } = config.rateLimit;
  const store = url
    ? new RedisStore({
        reserve,
        url,
        mode: config.cache.redis.mode,
        keyPrefix: rateLimitKeyPrefix(config.serviceName),
        commandTimeoutMs: config.cache.redis.commandTimeoutMs,
        password: config.redisAuthToken,
        tls: config.cache.redis.tls,
      })
    : undefined;
  const keyGenerator =
    options.keyGenerator ??
    clientAddressKey({
      hops: config.http.trustedProxyHops,
      cidrs: config.http.trustedProxyCidrs.split(",").filter((c) => c.trim() !== ""),
    });
  const limiter = new RateLimiter({
    ...rateLimit,
    keyGenerator,
    store,
    registry: metrics.registry,
    fallbackReplicas: config.replicasMax,
    onStoreEvent: (event) => {
      if (event.type === "recovered") limiterOutage.recovered();
      else limiterOutage.failed(FAILURE_POLICY_EFFECT[event.policy], event.error);
    },
  });
  const db = config.database.host
    ? createPool(
        { pool: config.pool, database: config.database },
        { registry: metrics.registry, applicationName: config.serviceName },
      )
    : undefined;
  const poolManager = db ? new ConnectionPoolManager(db).start() : undefined;
  const statsRefresher =
    db && config.database.statsRefreshIntervalMs > 0
      ? new StatsRefresher({ pool: db, intervalMs: config.database.statsRefreshIntervalMs, registry: metrics.registry }).start()
      : undefined;
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
      const timeout = new Promise<false>((r) => setTimer(() => r(false), timeoutMs).unref());
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
      cacheOutage.stop();
      limiterOutage.stop();
      profiler.close();
      poolManager?.stop();
      await statsRefresher?.stop();
      await Promise.allSettled([
        invalidator.close(),
        cache.close(),
        limiter.close(),
        store?.close(),
        realtime.close(),
        db?.close(),
      ]);
      metrics.close();
    },
  };
}
