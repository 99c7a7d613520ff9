import { isType, recordsIn, truthy } from "./match";
import type { ResourceRule } from "./types";

/**
 * The data tier's scale-out resources (issue #28): RDS Proxy and ElastiCache's Valkey engine. The
 * other new resources are covered where they already were: read replicas are aws:rds/instance
 * (storage encryption, rds.force_ssl through their parameter group, the connection budget),
 * cluster-mode groups are replication groups (at-rest and in-transit encryption), and a serverless
 * cache is always encrypted at rest and in transit (ElastiCache offers no way to turn either off).
 */

/**
 * RDS Proxy: clients must use TLS (requireTls), authenticate with SCRAM (POSTGRES_MD5 is weaker and
 * exposes a reusable hash), and debug logging stays off (it writes SQL text, with any literal in it,
 * to CloudWatch Logs).
 */
export const rdsProxyTls: ResourceRule = {
  kind: "resource",
  name: "rds-proxy-tls",
  description: "RDS Proxy requires TLS and SCRAM from its clients and does not log SQL text.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:rds/proxy:Proxy")) return [];
    const problems: string[] = [];
    if (!truthy(r.props.requireTls)) problems.push(`requireTls is ${r.props.requireTls ?? "unset"}; set it to true`);
    if (truthy(r.props.debugLogging)) problems.push("debugLogging is true, which logs SQL text; set it to false");
    for (const a of recordsIn<{ clientPasswordAuthType?: string }>(r.props.auths))
      if (
        String(r.props.engineFamily ?? "").toUpperCase() === "POSTGRESQL" &&
        a.clientPasswordAuthType !== "POSTGRES_SCRAM_SHA_256"
      )
        problems.push(
          `an auth entry has clientPasswordAuthType ${a.clientPasswordAuthType ?? "unset"}; set "POSTGRES_SCRAM_SHA_256"`,
        );
    return problems;
  },
};

/**
 * ElastiCache takes engine "valkey" on replication groups and serverless caches only: a
 * single-node aws.elasticache.Cluster with it fails at create time, after the plan said yes
 * (terraform-provider-aws#39905, pulumi-aws#4620).
 */
export const valkeyOnReplicationGroups: ResourceRule = {
  kind: "resource",
  name: "elasticache-valkey-replication-groups",
  description: "ElastiCache Valkey runs only as a replication group or a serverless cache, never as aws.elasticache.Cluster.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:elasticache/cluster:Cluster")) return [];
    return String(r.props.engine ?? "") === "valkey"
      ? [
          'engine "valkey" on aws.elasticache.Cluster fails at create time; use aws.elasticache.ReplicationGroup (or ServerlessCache)',
        ]
      : [];
  },
};
