import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import { integer, listOf, showValue, string, validateOptions, type SpecFor } from "../options";
import { RateLimitOptionsError } from "./errors";

/**
 * Who the client is behind proxies. Each proxy appends the address it received the request from to
 * X-Forwarded-For, so, reading the chain `[...X-Forwarded-For, socket address]` from the right, the
 * first `hops` entries were written by proxies we run and the next one is the client. Anything further
 * left was sent by the client and is not trusted.
 *
 * In the AWS stacks (CloudFront -> ALB -> pod IP target), a pod sees:
 *   socket address   = the ALB node's private IP
 *   X-Forwarded-For  = "<client-supplied entries>, <viewer IP>, <CloudFront edge IP>"
 * CloudFront appends the viewer's IP (keeping any header the viewer sent), and the ALB appends the
 * CloudFront edge's IP, so `hops: 2` picks the viewer. With the ALB alone: `hops: 1`. Locally: 0.
 */
export interface TrustedProxyOptions {
  /** Proxies in front of the service that append to X-Forwarded-For. @default 0 (X-Forwarded-For ignored) */
  hops?: number;
  /**
   * CIDRs of trusted proxies. When given, only addresses inside them are skipped from the right
   * (at most `hops` of them when `hops` > 0), so a request that did not come through a trusted proxy
   * is keyed by its socket address whatever X-Forwarded-For it sends. @default none
   */
  cidrs?: readonly string[];
}

const proxyError = (key: string, message: string) => new RateLimitOptionsError(key, message);

const TRUSTED_PROXY_OPTIONS_SPEC = {
  hops: integer(0, 16),
  // A list, even of one: a lone "10.0.0.0/8" is refused with the list form, never split into characters.
  cidrs: listOf(string({ what: 'a CIDR string like "10.0.0.0/16"' })),
} satisfies SpecFor<TrustedProxyOptions>;

const MAPPED_V4 = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i;

/** "::ffff:1.2.3.4" -> "1.2.3.4"; surrounding spaces and brackets dropped. Undefined when not an IP. */
export function normalizeAddress(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string")
    throw new RateLimitOptionsError(
      "address",
      `normalizeAddress: expected an address string such as "10.0.0.1", got ${showValue(raw)}`,
    );
  let a = raw.trim();
  if (a.startsWith("[") && a.includes("]")) a = a.slice(1, a.indexOf("]"));
  const mapped = MAPPED_V4.exec(a);
  if (mapped) a = mapped[1];
  return isIP(a) ? a.toLowerCase() : undefined;
}

function parseCidrs(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const [i, cidr] of cidrs.entries()) {
    const [address, bits] = cidr.trim().split("/");
    const family = isIP(address);
    const prefix = Number(bits);
    const max = family === 6 ? 128 : 32;
    if (!family || !/^\d{1,3}$/.test(bits ?? "") || prefix > max) {
      throw new RateLimitOptionsError(
        `trustedProxy.cidrs[${i}]`,
        `expected a CIDR like "10.0.0.0/16" or "fd00::/8", got ${showValue(cidr)}`,
      );
    }
    list.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

/**
 * Returns a keyGenerator that keys each request by its client address, per the trusted proxies.
 * A malformed entry where the client should be (only possible when the request bypassed the proxies)
 * falls back to the socket address, so garbage never creates its own bucket.
 */
export function clientAddressKey(options: TrustedProxyOptions = {}): (req: IncomingMessage) => string {
  const o = validateOptions("clientAddressKey", options, TRUSTED_PROXY_OPTIONS_SPEC, proxyError, { prefix: "trustedProxy." });
  const hops = o.hops ?? 0;
  const cidrs = (o.cidrs ?? []).filter((c) => c.trim() !== "");
  const trusted = cidrs.length > 0 ? parseCidrs(cidrs) : undefined;
  const isTrusted = (a: string) => trusted!.check(a, isIP(a) === 6 ? "ipv6" : "ipv4");
  const maxSkips = trusted ? (hops > 0 ? hops : Number.POSITIVE_INFINITY) : hops;

  const keyOf = (remoteAddress: string | undefined, header: string | string[] | undefined): string => {
    const socket = normalizeAddress(remoteAddress) ?? "unknown";
    if (maxSkips === 0) return socket;
    if (trusted && (socket === "unknown" || !isTrusted(socket))) return socket;
    const xff = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",");
    // The chain, right to left: the socket address, then X-Forwarded-For from its last entry.
    let skipped = 1;
    let index = xff.length - 1;
    let candidate: string | undefined = socket;
    while (skipped <= maxSkips && index >= 0) {
      const entry = xff[index].trim() === "" ? undefined : normalizeAddress(xff[index]);
      if (entry === undefined) return socket;
      candidate = entry;
      index--;
      if (skipped === maxSkips || (trusted && !isTrusted(entry))) break;
      skipped++;
    }
    return candidate;
  };
  // The key is a function of the socket's address and the X-Forwarded-For header alone, and a
  // keep-alive connection (the load balancer's, each client's) sends the same header on every
  // request: the last answer is kept per socket and reused while both inputs are the same strings.
  const last = new WeakMap<object, { remoteAddress: string | undefined; header: string | undefined; key: string }>();
  return (req) => {
    const conn = req.socket;
    const remoteAddress = conn?.remoteAddress;
    const header = maxSkips === 0 ? undefined : req.headers["x-forwarded-for"];
    // A repeated header arrives as an array: not kept (rare, and arrays compare by identity).
    if (typeof conn !== "object" || conn === null || Array.isArray(header)) return keyOf(remoteAddress, header);
    const seen = last.get(conn);
    if (seen !== undefined && seen.remoteAddress === remoteAddress && seen.header === header) return seen.key;
    const key = keyOf(remoteAddress, header);
    if (seen === undefined) last.set(conn, { remoteAddress, header, key });
    else {
      seen.remoteAddress = remoteAddress;
      seen.header = header;
      seen.key = key;
    }
    return key;
  };
}
