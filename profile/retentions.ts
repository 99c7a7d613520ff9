import type { Profile } from "./schema";

/**
 * What a `pulumi destroy` of a stack deliberately leaves behind or refuses to delete, decided by
 * the profile alone. tools/checks/destroy.ts finds what the planned resources would leave and
 * fails on anything not listed here, and the README's "Retain policy" section is generated from
 * this list (npm run docs), so the promise, the profile and the plan cannot drift apart.
 */

/** The kinds of leftovers a destroy can have; tools/checks/destroy.ts derives them from resources. */
export const LEFTOVER_KINDS = {
  "rds-deletion-protection": "RDS instance with deletion protection: destroy stops at it",
  "rds-final-snapshot": "RDS final snapshot, taken on delete and kept (billed snapshot storage)",
  "alb-deletion-protection": "ALB with deletion protection: destroy stops at it",
  "s3-retained": "S3 bucket kept by retainOnDelete, with its objects (billed storage)",
  "s3-not-emptied": "S3 bucket without forceDestroy: destroy fails once it holds objects",
  "ecr-retained": "ECR repository kept by retainOnDelete, with its images (billed storage)",
  "ecr-not-emptied": "ECR repository without forceDelete: destroy fails once an image is pushed",
  "ebs-retained": "EBS volumes of a StorageClass with reclaimPolicy Retain, kept after their claims (billed)",
  "pvc-retained": "StatefulSet claims kept after it (Kubernetes' default), and their EBS volumes (billed)",
  "elasticache-final-snapshot": "ElastiCache final snapshot, taken on delete and kept (billed)",
  protected: "resource with protect: destroy refuses the whole stack",
  retained: "resource kept by retainOnDelete",
} as const;
export type LeftoverKind = keyof typeof LEFTOVER_KINDS;

export interface Retention {
  kind: LeftoverKind;
  /** What stays, in a reader's words. */
  what: string;
  /** The profile key that decides it ("always" when no key turns it off). */
  setting: string;
  why: string;
}

/** The deliberate retentions of a profile: each names its setting and why. */
export function deliberateRetentions(p: Profile): Retention[] {
  const out: Retention[] = [
    {
      kind: "rds-final-snapshot",
      what: "RDS final snapshot `<stack>-db-final-<random>`",
      setting: "always",
      why: "a deleted database can be restored; the name is per stack and per instance, so it never clashes",
    },
  ];
  if (p.database.deletionProtection)
    out.push({
      kind: "rds-deletion-protection",
      what: "RDS deletion protection (destroy stops at the database)",
      setting: "database.deletionProtection",
      why: "no destroy drops production data; set it false and `pulumi up` first to really destroy",
    });
  if (p.loadBalancer.deletionProtection)
    out.push(
      {
        kind: "alb-deletion-protection",
        what: "ALB deletion protection (destroy stops at the load balancer)",
        setting: "loadBalancer.deletionProtection",
        why: "the public entry point is not deleted by accident",
      },
      {
        kind: "s3-retained",
        what: "ALB access-log bucket (retainOnDelete, no forceDestroy)",
        setting: "loadBalancer.deletionProtection",
        why: "the audit trail outlives the load balancer",
      },
    );
  if (p.monitoring.retainVolumes)
    out.push(
      {
        kind: "ebs-retained",
        what: "Prometheus EBS volumes (StorageClass reclaimPolicy Retain)",
        setting: "monitoring.retainVolumes",
        why: "the metrics history survives a reinstall",
      },
      {
        kind: "pvc-retained",
        what: "Prometheus claims (StatefulSet persistentVolumeClaimRetentionPolicy Retain)",
        setting: "monitoring.retainVolumes",
        why: "the metrics history survives a reinstall",
      },
    );
  return out;
}
