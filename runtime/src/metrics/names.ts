/**
 * The metric names the runtime exports. Dashboards, recording/alerting rules and
 * ServiceMonitors are generated from these constants, never retyped.
 *
 * Every UAIP metric carries the `service` label (a registry default label); ServiceMonitors
 * use honorLabels so Kubernetes' own `service` target label does not rename it.
 */
export const METRIC = {
  // HTTP (RED)
  httpRequestsTotal: "uaip_http_requests_total",
  httpRequestErrorsTotal: "uaip_http_request_errors_total",
  httpRequestsInFlight: "uaip_http_requests_in_flight",
  httpRequestDurationSeconds: "uaip_http_request_duration_seconds",
  // resources beyond prom-client's defaults
  diskReadBytesTotal: "uaip_process_disk_read_bytes_total",
  diskWriteBytesTotal: "uaip_process_disk_write_bytes_total",
  networkReceivedBytesTotal: "uaip_http_network_received_bytes_total",
  networkSentBytesTotal: "uaip_http_network_sent_bytes_total",
  // cache
  cacheRequestsTotal: "uaip_cache_requests_total",
  cacheErrorsTotal: "uaip_cache_errors_total",
  cacheInvalidationsTotal: "uaip_cache_invalidations_total",
  // rate limiter
  rateLimitRequestsTotal: "uaip_ratelimit_requests_total",
  rateLimitStoreErrorsTotal: "uaip_ratelimit_store_errors_total",
  // Redis Cluster (cache and limiter): CROSSSLOT, unsettled MOVED/ASK, CLUSTERDOWN, TRYAGAIN
  redisClusterErrorsTotal: "uaip_redis_cluster_errors_total",
  // PostgreSQL pool
  dbPoolConnections: "uaip_db_pool_connections",
  dbPoolWaitingRequests: "uaip_db_pool_waiting_requests",
  dbPoolMaxConnections: "uaip_db_pool_max_connections",
  /** The adaptive concurrency limit ConnectionPoolManager moves between pool.min and pool.max. */
  dbPoolLimit: "uaip_db_pool_limit",
  /** Errors of idle pooled connections (server restart, network cut), handled without a crash. */
  dbPoolErrorsTotal: "uaip_db_pool_errors_total",
  /** Application statements that pin an RDS Proxy session (pool.detectPinning, UAIP_POOL_DETECT_PINNING), by `reason` (db/pinning.ts). */
  dbPinningStatementsTotal: "uaip_db_pinning_statements_total",
  /** Read-only queries the reader pool could not serve (replica down) and the writer served instead. */
  dbReaderFallbacksTotal: "uaip_db_reader_fallbacks_total",
  /** Seconds a checked-out connection was held (the statements' time): `npm run capacity`'s DB p95, Little's law for pool.max. */
  dbPoolHoldSeconds: "uaip_db_pool_hold_seconds",
  /** Seconds since operation_stats was last refreshed (by any replica), and the configured interval. */
  dbStatsRefreshAgeSeconds: "uaip_db_stats_refresh_age_seconds",
  dbStatsRefreshIntervalSeconds: "uaip_db_stats_refresh_interval_seconds",
  // WebSocket
  wsConnections: "uaip_ws_connections",
  wsMaxConnections: "uaip_ws_max_connections",
  wsRejectedConnectionsTotal: "uaip_ws_rejected_connections_total",
  wsMessagesTotal: "uaip_ws_messages_total",
  wsTerminatedConnectionsTotal: "uaip_ws_terminated_connections_total",
  wsPingLatencySeconds: "uaip_ws_ping_latency_seconds",
  // batching
  batchFlushesTotal: "uaip_batch_flushes_total",
  batchSize: "uaip_batch_size",
  // memory monitor
  memoryHeapLimitBytes: "uaip_memory_heap_limit_bytes",
  /** 1 when memory.heapSizeLimit and the limit V8 enforces differ (the monitor uses the smaller). */
  memoryHeapLimitMismatch: "uaip_memory_heap_limit_mismatch",
  memoryPressure: "uaip_memory_pressure",
  memoryGcTotal: "uaip_memory_gc_total",
  pressureRejectedRequestsTotal: "uaip_pressure_rejected_requests_total",
  eventLoopDelayP99Seconds: "uaip_eventloop_delay_p99_seconds",
  eventLoopUtilization: "uaip_eventloop_utilization",
} as const;

/** prom-client's default process/Node.js metrics that dashboards and alerts rely on. */
export const DEFAULT_METRIC = {
  processCpuSecondsTotal: "process_cpu_seconds_total",
  processResidentMemoryBytes: "process_resident_memory_bytes",
  heapUsedBytes: "nodejs_heap_size_used_bytes",
  heapTotalBytes: "nodejs_heap_size_total_bytes",
  eventLoopLagP99Seconds: "nodejs_eventloop_lag_p99_seconds",
} as const;

/** Label names shared by the runtime and the rules/dashboards. */
export const LABEL = {
  service: "service",
  method: "method",
  route: "route",
  statusCode: "status_code",
  tier: "tier",
  result: "result",
  operation: "operation",
  state: "state",
  reason: "reason",
  direction: "direction",
  /** Memory monitor: what is under pressure (heap, event-loop delay or utilization). */
  resource: "resource",
} as const;

/** Label values used in selectors (tiers, results). */
export const LABEL_VALUE = {
  tierMemory: "l1",
  tierRedis: "l2",
  hit: "hit",
  miss: "miss",
  allowed: "allowed",
  rejected: "rejected",
  /** Rate limiter: the store was unavailable and the failure policy denied (not "limit exceeded"). */
  storeUnavailable: "store_unavailable",
  inUse: "in_use",
  idle: "idle",
  /** Memory monitor `resource` values. */
  heap: "heap",
  eventLoopDelay: "event_loop_delay",
  eventLoopUtilization: "event_loop_utilization",
  /** GC hint results: global.gc() ran, or the process lacks --expose-gc so it was only counted. */
  gcCollected: "collected",
  gcNotExposed: "not_exposed",
} as const;

/** Connection hold-time buckets (seconds): statements take from a fraction of a millisecond to the statement timeout. */
export const DB_HOLD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Duration buckets (seconds): dense around the 500 ms SLO so p95 near it is accurate, and at most
 * 1.5x apart from 50 ms up, because histogram_quantile interpolates linearly inside a bucket. With a
 * 50-100 ms bucket, a service whose exact p95 was 70 ms showed 84-88 ms on the dashboards (+20 %,
 * measured by `npm run load`); with 75 ms in between it shows 71-74 ms (+3-4 %).
 */
export const HTTP_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 2.5, 5, 10,
];
