/**
 * Which planned resources AWS bills, and for what: one rule per resource type, each turning a
 * resource's planned inputs into priced quantities (SKUs of vendor/aws/prices/snapshot.json).
 * Every AWS type of a plan is either here or in FREE_TYPES (with the reason it bills nothing by
 * itself): test/plan/cost-plan.test.ts enumerates the plans' types, so a new type must be
 * classified before it plans.
 */
import type { PlanResource } from "../checks/k8s";
import { DB_INSTANCE_CLASS_VCPUS, type DbInstanceClass } from "../../profile/instance-classes";
import type { Profile } from "../../profile/schema";

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

/** A monthly SKU every node carries (its root volume), `quantity` units per node. */
export interface PerNodeQuantity {
  sku: string;
  quantity: number;
}

/** The cluster autoscaler's range for a node group: how many nodes at least and at most, of which type. */
export interface NodeRange {
  min: number;
  max: number;
  /** SKUs of the group's instance types, in the group's order: the minimum is priced at the first (the on-demand priority), the maximum at the dearest. */
  skus: string[];
  /** Monthly SKUs each node adds whatever its type (EBS root volumes from the launch template). */
  perNode: PerNodeQuantity[];
}

export type UsageAssumptions = Profile["cost"]["assumptions"];

/** A planned resource as the cost rules see it. `urn` and `dependsOn` link it to the resources it waits for. */
export type CostResource = Pick<PlanResource, "type" | "name" | "parent" | "inputs"> &
  Partial<Pick<PlanResource, "urn" | "dependsOn">>;

export interface RuleContext {
  assumptions: UsageAssumptions;
  /** EKS bills a version past standard support at the extended rate. */
  eksExtendedSupport: (version: string) => boolean;
  /** How many resources of each type the plan has (usage assumptions are shared among them). */
  countOf: (type: string) => number;
  /** The planned resources of `type` this one waits for (its input dependencies): a node group's launch template, a replica's source. */
  dependencies: (type: string) => CostResource[];
  /** The planned resources of `type` that wait for this one: a proxy's targets. */
  dependents: (type: string) => CostResource[];
  /** The planned resources of `type` under the same component. */
  siblings: (type: string) => CostResource[];
  /** All planned resources (a proxy target names both its proxy and its instance). */
  resources: readonly CostResource[];
}

export interface Billing {
  quantities: Quantity[];
  nodes?: NodeRange;
}

type Rule = (inputs: Record<string, unknown>, ctx: RuleContext) => Billing;

export const HOURS_PER_MONTH_FOR_USAGE = 730;

const num = (v: unknown, fallback = 0): number =>
  typeof v === "number" ? v : typeof v === "string" && v !== "" && Number.isFinite(Number(v)) ? Number(v) : fallback;
const flag = (v: unknown): boolean => v === true || v === "true";
const share = (total: number, n: number) => (n > 0 ? total / n : 0);
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});

export const RDS_INSTANCE = "aws:rds/instance:Instance";
export const RDS_PROXY = "aws:rds/proxy:Proxy";
export const RDS_PROXY_TARGET = "aws:rds/proxyTarget:ProxyTarget";
export const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
export const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
export const SERVERLESS_CACHE = "aws:elasticache/serverlessCache:ServerlessCache";
export const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
export const FLOW_LOG = "aws:ec2/flowLog:FlowLog";

/** The types whose cost is the data tier (the dollars-per-request report shares it among the services). */
export const DATA_TIER_TYPES: ReadonlySet<string> = new Set([RDS_INSTANCE, RDS_PROXY, REPLICATION_GROUP, SERVERLESS_CACHE]);

/**
 * Nodes a replication group runs. Cluster mode (numNodeGroups set): every shard has a primary
 * and its replicas, numNodeGroups × (1 + replicasPerNodeGroup). Otherwise: numCacheClusters
 * (primary + replicas), 1 when unset (AWS's default).
 */
