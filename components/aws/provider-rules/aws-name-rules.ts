/**
 * Physical-name rules of every AWS resource type the platform creates: where the name lives in
 * the inputs, AWS's own limit, and how pulumi-aws auto-names the field when the program leaves it
 * unset (logical name + "-" + 7 random hex characters, refused at preview when that exceeds the
 * provider's own maximum; pulumi-aws never truncates). Sources: vendor/aws/README.md.
 *
 * A type missing here fails the name-limit check: a new resource type must be classified first.
 */

export type NameScope = "region" | "account" | "global" | "parent";

export interface NameRule {
  /** Input field holding the physical name. */
  field: string;
  /** AWS's maximum length of the name. */
  awsMax: number;
  /** pulumi-aws auto-names this field when unset, up to this length (its own cap, not AWS's). */
  autoNameMax?: number;
  /** Characters AWS allows (checked on explicit names; auto-names are the logical name + hex). */
  pattern?: RegExp;
  /** Where AWS requires the name to be unique: what the cross-stack collision check compares. */
  scope: NameScope;
  /** AWS stores the name lowercased: the character rule applies to the lowercased name. */
  lowercase?: boolean;
  /** pulumi-aws lowercases its auto-name (AutoNameTransform with strings.ToLower). */
  autoNameLowercase?: boolean;
}

/** `-` + 7 hex characters: what pulumi-aws appends to the logical name (tfbridge.AutoName). */
export const AUTO_NAME_SUFFIX_LENGTH = 8;

const ALNUM_HYPHEN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const LOWER_ID = /^[a-z](?:-?[a-z0-9])*$/; // letter first, no "--", no trailing "-" (RDS, ElastiCache ids)

/** Types whose physical identity AWS assigns (ids, ARNs) or that live inside another resource. */
export const UNNAMED_AWS_TYPES: readonly string[] = [
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/flowLog:FlowLog",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:kms/key:Key",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:lb/listener:Listener",
  "aws:lb/listenerRule:ListenerRule",
  "aws:cloudfront/distribution:Distribution",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:eks/addon:Addon",
  "aws:eks/accessEntry:AccessEntry",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  // A project's webhook has no name of its own (one per project).
  "aws:codebuild/webhook:Webhook",
  // RDS Proxy's default target group and its target live inside the proxy; a secret's versions inside the secret.
  "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
  "aws:rds/proxyTarget:ProxyTarget",
  "aws:secretsmanager/secretVersion:SecretVersion",
];

