import { defaultKeyPrefix, runtimeSettingsSchema, runtimeSettingsToEnv, type RuntimeSettings } from "@uaip/runtime/config";
import { connectionBudget, type ConnectionBudget, type ServiceConnections } from "./connection-budget";
import { deepMerge } from "./presets";
import type { Profile, ServiceProfile } from "./schema";

/**
 * What each service gets from the profile, the one way both platforms (AwsPlatform and
 * LocalPlatform) and the cross-layer checks read it: its runtime settings, its NODE_OPTIONS,
 * its share of the connection budget, and (with the platform's endpoints) its env. Pure.
 */

/** What one service gets. */
export interface ServiceSettings {
  /** The service's entry of the profile: name, port, resources, HPA, pool. */
  profile: ServiceProfile;
  /** Its effective runtime settings (shared settings + its overrides + its pool). */
  runtime: RuntimeSettings;
  /** NODE_OPTIONS: the heap limit the memory monitor also uses (checked against the memory limit). */
  nodeOptions: string;
  /** Its share of the database connection budget (pool.max × its pods during a rollout at hpa.max). */
  connections: ServiceConnections;
}

/** Every service's settings and the connection budget they add up to. */
export interface ServicePlan {
  services: ServiceSettings[];
  budget: ConnectionBudget;
}

/** Where a service finds Redis, PostgreSQL and the CDN, and whether the links are encrypted. */
export interface PlatformEndpoints {
  redisHost: string;
  redisPort: number;
  /** Connect to Redis over TLS (ElastiCache in-transit encryption). */
  redisTls: boolean;
  /** How the runtime connects to Redis (UAIP_REDIS_MODE): "cluster" for cluster mode and serverless. @default "standalone" */
  redisMode?: "standalone" | "cluster";
  /** Where the services connect: the instance, or RDS Proxy in front of it. */
  dbHost: string;
  /** The instance itself when dbHost is RDS Proxy (UAIP_DB_DIRECT_HOST: migrations, advisory locks). @default none (dbHost) */
  dbDirectHost?: string;
  /** This service's read replica (UAIP_DB_READ_HOST); Services sets it from dbReadHosts (readReplicaOf). @default none (no reader pool) */
  dbReadHost?: string;
  /** Every read replica's host, in order; each service reads from readReplicaOf(its index, count). @default [] */
  dbReadHosts?: string[];
  dbPort: number;
  dbName: string;
  dbUser: string;
  /** Require TLS to PostgreSQL (RDS). */
  dbSsl: boolean;
  /** CA bundle that verifies PostgreSQL's certificate (the mounted RDS bundle); "" without TLS. */
  dbSslCaFile: string;
  /** database.statsRefreshInterval, ms: how often operation_stats is refreshed (UAIP_DB_STATS_REFRESH_INTERVAL_MS). */
  dbStatsRefreshIntervalMs: number;
  /** CloudFront distribution to purge; "" when there is no CDN. */
  cdnDistributionId: string;
  /** AWS region for the runtime's SDK clients (AWS_REGION): pods can't ask IMDS (hop limit 1). @default none */
  awsRegion?: string;
}

/** NODE_OPTIONS for the runtime's heap limit. */
export function nodeOptions(runtime: RuntimeSettings): string {
  return `--max-old-space-size=${runtime.memory.heapSizeLimit}`;
}

/**
 * The runtime settings one service gets: the shared `runtime` section, the service's own
 * `runtime` overrides, and its pool size, validated by the runtime's own schema.
 */
export function serviceRuntimeSettings(profile: Profile, service: ServiceProfile): RuntimeSettings {
  const merged = deepMerge(deepMerge(profile.runtime, service.runtime ?? {}), {
    pool: { minConnections: service.pool.min, maxConnections: service.pool.max },
  });
  const settings = runtimeSettingsSchema.parse(merged);
  // Per service unless the profile names a namespace (a shared cache is a deliberate setting): its own
  // Redis namespace and invalidation channel, and CDN purges under the path the ALB routes to it.
  settings.cache.redis.keyPrefix ??= defaultKeyPrefix(service.name);
  settings.cache.cdn.pathPrefix ??= `/${service.name}/`;
  return settings;
}

/** The profile's services with everything each gets, and the connection budget, computed once. */
export function servicePlan(profile: Profile): ServicePlan {
  const budget = connectionBudget(profile);
  const services = profile.services.map((service, i) => {
    const runtime = serviceRuntimeSettings(profile, service);
    return { profile: service, runtime, nodeOptions: nodeOptions(runtime), connections: budget.perService[i]! };
  });
  return { services, budget };
}

/**
 * A service's env (its ConfigMap data, its container env): the runtime settings plus where Redis,
 * PostgreSQL and the CDN are, under the variable names of the runtime's own contract (RUNTIME_ENV),
 * sorted by name. Credentials are not in it: they travel as secrets.
 */
export function serviceEnv(
  environment: string,
  settings: Pick<ServiceSettings, "profile" | "runtime">,
  endpoints: PlatformEndpoints,
): Record<string, string> {
  const { profile: service, runtime } = settings;
  const env = runtimeSettingsToEnv({
    ...runtime,
    serviceName: service.name,
    port: service.port,
    environment,
    // The limiter's outage fallback shares the limit among this many replicas.
    replicasMax: service.hpa.max,
    cache: {
      ...runtime.cache,
      redis: {
        ...runtime.cache.redis,
        host: endpoints.redisHost,
        port: endpoints.redisPort,
        tls: endpoints.redisTls,
        mode: endpoints.redisMode ?? "standalone",
      },
      cdn: { ...runtime.cache.cdn, distributionId: endpoints.cdnDistributionId },
    },
    database: {
      host: endpoints.dbHost,
      // Written only when there is one: absent, the runtime uses dbHost for both (no reader pool, no bypass).
      ...(endpoints.dbReadHost ? { readHost: endpoints.dbReadHost } : {}),
      ...(endpoints.dbDirectHost ? { directHost: endpoints.dbDirectHost } : {}),
      port: endpoints.dbPort,
      name: endpoints.dbName,
      user: endpoints.dbUser,
      ssl: endpoints.dbSsl,
      sslCaFile: endpoints.dbSslCaFile,
      statsRefreshIntervalMs: endpoints.dbStatsRefreshIntervalMs,
    },
  });
  const withRegion: Record<string, string> = { ...env, ...(endpoints.awsRegion ? { AWS_REGION: endpoints.awsRegion } : {}) };
  return Object.fromEntries(Object.entries(withRegion).sort(([a], [b]) => a.localeCompare(b))) as Record<string, string>;
}
