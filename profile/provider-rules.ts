import { awsProfileIssues } from "./aws-rules";
import { API_COOKIES_FORWARDED, API_COOKIES_IN_CACHE_KEY } from "./cdn-cookies";
import type { ProfileIssue } from "./errors";
import { cpuToCores, memoryToMiB } from "./quantity";
import type { Profile } from "./schema";
import { MAX_SERVICE_NAME_FOR_TARGET_GROUP } from "./stack-names";

/**
 * Profile values that parse but that AWS, Kubernetes or the runtime would refuse later (or that
 * would break the platform quietly). Each issue names the key, the value and the fix, as a
 * ProfileIssue: parse.ts reports them all together in one ProfileError.
 */

// ---- CIDRs ----------------------------------------------------------------------------------

/** Widest range a stack may open anything to: a /8. */
export const WIDEST_ALLOWED_PREFIX = 8;

/** RFC 5737 documentation ranges: never reachable, so an API endpoint restricted to them hangs every Kubernetes call. */
export const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];

export interface ParsedCidr {
  base: number;
  prefix: number;
}

/**
 * Strict IPv4 CIDR parsing: four decimal octets 0..255 without leading zeros, a prefix 0..32
 * without leading zeros, no host bits. Returns the reason when it is not one.
 */
export function parseIpv4Cidr(text: string): ParsedCidr | string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return 'expected an IPv4 CIDR like "198.18.0.0/24"';
  const parts = m.slice(1, 5);
  if (parts.some((p) => (p.length > 1 && p.startsWith("0")) || Number(p) > 255))
    return "each address octet must be 0..255 without leading zeros";
  if (m[5]!.length > 1 && m[5]!.startsWith("0")) return "the prefix length must be written without leading zeros";
  const prefix = Number(m[5]);
  if (prefix > 32) return "the prefix length must be 0..32";
  const base = parts.reduce((acc, p) => acc * 256 + Number(p), 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    const fixed = base - (base % size);
    return `host bits are set; the network is ${[24, 16, 8, 0].map((s) => Math.floor(fixed / 2 ** s) % 256).join(".")}/${prefix}`;
  }
  return { base, prefix };
}

/** Whether two CIDRs share an address (one contains the other). */
export function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const mask = 2 ** (32 - p);
  return Math.floor(a.base / mask) === Math.floor(b.base / mask);
}

function cidrIssues(path: string, cidrs: string[]): ProfileIssue[] {
  return cidrs.flatMap((cidr, i): ProfileIssue[] => {
    const at = `${path}[${i}]`;
    const parsed = parseIpv4Cidr(cidr);
    if (typeof parsed === "string") return [{ path: at, message: `${parsed}, got ${JSON.stringify(cidr)}` }];
    if (parsed.prefix < WIDEST_ALLOWED_PREFIX) {
      return [
        {
          path: at,
          message: `${JSON.stringify(cidr)} opens the Kubernetes API to ${2 ** (32 - parsed.prefix)} addresses (wider than a /${WIDEST_ALLOWED_PREFIX}); list the CI/VPN egress CIDRs that run \`pulumi up\`, e.g. your egress IP as a /32`,
        },
      ];
    }
    const doc = DOCUMENTATION_RANGES.find((d) => overlaps(parsed, parseIpv4Cidr(d) as ParsedCidr));
    if (doc)
      return [
        {
          path: at,
          message: `${JSON.stringify(cidr)} is a documentation range (RFC 5737, inside ${doc}) that no deploy host has, so every Kubernetes call would time out; set the egress CIDR of the host that runs \`pulumi up\``,
        },
      ];
    return [];
  });
}

// ---- names ------------------------------------------------------------------------------------

/** Names that collide with CloudFront/ALB paths or the runtime's UAIP_ env prefix (Kubernetes service links). */
export function reservedServiceName(name: string): string | undefined {
  if (name === "static" || name === "assets") return `"${name}" is a path prefix kept for static content`;
  if (name === "uaip" || name.startsWith("uaip-"))
    return `"${name}" would make Kubernetes inject UAIP_* service-link variables that collide with the runtime's env contract`;
  return undefined;
}

/** Role names RDS PostgreSQL refuses as the master user: its own roles, pg_* roles and PostgreSQL's reserved key words. */
export const RESERVED_DB_USERNAMES = new Set([
  "rdsadmin",
  "rdsrepladmin",
  "rdstopmgr",
  "rds_superuser",
  "rds_replication",
  "rds_password",
  "rds_iam",
  "rds_ad",
  "public",
  "none",
  ...(
    "all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create current_catalog current_date " +
    "current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign from grant " +
    "group having in initially intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary " +
    "references returning select session_user some symmetric system_user table then to trailing true union unique user using variadic when where window with"
  ).split(" "),
]);

export function reservedDbUsername(name: string): string | undefined {
  if (RESERVED_DB_USERNAMES.has(name)) return `"${name}" is reserved by RDS or PostgreSQL`;
  if (name.startsWith("pg_") || name.startsWith("rds"))
    return `"${name}" starts with a prefix PostgreSQL/RDS reserves (pg_, rds)`;
  return undefined;
}

