import type { PlatformMocks } from "../../../tools/mocks";
import { promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import { cidrSubnet, natGatewayCount, natIndexForAz, parseCidr, planSubnets } from "../../../components/aws/subnets";
import { ComponentArgsError } from "../../../profile/errors";

describe("subnet math (pure)", () => {
  it.each([
    ["10.0.0.1/16", /host bits are set; the network is 10\.0\.0\.0\/16/],
    ["10.0.0.0/33", /prefix length must be 0\.\.32/],
    ["010.0.0.0/16", /without leading zeros/],
    ["10.0.0/16", /IPv4 CIDR like/],
  ])("parseCidr refuses %s by the argument's name, with the fix", (cidr, reason) => {
    expect(() => parseCidr(cidr, "NetworkArgs.cidrBlock")).toThrow(expect.objectContaining({ key: "NetworkArgs.cidrBlock" }));
    expect(() => parseCidr(cidr, "NetworkArgs.cidrBlock")).toThrow(reason);
  });

  it.each([
    ["10.0.0.0/16", 2, 0, "10.0.0.0/18"],
    ["10.0.0.0/16", 2, 3, "10.0.192.0/18"],
    ["10.0.0.0/16", 6, 48, "10.0.192.0/22"],
    ["10.0.0.0/16", 6, 50, "10.0.200.0/22"],
    ["10.20.0.0/20", 6, 49, "10.20.12.64/26"],
  ])("cidrSubnet(%s, %i, %i) = %s", (cidr, bits, n, expected) => {
    expect(cidrSubnet(cidr, bits, n)).toBe(expected);
  });

  it.each([
    ["10.0.0.0/16", 2, ["10.0.0.0/18", "10.0.64.0/18"], ["10.0.192.0/20", "10.0.208.0/20"]],
    ["10.0.0.0/16", 3, ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"], ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"]],
    ["172.16.0.0/20", 2, ["172.16.0.0/22", "172.16.4.0/22"], ["172.16.12.0/24", "172.16.13.0/24"]],
    [
      "192.168.7.0/24",
      3,
      ["192.168.7.0/26", "192.168.7.64/26", "192.168.7.128/26"],
      ["192.168.7.192/28", "192.168.7.208/28", "192.168.7.224/28"],
    ],
  ])("planSubnets(%s, %i) gives disjoint private and public subnets", (cidr, azs, priv, pub) => {
    const plan = planSubnets(cidr, azs);
    expect(plan.private).toEqual(priv);
    expect(plan.public).toEqual(pub);
    // No two subnets overlap and all lie inside the VPC.
    const vpc = parseCidr(cidr);
    const ranges = [...plan.private, ...plan.public].map((c) => {
      const { base, prefix } = parseCidr(c);
      return [base, base + 2 ** (32 - prefix)] as const;
    });
    for (const [a, b] of ranges) {
      expect(a).toBeGreaterThanOrEqual(vpc.base);
      expect(b).toBeLessThanOrEqual(vpc.base + 2 ** (32 - vpc.prefix));
    }
    ranges.forEach(([a1, b1], i) => ranges.forEach(([a2, b2], j) => i !== j && expect(a1 < b2 && a2 < b1).toBe(false)));
  });

  it.each([
    ["10.0.0.0/16", 1, "NetworkArgs.azCount"],
    ["10.0.0.0/16", 4, "NetworkArgs.azCount"],
    ["10.0.0.0/25", 2, "NetworkArgs.cidrBlock"],
    ["10.0.0.0/15", 2, "NetworkArgs.cidrBlock"],
    ["10.0.0.1/16", 2, "NetworkArgs.cidrBlock"],
    ["10.0.0/16", 2, "NetworkArgs.cidrBlock"],
  ])("planSubnets(%s, %i) throws naming %s", (cidr, azs, key) => {
    expect(() => planSubnets(cidr, azs)).toThrow(expect.objectContaining({ key, code: ComponentArgsError.CODE }));
  });

  it.each([
    ["single", 2, 1, [0, 0]],
    ["single", 3, 1, [0, 0, 0]],
    ["perAz", 2, 2, [0, 1]],
    ["perAz", 3, 3, [0, 1, 2]],
  ] as const)("NAT %s over %i AZs: %i gateways, routes %j", (mode, azs, count, routes) => {
    expect(natGatewayCount(mode, azs)).toBe(count);
    expect([...Array(azs).keys()].map((i) => natIndexForAz(mode, i))).toEqual(routes);
  });
});

