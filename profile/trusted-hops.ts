import type { Profile } from "./schema";

/**
 * Trusted hops equal the proxies in front of the pods that append to X-Forwarded-For: CloudFront and
 * the ALB on AWS with the CDN (2), the ALB alone (1), nothing locally, where the ports are published
 * straight to the containers (0). More hops than proxies let a client choose its own rate-limit key
 * (its forged entry is taken as the client); fewer put every client behind a proxy in one bucket.
 */
export function topologyHops(p: Pick<Profile, "platform" | "cdn">): { hops: number; proxies: string } {
  if (p.platform !== "aws") return { hops: 0, proxies: "none (local ports go straight to the containers)" };
  return p.cdn.enabled ? { hops: 2, proxies: "CloudFront + ALB" } : { hops: 1, proxies: "the ALB (cdn.enabled false)" };
}
