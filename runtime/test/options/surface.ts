/**
 * The runtime's public option surface, for the battery and property tests: every export that takes
 * an options object (or a user value), how to call it with one, a valid example, and the kind of
 * each field. every-export.test.ts fails when an export is neither here nor in NO_OPTIONS, so a new
 * class cannot skip the validator unseen.
 */
import { Registry } from "prom-client";
import * as rt from "./public-surface";

/** What a field accepts; decides which values of the battery are bad for it. */
export type Kind =
  | "duration0" // integer ms, 0..2^31-1
  | "duration1" // integer ms, 1..2^31-1
  | "count" // integer >= 0 or >= 1, bounded (never a heap size)
  | "fraction" // finite number in [0, 1)
  | "size" // integer count or bytes, capped by the heap
  | "string"
  | "bool"
  | "func"
  | "object"
  | "list";

export interface Entry {
  /** The export (or `Export#method` for a per-call options object). */
  name: string;
  /** Calls it with `options` in the options position; may return a promise. */
  call: (options: unknown) => unknown;
  /** Options that are accepted (the battery replaces one field at a time). */
  valid: Record<string, unknown>;
  /** Checked fields and their kinds (a subset is enough: each one must be checked). */
  fields: Record<string, Kind>;
  /** Prefix of the error key for these options ("config.", "trustedProxy.", "breaker."). */
  keyPrefix?: string;
  /** The valid example fails later, for a reason that is not its options (this typed code). */
  validFailsWith?: string;
}

/** Releases whatever a successful call built (timers, sockets, pools). */
export async function dispose(made: unknown): Promise<void> {
  const m = made as { close?: () => unknown; drain?: (ms: number) => unknown; stop?: () => unknown } | undefined;
  if (!m || typeof m !== "object") return;
  if (typeof m.drain === "function") await m.drain(0);
  else if (typeof m.close === "function") await m.close();
  else if (typeof m.stop === "function") m.stop();
}

/** A WebSocket stand-in for ReconnectingClient: never connects, so the client only validates and waits. */
class IdleSocket {
  readyState = 0;
  onopen = null;
  onclose = null;
  onmessage = null;
  onerror = null;
  send(): void {}
  close(): void {}
}

const monitor = new rt.MemoryMonitor({});
const profiler = new rt.CPUProfiler();
const pool = rt.createPool({ pool: {}, database: { host: "127.0.0.1", port: 1 } } as never);
const cache = new rt.CacheManager();
const limiter = new rt.RateLimiter({ windowMs: 1_000, maxRequests: 1 });
const manager = new rt.WebSocketManager({ maxConnections: 1, heartbeatInterval: 60_000 });
const strategy = { initialDelay: 10, maxDelay: 100, factor: 2 };

/** Shared objects the entries borrow; closed once by the test files. */
export async function closeShared(): Promise<void> {
  await Promise.all([pool.close(), cache.close(), limiter.close(), manager.drain(0)]);
}

