import type { PlatformMocks } from "../../../tools/mocks";
import { promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import { cacheBehaviorPlan, validateTtl } from "../../../components/aws/cdn";
import { DEFAULT_API_TTL, DEFAULT_STATIC_TTL } from "../../../profile/presets";

const SERVICES = ["agent-intelligence", "orchestration-pipeline", "capability-registry"];

describe("cdn pure decisions", () => {
  it("orders static paths first, then API paths and one prefix per service", () => {
    expect(cacheBehaviorPlan(["/static/*", "/assets/*"], ["/api/*"], SERVICES)).toEqual([
      { pathPattern: "/static/*", kind: "static" },
      { pathPattern: "/assets/*", kind: "static" },
      { pathPattern: "/api/*", kind: "api" },
      { pathPattern: "/agent-intelligence/*", kind: "api" },
      { pathPattern: "/orchestration-pipeline/*", kind: "api" },
      { pathPattern: "/capability-registry/*", kind: "api" },
    ]);
  });

  it("keeps the first class for a duplicated pattern and rejects relative patterns", () => {
    expect(cacheBehaviorPlan(["/static/*"], ["/static/*"], ["/svc/"])).toEqual([
      { pathPattern: "/static/*", kind: "static" },
      { pathPattern: "/svc/*", kind: "api" },
    ]);
    expect(() => cacheBehaviorPlan(["static/*"], [], [])).toThrow(expect.objectContaining({ key: "CdnArgs.staticPaths[0]" }));
  });

  it.each([
    [{ min: 0, default: 0, max: 0 }, true],
    [{ min: 0, default: 60, max: 60 }, true],
    [{ min: 10, default: 5, max: 60 }, false],
    [{ min: 0, default: 61, max: 60 }, false],
    [{ min: -1, default: 0, max: 60 }, false],
    [{ min: 0, default: 0, max: 1.5 }, false],
  ])("validateTtl(%j) ok=%s", (ttl, ok) => {
    if (ok) expect(validateTtl("CdnArgs.apiTtl", ttl)).toEqual(ttl);
    else expect(() => validateTtl("CdnArgs.apiTtl", ttl)).toThrow(expect.objectContaining({ key: "CdnArgs.apiTtl" }));
  });
});

describe("Cdn component (mocks)", () => {
  let mocks: PlatformMocks;
  let mod: typeof import("../../../components/aws/cdn");
  let dev: InstanceType<typeof mod.Cdn>;
  let prod: InstanceType<typeof mod.Cdn>;

  beforeAll(async () => {
    mocks = setupMocks();
    mod = await import("../../../components/aws/cdn");
    dev = new mod.Cdn("dev", { originDomainName: "dev-alb.elb.amazonaws.com", servicePrefixes: SERVICES });
    prod = new mod.Cdn("prod", {
      originDomainName: "origin.uaip.example.com",
      originUsesHttps: true,
      servicePrefixes: SERVICES,
      apiTtl: { min: 0, default: 5, max: 30 },
      staticTtl: { min: 600, default: 3600, max: 604800 },
      priceClass: "PriceClass_All",
      originShieldRegion: "us-east-1",
      staticPaths: ["/agent-intelligence/static/*"],
      originCustomHeaders: [{ name: "X-Origin-Verify", value: "origin-secret" }],
      aliases: ["cdn.uaip.example.com"],
      viewerCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    });
    await Promise.all([promiseOf(dev.distributionId), promiseOf(prod.distributionId)]);
  });

  const of = (type: string, env: string) => resourcesOfType(mocks, type).filter((r) => r.name.startsWith(`${env}-`));
  const dist = (env: string) => of("aws:cloudfront/distribution:Distribution", env)[0]!.inputs as Record<string, any>;
  const policy = (env: string, role: string) =>
    of("aws:cloudfront/cachePolicy:CachePolicy", env).find((p) => p.name === `${env}-${role}`)!.inputs as Record<string, any>;

  it.each([
    ["dev", "api", DEFAULT_API_TTL],
    ["prod", "api", { min: 0, default: 5, max: 30 }],
    ["prod", "static", { min: 600, default: 3600, max: 604800 }],
  ])("%s %s cache policy TTLs = %j, gzip and brotli on", (env, role, ttl) => {
    const p = policy(env, role);
    expect([p.minTtl, p.defaultTtl, p.maxTtl]).toEqual([ttl.min, ttl.default, ttl.max]);
    expect(p.parametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
  });

  it("exposes the TTLs and path classes for the cross-layer checks", () => {
    expect(prod.ttls).toEqual({ api: { min: 0, default: 5, max: 30 }, static: { min: 600, default: 3600, max: 604800 } });
    // No /static/*, /assets/*, /api/* by default: the ALB routes only service prefixes, so they led to its 404.
    expect(dev.paths.static).toEqual([]);
    expect(dev.paths.api).toEqual(SERVICES.map((s) => `/${s}/*`));
    expect(prod.paths.static).toEqual(["/agent-intelligence/static/*"]);
    expect(of("aws:cloudfront/cachePolicy:CachePolicy", "dev").map((p) => p.name)).toEqual(["dev-api"]);
    expect(DEFAULT_STATIC_TTL).toEqual({ min: 3600, default: 86400, max: 31536000 });
  });

  it("sends the origin-verify header to the origin only when given", () => {
    expect(dist("prod").origins[0].customHeaders).toEqual([{ name: "X-Origin-Verify", value: "origin-secret" }]);
    expect(dist("dev").origins[0].customHeaders).toEqual([]);
  });

  it("routes static paths to the static policy and API/service paths to the API policy, all compressed, HTTPS for viewers", () => {
    const d = dist("dev");
    const byPath = Object.fromEntries((d.orderedCacheBehaviors as any[]).map((b) => [b.pathPattern, b]));
    const prodByPath = Object.fromEntries((dist("prod").orderedCacheBehaviors as any[]).map((b) => [b.pathPattern, b]));
    expect(prodByPath["/agent-intelligence/static/*"].cachePolicyId).toBe("prod-static-id");
    expect(Object.keys(prodByPath)[0]).toBe("/agent-intelligence/static/*"); // before /agent-intelligence/*: first match wins
    expect(byPath["/capability-registry/*"]).toMatchObject({ cachePolicyId: "dev-api-id", originRequestPolicyId: "dev-api-id" });
    expect(d.defaultCacheBehavior.cachePolicyId).toBe("dev-api-id");
    for (const b of [d.defaultCacheBehavior, ...d.orderedCacheBehaviors]) {
      expect(b).toMatchObject({
        compress: true,
        viewerProtocolPolicy: "redirect-to-https",
        responseHeadersPolicyId: "dev-security-id",
        targetOriginId: "alb",
      });
    }
  });

  it.each([
    ["dev", "http-only", "PriceClass_100", { enabled: false }],
    ["prod", "https-only", "PriceClass_All", { enabled: true, originShieldRegion: "us-east-1" }],
  ])("%s: origin %s, %s, origin shield %j", (env, protocol, priceClass, shield) => {
    const d = dist(env);
    expect(d.priceClass).toBe(priceClass);
    expect(d.origins[0].customOriginConfig).toMatchObject({ originProtocolPolicy: protocol, originSslProtocols: ["TLSv1.2"] });
    expect(d.origins[0].originShield).toEqual(shield);
  });

  it("requires TLSv1.2_2021 from viewers with a custom certificate", () => {
    expect(dist("prod").viewerCertificate).toEqual({
      acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: "TLSv1.2_2021",
    });
    expect(dist("prod").aliases).toEqual(["cdn.uaip.example.com"]);
    expect(dist("dev").viewerCertificate).toMatchObject({ cloudfrontDefaultCertificate: true });
  });

  it("adds HSTS, nosniff, frame DENY and a referrer policy", () => {
    const h = of("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "prod")[0]!.inputs.securityHeadersConfig as Record<
      string,
      any
    >;
    expect(h.strictTransportSecurity).toMatchObject({
      accessControlMaxAgeSec: 31536000,
      includeSubdomains: true,
      override: true,
    });
    expect(h.contentTypeOptions).toEqual({ override: true });
    expect(h.frameOptions).toEqual({ frameOption: "DENY", override: true });
    expect(h.referrerPolicy.referrerPolicy).toBe("strict-origin-when-cross-origin");
  });

  it("forwards the WebSocket upgrade headers and keeps Authorization in the API cache key", () => {
    const orp = of("aws:cloudfront/originRequestPolicy:OriginRequestPolicy", "dev")[0]!.inputs as Record<string, any>;
    expect(orp.headersConfig.headers.items).toEqual(expect.arrayContaining(["Sec-WebSocket-Key", "Sec-WebSocket-Version"]));
    expect(orp.headersConfig.headers.items.length).toBeLessThanOrEqual(10); // CloudFront's per-policy header quota
    expect(policy("dev", "api").parametersInCacheKeyAndForwardedToOrigin.headersConfig.headers.items).toEqual(["Authorization"]);
  });

  it("outputs the distribution id and domain", async () => {
    expect(await promiseOf(prod.distributionId)).toBe("prod-distribution-id");
    expect(await promiseOf(prod.domainName)).toBe("d111111abcdef8.cloudfront.net");
  });

  it.each([
    [{ apiTtl: { min: 0, default: 100, max: 60 } }, "CdnArgs.apiTtl"],
    [{ aliases: ["x.example.com"] }, "CdnArgs.viewerCertificateArn"],
  ])("rejects %j naming %s", (bad, key) => {
    expect(() => new mod.Cdn(`bad-${key}`, { originDomainName: "x", ...bad })).toThrow(expect.objectContaining({ key }));
  });

  it("names every child prod-<role> and parents it to the component", () => {
    const children = mocks.resources.filter((r) => r.custom && r.name.startsWith("prod-"));
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const c of children) expect(c.parent.endsWith("uaip:aws:Cdn::prod")).toBe(true);
  });
});
