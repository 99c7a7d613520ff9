/**
 * The public API of @uaip/runtime. Every name is listed on purpose (no `export *`): what is not
 * here is internal and may change. Grouped by area; add a new area's names as its own block.
 */

// --- Errors: every deliberate error is a UaipError with a stable `code` ---
export { UaipError, RuntimeConfigError } from "./errors";

// --- Settings: the one schema shared by the stack's profile and the services ---
export {
  runtimeSettingsSchema,
  cacheSettingsSchema,
  rateLimitSettingsSchema,
  poolSettingsSchema,
  memorySettingsSchema,
  wsSettingsSchema,
  batchingSettingsSchema,
  compressionSettingsSchema,
  httpSettingsSchema,
  type RuntimeSettings,
  type RuntimeSettingsInput,
} from "./config/settings";

// --- Env contract: ConfigMap/Secret variable names (stack side) and their loader (service side) ---
export {
  RUNTIME_ENV,
  RUNTIME_ENV_NAMES,
  RUNTIME_SECRET_ENV_NAMES,
  RUNTIME_PLAIN_ENV_NAMES,
  type EnvKind,
  type EnvVarSpec,
  type RuntimeEnvName,
} from "./config/contract";
export {
  loadRuntimeConfig,
  checkRuntimeEnv,
  formatRuntimeEnvIssue,
  RuntimeEnvError,
  runtimeSettingsToEnv,
  runtimeConfigSchema,
  defaultKeyPrefix,
  valueAt,
  type RuntimeConfig,
  type RuntimeEnvIssue,
} from "./config/load";
// --- Config rules shared with the stack: durations, sizes against the heap, near-miss names, proxy CIDRs ---
export { durationMs, MAX_TIMER_MS } from "./config/duration";
export { maxL1Entries, L1_ENTRY_BYTES_FLOOR, L1_HEAP_SHARE, type PodLimits } from "./config/heap";
export { closestName, isNearMiss } from "./config/near-miss";
export { trustedCidrProblem } from "./config/cidr";

// --- Metrics: names shared with dashboards/alerts, and the HTTP metrics (seed: ServiceMetrics) ---
export { METRIC, DEFAULT_METRIC, LABEL, LABEL_VALUE, HTTP_DURATION_BUCKETS } from "./metrics/names";
export {
  createMetrics,
  HttpMetrics,
  MetricsOptionsError,
  CLIENT_CLOSED_STATUS,
  type CreateMetricsOptions,
  type ServiceMetrics,
  type WindowSummary,
} from "./metrics";

// --- Cache: two-tier CacheManager (seed: CacheConfig, CacheManager) and CacheInvalidator ---
export {
  CacheManager,
  CacheInvalidator,
  CloudFrontPurger,
  jsonSerializer,
  defaultCdnPaths,
  patternToPath,
  DEFAULT_CACHE_KEY_PREFIX,
  CACHE_OPERATION,
  CacheKeyError,
  CacheValueError,
  CacheOptionsError,
  CacheClosedError,
  CdnPurgeError,
  type CacheManagerOptions,
  type SeedCacheConfig,
  type CacheSettings,
  type CacheSettingsInput,
  type CacheInvalidatorOptions,
  type CloudFrontPurgerOptions,
  type CacheOperation,
  type CacheWriteResult,
  type InvalidationResult,
  type InvalidateReport,
  type CdnPathMapper,
  type CdnPurger,
  type CdnPurgeResult,
  type CdnPurgeOutcome,
  type Serializer,
  type SetOptions,
  type L2State,
  type BreakerState,
  type CircuitBreakerOptions,
} from "./cache";

// --- Rate limiting: RateLimiter (seed: RateLimitConfig, RateLimiter), stores, client keys, middleware ---
export {
  RateLimiter,
  RedisStore,
  MemoryStore,
  clientAddressKey,
  normalizeAddress,
  rateLimitMiddleware,
  rateLimitHandler,
  rateLimitHeaders,
  RATE_LIMITED_CODE,
  RATE_LIMIT_UNAVAILABLE_CODE,
  RateLimitOptionsError,
  RateLimitKeyError,
  RateLimitStoreError,
  type RateLimitConfig,
  type RateLimiterOptions,
  type RedisStoreOptions,
  type MemoryStoreOptions,
  type TrustedProxyOptions,
  type FailurePolicy,
  type RateLimitResult,
  type RateLimitStore,
  type StoreDecision,
} from "./ratelimit";