export const ENTRIES: Entry[] = [
  {
    name: "CacheManager",
    call: (o) => new rt.CacheManager(o as never),
    valid: { jitter: 0.1 },
    fields: {
      jitter: "fraction",
      maxBytes: "size",
      maxKeyLength: "count",
      invalidateCommandTimeoutMs: "duration1",
      scanCount: "count",
      bus: "bool",
      busHeartbeatMs: "duration0",
      exactBackfillTtl: "bool",
      instanceId: "string",
      serializer: "object",
      url: "string",
      breaker: "object",
      config: "object",
      staleIfErrorMs: "duration0",
      onEvent: "func",
    },
  },
  {
    name: "CacheManager (seed CacheConfig.memory)",
    call: (o) => new rt.CacheManager({ memory: o } as never),
    valid: { maxSize: 100, ttl: 1_000 },
    fields: { maxSize: "size", ttl: "duration1" },
    keyPrefix: "config.memory.",
  },
  {
    name: "CacheManager (breaker)",
    call: (o) => new rt.CacheManager({ breaker: o } as never),
    valid: { failureThreshold: 3 },
    fields: { failureThreshold: "count", cooldownMs: "duration0", now: "func" },
    keyPrefix: "breaker.",
  },
  {
    name: "CacheManager#set",
    call: (o) => cache.set("k", 1, o as never),
    valid: { ttl: 1_000 },
    fields: { ttl: "duration1" },
  },
  {
    name: "CacheManager#getOrSet",
    call: (o) => cache.getOrSet("k2", () => 1, o as never),
    valid: { ttl: 1_000 },
    fields: { ttl: "duration1" },
  },
  {
    name: "CacheInvalidator",
    call: (o) => new rt.CacheInvalidator(o as never),
    valid: { cache },
    fields: { cache: "object", purger: "object", cdnPaths: "func", onEvent: "func" },
  },
  {
    name: "CloudFrontPurger",
    call: (o) => new rt.CloudFrontPurger(o as never),
    valid: { distributionId: "E2QWRUHEXAMPLE" },
    fields: {
      maxPathsPerInvalidation: "count",
      maxWildcardsPerInvalidation: "count",
      maxConcurrent: "count",
      minIntervalMs: "duration0",
      maxAttempts: "count",
      baseDelayMs: "duration0",
      maxDelayMs: "duration0",
      pathFor: "func",
      clientConfig: "object",
    },
  },
  {
    name: "RateLimiter",
    call: (o) => new rt.RateLimiter(o as never),
    valid: { windowMs: 1_000, maxRequests: 5 },
    fields: {
      windowMs: "duration1",
      maxRequests: "count",
      keyGenerator: "func",
      store: "object",
      failurePolicy: "string",
      registry: "object",
      policyName: "string",
      maxKeyLength: "count",
      denyRetryAfterMs: "duration1",
      fallbackReplicas: "count",
      onStoreEvent: "func",
    },
  },
  {
    name: "RedisStore",
    call: (o) => new rt.RedisStore(o as never),
    valid: { url: "redis://127.0.0.1:1", firstConnectWaitMs: 0 },
    fields: {
      url: "string",
      mode: "string",
      keyPrefix: "string",
      maxConnections: "count",
      commandTimeoutMs: "duration1",
      batching: "bool",
      maxBatch: "count",
      reserve: "count",
      firstConnectWaitMs: "duration0",
      tls: "bool",
      port: "count",
      breaker: "object",
      redisOptions: "object",
    },
  },
  {
    name: "MemoryStore",
    call: (o) => new rt.MemoryStore(o as never),
    valid: { maxKeys: 10 },
    fields: { maxKeys: "size", sweepIntervalMs: "duration1", now: "func" },
  },
  {
    name: "clientAddressKey",
    call: (o) => rt.clientAddressKey(o as never),
    valid: { hops: 1 },
    fields: { hops: "count", cidrs: "list" },
    keyPrefix: "trustedProxy.",
  },
  {
    name: "rateLimitMiddleware (options)",
    call: (o) => rt.rateLimitMiddleware(limiter, o as never),
    valid: { skip: () => false },
    fields: { skip: "func" },
  },
  {
    name: "rateLimitHandler (options)",
    call: (o) => rt.rateLimitHandler(limiter, () => undefined, o as never),
    valid: { skip: () => false },
    fields: { skip: "func" },
  },
  {
    name: "uaipFastify",
    // The parts of a Fastify instance the plugin calls; the real server is tested in fastify/plugin.test.ts.
    call: (o) => rt.uaipFastify({ addHook: () => undefined, get: () => undefined }, o as never),
    valid: { limiter, skip: () => false },
    fields: { limiter: "object", skip: "func", gate: "object", metrics: "object", metricsPath: "string" },
  },
  {
    name: "createMetrics",
    call: (o) => rt.createMetrics(o as never),
    valid: { serviceName: "svc", collectDefault: false },
    fields: {
      serviceName: "string",
      registry: "object",
      collectDefault: "bool",
      window: "duration1",
      bucketMs: "duration1",
      samplesPerBucket: "count",
      maxRoutes: "count",
      now: "func",
      // buckets is not a "list" kind here: [1] is a valid bucket list (its own property test covers it).
      routes: "list",
      labels: "object",
    },
  },
  {
    name: "HttpMetrics",
    call: (o) => new rt.HttpMetrics(o as never),
    valid: { serviceName: "svc", collectDefault: false },
    fields: { window: "duration1", maxRoutes: "count" },
  },
  {
    name: "createPool",
    call: (o) => rt.createPool({ pool: o, database: { host: "127.0.0.1", port: 1 } } as never),
    valid: { maxConnections: 2, minConnections: 0 },
    fields: {
      minConnections: "count",
      maxConnections: "count",
      idleTimeoutMillis: "duration1",
      connectionTimeoutMillis: "duration1",
      detectPinning: "bool",
    },
    keyPrefix: "pool.",
  },
  {
    name: "createPool (database)",
    call: (o) => rt.createPool({ pool: {}, database: o } as never),
    valid: { host: "127.0.0.1", port: 1 },
    fields: {
      host: "string",
      port: "count",
      name: "string",
      user: "string",
      ssl: "bool",
      readHost: "string",
      directHost: "string",
    },
    keyPrefix: "database.",
  },
  {
    name: "createPool (options)",
    call: (o) => rt.createPool({ pool: {}, database: { host: "127.0.0.1", port: 1 } } as never, o as never),
    valid: { applicationName: "svc" },
    fields: {
      applicationName: "string",
      registry: "object",
      detectPinning: "bool",
      onPinning: "func",
      readerRetryMs: "duration1",
    },
  },
  {
    name: "ManagedPool",
    call: (o) => new rt.ManagedPool({ pool: o, database: { host: "127.0.0.1", port: 1 } } as never),
    valid: { maxConnections: 2, minConnections: 0 },
    fields: { maxConnections: "count", idleTimeoutMillis: "duration1" },
    keyPrefix: "pool.",
  },
  {
    name: "ConnectionPoolManager",
    call: (o) => new rt.ConnectionPoolManager(pool, o as never),
    valid: { intervalMs: 1_000 },
    fields: { intervalMs: "duration1" },
  },
  {
    name: "StatsRefresher",
    call: (o) => new rt.StatsRefresher(o as never),
    valid: { pool, intervalMs: 60_000 },
    fields: { pool: "object", intervalMs: "duration1", registry: "object", view: "string" },
  },
  {
    name: "runMigrations",
    call: (o) => rt.runMigrations(o as never),
    // Valid but unreachable: the call fails later with DbMigrationError (typed), never here.
    valid: { connection: "postgres://u@127.0.0.1:1/db", lockTimeoutMs: 1_000 },
    validFailsWith: "UAIP_DB_MIGRATION_FAILED",
    fields: { connection: "object", dir: "string", roles: "list", lockTimeoutMs: "duration1", log: "func" },
  },
  {
    name: "WebSocketManager",
    call: (o) => new rt.WebSocketManager(o as never),
    valid: { maxConnections: 10, heartbeatInterval: 1_000 },
    fields: { maxConnections: "count", heartbeatInterval: "duration1", reconnectStrategy: "object" },
  },
  {
    name: "WebSocketManager (reconnectStrategy)",
    call: (o) => new rt.WebSocketManager({ maxConnections: 1, heartbeatInterval: 1_000, reconnectStrategy: o } as never),
    valid: strategy,
    fields: { initialDelay: "duration1", maxDelay: "duration1" },
    keyPrefix: "reconnectStrategy.",
  },
  {
    name: "WebSocketManager (options)",
    call: (o) => new rt.WebSocketManager({ maxConnections: 1, heartbeatInterval: 1_000 }, o as never),
    valid: { drainTimeoutMs: 10 },
    fields: {
      registry: "object",
      maxBufferedBytes: "size",
      maxPayload: "size",
      drainTimeoutMs: "duration0",
      closeTimeoutMs: "duration0",
      onMessage: "func",
      onConnection: "func",
      authorize: "func",
      authorizeTimeoutMs: "duration1",
    },
  },
  {
    name: "WebSocketManager#attach",
    call: (o) => manager.attach({ on: () => undefined, listenerCount: () => 0 } as never, o as never),
    valid: { path: "/ws" },
    fields: { path: "string" },
  },
  {
    name: "MessageBatcher",
    call: (o) => new rt.MessageBatcher(o as never),
    valid: { broadcast: async () => undefined },
    fields: {
      batchSize: "count",
      flushInterval: "duration1",
      broadcast: "func",
      maxQueued: "count",
      onError: "func",
      registry: "object",
    },
  },
  {
    name: "ReconnectingClient",
    call: (o) => new rt.ReconnectingClient(o as never),
    valid: { url: "ws://127.0.0.1:1", reconnectStrategy: strategy, WebSocket: IdleSocket },
    fields: {
      url: "string",
      reconnectStrategy: "object",
      WebSocket: "func",
      maxQueued: "count",
      stableAfterMs: "duration0",
      connectTimeoutMs: "duration1",
      shouldReconnect: "func",
      onOpen: "func",
    },
  },
  {
    name: "createRealtime (options)",
    call: (o) =>
      rt.createRealtime(
        {
          ws: { maxConnections: 1, heartbeatInterval: 1_000, reconnectStrategy: strategy },
          batching: { batchSize: 1, flushInterval: 1 },
        },
        new Registry(),
        o as never,
      ),
    valid: { drainTimeoutMs: 10 },
    fields: { drainTimeoutMs: "duration0", maxPayload: "size", onMessage: "func" },
  },
  {
    name: "reconnectCap",
    call: (o) => rt.reconnectCap(0, o as never),
    valid: strategy,
    fields: { initialDelay: "duration1", maxDelay: "duration1" },
    keyPrefix: "reconnectStrategy.",
  },
  {
    name: "MemoryMonitor",
    call: (o) => new rt.MemoryMonitor(o as never),
    valid: { heapSizeLimit: 384 },
    fields: { heapSizeLimit: "count", gcThreshold: "count", memoryMonitoring: "object" },
  },
  {
    name: "MemoryMonitor (memoryMonitoring)",
    call: (o) => new rt.MemoryMonitor({ memoryMonitoring: o } as never),
    valid: { interval: 1_000 },
    fields: { interval: "duration1", enabled: "bool" },
    keyPrefix: "memoryMonitoring.",
  },
  {
    name: "MemoryMonitor (options)",
    call: (o) => new rt.MemoryMonitor({}, o as never),
    valid: { hysteresis: 0.1 },
    fields: { hysteresis: "fraction", gcCooldownMs: "duration0", eventLoopResolutionMs: "duration1", registry: "object" },
  },
  {
    name: "PressureGate",
    call: (o) => new rt.PressureGate(monitor, o as never),
    valid: { retryAfterSeconds: 5 },
    fields: { retryAfterSeconds: "count", exempt: "func", random: "func" },
  },
  {
    name: "ResponseCompressor",
    call: (o) => new rt.ResponseCompressor(o as never),
    valid: { level: 6 },
    fields: { level: "count", threshold: "count", filter: "func", brotliQuality: "count" },
  },
  {
    name: "CPUProfiler",
    call: (o) => new rt.CPUProfiler(o as never),
    valid: { maxDurationMs: 1_000 },
    fields: { directory: "string", maxDurationMs: "duration1", samplingIntervalUs: "count" },
  },
  {
    name: "ProfileTrigger",
    call: (o) => new rt.ProfileTrigger(o as never),
    valid: { profiler, token: "t".repeat(32) },
    fields: { profiler: "object", token: "string", path: "string" },
  },
  {
    name: "createRuntime",
    call: (o) => rt.createRuntime(rt.loadRuntimeConfig({}), o as never),
    valid: {},
    fields: { keyGenerator: "func", cdnPaths: "func" },
  },
];

