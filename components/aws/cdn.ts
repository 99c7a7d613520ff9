import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { API_COOKIES_FORWARDED, API_COOKIES_IN_CACHE_KEY } from "../../profile/cdn-cookies";
import { ComponentArgsError } from "../../profile/errors";
import { DEFAULT_API_TTL, DEFAULT_STATIC_TTL, type TtlBounds } from "../../profile/presets";
import { mergeTags } from "../../profile/tags";

/**
 * No static or extra API paths by default: the ALB routes only `/<service>` prefixes, so any other
 * behaviour would lead to its fixed 404 (aws/provider-rules/cdn-routes.ts checks this on every plan).
 */
export const DEFAULT_STATIC_PATHS: string[] = [];
export const DEFAULT_API_PATHS: string[] = [];

/** Viewer TLS floor when a custom certificate is used (CloudFront's default certificate forces "TLSv1"). */
export const VIEWER_MIN_TLS = "TLSv1.2_2021";

export function validateTtl(key: string, ttl: TtlBounds): TtlBounds {
  const ok =
    [ttl.min, ttl.default, ttl.max].every((n) => Number.isInteger(n) && n >= 0) &&
    ttl.min <= ttl.default &&
    ttl.default <= ttl.max;
  if (!ok)
    throw new ComponentArgsError(
      key,
      `needs whole seconds with 0 <= min <= default <= max (got min=${ttl.min}, default=${ttl.default}, max=${ttl.max})`,
    );
  return ttl;
}

export interface CacheBehaviorPlan {
  pathPattern: string;
  kind: "api" | "static";
}

/**
 * Ordered behaviors, first match wins: static paths first (long TTLs), then API paths and one
 * `/<service>/*` per service (origin's Cache-Control within short bounds). Everything else falls
 * to the default behavior, which also uses the API policy: unknown paths are never cached long.
 */
export function cacheBehaviorPlan(staticPaths: string[], apiPaths: string[], servicePrefixes: string[]): CacheBehaviorPlan[] {
  const plan: CacheBehaviorPlan[] = [];
  const seen = new Set<string>();
  const add = (pathPattern: string, kind: CacheBehaviorPlan["kind"], key: string) => {
    if (!pathPattern.startsWith("/")) throw new ComponentArgsError(key, `path pattern "${pathPattern}" must start with "/"`);
    if (seen.has(pathPattern)) return;
    seen.add(pathPattern);
    plan.push({ pathPattern, kind });
  };
  staticPaths.forEach((p, i) => add(p, "static", `CdnArgs.staticPaths[${i}]`));
  apiPaths.forEach((p, i) => add(p, "api", `CdnArgs.apiPaths[${i}]`));
  servicePrefixes.forEach((s, i) => add(`/${s.replace(/^\/+|\/+$/g, "")}/*`, "api", `CdnArgs.servicePrefixes[${i}]`));
  return plan;
}

/** Headers the services need from the viewer (WebSocket upgrade included); Authorization is in the cache key instead. */
export const FORWARDED_HEADERS = [
  "Accept",
  "Accept-Language",
  "Content-Type",
  "Origin",
  "X-Request-Id",
  "Sec-WebSocket-Key",
  "Sec-WebSocket-Version",
  "Sec-WebSocket-Protocol",
  "Sec-WebSocket-Extensions",
];

