import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgsError } from "../../profile/errors";
import { mergeTags } from "../../profile/tags";

/** The four security groups of the platform. */
export type SecurityGroupRole = "alb" | "nodes" | "redis" | "database";

export const ANY_IPV4 = "0.0.0.0/0";
export const ANY_IPV6 = "::/0";

/** One security-group rule, as data: either a CIDR or another of our groups on the other side. */
export interface RuleSpec {
  group: SecurityGroupRole;
  direction: "ingress" | "egress";
  port: number;
  /** Exactly one of `cidrIpv4`, `cidrIpv6`, `peer`, `prefixList` is set. */
  cidrIpv4?: string;
  /** CloudFront's managed origin-facing prefix list (its id comes from SecurityGroupsArgs). */
  prefixList?: "cloudfront";
  cidrIpv6?: string;
  peer?: SecurityGroupRole;
  description: string;
}

export interface RulePlanInput {
  servicePorts: number[];
  redisPort: number;
  postgresPort: number;
  /**
   * With a CDN in front, the ALB admits only CloudFront's origin-facing addresses, on the one
   * port CloudFront uses (443 with a certificate, else 80). The list weighs about 55 rules of the
   * group's 60, so exactly one rule uses it.
   */
  cloudfrontOnlyPort?: 80 | 443;
}

function validPort(port: number, key: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ComponentArgsError(key, `${port} is not a TCP port (1..65535)`);
  return port;
}

/**
 * Least-privilege rules: the internet reaches only the ALB on 80/443; the ALB reaches only the
 * service ports on the nodes; only the nodes reach Redis and Postgres. Data stores get no egress
 * rules at all (they never open connections). Everything else the nodes need (control plane,
 * image pulls, AWS APIs) goes through the EKS-managed cluster security group that the node
 * launch template also attaches (see cluster.ts), so no rule here is open to 0.0.0.0/0 except
 * the ALB listeners.
 */
export function securityGroupRules(input: RulePlanInput): RuleSpec[] {
  const ports = [...new Set(input.servicePorts.map((p, i) => validPort(p, `SecurityGroupsArgs.servicePorts[${i}]`)))].sort(
    (a, b) => a - b,
  );
  if (ports.length === 0)
    throw new ComponentArgsError("SecurityGroupsArgs.servicePorts", "list at least one service port the ALB forwards to");
  const redis = validPort(input.redisPort, "SecurityGroupsArgs.redisPort");
  const postgres = validPort(input.postgresPort, "SecurityGroupsArgs.postgresPort");
  const rules: RuleSpec[] = [];
  if (input.cloudfrontOnlyPort !== undefined) {
    rules.push({
      group: "alb",
      direction: "ingress",
      port: input.cloudfrontOnlyPort,
      prefixList: "cloudfront",
      description: `${input.cloudfrontOnlyPort} from CloudFront origin-facing addresses only (no CDN bypass)`,
    });
  } else {
    for (const port of [80, 443]) {
      rules.push({
        group: "alb",
        direction: "ingress",
        port,
        cidrIpv4: ANY_IPV4,
        description: `HTTP(S) ${port} from the internet (IPv4)`,
      });
      rules.push({
        group: "alb",
        direction: "ingress",
        port,
        cidrIpv6: ANY_IPV6,
        description: `HTTP(S) ${port} from the internet (IPv6)`,
      });
    }
  }
  for (const port of ports) {
    rules.push({ group: "alb", direction: "egress", port, peer: "nodes", description: `to service port ${port} on the nodes` });
    rules.push({ group: "nodes", direction: "ingress", port, peer: "alb", description: `service port ${port} from the ALB` });
  }
  rules.push({ group: "nodes", direction: "egress", port: redis, peer: "redis", description: "to Redis" });
  rules.push({ group: "nodes", direction: "egress", port: postgres, peer: "database", description: "to PostgreSQL" });
  rules.push({ group: "redis", direction: "ingress", port: redis, peer: "nodes", description: "Redis from the nodes" });
  rules.push({
    group: "database",
    direction: "ingress",
    port: postgres,
    peer: "nodes",
    description: "PostgreSQL from the nodes",
  });
  return rules;
}

/** Stable, readable logical name of a rule, e.g. "nodes-in-3001-from-alb". */
export function ruleName(rule: RuleSpec): string {
  const dir = rule.direction === "ingress" ? "in" : "out";
  const other = rule.peer ?? rule.prefixList ?? (rule.cidrIpv6 ? "any-ipv6" : "any-ipv4");
  return `${rule.group}-${dir}-${rule.port}-${rule.direction === "ingress" ? "from" : "to"}-${other}`;
}