/**
 * Exports that take no options object, each with the reason. Errors, constants and schemas take
 * none; the config loader's exports belong to config/ (checked by its own tests); the rest take
 * values checked as shown in VALUE_CALLS or are pure formatters of what the runtime itself built.
 */
export const NO_OPTIONS: Readonly<Record<string, string>> = {
  // config/: the env loader and its schemas, owned and tested there.
  loadRuntimeConfig: "config/ (the env loader)",
  checkRuntimeEnv: "config/ (the env loader's validator; the plan runs it too)",
  formatRuntimeEnvIssue: "config/ (formats an issue checkRuntimeEnv returned)",
  durationMs: "config/ (a zod schema builder for the settings)",
  maxL1Entries: "config/ (arithmetic over a heap size)",
  closestName: "config/ (a did-you-mean over names)",
  isNearMiss: "config/ (a did-you-mean predicate)",
  trustedCidrProblem: "config/ (returns the problem of a CIDR string, or undefined)",
  runtimeSettingsToEnv: "config/ (writes the ConfigMap from settings already parsed)",
  defaultKeyPrefix: "config/ helper: a string template",
  // Pure functions of what the runtime itself computed, not user options.
  rateLimitHeaders: "formats a RateLimitResult the limiter returned",
  varyOnAcceptEncoding: "takes the ServerResponse node:http built",
  enforcedHeapLimitBytes: "takes nothing",
  isApplicationRefusal: "a predicate over a close code: false for anything not 4000-4999",
  redisUrl: "reads a RuntimeConfig loadRuntimeConfig already validated",
  rateLimitKeyPrefix: "a string template over the validated service name",
  postgresTlsOptions: "reads a validated database config (createPool checks it first)",
  loadMigrations: "reads the shipped migrations directory; errors are DbMigrationError",
  directConnection: "reads a validated database config (createPool checks it first) and picks its host",
  pinningReasons: "classifies any statement text: every string (and pg QueryConfig) has an answer, possibly none",
  ensureServiceRoles: "runs with a pg client; roles are checked by validateServiceRole (ServiceRole errors)",
  rolePasswordEnv: "a string template over a role name",
  jsonSerializer: "an object, not a function",
};

