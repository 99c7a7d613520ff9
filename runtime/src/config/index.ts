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
  type EnvKind,
  type EnvVarSpec,
  type RuntimeEnvName,
} from "./contract";
export { loadRuntimeConfig, runtimeSettingsToEnv, runtimeConfigSchema, defaultKeyPrefix, type RuntimeConfig } from "./load";
export { RuntimeConfigError } from "../errors";
