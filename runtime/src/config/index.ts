// Public API of the settings area (`@uaip/runtime/config`): the one schema shared by the stack's
// profile and the services, the env contract (ConfigMap/Secret names) and its loader.
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
} from "./settings";
export {
  RUNTIME_ENV,
  RUNTIME_ENV_NAMES,
  RUNTIME_SECRET_ENV_NAMES,
  RUNTIME_PLAIN_ENV_NAMES,
  RUNTIME_OPTIONAL_ENV_NAMES,
  type EnvKind,
  type EnvVarSpec,
  type RuntimeEnvName,
} from "./contract";
export {
  loadRuntimeConfig,
  checkRuntimeEnv,
  formatRuntimeEnvIssue,
  RuntimeEnvError,
  runtimeSettingsToEnv,
  runtimeConfigSchema,
  defaultKeyPrefix,
  type RuntimeConfig,
  type RuntimeEnvIssue,
} from "./load";
// Rules shared with the stack's plan: durations, sizes against the heap, near-miss names, proxy CIDRs.
export { durationMs, MAX_TIMER_MS } from "./duration";
export { maxL1Entries, L1_ENTRY_BYTES_FLOOR, L1_HEAP_SHARE, type PodLimits } from "./heap";
export { closestName, isNearMiss } from "./near-miss";
export { trustedCidrProblem } from "./cidr";
export { RuntimeConfigError } from "../errors";
