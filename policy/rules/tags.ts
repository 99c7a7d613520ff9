import { canonicalType } from "./match";
import type { ResourceRule } from "./types";

/** Tags every UAIP resource carries (cost allocation, ownership, which stack made it). */
export const REQUIRED_TAGS = ["project", "environment", "managed-by", "team"] as const;

/**
 * Types that accept tags, so a missing `tags` is an omission rather than impossible. Types not
 * listed are still checked whenever they carry `tags` at all.
 */
export const TAGGABLE_TYPES = new Set([
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/instance:Instance",
  "aws:ec2/flowLog:FlowLog",
  "aws:ebs/volume:Volume",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:rds/instance:Instance",
  "aws:rds/cluster:Cluster",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:elasticache/parameterGroup:ParameterGroup",
  "aws:elasticache/subnetGroup:SubnetGroup",
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:lb/listener:Listener",
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/addon:Addon",
  "aws:s3/bucket:Bucket",
  "aws:kms/key:Key",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:iam/role:Role",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:cloudfront/distribution:Distribution",
  "aws:ecr/repository:Repository",
]);

export const requiredTags: ResourceRule = {
  kind: "resource",
  name: "required-tags",
  description: `Taggable AWS resources must carry the tags ${REQUIRED_TAGS.join(", ")}.`,
  enforcementLevel: "advisory",
  check(r) {
    if (!r.type.startsWith("aws:")) return [];
    const tags = r.props.tags as Record<string, unknown> | undefined;
    if (tags === undefined && !TAGGABLE_TYPES.has(canonicalType(r.type))) return [];
    const missing = REQUIRED_TAGS.filter((t) => typeof tags?.[t] !== "string" || tags[t] === "");
    return missing.length ? [`missing tag(s) ${missing.join(", ")}`] : [];
  },
};