export interface CdnArgs {
  /** DNS name CloudFront connects to: the ALB's DNS name, or a name covered by its certificate when `originUsesHttps`. Required. */
  originDomainName: pulumi.Input<string>;
  /**
   * Connect to the origin over HTTPS only (set when the ALB has a certificate; the origin name
   * must match it). Otherwise CloudFront reaches the ALB over HTTP; viewers still get HTTPS.
   * @default false
   */
  originUsesHttps?: boolean;
  /**
   * API path patterns: honour the origin's Cache-Control within `apiTtl`. Each must match an ALB route.
   * @default []
   */
  apiPaths?: string[];
  /**
   * Service names; each adds `/<name>/*` to the API paths (the ALB routes by the same prefixes).
   * @default []
   */
  servicePrefixes?: string[];
  /**
   * Static path patterns: long TTLs (`staticTtl`). Each must match an ALB route.
   * @default []
   */
  staticPaths?: string[];
  /**
   * API TTL bounds, seconds. min 0 and default 0: nothing is cached unless the origin says so.
   * @default DEFAULT_API_TTL (profile/presets.ts)
   */
  apiTtl?: TtlBounds;
  /**
   * Static TTL bounds, seconds.
   * @default DEFAULT_STATIC_TTL (profile/presets.ts)
   */
  staticTtl?: TtlBounds;
  /**
   * "PriceClass_100" (NA+EU), "PriceClass_200", "PriceClass_All".
   * @default "PriceClass_100"
   */
  priceClass?: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  /**
   * Origin Shield region (usually the ALB's region), e.g. "us-east-1". Unset: no Origin Shield.
   * @default undefined
   */
  originShieldRegion?: string;
  /**
   * Custom domain names; need `viewerCertificateArn`.
   * @default []
   */
  aliases?: string[];
  /**
   * ACM certificate in us-east-1 for `aliases`; viewers then need TLS >= 1.2 (TLSv1.2_2021).
   * Unset: the *.cloudfront.net certificate (CloudFront fixes its policy).
   * @default undefined
   */
  viewerCertificateArn?: pulumi.Input<string>;
  /**
   * Seconds CloudFront waits for the origin's response.
   * @default 30
   */
  originReadTimeoutSeconds?: number;
  /**
   * Seconds CloudFront keeps an idle origin connection; keep it below the ALB idle timeout.
   * @default 5
   */
  originKeepaliveTimeoutSeconds?: number;
  /**
   * Headers CloudFront adds to every origin request, e.g. the origin-verify secret the ALB checks.
   * @default []
   */
  originCustomHeaders?: { name: string; value: pulumi.Input<string> }[];
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/** CloudFront in front of the ALB: HTTPS for viewers, compression, API vs static cache policies, security headers. */
export class Cdn extends pulumi.ComponentResource {
  /** What the runtime's CDN purge targets. */
  public readonly distributionId: pulumi.Output<string>;
  public readonly domainName: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  public readonly hostedZoneId: pulumi.Output<string>;
  /** TTL bounds per path class (the lead's checks compare runtime cache TTLs with `api.max`). */
  public readonly ttls: { api: TtlBounds; static: TtlBounds };
  /** The path patterns of each class, in behavior order. */
  public readonly paths: { api: string[]; static: string[] };

