import { parseConfig } from "../../profile/parse";
import type { ServiceProfile } from "../../profile/schema";
import { serviceEnv, serviceRuntimeSettings } from "../../profile/service-settings";

/**
 * The dev stack's ConfigMap data for its first service, exactly as the stack writes it, with a
 * 5-per-minute limit and Redis pointed at a loopback server (no TLS there). The database entries
 * are the stack's RDS values; a test that runs PostgreSQL overrides them.
 */
export const DEV_PROFILE = parseConfig({ environment: "dev", runtime: { rateLimit: { maxRequests: 5, windowMs: 60_000 } } });
export const DEV_SERVICE: ServiceProfile = DEV_PROFILE.services[0];

export function devConfigMapData(redisPort: number): Record<string, string> {
  return serviceEnv(
    "dev",
    { profile: DEV_SERVICE, runtime: serviceRuntimeSettings(DEV_PROFILE, DEV_SERVICE) },
    {
      redisHost: "127.0.0.1",
      redisPort,
      redisTls: false,
      dbHost: "127.0.0.1",
      dbPort: 5432,
      dbName: "uaip",
      dbUser: "uaip",
      dbSsl: true,
      dbSslCaFile: "/etc/uaip/rds-ca/global-bundle.pem",
      dbStatsRefreshIntervalMs: 300_000,
      cdnDistributionId: "",
    },
  );
}
