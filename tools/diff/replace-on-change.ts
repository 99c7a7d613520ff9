/**
 * Inputs whose change makes the provider replace the resource (delete + create) instead of
 * updating it in place. pulumi-aws is bridged from terraform-provider-aws, so these are that
 * provider's `ForceNew` schema fields, named as pulumi-aws inputs (camelCase). Read from
 * terraform-provider-aws `internal/service/rds/instance.go` and
 * `internal/service/elasticache/replication_group.go` (and the resources' docs for the rest).
 * Deliberately absent because they update in place: RDS `instanceClass`, `dbSubnetGroupName`
 * (moves the instance, with an outage), `parameterGroupName`, `engineVersion`; ElastiCache
 * `nodeType` (online scaling), `engineVersion` upgrades, `transitEncryptionEnabled`.
 *
 * Kubernetes: `metadata.name`/`metadata.namespace` identify the object (the provider replaces),
 * and fields the API server refuses to change (Deployment `spec.selector`, Service `spec.clusterIP`,
 * StorageClass parameters) replace too.
 */
export const REPLACE_ON_CHANGE: Readonly<Record<string, readonly string[]>> = {
  "aws:rds/instance:Instance": [
    "engine",
    "identifier",
    "identifierPrefix",
    "availabilityZone",
    "characterSetName",
    "dbName",
    "kmsKeyId",
    "storageEncrypted",
    "username",
    "snapshotIdentifier",
    "timezone",
    "ncharCharacterSetName",
    "customIamInstanceProfile",
    "restoreToPointInTime",
  ],
  "aws:rds/parameterGroup:ParameterGroup": ["name", "namePrefix", "family", "description"],
  "aws:rds/subnetGroup:SubnetGroup": ["name", "namePrefix"],
  "aws:elasticache/replicationGroup:ReplicationGroup": [
    "replicationGroupId",
    "atRestEncryptionEnabled",
    "kmsKeyId",
    "subnetGroupName",
    "port",
    "dataTieringEnabled",
    "networkType",
    "globalReplicationGroupId",
    "securityGroupNames",
    "snapshotArns",
    "snapshotName",
  ],
  "aws:elasticache/parameterGroup:ParameterGroup": ["name", "family", "description"],
  "aws:elasticache/subnetGroup:SubnetGroup": ["name"],
  "aws:lb/loadBalancer:LoadBalancer": ["name", "namePrefix", "internal", "loadBalancerType"],
  "aws:lb/targetGroup:TargetGroup": ["name", "namePrefix", "port", "protocol", "protocolVersion", "vpcId", "targetType"],
  "aws:lb/listener:Listener": ["loadBalancerArn"],
  "aws:ec2/securityGroup:SecurityGroup": ["name", "namePrefix", "description", "vpcId"],
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ["securityGroupId"],
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ["securityGroupId"],
  "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone"],
  "aws:ec2/vpc:Vpc": ["cidrBlock"],
  "aws:ec2/natGateway:NatGateway": ["allocationId", "subnetId", "connectivityType"],
  "aws:ec2/launchTemplate:LaunchTemplate": ["name", "namePrefix"],
  "aws:eks/cluster:Cluster": ["name", "bootstrapSelfManagedAddons"],
  "aws:eks/nodeGroup:NodeGroup": [
    "clusterName",
    "nodeGroupName",
    "nodeGroupNamePrefix",
    "nodeRoleArn",
    "subnetIds",
    "amiType",
    "capacityType",
    "diskSize",
    "instanceTypes",
    "remoteAccess",
  ],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix"],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "namePrefix"],
  "aws:iam/role:Role": ["name", "namePrefix"],
  "aws:iam/rolePolicy:RolePolicy": ["name", "namePrefix", "role"],
  "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion"],
  "random:index/randomPassword:RandomPassword": [
    "length",
    "special",
    "upper",
    "lower",
    "numeric",
    "minSpecial",
    "minUpper",
    "minLower",
    "minNumeric",
    "overrideSpecial",
    "keepers",
  ],
  "kubernetes:apps/v1:Deployment": ["spec.selector"],
  "kubernetes:apps/v1:StatefulSet": ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"],
  "kubernetes:core/v1:Service": ["spec.clusterIP"],
  "kubernetes:storage.k8s.io/v1:StorageClass": ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"],
};

/** Every Kubernetes object is replaced when its identity changes. */
const KUBERNETES_IDENTITY = ["metadata.name", "metadata.namespace"];

/** The replace-on-change inputs of a type (canonical token; `aws:alb/*` is `aws:lb/*`). */
export function replaceKeysFor(type: string): readonly string[] {
  const canonical = type.replace(/^aws:(alb|elasticloadbalancingv2|applicationloadbalancing)\//, "aws:lb/");
  const own = REPLACE_ON_CHANGE[canonical] ?? [];
  return canonical.startsWith("kubernetes:") ? [...KUBERNETES_IDENTITY, ...own] : own;
}

/** The replace-on-change input a changed path falls under, if any (`spec.selector.matchLabels.app` -> `spec.selector`). */
export function replacingKey(type: string, path: string): string | undefined {
  return replaceKeysFor(type).find((key) => path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`));
}
