/**
 * The environment-variable contract between the Pulumi stack and the services.
 *
 * The stack writes these variables into each service's ConfigMap (and, for `secret: true`,
 * its Secret) with `runtimeSettingsToEnv`; the service reads them back with
 * `loadRuntimeConfig(process.env)`. Both sides import this table, so a name is typed once.
 */
export type EnvKind = "string" | "int" | "number" | "boolean" | "enum";

/** One environment variable of the contract: the settings path it carries, its kind and its meaning. */
export interface EnvVarSpec {
  /** Dotted path into the loaded RuntimeConfig, e.g. "cache.memory.ttl". */
  readonly path: string;
  readonly kind: EnvKind;
  readonly description: string;
  /** Secret values travel in a Kubernetes Secret, never a ConfigMap. */
  readonly secret?: boolean;
  /** Written only when it has a value: absent means its default (no reader pool, no proxy bypass, off). */
  readonly optional?: boolean;
}

const v = (path: string, kind: EnvKind, description: string, secret = false): EnvVarSpec => ({ path, kind, description, secret });
const optional = (path: string, kind: EnvKind, description: string): EnvVarSpec => ({ path, kind, description, optional: true });

/** The env contract: every `UAIP_*` variable the stack writes and the services read, with its settings path. */
export const RUNTIME_ENV = {
  UAIP_SERVICE_NAME: v("serviceName", "string", "Service name; the `service` label on every metric"),
  UAIP_PORT: v("port", "int", "HTTP port the service listens on (also serves /metrics)"),
  UAIP_ENVIRONMENT: v("environment", "string", "Stack/environment name, e.g. dev or prod"),
  UAIP_REPLICAS_MAX: v(
    "replicasMax",
    "int",
    "The HPA's max replicas: during a Redis outage each replica's limiter admits floor(maxRequests / this) per key",
  ),

  UAIP_CACHE_MEMORY_MAX_SIZE: v("cache.memory.maxSize", "int", "L1 cache capacity, entries"),
  UAIP_CACHE_MEMORY_TTL_MS: v("cache.memory.ttl", "int", "L1 cache TTL, ms"),
  UAIP_REDIS_HOST: v("cache.redis.host", "string", "Redis host (empty: no L2)"),
  UAIP_REDIS_PORT: v("cache.redis.port", "int", "Redis port"),
  UAIP_REDIS_TLS: v("cache.redis.tls", "boolean", "Use TLS to Redis"),
  UAIP_REDIS_MODE: v("cache.redis.mode", "enum", "standalone (one primary) | cluster (Redis Cluster, ElastiCache Serverless)"),
  UAIP_REDIS_MAX_CONNECTIONS: v("cache.redis.maxConnections", "int", "Max Redis connections per process"),
  UAIP_REDIS_KEY_PREFIX: v("cache.redis.keyPrefix", "string", "Cache namespace in Redis (default uaip:<service>:)"),
  UAIP_REDIS_COMMAND_TIMEOUT_MS: v("cache.redis.commandTimeoutMs", "int", "Redis command timeout, ms"),
  UAIP_REDIS_TTL_MS: v("cache.redis.ttl", "int", "L2 cache TTL, ms"),
  UAIP_REDIS_AUTH_TOKEN: v("redisAuthToken", "string", "Redis AUTH token", true),
  UAIP_CDN_ENABLED: v("cache.cdn.enabled", "boolean", "Purge the CDN on invalidation"),
  UAIP_CDN_PROVIDER: v("cache.cdn.provider", "enum", "CDN provider (cloudfront)"),
  UAIP_CDN_DISTRIBUTION_ID: v("cache.cdn.distributionId", "string", "CloudFront distribution id to purge"),
  UAIP_CDN_PATH_PREFIX: v("cache.cdn.pathPrefix", "string", "CDN path of this service's responses, e.g. /<service>/"),

  UAIP_RATE_LIMIT_WINDOW_MS: v("rateLimit.windowMs", "int", "Rate-limit window, ms"),
  UAIP_RATE_LIMIT_MAX_REQUESTS: v("rateLimit.maxRequests", "int", "Requests per key per window"),
  UAIP_RATE_LIMIT_FAILURE_POLICY: v("rateLimit.failurePolicy", "enum", "allow | deny | memory when Redis is down"),
  UAIP_RATE_LIMIT_RESERVE: v(
    "rateLimit.reserve",
    "int",
    "Tokens per client a replica may take from Redis at once and admit locally (1: every check goes to Redis)",
  ),

  UAIP_POOL_MIN: v("pool.minConnections", "int", "PostgreSQL pool minimum"),
  UAIP_POOL_MAX: v("pool.maxConnections", "int", "PostgreSQL pool maximum (counts against max_connections)"),
  UAIP_POOL_IDLE_TIMEOUT_MS: v("pool.idleTimeoutMillis", "int", "Idle connection timeout, ms"),
  UAIP_POOL_CONNECTION_TIMEOUT_MS: v("pool.connectionTimeoutMillis", "int", "Connection acquire timeout, ms"),
  UAIP_POOL_DETECT_PINNING: optional(
    "pool.detectPinning",
    "boolean",
    "Count application statements that would pin an RDS Proxy session (SET, advisory locks, LISTEN, ...)",
  ),
  UAIP_DB_HOST: v("database.host", "string", "PostgreSQL host"),
  UAIP_DB_READ_HOST: optional(
    "database.readHost",
    "string",
    "Read replica host for read-only queries (pool.read); empty: reads go to UAIP_DB_HOST",
  ),
  UAIP_DB_DIRECT_HOST: optional(
    "database.directHost",
    "string",
    "Writer host bypassing RDS Proxy, for session-level work (advisory locks); empty: UAIP_DB_HOST",
  ),
  UAIP_DB_PORT: v("database.port", "int", "PostgreSQL port"),
  UAIP_DB_NAME: v("database.name", "string", "Database name"),
  UAIP_DB_USER: v("database.user", "string", "Database user"),
  UAIP_DB_SSL: v("database.ssl", "boolean", "Require TLS to PostgreSQL"),
  UAIP_DB_SSL_CA_FILE: v(
    "database.sslCaFile",
    "string",
    "CA bundle (PEM) that verifies the PostgreSQL server certificate and host name (the RDS bundle)",
  ),
  UAIP_DB_STATS_REFRESH_INTERVAL_MS: v(
    "database.statsRefreshIntervalMs",
    "int",
    "Refresh operation_stats every this many ms (0: this service does not refresh)",
  ),
  UAIP_DB_PASSWORD: v("database.password", "string", "Database password", true),

  UAIP_MEMORY_HEAP_LIMIT_MB: v("memory.heapSizeLimit", "int", "Heap limit, MiB (equals --max-old-space-size)"),
  UAIP_MEMORY_GC_THRESHOLD_MB: v("memory.gcThreshold", "int", "Heap used that triggers a GC hint, MiB"),
  UAIP_MEMORY_MONITOR_ENABLED: v("memory.memoryMonitoring.enabled", "boolean", "Run the memory monitor"),
  UAIP_MEMORY_MONITOR_INTERVAL_MS: v("memory.memoryMonitoring.interval", "int", "Memory sampling interval, ms"),
  UAIP_MEMORY_MONITOR_THRESHOLD: v("memory.memoryMonitoring.threshold", "number", "Pressure threshold, fraction of heap limit"),
  UAIP_MEMORY_EVENT_LOOP_DELAY_LIMIT_MS: v(
    "memory.memoryMonitoring.eventLoopDelayLimit",
    "int",
    "Event-loop delay p99 that counts as pressure, ms (0: off)",
  ),
  UAIP_MEMORY_EVENT_LOOP_UTILIZATION_LIMIT: v(
    "memory.memoryMonitoring.eventLoopUtilizationLimit",
    "number",
    "Event-loop utilization that counts as pressure, 0-1 (0: off)",
  ),

  UAIP_WS_MAX_CONNECTIONS: v("ws.maxConnections", "int", "WebSocket connections per process"),
  UAIP_WS_HEARTBEAT_INTERVAL_MS: v("ws.heartbeatInterval", "int", "WebSocket ping interval, ms"),
  UAIP_WS_RECONNECT_INITIAL_DELAY_MS: v("ws.reconnectStrategy.initialDelay", "int", "Client reconnect initial delay, ms"),
  UAIP_WS_RECONNECT_MAX_DELAY_MS: v("ws.reconnectStrategy.maxDelay", "int", "Client reconnect max delay, ms"),
  UAIP_WS_RECONNECT_FACTOR: v("ws.reconnectStrategy.factor", "number", "Client reconnect backoff factor"),
  UAIP_BATCH_SIZE: v("batching.batchSize", "int", "Messages per batch"),
  UAIP_BATCH_FLUSH_INTERVAL_MS: v("batching.flushInterval", "int", "Batch flush interval, ms"),

  UAIP_COMPRESSION_LEVEL: v("compression.level", "int", "Compression level 0-9"),
  UAIP_COMPRESSION_THRESHOLD_BYTES: v("compression.threshold", "int", "Minimum body size to compress, bytes"),
  UAIP_ADMIN_TOKEN: v("adminToken", "string", "Bearer token of the admin endpoints (CPU profile); unset: they are off", true),
  UAIP_HTTP_KEEP_ALIVE_TIMEOUT_MS: v("http.keepAliveTimeout", "int", "HTTP keep-alive timeout, ms (> ALB idle timeout)"),
  UAIP_TRUSTED_PROXY_HOPS: v(
    "http.trustedProxyHops",
    "int",
    "Proxies appending to X-Forwarded-For (CloudFront+ALB: 2, ALB: 1, none: 0)",
  ),
  UAIP_TRUSTED_PROXY_CIDRS: v("http.trustedProxyCidrs", "string", "Comma-separated CIDRs of trusted proxies (optional)"),
} as const satisfies Record<string, EnvVarSpec>;

/** The name of a `UAIP_*` variable of the contract. */
export type RuntimeEnvName = keyof typeof RUNTIME_ENV;

/** Every variable name in the contract. */
export const RUNTIME_ENV_NAMES = Object.keys(RUNTIME_ENV) as RuntimeEnvName[];
/** The names that must travel in a Secret. */
export const RUNTIME_SECRET_ENV_NAMES = RUNTIME_ENV_NAMES.filter((n) => RUNTIME_ENV[n].secret);
/** The names that travel in a ConfigMap. */
export const RUNTIME_PLAIN_ENV_NAMES = RUNTIME_ENV_NAMES.filter((n) => !RUNTIME_ENV[n].secret);
/** The ConfigMap names the stack writes only when they have a value (RDS Proxy, read replicas, pinning detection). */
export const RUNTIME_OPTIONAL_ENV_NAMES = RUNTIME_ENV_NAMES.filter((n) => (RUNTIME_ENV[n] as EnvVarSpec).optional);