  constructor(name: string, args: CdnArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:Cdn", name, {}, opts);
    const tags = mergeTags(args.tags);
    const apiTtl = validateTtl("CdnArgs.apiTtl", args.apiTtl ?? DEFAULT_API_TTL);
    const staticTtl = validateTtl("CdnArgs.staticTtl", args.staticTtl ?? DEFAULT_STATIC_TTL);
    const behaviors = cacheBehaviorPlan(
      args.staticPaths ?? DEFAULT_STATIC_PATHS,
      args.apiPaths ?? DEFAULT_API_PATHS,
      args.servicePrefixes ?? [],
    );
    if ((args.aliases ?? []).length > 0 && args.viewerCertificateArn === undefined) {
      throw new ComponentArgsError("CdnArgs.viewerCertificateArn", "aliases need an ACM certificate in us-east-1 covering them");
    }
    const parent = { parent: this };

    const apiPolicy = new aws.cloudfront.CachePolicy(
      `${name}-api`,
      {
        comment: "API: origin Cache-Control within short bounds; per-Authorization cache key",
        minTtl: apiTtl.min,
        defaultTtl: apiTtl.default,
        maxTtl: apiTtl.max,
        parametersInCacheKeyAndForwardedToOrigin: {
          enableAcceptEncodingGzip: true,
          enableAcceptEncodingBrotli: true,
          // Authorization must be in the key to reach the origin; it also keeps users' responses apart.
          headersConfig: { headerBehavior: "whitelist", headers: { items: ["Authorization"] } },
          queryStringsConfig: { queryStringBehavior: "all" },
          cookiesConfig: { cookieBehavior: API_COOKIES_IN_CACHE_KEY },
        },
      },
      parent,
    );
    // Only when some path is static: an unused policy is a dead part.
    const staticPolicy = behaviors.some((b) => b.kind === "static")
      ? new aws.cloudfront.CachePolicy(
          `${name}-static`,
          {
            comment: "Static assets: long TTLs, minimal cache key",
            minTtl: staticTtl.min,
            defaultTtl: staticTtl.default,
            maxTtl: staticTtl.max,
            parametersInCacheKeyAndForwardedToOrigin: {
              enableAcceptEncodingGzip: true,
              enableAcceptEncodingBrotli: true,
              headersConfig: { headerBehavior: "none" },
              queryStringsConfig: { queryStringBehavior: "none" },
              cookiesConfig: { cookieBehavior: "none" },
            },
          },
          parent,
        )
      : undefined;
    const apiOriginRequest = new aws.cloudfront.OriginRequestPolicy(
      `${name}-api`,
      {
        comment: "API: viewer headers the services need (incl. WebSocket upgrade), all cookies and query strings",
        headersConfig: { headerBehavior: "whitelist", headers: { items: FORWARDED_HEADERS } },
        cookiesConfig: { cookieBehavior: API_COOKIES_FORWARDED },
        queryStringsConfig: { queryStringBehavior: "all" },
      },
      parent,
    );
    const securityHeaders = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-security`,
      {
        comment: "HSTS, nosniff, frame DENY, strict referrer",
        securityHeadersConfig: {
          strictTransportSecurity: { accessControlMaxAgeSec: 31536000, includeSubdomains: true, preload: false, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: "DENY", override: true },
          referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
        },
      },
      parent,
    );

    const originId = "alb";
    const allMethods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];
    const common = {
      targetOriginId: originId,
      viewerProtocolPolicy: "redirect-to-https",
      compress: true,
      responseHeadersPolicyId: securityHeaders.id,
    };
    const api = {
      ...common,
      allowedMethods: allMethods,
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: apiPolicy.id,
      originRequestPolicyId: apiOriginRequest.id,
    };
    const statics = {
      ...common,
      allowedMethods: ["GET", "HEAD", "OPTIONS"],
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: staticPolicy?.id,
    };

    const distribution = new aws.cloudfront.Distribution(
      `${name}-distribution`,
      {
        enabled: true,
        comment: `${name}: ALB origin`,
        isIpv6Enabled: true,
        httpVersion: "http2and3",
        priceClass: args.priceClass ?? "PriceClass_100",
        aliases: args.aliases ?? [],
        origins: [
          {
            originId,
            domainName: args.originDomainName,
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: args.originUsesHttps ? "https-only" : "http-only",
              originSslProtocols: ["TLSv1.2"],
              originReadTimeout: args.originReadTimeoutSeconds ?? 30,
              originKeepaliveTimeout: args.originKeepaliveTimeoutSeconds ?? 5,
            },
            customHeaders: (args.originCustomHeaders ?? []).map((h) => ({ name: h.name, value: h.value })),
            originShield: args.originShieldRegion
              ? { enabled: true, originShieldRegion: args.originShieldRegion }
              : { enabled: false },
          },
        ],
        defaultCacheBehavior: api,
        orderedCacheBehaviors: behaviors.map((b) => ({ pathPattern: b.pathPattern, ...(b.kind === "static" ? statics : api) })),
        restrictions: { geoRestriction: { restrictionType: "none", locations: [] } },
        viewerCertificate:
          args.viewerCertificateArn !== undefined
            ? {
                acmCertificateArn: args.viewerCertificateArn,
                sslSupportMethod: "sni-only",
                minimumProtocolVersion: VIEWER_MIN_TLS,
              }
            : { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1" },
        tags,
      },
      parent,
    );

    this.distributionId = distribution.id;
    this.domainName = distribution.domainName;
    this.arn = distribution.arn;
    this.hostedZoneId = distribution.hostedZoneId;
    this.ttls = { api: apiTtl, static: staticTtl };
    this.paths = {
      api: behaviors.filter((b) => b.kind === "api").map((b) => b.pathPattern),
      static: behaviors.filter((b) => b.kind === "static").map((b) => b.pathPattern),
    };
    this.registerOutputs({
      distributionId: this.distributionId,
      domainName: this.domainName,
      arn: this.arn,
      ttls: this.ttls,
      paths: this.paths,
    });
  }
}
