/**
 * Which planned resources AWS bills, and for what: one rule per resource type, each turning a
 * resource's planned inputs into priced quantities (SKUs of vendor/aws/prices/snapshot.json).
 * Every AWS type of a plan is either here or in FREE_TYPES: test/tools/cost enumerates the plans'
 * types, so a new type must be classified before it plans.
 */
import type { PlanResource } from "../checks/k8s";

/** How a quantity is billed in a month. */
export type Basis =
  /** `quantity` units of an hourly SKU, billed every hour of the month. */
  | "hourly"
  /** `quantity` units of a monthly SKU (GB-month, key-month). */
  | "monthly"
  /** `quantity` units a month, from a usage assumption (GB, requests). */
  | "usage";

export interface Quantity {
  sku: string;
  quantity: number;
  basis: Basis;
  /** What the quantity is, for the table ("2 × instance (Multi-AZ)", "100 GB out (assumed)"). */
  what: string;
}

/** The cluster autoscaler's range for a node group: how many nodes at least and at most, of which type. */
export interface NodeRange {
  min: number;
  max: number;
  /** SKUs of the group's instance types, in the group's order: the minimum is priced at the first (the on-demand priority), the maximum at the dearest. */
  skus: string[];
}

export interface UsageAssumptions {
  requestsPerMonth: number;
  gbOutPerMonth: number;
  logGbPerMonth: number;
  natGbPerMonth: number;
}

export interface RuleContext {
  assumptions: UsageAssumptions;
  /** EKS bills a version past standard support at the extended rate. */
  eksExtendedSupport: (version: string) => boolean;
  /** How many resources of each type the plan has (usage assumptions are shared among them). */
  countOf: (type: string) => number;
}

export interface Billing {
  quantities: Quantity[];
  nodes?: NodeRange;
}

type Rule = (inputs: Record<string, unknown>, ctx: RuleContext) => Billing;

const num = (v: unknown, fallback = 0): number =>
  typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : fallback;
const share = (total: number, n: number) => (n > 0 ? total / n : 0);

