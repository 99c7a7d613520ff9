import { ComponentArgsError } from "../../profile/errors";
import { parseIpv4Cidr } from "../../profile/provider-rules";

/** Supported AZ counts: 2 (dev) or 3 (staging/prod). EKS needs at least 2. */
export const MIN_AZ_COUNT = 2;
export const MAX_AZ_COUNT = 3;

export type NatGatewayMode = "single" | "perAz";

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses "a.b.c.d/p" with the profile's strict rules; throws naming `key` if malformed or not aligned to its prefix. */
export function parseCidr(cidr: string, key = "cidr"): { base: number; prefix: number } {
  const parsed = parseIpv4Cidr(cidr);
  if (typeof parsed === "string") throw new ComponentArgsError(key, `"${cidr}": ${parsed}`);
  return parsed;
}

/** The `netNum`-th subnet of `cidr` that is `newBits` longer (Terraform's cidrsubnet). */
export function cidrSubnet(cidr: string, newBits: number, netNum: number): string {
  const { base, prefix } = parseCidr(cidr);
  const newPrefix = prefix + newBits;
  if (newPrefix > 32 || netNum < 0 || netNum >= 2 ** newBits) {
    throw new RangeError(`cidrSubnet(${cidr}, ${newBits}, ${netNum}) is out of range`);
  }
  return `${intToIp(base + netNum * 2 ** (32 - newPrefix))}/${newPrefix}`;
}

export interface SubnetPlan {
  /** One per AZ, /(p+2): three quarters of the VPC for nodes and pods (the VPC CNI gives pods VPC IPs). */
  private: string[];
  /** One per AZ, /(p+4) carved from the last quarter: only the ALB and NAT gateways live there. */
  public: string[];
}

/**
 * Splits the VPC into non-overlapping subnets. Private subnets are large because every pod takes
 * a VPC address; public ones are small because only load balancer and NAT ENIs live there.
 * VPC prefix /16../24 (so a public subnet is at least /28, the smallest AWS allows).
 */
export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
  const { prefix } = parseCidr(vpcCidr, "NetworkArgs.cidrBlock");
  if (prefix < 16 || prefix > 24) {
    throw new ComponentArgsError("NetworkArgs.cidrBlock", `prefix /${prefix} is outside /16../24; pick e.g. "10.0.0.0/16"`);
  }
  validateAzCount(azCount);
  const azs = [...Array(azCount).keys()];
  return {
    private: azs.map((i) => cidrSubnet(vpcCidr, 2, i)),
    public: azs.map((i) => cidrSubnet(vpcCidr, 4, 12 + i)),
  };
}

export function validateAzCount(azCount: number): void {
  if (!Number.isInteger(azCount) || azCount < MIN_AZ_COUNT || azCount > MAX_AZ_COUNT) {
    throw new ComponentArgsError(
      "NetworkArgs.azCount",
      `must be an integer from ${MIN_AZ_COUNT} to ${MAX_AZ_COUNT} (got ${azCount}); use 2 for dev, 3 for prod`,
    );
  }
}

/** "single" saves money (dev) but an AZ outage cuts egress for all; "perAz" keeps each AZ independent. */
export function natGatewayCount(mode: NatGatewayMode, azCount: number): number {
  return mode === "perAz" ? azCount : 1;
}

/** Which NAT gateway the private route table of AZ `azIndex` uses. */
export function natIndexForAz(mode: NatGatewayMode, azIndex: number): number {
  return mode === "perAz" ? azIndex : 0;
}
