import type { ProfileIssue } from "./errors";
import type { Profile } from "./schema";
import limits from "../vendor/aws/data-tier-limits.json";

/**
 * The data tier's scale-out modes as the profile states them (redis.mode, redis.serverless,
 * database.proxy, database.readReplicas): how the runtime must connect, which replica each service
 * reads from, and the rules that join several keys (one key's range is in schema.ts). Pure.
 */

/** UAIP_REDIS_MODE: cluster mode and serverless speak the cluster protocol; a replication group does not. */
export function redisClientMode(p: Profile): "standalone" | "cluster" {
  return p.redis.mode === "cluster" || p.redis.serverless ? "cluster" : "standalone";
}

/**
 * The read replica service `serviceIndex` reads from: services spread over the replicas in profile
 * order (RDS for PostgreSQL has no reader endpoint that balances over replicas, and RDS Proxy cannot
 * target them), so each replica's connection budget is the sum of its own services' pools.
 * Undefined without replicas.
 */
export function readReplicaOf(serviceIndex: number, replicas: number): number | undefined {
  return replicas > 0 ? serviceIndex % replicas : undefined;
}

/** Every wrong combination of the data tier's keys, each with the key to change and the fix. */
export function dataTierIssues(p: Profile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const cluster = p.redis.mode === "cluster";
  if (!cluster)
    for (const key of ["shards", "replicasPerShard"] as const)
      if (p.redis[key] !== undefined)
        issues.push({
          path: `redis.${key}`,
          message: `${p.redis[key]} applies to cluster mode only (redis.mode is "${p.redis.mode}"); set redis.mode: cluster or remove it`,
        });
  if (p.redis.serverless && !cluster)
    issues.push({
      path: "redis.mode",
      message: `"${p.redis.mode}": ElastiCache Serverless always runs in cluster mode and the runtime must connect as a cluster client; set redis.mode: cluster`,
    });
  if (p.redis.serverless && (p.redis.shards !== undefined || p.redis.replicasPerShard !== undefined))
    issues.push({
      path: p.redis.shards !== undefined ? "redis.shards" : "redis.replicasPerShard",
      message: "a serverless cache has no shards or replicas to size (it scales within redis.serverless limits); remove it",
    });
  if (p.database.readReplicas > 0 && p.database.backupRetentionDays < 1)
    issues.push({
      path: "database.backupRetentionDays",
      message: `0 with database.readReplicas ${p.database.readReplicas}: RDS creates read replicas only from a source with automated backups; set backupRetentionDays >= 1 or readReplicas: 0`,
    });
  if (p.database.proxy && p.services.length > limits.rdsProxy.secretsPerProxy)
    issues.push({
      path: "database.proxy",
      message: `${p.services.length} services need ${p.services.length} secrets (one role each) but an RDS Proxy takes at most ${limits.rdsProxy.secretsPerProxy}; split the stack`,
    });
  if (p.platform === "docker") {
    const unsupported: [string, boolean][] = [
      ["redis.mode", cluster],
      ["redis.serverless", Boolean(p.redis.serverless)],
      ["database.proxy", Boolean(p.database.proxy)],
      ["database.readReplicas", p.database.readReplicas > 0],
    ];
    for (const [path, set] of unsupported)
      if (set)
        issues.push({
          path,
          message:
            "the Docker platform runs one Redis and one PostgreSQL; cluster mode, serverless, RDS Proxy and read replicas are AWS-only",
        });
  }
  return issues;
}