export const BILLABLE_RULES: Record<string, Rule> = {
  "aws:eks/cluster:Cluster": (i, ctx) => {
    const extended = ctx.eksExtendedSupport(String(i.version ?? ""));
    const sku = extended ? "eks.cluster.extendedSupport" : "eks.cluster.standardSupport";
    return {
      quantities: [{ sku, quantity: 1, basis: "hourly", what: `control plane (${extended ? "extended" : "standard"} support)` }],
    };
  },
  "aws:eks/nodeGroup:NodeGroup": (i) => {
    const scaling = (i.scalingConfig ?? {}) as Record<string, unknown>;
    const types = ((i.instanceTypes as string[] | undefined) ?? []).map((t) => `ec2.instance.${t}`);
    const min = num(scaling.minSize);
    // The always-on part is the minimum; the autoscaler may add nodes up to the maximum.
    return {
      quantities: [
        {
          sku: types[0] ?? "ec2.instance.(none)",
          quantity: min,
          basis: "hourly",
          what: `${min} node(s) at the autoscaler minimum`,
        },
      ],
      nodes: { min, max: num(scaling.maxSize, min), skus: types },
    };
  },
  "aws:ec2/launchTemplate:LaunchTemplate": (i) => {
    const mappings = (i.blockDeviceMappings as { ebs?: Record<string, unknown> }[] | undefined) ?? [];
    return {
      quantities: mappings.map((m) => ({
        sku: `ebs.volume.${String(m.ebs?.volumeType ?? "gp2")}`,
        quantity: num(m.ebs?.volumeSize),
        basis: "monthly" as const,
        what: `${num(m.ebs?.volumeSize)} GB root volume per node`,
      })),
    };
  },
  "aws:ec2/natGateway:NatGateway": (_i, ctx) => {
    const gb = share(ctx.assumptions.natGbPerMonth, ctx.countOf("aws:ec2/natGateway:NatGateway"));
    return {
      quantities: [
        { sku: "vpc.natGateway.hour", quantity: 1, basis: "hourly", what: "gateway" },
        {
          sku: "vpc.natGateway.gbProcessed",
          quantity: gb,
          basis: "usage",
          what: `${round(gb)} GB processed (cost.assumptions.natGbPerMonth, shared)`,
        },
      ],
    };
  },
  "aws:ec2/eip:Eip": () => ({
    quantities: [{ sku: "vpc.publicIpv4.hour", quantity: 1, basis: "hourly", what: "public IPv4 address" }],
  }),
  "aws:lb/loadBalancer:LoadBalancer": (i, ctx) => {
    const kind = String(i.loadBalancerType ?? "application");
    // One LCU-hour covers 1 GB processed in that hour: spread evenly, a month's GB are its LCU-hours.
    const lcuHours = ctx.assumptions.gbOutPerMonth;
    return {
      quantities: [
        { sku: `elb.${kind}.hour`, quantity: 1, basis: "hourly", what: "load balancer" },
        {
          sku: `elb.${kind}.lcuHour`,
          quantity: lcuHours,
          basis: "usage",
          what: `${round(lcuHours)} LCU-hours (1 per GB of cost.assumptions.gbOutPerMonth)`,
        },
      ],
    };
  },
  "aws:rds/instance:Instance": (i) => {
    const copies = i.multiAz === true || i.multiAz === "true" ? 2 : 1;
    const az = copies === 2 ? " (Multi-AZ: primary + standby)" : "";
    const gb = num(i.allocatedStorage);
    return {
      quantities: [
        {
          sku: `rds.postgres.${String(i.instanceClass)}`,
          quantity: copies,
          basis: "hourly",
          what: `${copies} × ${String(i.instanceClass)}${az}`,
        },
        {
          sku: `rds.storage.${String(i.storageType ?? "gp2")}`,
          quantity: gb * copies,
          basis: "monthly",
          what: `${gb} GB × ${copies}${az}`,
        },
      ],
    };
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": (i) => {
    const nodes = num(i.numCacheClusters, 1);
    return {
      quantities: [
        { sku: `elasticache.${String(i.nodeType)}`, quantity: nodes, basis: "hourly", what: `${nodes} × ${String(i.nodeType)}` },
      ],
    };
  },
  "aws:kms/key:Key": () => ({
    quantities: [{ sku: "kms.key.month", quantity: 1, basis: "monthly", what: "customer-managed key" }],
  }),
  "aws:cloudwatch/logGroup:LogGroup": (_i, ctx) => {
    const gb = share(ctx.assumptions.logGbPerMonth, ctx.countOf("aws:cloudwatch/logGroup:LogGroup"));
    return {
      quantities: [
        {
          sku: "cloudwatch.logs.ingestedGb",
          quantity: gb,
          basis: "usage",
          what: `${round(gb)} GB ingested (cost.assumptions.logGbPerMonth, shared)`,
        },
        { sku: "cloudwatch.logs.storedGbMonth", quantity: gb, basis: "usage", what: `${round(gb)} GB stored (one month's logs)` },
      ],
    };
  },
  "aws:cloudfront/distribution:Distribution": (_i, ctx) => {
    const { requestsPerMonth, gbOutPerMonth } = ctx.assumptions;
    return {
      quantities: [
        {
          sku: "cloudfront.httpsRequests.10k",
          quantity: requestsPerMonth / 10_000,
          basis: "usage",
          what: `${requestsPerMonth} requests (cost.assumptions.requestsPerMonth)`,
        },
        {
          sku: "cloudfront.dataTransferOut.gb",
          quantity: gbOutPerMonth,
          basis: "usage",
          what: `${gbOutPerMonth} GB out (cost.assumptions.gbOutPerMonth)`,
        },
      ],
    };
  },
  // Billed, but by what they store or run, which the plan does not know: unpriced until the snapshot has a price.
  "aws:s3/bucket:Bucket": () => ({
    quantities: [{ sku: "s3.storage.standard", quantity: 0, basis: "usage", what: "stored GB (ALB access logs)" }],
  }),
  "aws:ecr/repository:Repository": () => ({
    quantities: [{ sku: "ecr.storage", quantity: 0, basis: "usage", what: "stored image GB" }],
  }),
  "aws:codebuild/project:Project": () => ({
    quantities: [{ sku: "codebuild.buildMinutes", quantity: 0, basis: "usage", what: "runner build minutes" }],
  }),
  "aws:ec2/flowLog:FlowLog": () => ({
    quantities: [{ sku: "vpc.flowLogs.vendedLogsGb", quantity: 0, basis: "usage", what: "flow-log GB delivered" }],
  }),
};

/** AWS types the stacks plan that AWS does not bill by themselves (configuration, identity, routing). */
export const FREE_TYPES = new Set([
  "aws:cloudfront/cachePolicy:CachePolicy",
  "aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  "aws:codebuild/webhook:Webhook",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/route:Route",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/vpc:Vpc",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:eks/accessEntry:AccessEntry",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  "aws:eks/addon:Addon",
  "aws:elasticache/parameterGroup:ParameterGroup",
  "aws:elasticache/subnetGroup:SubnetGroup",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:lb/listener:Listener",
  "aws:lb/listenerRule:ListenerRule",
  "aws:lb/targetGroup:TargetGroup",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
]);

/** Whether the estimate must account for a planned resource (AWS types only; Kubernetes objects run on the nodes). */
export function isAwsResource(r: Pick<PlanResource, "type">): boolean {
  return r.type.startsWith("aws:");
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