export function replicationGroupNodes(i: Record<string, unknown>): { nodes: number; shape: string } {
  if (i.numNodeGroups !== undefined) {
    const shards = num(i.numNodeGroups, 1);
    const replicas = num(i.replicasPerNodeGroup, 0);
    return { nodes: shards * (1 + replicas), shape: `${shards} shard(s) × (1 primary + ${replicas} replica(s))` };
  }
  const nodes = num(i.numCacheClusters, 1);
  return { nodes, shape: `${nodes} node(s)` };
}

/** ElastiCache's engine as priced: Valkey nodes and serverless caches bill lower than Redis OSS. */
function cacheEngine(i: Record<string, unknown>): string {
  return String(i.engine ?? "redis").toLowerCase();
}

/**
 * Serverless caches meter at least this much data (AWS: 1 GB for Redis OSS and Memcached,
 * 100 MB for Valkey; https://aws.amazon.com/elasticache/pricing/, "Minimum metered data stored").
 */
export const SERVERLESS_MIN_GB: Readonly<Record<string, number>> = { redis: 1, memcached: 1, valkey: 0.1 };

/** RDS Proxy bills per vCPU-hour of each instance it fronts, with a minimum of 2 vCPUs (AWS RDS Proxy pricing). */
export const RDS_PROXY_MIN_VCPUS = 2;

/** vCPUs an RDS Proxy bills for one target instance of `vcpus` vCPUs: never fewer than the minimum. */
export function proxyBilledVcpus(vcpus: number): number {
  return Math.max(RDS_PROXY_MIN_VCPUS, vcpus);
}

/** The instances a proxy fronts: those its ProxyTargets name; without a target, the writers of its component. */
function proxyTargets(ctx: RuleContext): CostResource[] {
  const targets = ctx.dependents(RDS_PROXY_TARGET);
  const named = targets.flatMap((t) =>
    ctx.resources.filter((r) => r.type === RDS_INSTANCE && r.urn !== undefined && (t.dependsOn ?? []).includes(r.urn)),
  );
  if (named.length > 0) return [...new Set(named)];
  return ctx.siblings(RDS_INSTANCE).filter((r) => r.inputs.replicateSourceDb === undefined);
}

