import { isRecord, isType, recordsIn, truthy } from "./match";
import type { PlannedResource, ResourceRule, StackRule } from "./types";

/** RDS instances and Aurora clusters store data encrypted (CKV_AWS_16; AWSGuard rds-storage-encrypted). */
export const rdsStorageEncrypted: ResourceRule = {
  kind: "resource",
  name: "rds-storage-encrypted",
  description: "RDS instances and clusters must set storageEncrypted (it cannot be turned on later: replacement).",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:rds/instance:Instance", "aws:rds/cluster:Cluster")) return [];
    // A read replica inherits the source's encryption; storageEncrypted is not settable on it.
    if (r.props.replicateSourceDb) return [];
    return r.props.storageEncrypted === true
      ? []
      : [`storageEncrypted is ${r.props.storageEncrypted ?? "unset"}; set storageEncrypted: true`];
  },
};

/** ElastiCache replication groups encrypt at rest (forces replacement when changed). */
export const elasticacheAtRestEncrypted: ResourceRule = {
  kind: "resource",
  name: "elasticache-at-rest-encrypted",
  description: "ElastiCache replication groups must set atRestEncryptionEnabled.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:elasticache/replicationGroup:ReplicationGroup")) return [];
    return truthy(r.props.atRestEncryptionEnabled)
      ? []
      : [`atRestEncryptionEnabled is ${r.props.atRestEncryptionEnabled ?? "unset"}; set it to true`];
  },
};

function unencryptedDevices(devices: unknown, path: string): string[] {
  if (!Array.isArray(devices)) return [];
  // Each device keeps its index in the list as written (the message names it); an entry that is not an object is
  // skipped.
  return devices.flatMap((device, i) => {
    if (!isRecord(device)) return [];
    const ebs = (device.ebs ?? device) as { encrypted?: unknown };
    return ebs && !truthy(ebs.encrypted) ? [`${path}[${i}].encrypted is ${ebs.encrypted ?? "unset"}`] : [];
  });
}

/** EBS volumes, launch template block devices and instance disks are encrypted (CKV_AWS_3, CKV_AWS_8). */
export const ebsEncrypted: ResourceRule = {
  kind: "resource",
  name: "ebs-encrypted",
  description: "EBS volumes, launch template block devices and EC2 instance disks must be encrypted.",
  enforcementLevel: "mandatory",
  check(r) {
    let problems: string[] = [];
    if (isType(r, "aws:ebs/volume:Volume"))
      problems = truthy(r.props.encrypted) ? [] : [`encrypted is ${r.props.encrypted ?? "unset"}`];
    else if (isType(r, "aws:ec2/launchTemplate:LaunchTemplate"))
      problems = unencryptedDevices(r.props.blockDeviceMappings, "blockDeviceMappings");
    else if (isType(r, "aws:ec2/instance:Instance")) {
      const root = r.props.rootBlockDevice as { encrypted?: unknown } | undefined;
      problems = [
        ...(root && !truthy(root.encrypted) ? [`rootBlockDevice.encrypted is ${root.encrypted ?? "unset"}`] : []),
        ...unencryptedDevices(r.props.ebsBlockDevices, "ebsBlockDevices"),
      ];
    }
    return problems.map((p) => `${p}; set encrypted: true`);
  },
};

/**
 * CloudWatch always encrypts log data with a service key; a customer-managed KMS key is what
 * lets the platform revoke access and audit use (CKV_AWS_158). Advisory: logs stay encrypted.
 */
export const logGroupKms: ResourceRule = {
  kind: "resource",
  name: "log-group-kms",
  description: "CloudWatch log groups should be encrypted with a customer-managed KMS key (kmsKeyId).",
  enforcementLevel: "advisory",
  check(r) {
    if (!isType(r, "aws:cloudwatch/logGroup:LogGroup")) return [];
    return r.props.kmsKeyId ? [] : [`no kmsKeyId; encrypt it with a customer-managed KMS key`];
  },
};

const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

function bucketRefs(bucket: PlannedResource): string[] {
  return [bucket.props.bucket, bucket.props.id].filter((v): v is string => typeof v === "string");
}

function encryptsWithSse(rules: unknown): boolean {
  return recordsIn<{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }>(rules).some((rule) =>
    SSE_ALGORITHMS.includes(rule.applyServerSideEncryptionByDefault?.sseAlgorithm ?? ""),
  );
}

/**
 * Every S3 bucket has a default-encryption configuration: inline (v6) or a separate
 * BucketServerSideEncryptionConfiguration that points at it. A bucket's id is unknown during a
 * real preview, so a configuration is matched by the bucket's name or by sharing its resource name.
 */
export const s3Encrypted: StackRule = {
  kind: "stack",
  name: "s3-encrypted",
  description: "S3 buckets must have a server-side encryption configuration (AES256 or aws:kms).",
  enforcementLevel: "mandatory",
  check(resources) {
    const configs = resources.filter(
      (r) =>
        isType(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration") &&
        encryptsWithSse(r.props.rules),
    );
    return resources
      .filter((r) => isType(r, "aws:s3/bucket:Bucket"))
      .filter((bucket) => {
        const inline = bucket.props.serverSideEncryptionConfiguration as { rule?: unknown } | undefined;
        if (inline && encryptsWithSse([inline.rule].flat())) return false;
        const refs = bucketRefs(bucket);
        return !configs.some((c) => c.name === bucket.name || refs.includes(c.props.bucket));
      })
      .map((bucket) => ({
        resource: bucket,
        message: `no server-side encryption configuration; add an aws.s3.BucketServerSideEncryptionConfiguration (sseAlgorithm aws:kms or AES256)`,
      }));
  },
};
