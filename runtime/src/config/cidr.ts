import { isIP } from "node:net";

/**
 * Why one CIDR is unusable as a trusted proxy range, or undefined when it is fine. The same test as
 * the rate limiter's `clientAddressKey` (a real address by `net.isIP`, a prefix within the family),
 * plus one rule: a range covering every address (`/0`) is refused, since it trusts the client
 * itself: with trustedProxyHops 0 the client's own X-Forwarded-For entry becomes its rate-limit key.
 */
export function trustedCidrProblem(cidr: string): string | undefined {
  const [address, bits, ...rest] = cidr.trim().split("/");
  const family = isIP(address ?? "");
  if (!family || rest.length || !/^\d{1,3}$/.test(bits ?? "") || Number(bits) > (family === 6 ? 128 : 32))
    return `expected a CIDR like "10.0.0.0/16" or "fd00::/8" (an address and a prefix of at most ${family === 6 ? 128 : 32} bits)`;
  if (Number(bits) === 0)
    return "a /0 range trusts every address, so a client can choose its own rate-limit key; list only your proxies' CIDRs (or none, with trustedProxyHops)";
  return undefined;
}