export const BILLABLE_RULES: Record<string, Rule> = {
  "aws:eks/cluster:Cluster": (i, ctx) => {
    const extended = ctx.eksExtendedSupport(String(i.version ?? ""));
    const sku = extended ? "eks.cluster.extendedSupport" : "eks.cluster.standardSupport";
    return {
      quantities: [{ sku, quantity: 1, basis: "hourly", what: `control plane (${extended ? "extended" : "standard"} support)` }],
    };
  },
  [NODE_GROUP]: (i, ctx) => {
    const scaling = rec(i.scalingConfig);
    const types = ((i.instanceTypes as string[] | undefined) ?? []).map((t) => `ec2.instance.${t}`);
    const min = num(scaling.minSize);
    // Each node boots from the group's launch template: its EBS volumes bill per node.
    const perNode: PerNodeQuantity[] = ctx.dependencies(LAUNCH_TEMPLATE).flatMap((lt) =>
      ((lt.inputs.blockDeviceMappings as { ebs?: Record<string, unknown> }[] | undefined) ?? []).map((m) => ({
        sku: `ebs.volume.${String(m.ebs?.volumeType ?? "gp2")}`,
        quantity: num(m.ebs?.volumeSize),
      })),
    );
    // The always-on part is the minimum; the autoscaler may add nodes up to the maximum.
    return {
      quantities: [
        {
          sku: types[0] ?? "ec2.instance.(none)",
          quantity: min,
          basis: "hourly",
          what: `${min} node(s) at the autoscaler minimum`,
        },
        ...perNode.map((v) => ({
          sku: v.sku,
          quantity: v.quantity * min,
          basis: "monthly" as const,
          what: `${v.quantity} GB root volume × ${min} node(s)`,
        })),
      ],
      nodes: { min, max: num(scaling.maxSize, min), skus: types, perNode },
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
  [RDS_INSTANCE]: (i, ctx) => {
    const copies = flag(i.multiAz) ? 2 : 1;
    const az = copies === 2 ? " (Multi-AZ: primary + standby)" : "";
    // A read replica is an instance billed like any other; its storage defaults to its source's.
    const source = i.replicateSourceDb !== undefined ? ctx.dependencies(RDS_INSTANCE)[0] : undefined;
    const role = i.replicateSourceDb !== undefined ? `read replica of ${source?.name ?? String(i.replicateSourceDb)}, ` : "";
    const gb = num(i.allocatedStorage, num(source?.inputs.allocatedStorage));
    const storageType = String(i.storageType ?? source?.inputs.storageType ?? "gp2");
    return {
      quantities: [
        {
          sku: `rds.postgres.${String(i.instanceClass)}`,
          quantity: copies,
          basis: "hourly",
          what: `${role}${copies} × ${String(i.instanceClass)}${az}`,
        },
        {
          sku: `rds.storage.${storageType}`,
          quantity: gb * copies,
          basis: "monthly",
          what: `${role}${gb} GB × ${copies}${az}`,
        },
      ],
    };
  },
  [RDS_PROXY]: (_i, ctx) => {
    const quantities = proxyTargets(ctx).map((t): Quantity => {
      const cls = String(t.inputs.instanceClass);
      const classVcpus = DB_INSTANCE_CLASS_VCPUS[cls as DbInstanceClass] as number | undefined;
      const vcpus = classVcpus === undefined ? undefined : proxyBilledVcpus(classVcpus);
      return vcpus === undefined
        ? { sku: `rds.proxy.vcpuHour (vCPUs of ${cls} unknown)`, quantity: 0, basis: "hourly", what: `fronting ${t.name}` }
        : {
            sku: "rds.proxy.vcpuHour",
            quantity: vcpus,
            basis: "hourly",
            what: `${vcpus} vCPU(s) of ${t.name} (${cls}; minimum ${RDS_PROXY_MIN_VCPUS})`,
          };
    });
    return { quantities };
  },
  [REPLICATION_GROUP]: (i) => {
    const { nodes, shape } = replicationGroupNodes(i);
    const engine = cacheEngine(i);
    return {
      quantities: [
        {
          sku: `elasticache.${engine}.${String(i.nodeType)}`,
          quantity: nodes,
          basis: "hourly",
          what: `${shape} × ${String(i.nodeType)} (${engine})`,
        },
      ],
    };
  },
  [SERVERLESS_CACHE]: (i, ctx) => {
    const engine = cacheEngine(i);
    const limits = rec(i.cacheUsageLimits);
    // AWS meters the engine's minimum, and a configured minimum is billed whether used or not.
    const floorGb = Math.max(SERVERLESS_MIN_GB[engine] ?? 0, num(rec(limits.dataStorage).minimum));
    const gb = Math.max(share(ctx.assumptions.cacheGbStored, ctx.countOf(SERVERLESS_CACHE)), floorGb);
    const assumedEcpu = share(
      ctx.assumptions.requestsPerMonth * ctx.assumptions.cacheEcpuPerRequest,
      ctx.countOf(SERVERLESS_CACHE),
    );
    const floorEcpu = num(rec(limits.ecpuPerSecond).minimum) * 3600 * HOURS_PER_MONTH_FOR_USAGE;
    const ecpu = Math.max(assumedEcpu, floorEcpu);
    return {
      quantities: [
        {
          sku: `elasticache.serverless.${engine}.gbHour`,
          quantity: gb * HOURS_PER_MONTH_FOR_USAGE,
          basis: "usage",
          what: `${round(gb)} GB × 730 h (cost.assumptions.cacheGbStored; at least ${floorGb} GB metered)`,
        },
        {
          sku: `elasticache.serverless.${engine}.ecpuMillion`,
          quantity: ecpu / 1e6,
          basis: "usage",
          what: `${round(ecpu / 1e6)} million ECPUs (requestsPerMonth × cost.assumptions.cacheEcpuPerRequest)`,
        },
      ],
    };
  },
  "aws:kms/key:Key": () => ({
    quantities: [{ sku: "kms.key.month", quantity: 1, basis: "monthly", what: "customer-managed key" }],
  }),
  "aws:secretsmanager/secret:Secret": () => ({
    quantities: [{ sku: "secretsmanager.secret.month", quantity: 1, basis: "monthly", what: "secret" }],
  }),
  [LOG_GROUP]: (_i, ctx) => {
    const gb = share(ctx.assumptions.logGbPerMonth, ctx.countOf(LOG_GROUP));
    // A flow log's destination: the flow log bills the delivery (vended-log ingestion); the group bills storage.
    const flowLogDestination = ctx.dependents(FLOW_LOG).length > 0;
    return {
      quantities: [
        ...(flowLogDestination
          ? []
          : [
              {
                sku: "cloudwatch.logs.ingestedGb",
                quantity: gb,
                basis: "usage" as const,
                what: `${round(gb)} GB ingested (cost.assumptions.logGbPerMonth, shared)`,
              },
            ]),
        { sku: "cloudwatch.logs.storedGbMonth", quantity: gb, basis: "usage", what: `${round(gb)} GB stored (one month's logs)` },
      ],
    };
  },
  // Flow logs are vended logs: AWS bills their delivery per GB, at a rate that depends on the destination.
  [FLOW_LOG]: (i, ctx) => {
    const destination = String(i.logDestinationType ?? "cloud-watch-logs");
    const gb = share(ctx.assumptions.logGbPerMonth, ctx.countOf(LOG_GROUP));
    const sku = destination === "cloud-watch-logs" ? "vpc.flowLogs.vendedLogsGb" : `vpc.flowLogs.${destination}.deliveredGb`;
    return {
      quantities: [
        {
          sku,
          quantity: gb,
          basis: "usage",
          what: `${round(gb)} GB delivered to ${destination} (a log group's share of cost.assumptions.logGbPerMonth)`,
        },
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
  "aws:s3/bucket:Bucket": (_i, ctx) => {
    const n = ctx.countOf("aws:s3/bucket:Bucket");
    const gb = share(ctx.assumptions.s3GbStored, n);
    const puts = share(ctx.assumptions.s3PutRequestsPerMonth, n);
    return {
      quantities: [
        {
          sku: "s3.storage.standard",
          quantity: gb,
          basis: "usage",
          what: `${round(gb)} GB stored (cost.assumptions.s3GbStored, shared)`,
        },
        {
          sku: "s3.requests.tier1",
          quantity: puts / 1000,
          basis: "usage",
          what: `${round(puts)} PUT/LIST requests (cost.assumptions.s3PutRequestsPerMonth, shared)`,
        },
      ],
    };
  },
  "aws:ecr/repository:Repository": (_i, ctx) => {
    const gb = share(ctx.assumptions.ecrGbStored, ctx.countOf("aws:ecr/repository:Repository"));
    return {
      quantities: [
        {
          sku: "ecr.storage",
          quantity: gb,
          basis: "usage",
          what: `${round(gb)} GB of images (cost.assumptions.ecrGbStored, shared)`,
        },
      ],
    };
  },
  "aws:codebuild/project:Project": (i, ctx) => {
    const env = rec(i.environment);
    // BUILD_GENERAL1_MEDIUM on LINUX_CONTAINER -> codebuild.linux.general1.medium
    const os = String(env.type ?? "LINUX_CONTAINER")
      .replace(/_CONTAINER$/, "")
      .toLowerCase();
    const size = String(env.computeType ?? "BUILD_GENERAL1_SMALL")
      .replace(/^BUILD_/, "")
      .replace("_", ".")
      .toLowerCase();
    const minutes = share(ctx.assumptions.ciBuildMinutesPerMonth, ctx.countOf("aws:codebuild/project:Project"));
    return {
      quantities: [
        {
          sku: `codebuild.${os}.${size}`,
          quantity: minutes,
          basis: "usage",
          what: `${round(minutes)} build minutes (cost.assumptions.ciBuildMinutesPerMonth)`,
        },
      ],
    };
  },
};

/**
 * AWS types the stacks plan that AWS does not bill by themselves, with the reason: configuration,
 * identity and routing are free; a few bill through another resource, which its rule prices.
 */
export const FREE_TYPE_REASONS: Readonly<Record<string, string>> = {
  "aws:cloudfront/cachePolicy:CachePolicy": "configuration of the distribution (the distribution bills requests and GB)",
  "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": "configuration of the distribution",
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "configuration of the distribution",
  "aws:codebuild/webhook:Webhook": "configuration of the CodeBuild project (the project bills build minutes)",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security groups are free",
  "aws:ec2/internetGateway:InternetGateway": "no charge for the gateway (data transfer bills on the resources that send it)",
  "aws:ec2/launchTemplate:LaunchTemplate": "a template: its EBS volumes bill per node, on the node group that launches from it",
  "aws:ec2/route:Route": "routing is free",
  "aws:ec2/routeTable:RouteTable": "routing is free",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "routing is free",
  "aws:ec2/securityGroup:SecurityGroup": "security groups are free",
  "aws:ec2/subnet:Subnet": "subnets are free",
  "aws:ec2/vpc:Vpc": "VPCs are free (NAT gateways, public IPv4 and flow logs bill separately)",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": "configuration of the repository (it lowers the stored GB)",
  "aws:eks/accessEntry:AccessEntry": "EKS access management is free",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "EKS access management is free",
  "aws:eks/addon:Addon": "EKS add-ons are free; their pods run on the nodes",
  "aws:elasticache/parameterGroup:ParameterGroup": "configuration of the cache",
  "aws:elasticache/subnetGroup:SubnetGroup": "configuration of the cache",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "IAM is free",
  "aws:iam/policy:Policy": "IAM is free",
  "aws:iam/role:Role": "IAM is free",
  "aws:iam/rolePolicy:RolePolicy": "IAM is free",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
  "aws:lb/listener:Listener": "part of the load balancer (it bills hours and LCUs)",
  "aws:lb/listenerRule:ListenerRule": "part of the load balancer (rule evaluations count in its LCUs)",
  "aws:lb/targetGroup:TargetGroup": "part of the load balancer",
  "aws:rds/parameterGroup:ParameterGroup": "configuration of the database",
  "aws:rds/subnetGroup:SubnetGroup": "configuration of the database",
  "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
    "configuration of the proxy (the proxy bills per vCPU of its targets)",
  [RDS_PROXY_TARGET]: "registers an instance with the proxy, which bills for its vCPUs",
  "aws:rds/proxyEndpoint:ProxyEndpoint": "part of the proxy (the proxy bills per vCPU of its targets)",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "configuration of the bucket (it lowers the stored GB)",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "configuration of the bucket",
  "aws:s3/bucketPolicy:BucketPolicy": "configuration of the bucket",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "configuration of the bucket",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "configuration of the bucket",
  "aws:secretsmanager/secretVersion:SecretVersion": "a version of a secret (the secret bills per month)",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "security groups are free",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "security groups are free",
};

/** The free types, for lookups. */
export const FREE_TYPES: ReadonlySet<string> = new Set(Object.keys(FREE_TYPE_REASONS));

/** Whether the estimate must account for a planned resource (AWS types only; Kubernetes objects run on the nodes). */
export function isAwsResource(r: Pick<PlanResource, "type">): boolean {
  return r.type.startsWith("aws:");
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