// ---- tags -----------------------------------------------------------------------------------

/** Tags every resource gets besides the profile's (project, managed-by, environment, Name, service, a cluster tag...). */
export const PLATFORM_TAG_COUNT = 8;
export const AWS_MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export function tagIssues(tags: Record<string, string>): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const keys = Object.keys(tags);
  if (keys.length > AWS_MAX_TAGS - PLATFORM_TAG_COUNT) {
    issues.push({
      path: "tags",
      message: `${keys.length} tags plus the platform's ${PLATFORM_TAG_COUNT} exceed AWS's ${AWS_MAX_TAGS} per resource; keep at most ${AWS_MAX_TAGS - PLATFORM_TAG_COUNT}`,
    });
  }
  for (const [key, value] of Object.entries(tags)) {
    const at = `tags.${key}`;
    if (key.length < 1 || key.length > 128)
      issues.push({
        path: at,
        message: `tag keys must be 1..128 characters, got ${key.length}; ${key ? "shorten it" : "give the tag a key"}`,
      });
    if (/^aws:/i.test(key)) issues.push({ path: at, message: `tag keys starting with "aws:" are reserved by AWS; rename it` });
    if (!TAG_CHARS.test(key))
      issues.push({
        path: at,
        message: `tag key ${JSON.stringify(key)} has characters AWS refuses; use letters, digits, spaces and _ . : / = + - @`,
      });
    if (value.length > 256)
      issues.push({ path: at, message: `tag values must be at most 256 characters, got ${value.length}; shorten it` });
    if (!TAG_CHARS.test(value))
      issues.push({
        path: at,
        message: `tag value ${JSON.stringify(value)} has characters AWS refuses; use letters, digits, spaces and _ . : / = + - @`,
      });
  }
  return issues;
}

// ---- the profile ------------------------------------------------------------------------------

/** `runtimeCdnEnabled(i)`: whether service i's effective runtime settings purge the CDN. */
export function profileRuleIssues(p: Profile, runtimeCdnEnabled: (serviceIndex: number) => boolean): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  p.services.forEach((s, i) => {
    const at = `services[${i}]`;
    if (s.name.length > MAX_SERVICE_NAME_FOR_TARGET_GROUP) {
      add(
        `${at}.name`,
        `"${s.name}" has ${s.name.length} characters; its ALB target group name (service + "-" + 6 hash characters) must fit AWS's 32, so use at most ${MAX_SERVICE_NAME_FOR_TARGET_GROUP}`,
      );
    }
    const reserved = reservedServiceName(s.name);
    if (reserved) add(`${at}.name`, `${reserved}; pick another name`);
    const { requests, limits } = s.resources;
    const [rc, lc] = [cpuToCores(requests.cpu)!, cpuToCores(limits.cpu)!];
    if (rc > lc)
      add(
        `${at}.resources.requests.cpu`,
        `${requests.cpu} exceeds limits.cpu ${limits.cpu}; Kubernetes refuses a request above its limit: lower the request or raise the limit`,
      );
    const [rm, lm] = [memoryToMiB(requests.memory)!, memoryToMiB(limits.memory)!];
    if (rm > lm)
      add(
        `${at}.resources.requests.memory`,
        `${requests.memory} exceeds limits.memory ${limits.memory}; Kubernetes refuses a request above its limit: lower the request or raise the limit`,
      );
    if (rc <= 0)
      add(
        `${at}.resources.requests.cpu`,
        `expected a CPU request above zero, got ${requests.cpu}; the HPA's utilisation target is a share of it`,
      );
    if (rm <= 0) add(`${at}.resources.requests.memory`, `expected a memory request above zero, got ${requests.memory}`);
    if (runtimeCdnEnabled(i) && !p.cdn.enabled) {
      add(
        s.runtime ? `${at}.runtime.cache.cdn.enabled` : "runtime.cache.cdn.enabled",
        "true, but cdn.enabled is false: there is no distribution to purge (the purge would fail on every invalidation); enable cdn or set runtime.cache.cdn.enabled false",
      );
    }
  });

  if (p.platform === "aws") {
    if (p.cluster.endpointPublicAccess) issues.push(...cidrIssues("cluster.publicAccessCidrs", p.cluster.publicAccessCidrs));
    const vpc = parseIpv4Cidr(p.network.cidr);
    if (typeof vpc === "string") add("network.cidr", `${vpc}, got ${JSON.stringify(p.network.cidr)}`);
  }
  if (/^0+[smh]$/.test(p.monitoring.scrapeInterval))
    add(
      "monitoring.scrapeInterval",
      `expected a positive duration, got "${p.monitoring.scrapeInterval}" (Prometheus refuses 0); use e.g. "15s"`,
    );
  if ((memoryToMiB(p.monitoring.storageSize) ?? 0) <= 0)
    add("monitoring.storageSize", `expected a volume size above zero, got "${p.monitoring.storageSize}"; use e.g. "20Gi"`);
  if (/^0+[hdwy]$/.test(p.monitoring.retention))
    add("monitoring.retention", `expected a positive retention, got "${p.monitoring.retention}"; use e.g. "15d"`);

  p.cdn.staticPaths.forEach((path, i) => {
    if (!p.services.some((s) => path.startsWith(`/${s.name}/`))) {
      add(
        `cdn.staticPaths[${i}]`,
        `${JSON.stringify(path)} is under no service prefix, and the ALB routes only /<service>/...: CloudFront would cache its 404; use "/<service>/static/*" with one of ${p.services.map((s) => s.name).join(", ")}`,
      );
    }
  });
  // The API behaviours forward every cookie to the origin but keep cookies out of the cache key
  // (cdn.ts): a minimum TTL above zero would cache one user's cookie-bound response for everyone.
  if (p.cdn.enabled && p.cdn.apiTtl.min > 0 && API_COOKIES_FORWARDED !== API_COOKIES_IN_CACHE_KEY) {
    add(
      "cdn.apiTtl.min",
      `${p.cdn.apiTtl.min} caches API responses even when the origin says private, while cookies are forwarded but not in the cache key (one user's response served to another); set it to 0 and let the services send Cache-Control`,
    );
  }
  // AWS's own rules from vendored lists: names, types, CIDRs, ARNs, the platform (aws-rules.ts).
  issues.push(...awsProfileIssues(p));
  issues.push(...tagIssues(p.tags));
  return issues;
}

