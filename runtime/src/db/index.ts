// Public API of the database area (`@uaip/runtime/db`; explicit: SQL translation and the SCRAM verifier stay private).
export {
  DbPoolTimeoutError,
  DbUnavailableError,
  DbConnectionLimitError,
  DbPoolClosedError,
  DbMigrationError,
  DbTlsVerificationError,
} from "./errors";
export { createPool, ManagedPool, type DbSettings, type CreatePoolOptions, type PoolStats, type PinningEvent } from "./pool";
export { pinningReasons, PINNING_REASONS, type PinningReason } from "./pinning";
export { ConnectionPoolManager, type PoolMetrics, type ConnectionPoolManagerOptions } from "./manager";
export {
  runMigrations,
  loadMigrations,
  directConnection,
  MIGRATIONS_DIR,
  ADVISORY_LOCK,
  type MigrateOptions,
  type MigrateReport,
} from "./migrate";
export { ensureServiceRoles, APP_GROUP_ROLE, type ServiceRole } from "./roles";
export { StatsRefresher, type StatsRefresherOptions, type RefreshResult } from "./stats-refresher";
export { postgresTlsOptions } from "./tls";
export { rolePasswordEnv } from "./migrate-cli";
export { PeerDependencyMissingError } from "../peers";
