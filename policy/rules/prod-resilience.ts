import { environmentOf, isProd, isType, truthy } from "./match";
import type { ResourceRule } from "./types";

/** Days of automated backups prod keeps at least (RDS allows 0-35; 7 is AWS's console default). */
export const MIN_PROD_BACKUP_DAYS = 7;

/**
 * Prod data stores survive an AZ loss and a mistaken delete: deletion protection, multi-AZ,
 * automated backups and a final snapshot (AWSGuard rds-instance-backup-enabled,
 * rds-instance-multi-az-enabled, elb-deletion-protection-enabled). Other environments may save money.
 */
export const prodResilience: ResourceRule = {
  kind: "resource",
  name: "prod-resilience",
  description: `In prod: deletion protection, multi-AZ and backups (>= ${MIN_PROD_BACKUP_DAYS} days) on RDS; multi-AZ, failover and snapshots on ElastiCache; deletion protection on load balancers.`,
  enforcementLevel: "mandatory",
  check(r) {
    if (!isProd(environmentOf(r))) return [];
    const p = r.props;
    const problems: string[] = [];
    if (isType(r, "aws:rds/instance:Instance", "aws:rds/cluster:Cluster")) {
      if (p.deletionProtection !== true) problems.push("deletionProtection is not true");
      if (isType(r, "aws:rds/instance:Instance") && p.multiAz !== true) problems.push("multiAz is not true");
      if (!(Number(p.backupRetentionPeriod) >= MIN_PROD_BACKUP_DAYS))
        problems.push(`backupRetentionPeriod is ${p.backupRetentionPeriod ?? "unset"} (< ${MIN_PROD_BACKUP_DAYS} days)`);
      if (p.skipFinalSnapshot === true) problems.push("skipFinalSnapshot is true");
    } else if (isType(r, "aws:elasticache/replicationGroup:ReplicationGroup")) {
      if (!truthy(p.multiAzEnabled)) problems.push("multiAzEnabled is not true");
      if (!truthy(p.automaticFailoverEnabled)) problems.push("automaticFailoverEnabled is not true");
      if (!(Number(p.snapshotRetentionLimit) >= 1))
        problems.push(`snapshotRetentionLimit is ${p.snapshotRetentionLimit ?? "unset"} (no backups)`);
    } else if (isType(r, "aws:lb/loadBalancer:LoadBalancer")) {
      if (p.enableDeletionProtection !== true) problems.push("enableDeletionProtection is not true");
    }
    return problems.map((problem) => `prod: ${problem}`);
  },
};
