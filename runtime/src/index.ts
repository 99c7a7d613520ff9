/**
 * The root of @uaip/runtime: `createRuntime` and the seed's main classes. Each area's full public
 * API is its own entry point (`@uaip/runtime/cache`, `/ratelimit`, `/db`, `/realtime`, `/resources`,
 * `/profiler`, `/compression`, `/metrics`, `/config`), built from that area's index.ts; a service
 * that needs one part imports that part only. Every name is listed on purpose (no `export *`):
 * what no entry point lists is internal and may change.
 */

// --- Errors: every deliberate error is a UaipError with a stable `code` ---
export { UaipError, RuntimeConfigError } from "./errors";
export { PeerDependencyMissingError, type OptionalPeer } from "./peers";

// --- Settings: the service's side of the stack's ConfigMap ---
export { loadRuntimeConfig, type RuntimeConfig } from "./config/load";

// --- The seed's main classes (each area's entry point has the rest) ---
export { createMetrics, HttpMetrics } from "./metrics";
export { CacheManager, CacheInvalidator } from "./cache";
export { RateLimiter, clientAddressKey, rateLimitMiddleware } from "./ratelimit";
export { createPool, ConnectionPoolManager } from "./db/index";
export { WebSocketManager, MessageBatcher } from "./realtime/index";
export { MemoryMonitor, PressureGate } from "./resources/index";
export { CPUProfiler } from "./profiler/index";
export { ResponseCompressor } from "./compression/index";

// --- Assembly: one call builds every part from the settings ---
export {
  createRuntime,
  redisUrl,
  rateLimitKeyPrefix,
  CREATE_RUNTIME_OPTIONS,
  type CreateRuntimeOptions,
  type UaipRuntime,
} from "./create-runtime";