export interface SecurityGroupsArgs {
  /** VPC the groups belong to (Network.vpcId). Required. */
  vpcId: pulumi.Input<string>;
  /**
   * Container ports the ALB forwards to (ip targets = pod IPs on the nodes), e.g. [3001, 3002, 3003].
   * Required, at least one.
   */
  servicePorts: number[];
  /**
   * Redis port.
   * @default 6379
   */
  redisPort?: number;
  /**
   * PostgreSQL port.
   * @default 5432
   */
  postgresPort?: number;
  /**
   * Admit only CloudFront to the ALB, on this port (see RulePlanInput.cloudfrontOnlyPort).
   * @default undefined (the internet on 80 and 443)
   */
  cloudfrontOnlyPort?: 80 | 443;
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/** Security groups for ALB, nodes, Redis and Postgres, wired by `securityGroupRules`. */
export class SecurityGroups extends pulumi.ComponentResource {
  public readonly albSecurityGroupId: pulumi.Output<string>;
  public readonly nodeSecurityGroupId: pulumi.Output<string>;
  public readonly redisSecurityGroupId: pulumi.Output<string>;
  public readonly databaseSecurityGroupId: pulumi.Output<string>;
  /** The rules as data (what the plan and the README table show). */
  public readonly rules: RuleSpec[];

  constructor(name: string, args: SecurityGroupsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:SecurityGroups", name, {}, opts);
    const tags = mergeTags(args.tags);
    this.rules = securityGroupRules({
      servicePorts: args.servicePorts,
      redisPort: args.redisPort ?? 6379,
      postgresPort: args.postgresPort ?? 5432,
      cloudfrontOnlyPort: args.cloudfrontOnlyPort,
    });
    const cloudfrontPrefixList = this.rules.some((r) => r.prefixList === "cloudfront")
      ? aws.ec2.getManagedPrefixListOutput({ name: "com.amazonaws.global.cloudfront.origin-facing" }, { parent: this }).id
      : undefined;
    const descriptions: Record<SecurityGroupRole, string> = {
      alb: "ALB: 80/443 from the internet, out to service ports",
      nodes: "EKS nodes: service ports from the ALB",
      redis: "Redis: from the nodes only",
      database: "PostgreSQL: from the nodes only",
    };
    const groups = Object.fromEntries(
      (Object.keys(descriptions) as SecurityGroupRole[]).map((role) => [
        role,
        // No inline rules: every rule is its own resource below, so changes never fight.
        new aws.ec2.SecurityGroup(
          `${name}-${role}`,
          {
            vpcId: args.vpcId,
            description: descriptions[role],
            revokeRulesOnDelete: true,
            tags: { ...tags, Name: `${name}-${role}` },
          },
          { parent: this },
        ),
      ]),
    ) as Record<SecurityGroupRole, aws.ec2.SecurityGroup>;

    for (const rule of this.rules) {
      const common = {
        securityGroupId: groups[rule.group].id,
        ipProtocol: "tcp",
        fromPort: rule.port,
        toPort: rule.port,
        description: rule.description,
        ...(rule.cidrIpv4 ? { cidrIpv4: rule.cidrIpv4 } : {}),
        ...(rule.cidrIpv6 ? { cidrIpv6: rule.cidrIpv6 } : {}),
        ...(rule.peer ? { referencedSecurityGroupId: groups[rule.peer].id } : {}),
        ...(rule.prefixList ? { prefixListId: cloudfrontPrefixList } : {}),
        tags,
      };
      const ruleOpts = { parent: this };
      if (rule.direction === "ingress") new aws.vpc.SecurityGroupIngressRule(`${name}-${ruleName(rule)}`, common, ruleOpts);
      else new aws.vpc.SecurityGroupEgressRule(`${name}-${ruleName(rule)}`, common, ruleOpts);
    }

    this.albSecurityGroupId = groups.alb.id;
    this.nodeSecurityGroupId = groups.nodes.id;
    this.redisSecurityGroupId = groups.redis.id;
    this.databaseSecurityGroupId = groups.database.id;
    this.registerOutputs({
      albSecurityGroupId: this.albSecurityGroupId,
      nodeSecurityGroupId: this.nodeSecurityGroupId,
      redisSecurityGroupId: this.redisSecurityGroupId,
      databaseSecurityGroupId: this.databaseSecurityGroupId,
    });
  }
}
