import { environmentOf, isProd, isType, recordsIn, stringsIn, UNKNOWN } from "./match";
import type { PlannedResource, StackRule } from "./types";

const WORLD = ["0.0.0.0/0", "::/0"];

interface WorldOpenRule {
  resource: PlannedResource;
  securityGroupId?: string;
  fromPort: number;
  toPort: number;
  cidr: string;
}

function portRange(from: unknown, to: unknown, protocol: unknown): [number, number] {
  if (protocol === "-1" || protocol === -1 || protocol === "all") return [0, 65535];
  return [Number(from ?? 0), Number(to ?? from ?? 65535)];
}

/** Every world-open ingress, whichever of the three ways of writing a rule was used. */
function worldOpenIngress(resources: PlannedResource[]): WorldOpenRule[] {
  const found: WorldOpenRule[] = [];
  for (const r of resources) {
    const p = r.props;
    if (isType(r, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
      const cidr = [p.cidrIpv4, p.cidrIpv6].find((c) => WORLD.includes(c));
      const [fromPort, toPort] = portRange(p.fromPort, p.toPort, p.ipProtocol);
      if (cidr) found.push({ resource: r, securityGroupId: p.securityGroupId, fromPort, toPort, cidr });
    } else if (isType(r, "aws:ec2/securityGroupRule:SecurityGroupRule") && p.type === "ingress") {
      const cidr = [...stringsIn(p.cidrBlocks), ...stringsIn(p.ipv6CidrBlocks)].find((c) => WORLD.includes(c));
      const [fromPort, toPort] = portRange(p.fromPort, p.toPort, p.protocol);
      if (cidr) found.push({ resource: r, securityGroupId: p.securityGroupId, fromPort, toPort, cidr });
    } else if (isType(r, "aws:ec2/securityGroup:SecurityGroup")) {
      for (const rule of recordsIn(p.ingress)) {
        const cidr = [...stringsIn(rule.cidrBlocks), ...stringsIn(rule.ipv6CidrBlocks)].find((c) => WORLD.includes(c));
        const [fromPort, toPort] = portRange(rule.fromPort, rule.toPort, rule.protocol);
        // The group's own id is not among its inputs: which load balancer uses it can't be told.
        if (cidr) found.push({ resource: r, fromPort, toPort, cidr });
      }
    }
  }
  return found;
}

/**
 * No security group lets the whole internet in, except on the port of a public load balancer's
 * listener, on a security group that load balancer uses. In prod not even that: the ALB sits
 * behind CloudFront, so its listener admits only CloudFront's origin-facing prefix list
 * (`com.amazonaws.global.cloudfront.origin-facing`, via `prefixListId`).
 */
export const noWorldOpenIngress: StackRule = {
  kind: "stack",
  name: "no-world-open-ingress",
  description:
    "No 0.0.0.0/0 or ::/0 ingress except a public load balancer's listener port; in prod, none (CloudFront prefix list only).",
  enforcementLevel: "mandatory",
  check(resources) {
    const publicLbs = resources.filter((r) => isType(r, "aws:lb/loadBalancer:LoadBalancer") && r.props.internal !== true);
    const lbGroups = new Set(publicLbs.flatMap((lb) => stringsIn(lb.props.securityGroups)));
    const listenerPorts = new Set(
      resources
        .filter((r) => isType(r, "aws:lb/listener:Listener"))
        .map((l) => Number(l.props.port ?? (l.props.protocol === "HTTPS" ? 443 : 80))),
    );
    return worldOpenIngress(resources).flatMap(({ resource, securityGroupId, fromPort, toPort, cidr }) => {
      const ports = fromPort === toPort ? `port ${fromPort}` : `ports ${fromPort}-${toPort}`;
      if (isProd(environmentOf(resource))) {
        return [
          {
            resource,
            message: `${ports} open to ${cidr} in prod; the ALB must admit only CloudFront (prefixListId of com.amazonaws.global.cloudfront.origin-facing)`,
          },
        ];
      }
      // An unknown group id (a real preview of a new group) can't be told apart: judge by port alone.
      const onLbGroup =
        securityGroupId === undefined || securityGroupId === UNKNOWN || lbGroups.has(UNKNOWN) || lbGroups.has(securityGroupId);
      const onListenerPort = fromPort === toPort && listenerPorts.has(fromPort);
      if (onLbGroup && onListenerPort && publicLbs.length > 0) return [];
      const why = !onLbGroup ? "not on a public load balancer's security group" : `no public listener on ${ports}`;
      return [{ resource, message: `${ports} open to ${cidr} (${why}); restrict the source to a security group or known CIDRs` }];
    });
  },
};
