import type { PlatformMocks } from "../../../tools/mocks";
import { promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import { ANY_IPV4, ANY_IPV6, ruleName, securityGroupRules } from "../../../components/aws/security-groups";

const PORTS = { servicePorts: [3001, 3002, 3003], redisPort: 6379, postgresPort: 5432 };

describe("securityGroupRules (pure)", () => {
  const rules = securityGroupRules(PORTS);

  it("opens only 80/443 to the internet, only on the ALB, only inbound", () => {
    const open = rules.filter((r) => r.cidrIpv4 === ANY_IPV4 || r.cidrIpv6 === ANY_IPV6);
    expect(open.map((r) => `${r.group}:${r.direction}:${r.port}:${r.cidrIpv4 ?? r.cidrIpv6}`).sort()).toEqual(
      ["alb:ingress:443:0.0.0.0/0", "alb:ingress:443:::/0", "alb:ingress:80:0.0.0.0/0", "alb:ingress:80:::/0"].sort(),
    );
  });

  it.each([
    ["redis", 6379],
    ["database", 5432],
  ] as const)("%s accepts only port %i from the nodes and has no egress", (group, port) => {
    const own = rules.filter((r) => r.group === group);
    expect(own).toEqual([expect.objectContaining({ direction: "ingress", port, peer: "nodes" })]);
    expect(own[0]!.cidrIpv4).toBeUndefined();
  });

  it("lets the nodes accept the service ports from the ALB only", () => {
    const ingress = rules.filter((r) => r.group === "nodes" && r.direction === "ingress");
    expect(ingress.map((r) => [r.port, r.peer])).toEqual([
      [3001, "alb"],
      [3002, "alb"],
      [3003, "alb"],
    ]);
    const albOut = rules.filter((r) => r.group === "alb" && r.direction === "egress");
    expect(albOut.map((r) => [r.port, r.peer])).toEqual([
      [3001, "nodes"],
      [3002, "nodes"],
      [3003, "nodes"],
    ]);
  });

  it.each([80, 443] as const)(
    "with the CDN in front, only CloudFront's prefix list reaches the ALB, on port %i alone (the list weighs ~55 of 60 rules)",
    (port) => {
      const cdnRules = securityGroupRules({ ...PORTS, cloudfrontOnlyPort: port });
      expect(cdnRules.filter((r) => r.group === "alb" && r.direction === "ingress")).toEqual([
        expect.objectContaining({ port, prefixList: "cloudfront" }),
      ]);
      expect(cdnRules.some((r) => r.cidrIpv4 === ANY_IPV4 || r.cidrIpv6 === ANY_IPV6)).toBe(false);
      expect(ruleName(cdnRules.find((r) => r.prefixList)!)).toBe(`alb-in-${port}-from-cloudfront`);
    },
  );

  it.each([
    [{ ...PORTS, servicePorts: [] }, "SecurityGroupsArgs.servicePorts"],
    [{ ...PORTS, servicePorts: [3001, 70000] }, "SecurityGroupsArgs.servicePorts[1]"],
    [{ ...PORTS, redisPort: 0 }, "SecurityGroupsArgs.redisPort"],
    [{ ...PORTS, postgresPort: 1.5 }, "SecurityGroupsArgs.postgresPort"],
  ])("rejects bad ports naming the arg (%#)", (input, key) => {
    expect(() => securityGroupRules(input)).toThrow(expect.objectContaining({ key }));
  });

  it("deduplicates ports and gives every rule a unique name", () => {
    const r = securityGroupRules({ ...PORTS, servicePorts: [3002, 3001, 3002] });
    const names = r.map(ruleName);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("nodes-in-3001-from-alb");
    expect(names).toContain("alb-in-443-from-any-ipv6");
  });
});

describe("SecurityGroups component (mocks)", () => {
  let mocks: PlatformMocks;

  beforeAll(async () => {
    mocks = setupMocks();
    const { SecurityGroups } = await import("../../../components/aws/security-groups");
    const sgs = new SecurityGroups("sg", { vpcId: "vpc-1", servicePorts: PORTS.servicePorts });
    await promiseOf(sgs.databaseSecurityGroupId);
    await new Promise((r) => setTimeout(r, 20));
  });

  const ingress = () => resourcesOfType(mocks, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
  const egress = () => resourcesOfType(mocks, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");

  it("creates four groups in the VPC with no inline rules", () => {
    const groups = resourcesOfType(mocks, "aws:ec2/securityGroup:SecurityGroup");
    expect(groups.map((g) => g.name).sort()).toEqual(["sg-alb", "sg-database", "sg-nodes", "sg-redis"]);
    for (const g of groups) {
      expect(g.inputs.vpcId).toBe("vpc-1");
      expect(g.inputs.ingress ?? []).toEqual([]);
      expect(g.inputs.egress ?? []).toEqual([]);
    }
  });

  it("has no 0.0.0.0/0 or ::/0 on any rule except the ALB's 80/443 ingress", () => {
    for (const r of [...ingress(), ...egress()]) {
      const open = r.inputs.cidrIpv4 === ANY_IPV4 || r.inputs.cidrIpv6 === ANY_IPV6;
      if (open) {
        expect(r.inputs.securityGroupId).toBe("sg-alb-id");
        expect([80, 443]).toContain(r.inputs.fromPort);
        expect(r.inputs.toPort).toBe(r.inputs.fromPort);
        expect(r.type).toContain("Ingress");
      }
    }
    expect([...ingress(), ...egress()].filter((r) => r.inputs.cidrIpv4 || r.inputs.cidrIpv6)).toHaveLength(4);
  });

  it.each([
    ["sg-redis-id", 6379],
    ["sg-database-id", 5432],
  ])("%s: ingress only on %i from the node group, no egress", (sg, port) => {
    const rules = ingress().filter((r) => r.inputs.securityGroupId === sg);
    expect(rules.map((r) => r.inputs)).toEqual([
      expect.objectContaining({ ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: "sg-nodes-id" }),
    ]);
    expect(egress().filter((r) => r.inputs.securityGroupId === sg)).toEqual([]);
  });

  it("nodes take the service ports from the ALB group only", () => {
    const rules = ingress().filter((r) => r.inputs.securityGroupId === "sg-nodes-id");
    expect(rules.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId])).toEqual([
      [3001, "sg-alb-id"],
      [3002, "sg-alb-id"],
      [3003, "sg-alb-id"],
    ]);
  });

  it("names every child sg-<role> and parents it to the component", () => {
    const children = mocks.resources.filter((r) => r.custom && r.name.startsWith("sg-"));
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const c of children) expect(c.parent.endsWith("uaip:aws:SecurityGroups::sg")).toBe(true);
  });
});