/** Values a VALUE_CALLS entry accepts on purpose, with the reason. */
export const VALUE_CALL_ACCEPTS: Record<string, { labels: string[]; why: string }> = {
  "ResponseCompressor#compress": { labels: ["NaN", "null"], why: "JSON has a form for both: the body is the text null" },
};

/** Exports that take one user value (not an options object), with bad values they must refuse with a typed error. */
export const VALUE_CALLS: Record<string, (value: unknown) => unknown> = {
  normalizeAddress: (v) => rt.normalizeAddress(v as never),
  defaultCdnPaths: (v) => rt.defaultCdnPaths(v as never),
  reconnectDelay: (v) => rt.reconnectDelay(v as never, { initialDelay: 1, maxDelay: 2, factor: 2 }),
  rateLimitMiddleware: (v) => rt.rateLimitMiddleware(v as never),
  rateLimitHandler: (v) => rt.rateLimitHandler(limiter, v as never),
  "CacheManager#getOrSet(loader)": (v) => cache.getOrSet("k3", v as never),
  "CacheManager#delete": (v) => cache.delete(v as never),
  "CacheManager#ready": (v) => cache.ready(v as never),
  "RateLimiter#ready": (v) => limiter.ready(v as never),
  "RateLimiter#consume(points)": (v) => limiter.consume("k", v as never),
  "RateLimiter#penalty(points)": (v) => limiter.penalty("k", v as never),
  "RateLimiter#reward(points)": (v) => limiter.reward("k", v as never),
  "CacheManager#getEntry": (v) => cache.getEntry(v as never),
  "WebSocketManager#subscribe(topic)": (v) => manager.subscribe({} as never, v as never),
  "WebSocketManager#publish(topic)": (v) => manager.publish(v as never, "x"),
  "MessageBatcher#addMessage(topic)": (v) =>
    new rt.MessageBatcher({ broadcast: async () => undefined }).addMessage(1, v as never),
  fastifyCompressOptions: (v) => rt.fastifyCompressOptions(v as never),
  "WebSocketManager#drain": (v) => new rt.WebSocketManager({ maxConnections: 1, heartbeatInterval: 1_000 }).drain(v as never),
  "CPUProfiler#startProfiling": (v) => profiler.startProfiling(v as never),
  "ResponseCompressor#compress": (v) => new rt.ResponseCompressor().compress(v),
  "createRealtime (settings)": (v) => rt.createRealtime(v as never, new Registry()),
};
