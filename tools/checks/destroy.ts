/**
 * What `pulumi destroy` would leave behind or refuse to delete, read from the planned resources
 * (their inputs and their protect/retainOnDelete options), compared with the profile's deliberate
 * retentions (profile/retentions.ts). Anything left that the profile did not ask for fails the
 * plan: a destroy that stops half-way, or a disk, bucket or snapshot billed after the stack is gone.
 */
import type { Check } from "../../profile/checks";
import { LEFTOVER_KINDS, type LeftoverKind, type Retention } from "../../profile/retentions";
import { HELM_RELEASE, type PlanResource } from "./k8s/plan-resource";

export interface Leftover {
  kind: LeftoverKind;
  /** `type name` of the resource. */
  resource: string;
}

const get = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), v);

/** One resource's leftovers, by its type's rule; protect and retainOnDelete apply to any type. */
function leftoversOf(r: PlanResource): LeftoverKind[] {
  const i = r.inputs;
  const kinds: LeftoverKind[] = [];
  switch (r.type) {
    case "aws:rds/instance:Instance":
      if (i.deletionProtection === true) kinds.push("rds-deletion-protection");
      if (i.skipFinalSnapshot !== true) kinds.push("rds-final-snapshot");
      break;
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      if (i.finalSnapshotIdentifier) kinds.push("elasticache-final-snapshot");
      break;
    case "aws:lb/loadBalancer:LoadBalancer":
      if (i.enableDeletionProtection === true) kinds.push("alb-deletion-protection");
      break;
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      if (r.retainOnDelete) return ["s3-retained"];
      if (i.forceDestroy !== true) kinds.push("s3-not-emptied");
      break;
    case "aws:ecr/repository:Repository":
      if (r.retainOnDelete) return ["ecr-retained"];
      if (i.forceDelete !== true) kinds.push("ecr-not-emptied");
      break;
    case "kubernetes:storage.k8s.io/v1:StorageClass":
      // Retain is also the API's default for a PV without a class policy; the StorageClass default is Delete.
      if (i.reclaimPolicy === "Retain") kinds.push("ebs-retained");
      break;
    case HELM_RELEASE: {
      const spec = get(i, "values", "prometheus", "prometheusSpec");
      if (
        get(spec, "storageSpec", "volumeClaimTemplate") &&
        get(spec, "persistentVolumeClaimRetentionPolicy", "whenDeleted") !== "Delete"
      )
        kinds.push("pvc-retained");
      break;
    }
  }
  if (r.protect) kinds.push("protected");
  if (r.retainOnDelete) kinds.push("retained");
  return kinds;
}

/** Everything a destroy of this plan would leave or stop at. */
export function destroyLeftovers(resources: PlanResource[]): Leftover[] {
  return resources.flatMap((r) => leftoversOf(r).map((kind) => ({ kind, resource: `${r.type} ${r.name}` })));
}

/** How to make a leftover go, when it was not meant to stay. */
const FIX: Record<LeftoverKind, string> = {
  "rds-deletion-protection": "set database.deletionProtection false, or keep it and list it as deliberate",
  "rds-final-snapshot": "Database finalSnapshot: the profile keeps a final snapshot of every database",
  "alb-deletion-protection": "set loadBalancer.deletionProtection false",
  "s3-retained": "drop retainOnDelete from the bucket (or tie it to a profile setting in profile/retentions.ts)",
  "s3-not-emptied": "set forceDestroy: true on the bucket",
  "ecr-retained": "drop retainOnDelete (ServiceImage retainRepository)",
  "ecr-not-emptied": "set forceDelete: true on the repository (ServiceImage does unless retainRepository)",
  "ebs-retained": "set monitoring.retainVolumes false (StorageClass reclaimPolicy Delete)",
  "pvc-retained":
    "set prometheus.prometheusSpec.persistentVolumeClaimRetentionPolicy.whenDeleted: Delete (monitoring.retainVolumes false)",
  "elasticache-final-snapshot": "drop finalSnapshotIdentifier, or tie it to a profile setting in profile/retentions.ts",
  protected: "drop the protect option, or tie it to a profile setting in profile/retentions.ts",
  retained: "drop the retainOnDelete option, or tie it to a profile setting in profile/retentions.ts",
};

/** The plan check: every leftover is deliberate, and every deliberate retention is really there. */
export function checkDestroyLeftovers(resources: PlanResource[], deliberate: Retention[]): Check {
  const leftovers = destroyLeftovers(resources);
  const meant = new Map(deliberate.map((d) => [d.kind, d]));
  const unintended = leftovers.filter((l) => !meant.has(l.kind));
  // A promise the plan does not keep (a retention the profile asks for but no resource has) fails too.
  const unkept = deliberate.filter((d) => !leftovers.some((l) => l.kind === d.kind));
  const kept = leftovers
    .filter((l) => meant.has(l.kind))
    .map((l) => `${l.resource}: ${meant.get(l.kind)!.what} (deliberate: ${meant.get(l.kind)!.setting})`);
  const name = "destroy-leaves-only-deliberate";
  if (unintended.length || unkept.length) {
    const problems = [
      ...unintended.map((l) => `${l.resource}: ${LEFTOVER_KINDS[l.kind]}, not deliberate; ${FIX[l.kind]}`),
      ...unkept.map((d) => `${d.what} (${d.setting}) is promised but no planned resource keeps it`),
    ];
    return { name, ok: false, detail: `pulumi destroy would leave or stop at: ${problems.join("; ")}` };
  }
  return {
    name,
    ok: true,
    detail: kept.length ? `pulumi destroy leaves only the deliberate: ${kept.join("; ")}` : "pulumi destroy leaves nothing",
  };
}
