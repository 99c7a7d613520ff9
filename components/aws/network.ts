import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgsError } from "../../profile/errors";
import { logsKmsKeyPolicy, policyDocument, serviceAssumeRolePolicy } from "./iam";
import { natGatewayCount, natIndexForAz, planSubnets, type NatGatewayMode } from "./subnets";
import { mergeTags } from "../../profile/tags";

/**
 * Zone ids where EKS does not accept cluster subnets (EKS user guide, "Subnet requirements and
 * considerations": https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
 */
export const EKS_UNSUPPORTED_ZONE_IDS = ["use1-az3", "usw1-az2", "cac1-az3"] as const;

export interface NetworkArgs {
  /**
   * IPv4 range of the VPC, /16 to /24.
   * @default "10.0.0.0/16"
   */
  cidrBlock?: string;
  /**
   * Number of availability zones (2 or 3); one public and one private subnet in each.
   * @default 2
   */
  azCount?: number;
  /**
   * "single": one NAT gateway for all AZs (cheap, dev). "perAz": one per AZ, so an AZ outage
   * does not cut the others' egress (prod).
   * @default "single"
   */
  natGateways?: NatGatewayMode;
  /**
   * Record all VPC traffic to a KMS-encrypted CloudWatch log group.
   * @default false
   */
  flowLogs?: boolean;
  /**
   * Retention of the flow log group, in days.
   * @default 90
   */
  flowLogRetentionDays?: number;
  /**
   * EKS cluster name: tags the subnets `kubernetes.io/cluster/<name>=shared` so the AWS Load
   * Balancer Controller can discover them. Omit when no cluster uses this VPC.
   * @default undefined (no cluster tag)
   */
  clusterName?: string;
  /**
   * Prefix of the flow log group's name: pass the stack scope so a second stack never collides.
   * @default the component name
   */
  physicalName?: string;
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/**
 * A VPC with public subnets (ALB, NAT gateways) and private subnets (nodes, Redis, Postgres)
 * across `azCount` AZs. Private subnets reach the internet only through NAT.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly availabilityZones: pulumi.Output<string[]>;
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  public readonly natGatewayIds: pulumi.Output<string[]>;
  /** Undefined when `flowLogs` is off. */
  public readonly flowLogGroupName: pulumi.Output<string> | undefined;

  constructor(name: string, args: NetworkArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:Network", name, {}, opts);
    const cidrBlock = args.cidrBlock ?? "10.0.0.0/16";
    const azCount = args.azCount ?? 2;
    const natMode = args.natGateways ?? "single";
    const plan = planSubnets(cidrBlock, azCount);
    const tags = mergeTags(args.tags);
    const clusterTag: Record<string, string> = args.clusterName
      ? { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" }
      : {};
    const parent = { parent: this };

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: `${name}-vpc` } },
      parent,
    );
    // Strip every rule from the VPC's default security group, so nothing can use it by accident.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags }, parent);

    // Regular zones only: Local/Wavelength Zones need an opt-in and lack most services, and EKS
    // refuses control-plane subnets in a few zone ids (zone ids, not names: names differ per account).
    const zones = aws.getAvailabilityZonesOutput(
      {
        state: "available",
        excludeZoneIds: [...EKS_UNSUPPORTED_ZONE_IDS],
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
      },
      parent,
    );
    const azName = (i: number) =>
      zones.names.apply((names) => {
        if (names.length < azCount)
          throw new ComponentArgsError(
            "NetworkArgs.azCount",
            `${azCount} AZs requested but the region has only ${names.length} available; lower azCount`,
          );
        return names[i]!;
      });

    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, parent);
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { vpcId: vpc.id, tags: { ...tags, Name: `${name}-public` } },
      parent,
    );
    new aws.ec2.Route(
      `${name}-public-default`,
      { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      parent,
    );

    const publicSubnets = plan.public.map((cidr, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: azName(i),
          // Only load balancers and NAT gateways live here; they get their own public IPs.
          mapPublicIpOnLaunch: false,
          tags: { ...tags, ...clusterTag, Name: `${name}-public-${i}`, "kubernetes.io/role/elb": "1", tier: "public" },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRt.id }, parent);
      return subnet;
    });

    const nats = [...Array(natGatewayCount(natMode, azCount)).keys()].map((i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags }, parent);
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        { allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags: { ...tags, Name: `${name}-nat-${i}` } },
        { parent: this, dependsOn: [igw] },
      );
    });

    const privateSubnets = plan.private.map((cidr, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: azName(i),
          mapPublicIpOnLaunch: false,
          tags: { ...tags, ...clusterTag, Name: `${name}-private-${i}`, "kubernetes.io/role/internal-elb": "1", tier: "private" },
        },
        parent,
      );
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${i}`,
        { vpcId: vpc.id, tags: { ...tags, Name: `${name}-private-${i}` } },
        parent,
      );
      new aws.ec2.Route(
        `${name}-private-default-${i}`,
        { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nats[natIndexForAz(natMode, i)]!.id },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: rt.id }, parent);
      return subnet;
    });

    this.flowLogGroupName = args.flowLogs
      ? this.#flowLogs(name, args.physicalName ?? name, vpc, args.flowLogRetentionDays ?? 90, tags)
      : undefined;
    this.vpcId = vpc.id;
    this.cidrBlock = cidrBlock;
    this.availabilityZones = pulumi.all([...Array(azCount).keys()].map(azName));
    this.publicSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
    this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
    this.natGatewayIds = pulumi.all(nats.map((n) => n.id));
    this.registerOutputs({
      vpcId: this.vpcId,
      cidrBlock,
      availabilityZones: this.availabilityZones,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      natGatewayIds: this.natGatewayIds,
      flowLogGroupName: this.flowLogGroupName,
    });
  }

  /** Flow logs -> CloudWatch Logs, encrypted with a dedicated, rotated KMS key. */
  #flowLogs(
    name: string,
    physicalName: string,
    vpc: aws.ec2.Vpc,
    retentionDays: number,
    tags: Record<string, string>,
  ): pulumi.Output<string> {
    const parent = { parent: this };
    const account = aws.getCallerIdentityOutput({}, parent);
    const region = aws.getRegionOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    const key = new aws.kms.Key(
      `${name}-flow-logs-key`,
      {
        description: `${name} VPC flow logs`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([account.accountId, region.region, partition.partition])
          .apply(([a, r, p]) => JSON.stringify(logsKmsKeyPolicy(a, r, p))),
        tags,
      },
      parent,
    );
    const group = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { name: `/uaip/${physicalName}/vpc-flow-logs`, retentionInDays: retentionDays, kmsKeyId: key.arn, tags },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: account.accountId.apply((a) =>
          JSON.stringify(serviceAssumeRolePolicy("vpc-flow-logs.amazonaws.com", { StringEquals: { "aws:SourceAccount": a } })),
        ),
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.id,
        // Write access to this one log group only.
        policy: group.arn.apply((arn) =>
          JSON.stringify(
            policyDocument([
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
            ]),
          ),
        ),
      },
      parent,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: group.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
        tags,
      },
      parent,
    );
    return group.name;
  }
}