// --- Database: PostgreSQL pool (seed: PoolConfig, ConnectionPoolManager), migrations, roles, stats refresh ---
export {
  createPool,
  ManagedPool,
  ConnectionPoolManager,
  StatsRefresher,
  runMigrations,
  loadMigrations,
  ensureServiceRoles,
  scramSha256Verifier,
  postgresTlsOptions,
  rolePasswordEnv,
  MIGRATIONS_DIR,
  ADVISORY_LOCK,
  APP_GROUP_ROLE,
  DbPoolTimeoutError,
  DbUnavailableError,
  DbConnectionLimitError,
  DbPoolClosedError,
  DbMigrationError,
  DbTlsVerificationError,
  type DbSettings,
  type CreatePoolOptions,
  type PoolStats,
  type PoolMetrics,
  type ConnectionPoolManagerOptions,
  type MigrateOptions,
  type MigrateReport,
  type ServiceRole,
  type StatsRefresherOptions,
  type RefreshResult,
} from "./db/index";

// --- Realtime: WebSocketManager (seed: WSConfig, WebSocketManager), MessageBatcher, reconnecting client ---
export {
  WebSocketManager,
  MessageBatcher,
  ReconnectingClient,
  createRealtime,
  reconnectDelay,
  reconnectCap,
  isApplicationRefusal,
  DEFAULT_DRAIN_TIMEOUT_MS,
  CLOSE_CODE,
  CLOSE_REASON,
  BATCH_RESULT,
  BATCH_SIZE_BUCKETS,
  WS_DIRECTION,
  WS_PING_BUCKETS,
  WS_REASON,
  RealtimeOptionsError,
  BatcherClosedError,
  BatchFlushError,
  ClientQueueFullError,
  ClientClosedError,
  type WsReason,
  type ReconnectStrategy,
  type MessageBatcherOptions,
  type WebSocketLike,
  type WebSocketConstructor,
  type ClientMessage,
  type ReconnectingClientOptions,
  type WSConfig,
  type WebSocketManagerOptions,
  type AttachOptions,
  type Realtime,
  type RealtimeOptions,
} from "./realtime/index";

// --- Resources: MemoryMonitor (seed: MemoryConfig, MemoryMonitor) and the pressure gate ---
export {
  MemoryMonitor,
  PressureGate,
  HysteresisSwitch,
  maxOldSpaceSizeMiB,
  enforcedHeapLimitBytes,
  OVERLOADED_CODE,
  DEFAULT_EXEMPT_PATHS,
  MemoryMonitorOptionsError,
  type MemoryConfig,
  type PressureResource,
  type MemoryMonitorOptions,
  type MemorySample,
  type PressureGateOptions,
} from "./resources/index";

// --- Profiler: CPUProfiler (seed: CPUProfiler) and its admin trigger ---
export {
  CPUProfiler,
  ProfileTrigger,
  PROFILE_ADMIN_PATH,
  DEFAULT_PROFILE_DURATION_MS,
  ProfilerError,
  ProfileInProgressError,
  ProfileOptionsError,
  ProfileAbortedError,
  type CPUProfilerOptions,
  type ProfileTriggerOptions,
} from "./profiler/index";

// --- Compression: ResponseCompressor (seed: CompressionConfig, ResponseCompressor) ---
export {
  ResponseCompressor,
  varyOnAcceptEncoding,
  MAX_DYNAMIC_BROTLI_QUALITY,
  CompressionOptionsError,
  type CompressionConfig,
} from "./compression/index";

// --- Assembly: one call builds every part from the settings ---
export {
  createRuntime,
  redisUrl,
  rateLimitKeyPrefix,
  CREATE_RUNTIME_OPTIONS,
  type CreateRuntimeOptions,
  type UaipRuntime,
} from "./create-runtime";