describe("Network component (mocks)", () => {
  let mocks: PlatformMocks;
  let mod: typeof import("../../../components/aws/network");
  let dev: InstanceType<typeof mod.Network>;
  let prod: InstanceType<typeof mod.Network>;

  beforeAll(async () => {
    mocks = setupMocks();
    mod = await import("../../../components/aws/network");
    dev = new mod.Network("dev", { azCount: 2, natGateways: "single", flowLogs: false, clusterName: "uaip-dev" });
    prod = new mod.Network("prod", {
      azCount: 3,
      natGateways: "perAz",
      flowLogs: true,
      cidrBlock: "10.1.0.0/16",
      tags: { env: "prod", project: "override" },
    });
    await Promise.all([
      promiseOf(dev.privateSubnetIds),
      promiseOf(prod.privateSubnetIds),
      promiseOf(prod.natGatewayIds),
      promiseOf(prod.flowLogGroupName!),
    ]);
  });

  const of = (type: string, prefix: string) => resourcesOfType(mocks, type).filter((r) => r.name.startsWith(`${prefix}-`));

  it.each([
    ["dev", 2, 1, 0],
    ["prod", 3, 3, 1],
  ])("%s: %i AZs, %i NAT gateways, %i flow logs", (env, azs, nats, flowLogs) => {
    const subnets = of("aws:ec2/subnet:Subnet", env);
    expect(subnets.filter((s) => s.inputs.tags && (s.inputs.tags as Record<string, string>).tier === "private")).toHaveLength(
      azs,
    );
    expect(subnets.filter((s) => (s.inputs.tags as Record<string, string>).tier === "public")).toHaveLength(azs);
    expect(of("aws:ec2/natGateway:NatGateway", env)).toHaveLength(nats);
    expect(of("aws:ec2/flowLog:FlowLog", env)).toHaveLength(flowLogs);
    expect(of("aws:cloudwatch/logGroup:LogGroup", env)).toHaveLength(flowLogs);
  });

  it("puts each subnet in its own AZ, public subnets without auto-assigned public IPs", () => {
    const subnets = of("aws:ec2/subnet:Subnet", "prod");
    // The region's list (tools/mocks.ts REGION_ZONES) has a Local Zone third and use1-az3 (us-east-1c)
    // fourth: the zone query must skip both (opt-in-not-required, EKS's unsupported zone ids).
    expect(subnets.filter((s) => s.name.includes("private")).map((s) => s.inputs.availabilityZone)).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1d",
    ]);
    expect(subnets.map((s) => s.inputs.mapPublicIpOnLaunch)).toEqual(subnets.map(() => false));
    expect(subnets.find((s) => s.name === "prod-private-2")!.inputs.cidrBlock).toBe("10.1.128.0/18");
  });

  it("routes every private AZ through its own NAT in perAz mode and through the one NAT in single mode", () => {
    const routes = (env: string) =>
      of("aws:ec2/route:Route", env)
        .filter((r) => r.name.includes("private-default"))
        .map((r) => r.inputs.natGatewayId);
    expect(routes("prod")).toEqual(["prod-nat-0-id", "prod-nat-1-id", "prod-nat-2-id"]);
    expect(routes("dev")).toEqual(["dev-nat-0-id", "dev-nat-0-id"]);
    const publicDefault = of("aws:ec2/route:Route", "dev").find((r) => r.name === "dev-public-default")!;
    expect(publicDefault.inputs).toMatchObject({ destinationCidrBlock: "0.0.0.0/0", gatewayId: "dev-igw-id" });
  });

  it("encrypts flow logs with a rotated KMS key the logs service may use, and scopes the role to the group", () => {
    const flow = of("aws:ec2/flowLog:FlowLog", "prod")[0]!;
    expect(flow.inputs).toMatchObject({ trafficType: "ALL", logDestinationType: "cloud-watch-logs", vpcId: "prod-vpc-id" });
    const group = of("aws:cloudwatch/logGroup:LogGroup", "prod")[0]!;
    expect(group.inputs.kmsKeyId).toMatch(/^arn:aws:kms:/);
    expect(group.inputs.retentionInDays).toBe(90);
    const key = of("aws:kms/key:Key", "prod")[0]!;
    expect(key.inputs.enableKeyRotation).toBe(true);
    const keyPolicy = JSON.parse(key.inputs.policy as string);
    expect(keyPolicy.Statement[1].Principal.Service).toBe("logs.us-east-1.amazonaws.com");
    const rolePolicy = JSON.parse(of("aws:iam/rolePolicy:RolePolicy", "prod")[0]!.inputs.policy as string);
    const groupArn = "arn:aws:cloudwatch:us-east-1:123456789012:prod-flow-logs"; // the mock ARN of the log group
    expect(rolePolicy.Statement[0].Resource).toEqual([groupArn, `${groupArn}:*`]);
    const trust = JSON.parse(of("aws:iam/role:Role", "prod")[0]!.inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Principal.Service).toBe("vpc-flow-logs.amazonaws.com");
  });

  it("tags subnets for load balancer discovery and merges tags with the caller winning", () => {
    const devPublic = of("aws:ec2/subnet:Subnet", "dev").find((s) => s.name === "dev-public-0")!.inputs.tags as Record<
      string,
      string
    >;
    expect(devPublic).toMatchObject({
      "kubernetes.io/role/elb": "1",
      "kubernetes.io/cluster/uaip-dev": "shared",
      project: "uaip",
    });
    const prodVpc = of("aws:ec2/vpc:Vpc", "prod")[0]!.inputs.tags as Record<string, string>;
    expect(prodVpc).toMatchObject({ env: "prod", project: "override", "managed-by": "pulumi" });
  });

  it("parents every child to the component", () => {
    const children = mocks.resources.filter((r) => r.name.startsWith("dev-") && r.custom);
    expect(children.length).toBeGreaterThan(10);
    for (const c of children) expect(c.parent).toMatch(/uaip:aws:Network::dev$/);
  });
});