export const AWS_NAME_RULES: Readonly<Record<string, readonly NameRule[]>> = {
  // pulumi-aws provider/aliases.go: AutoName("name", 32, "-"); AWS CreateTargetGroup: 32, alphanumerics and hyphens.
  "aws:lb/targetGroup:TargetGroup": [{ field: "name", awsMax: 32, autoNameMax: 32, pattern: ALNUM_HYPHEN, scope: "region" }],
  // pulumi-aws default AutoName (255); AWS CreateLoadBalancer: 32, must not start with "internal-".
  "aws:lb/loadBalancer:LoadBalancer": [
    {
      field: "name",
      awsMax: 32,
      autoNameMax: 255,
      pattern: /^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/,
      scope: "region",
    },
  ],
  // pulumi-aws resource_overrides.go: AutoNameTransform("replicationGroupId", 40, lower); AWS: 1..40, letter first, no "--".
  "aws:elasticache/replicationGroup:ReplicationGroup": [
    {
      field: "replicationGroupId",
      awsMax: 40,
      autoNameMax: 40,
      pattern: LOWER_ID,
      scope: "region",
      lowercase: true,
      autoNameLowercase: true,
    },
  ],
  "aws:elasticache/parameterGroup:ParameterGroup": [
    { field: "name", awsMax: 255, autoNameMax: 255, pattern: LOWER_ID, scope: "region", lowercase: true },
  ],
  "aws:elasticache/subnetGroup:SubnetGroup": [{ field: "name", awsMax: 255, autoNameMax: 255, scope: "region" }],
  // pulumi-aws resource_overrides.go: identifier auto-named up to 255; AWS DB instance identifier: 63.
  "aws:rds/instance:Instance": [
    { field: "identifier", awsMax: 63, autoNameMax: 255, pattern: LOWER_ID, scope: "region", lowercase: true },
    { field: "finalSnapshotIdentifier", awsMax: 255, pattern: LOWER_ID, scope: "region", lowercase: true },
  ],
  "aws:rds/parameterGroup:ParameterGroup": [
    { field: "name", awsMax: 255, autoNameMax: 255, pattern: LOWER_ID, scope: "region", lowercase: true },
  ],
  "aws:rds/subnetGroup:SubnetGroup": [{ field: "name", awsMax: 255, autoNameMax: 255, scope: "region" }],
  // RDS Proxy (the stack names it, stack-scoped): AWS CreateDBProxy: 63, letter first, no "--"; pulumi-aws default AutoName (255).
  "aws:rds/proxy:Proxy": [
    { field: "name", awsMax: 63, autoNameMax: 255, pattern: /^[A-Za-z](?:-?[A-Za-z0-9])*$/, scope: "region" },
  ],
  // Auto-named; Secrets Manager: 1..512 of letters, digits and /_+=.@-.
  "aws:secretsmanager/secret:Secret": [
    { field: "name", awsMax: 512, autoNameMax: 255, pattern: /^[\w/+=.@-]+$/, scope: "region" },
  ],
  // Serverless cache, RBAC user and user group ids: like a replication group id (40, letter first, no "--").
  "aws:elasticache/serverlessCache:ServerlessCache": [
    { field: "name", awsMax: 40, pattern: LOWER_ID, scope: "region", lowercase: true },
  ],
  "aws:elasticache/user:User": [{ field: "userId", awsMax: 40, pattern: LOWER_ID, scope: "region", lowercase: true }],
  "aws:elasticache/userGroup:UserGroup": [
    { field: "userGroupId", awsMax: 40, pattern: LOWER_ID, scope: "region", lowercase: true },
  ],
  // pulumi-aws resource_overrides.go: AutoName("name", 64, "-"); IAM is account-wide.
  "aws:iam/role:Role": [{ field: "name", awsMax: 64, autoNameMax: 64, pattern: /^[\w+=,.@-]+$/, scope: "account" }],
  "aws:iam/rolePolicy:RolePolicy": [{ field: "name", awsMax: 128, autoNameMax: 255, scope: "parent" }],
  // AWS CreateCluster: 1..100, alphanumeric first, then alphanumerics, "-" and "_".
  "aws:eks/cluster:Cluster": [
    { field: "name", awsMax: 100, autoNameMax: 255, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, scope: "region" },
  ],
  // pulumi-aws: AutoName("nodeGroupName", 255); AWS: 63 (per cluster).
  "aws:eks/nodeGroup:NodeGroup": [{ field: "nodeGroupName", awsMax: 63, autoNameMax: 255, scope: "parent" }],
  "aws:cloudwatch/logGroup:LogGroup": [
    { field: "name", awsMax: 512, autoNameMax: 255, pattern: /^[\w\-/.#]+$/, scope: "region" },
  ],
  "aws:kms/alias:Alias": [{ field: "name", awsMax: 256, autoNameMax: 238, scope: "region" }],
  // pulumi-aws: AutoNameTransform("bucket", 63, lower); bucket names are global.
  "aws:s3/bucket:Bucket": [
    {
      field: "bucket",
      awsMax: 63,
      autoNameMax: 63,
      pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
      scope: "global",
      lowercase: true,
      autoNameLowercase: true,
    },
  ],
  "aws:s3/bucketV2:BucketV2": [
    {
      field: "bucket",
      awsMax: 63,
      autoNameMax: 63,
      pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
      scope: "global",
      lowercase: true,
      autoNameLowercase: true,
    },
  ],
  // AWS CreateProject: 2..255, [A-Za-z0-9][A-Za-z0-9-_]{1,254}; the CI runner always names it (ci-deploys.ts).
  "aws:codebuild/project:Project": [
    { field: "name", awsMax: 255, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, scope: "region" },
  ],
  "aws:ec2/securityGroup:SecurityGroup": [{ field: "name", awsMax: 255, autoNameMax: 255, scope: "parent" }],
  "aws:ec2/launchTemplate:LaunchTemplate": [{ field: "name", awsMax: 128, autoNameMax: 255, scope: "region" }],
  // CloudFront policies are account-wide (CloudFront is global); 128 characters.
  "aws:cloudfront/cachePolicy:CachePolicy": [{ field: "name", awsMax: 128, autoNameMax: 255, scope: "account" }],
  "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": [{ field: "name", awsMax: 128, autoNameMax: 255, scope: "account" }],
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": [
    { field: "name", awsMax: 128, autoNameMax: 255, scope: "account" },
  ],
  // ECR: 2..256, lowercase.
  "aws:ecr/repository:Repository": [
    { field: "name", awsMax: 256, autoNameMax: 255, pattern: /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, scope: "region" },
  ],
};