/**
 * Every AWS stack serves HTTPS on the ALB and on the CloudFront -> ALB hop: plain HTTP there would
 * carry cookies, Authorization and the origin-verify secret in clear text across the internet (the
 * policy pack's alb-listener-tls and cloudfront-tls are mandatory). AWS offers no way around a
 * certificate: an ALB HTTPS listener needs one (ACM), ACM issues none for the ALB's own
 * *.elb.amazonaws.com name, and CloudFront's https-only origins check the certificate against the
 * origin's name, so every stack needs a DNS name it controls. Checked when the AWS platform is
 * built (not in parseConfig, which also parses presets for tests and docs), so `pulumi preview`
 * and the offline plan of a stack without a certificate stop here.
 */
export function certificateIssue(p: Profile): ProfileIssue | undefined {
  if (p.platform !== "aws" || p.loadBalancer.certificateArn) return undefined;
  return {
    path: "loadBalancer.certificateArn",
    message: `every AWS stack (here ${p.environment}) needs HTTPS on the ALB and from CloudFront to it, got nothing; request an ACM certificate in the stack's region for a DNS name you point at the ALB, and set its ARN here and that name in loadBalancer.domainName`,
  };
}

/** The account AWS's documentation uses in example ARNs: no real resource lives in it. */
export const EXAMPLE_ACCOUNT_ID = "111122223333";

/** RFC 2606 reserved names: no one controls them, so no DNS name under them can carry an ACM certificate. */
const RESERVED_DOMAIN = /(^|\.)example\.(com|net|org)$|\.(example|invalid|test|localhost)$/i;

/**
 * The stack files ship example certificate values, so the offline plan of every stack runs as
 * cloned. Against a real account they would stop `pulumi up` at the ALB's HTTPS listener, after
 * the VPC, the EKS cluster and RDS have been created (half an hour and their cost). So the
 * program refuses them before creating anything (see AwsPlatform); the offline plan only warns.
 */
export function exampleCertificateIssues(p: Profile): ProfileIssue[] {
  if (p.platform !== "aws") return [];
  const issues: ProfileIssue[] = [];
  const { certificateArn, domainName } = p.loadBalancer;
  const arn = /^arn:aws[-a-z]*:acm:[a-z0-9-]+:(\d{12}):certificate\/([-a-f0-9]+)$/.exec(certificateArn);
  if (arn && (arn[1] === EXAMPLE_ACCOUNT_ID || /^[0-]+$/.test(arn[2]!))) {
    issues.push({
      path: "loadBalancer.certificateArn",
      message: `${JSON.stringify(certificateArn)} is the stack file's example, not a certificate of yours; request one in ACM for the DNS name you will point at the ALB and run: pulumi config set --path 'uaip:loadBalancer.certificateArn' <its ARN>`,
    });
  }
  if (domainName && RESERVED_DOMAIN.test(domainName)) {
    issues.push({
      path: "loadBalancer.domainName",
      message: `${JSON.stringify(domainName)} is a reserved example name (RFC 2606) that no certificate can cover; run: pulumi config set --path 'uaip:loadBalancer.domainName' <the name your certificate covers>`,
    });
  }
  return issues;
}

/** The alert webhook is a secret: its value never appears, only what is wrong with it. */
export function webhookUrlIssue(url: string): ProfileIssue | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {
      path: "alertWebhookUrl",
      message:
        "expected an https:// URL, got something that is not a URL (value hidden: it is a secret); set it with `pulumi config set --secret uaip:alertWebhookUrl https://...`",
    };
  }
  if (parsed.protocol !== "https:") {
    return {
      path: "alertWebhookUrl",
      message: `expected an https:// URL, got a ${parsed.protocol}// URL (value hidden: it is a secret); alerts would carry cluster details in clear text: use the receiver's https:// endpoint`,
    };
  }
  return undefined;
}
