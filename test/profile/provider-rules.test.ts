import { parseConfig } from "../../profile/parse";
import {
  EXAMPLE_ACCOUNT_ID,
  exampleCertificateIssues,
  parseIpv4Cidr,
  reservedDbUsername,
  tagIssues,
  webhookUrlIssue,
} from "../../profile/provider-rules";
import { parseError as errorOf } from "../helpers/profile-issues";

const PUBLIC = (cidrs: string[]) => ({ environment: "dev", cluster: { endpointPublicAccess: true, publicAccessCidrs: cidrs } });
const SVC = (extra: Record<string, unknown>) => ({ environment: "dev", services: [{ name: "a", port: 3001, ...extra }] });

describe("profiles that parse but that AWS, Kubernetes or the runtime would refuse: each fails with key, value and fix", () => {
  it.each([
    [
      "service name too long for its target group name",
      { environment: "dev", services: [{ name: "an-extremely-long-service-name", port: 3001 }] },
      /^services\[0\]\.name: "an-extremely-long-service-name" has 30 characters; .*use at most 25/m,
    ],
    [
      "CIDR halves of the internet (0.0.0.0/1)",
      PUBLIC(["0.0.0.0/1", "128.0.0.0/1"]),
      /^cluster\.publicAccessCidrs\[0\]: "0\.0\.0\.0\/1" opens the Kubernetes API to 2147483648 addresses \(wider than a \/8\); list the CI\/VPN egress CIDRs/m,
    ],
    [
      "CIDR with a zero-padded prefix (0.0.0.0/00)",
      PUBLIC(["0.0.0.0/00"]),
      /^cluster\.publicAccessCidrs\[0\]: the prefix length must be written without leading zeros, got "0\.0\.0\.0\/00"/m,
    ],
    [
      "CIDR that is no address (999.1.2.3/99)",
      PUBLIC(["999.1.2.3/99"]),
      /^cluster\.publicAccessCidrs\[0\]: each address octet must be 0\.\.255 without leading zeros, got "999\.1\.2\.3\/99"/m,
    ],
    [
      "CIDR wider than a /8",
      PUBLIC(["10.0.0.0/7"]),
      /^cluster\.publicAccessCidrs\[0\]: "10\.0\.0\.0\/7" opens .* \(wider than a \/8\)/m,
    ],
    [
      "CIDR with host bits",
      PUBLIC(["198.18.0.1/24"]),
      /^cluster\.publicAccessCidrs\[0\]: host bits are set; the network is 198\.18\.0\.0\/24, got "198\.18\.0\.1\/24"/m,
    ],
    [
      "documentation CIDR (hangs every Kubernetes call)",
      PUBLIC(["203.0.113.0/24"]),
      /^cluster\.publicAccessCidrs\[0\]: "203\.0\.113\.0\/24" is a documentation range \(RFC 5737/m,
    ],
    [
      "CPU request above its limit",
      SVC({ resources: { requests: { cpu: "2" }, limits: { cpu: "500m" } } }),
      /^services\[0\]\.resources\.requests\.cpu: 2 exceeds limits\.cpu 500m; .*lower the request or raise the limit/m,
    ],
    [
      "memory request above its limit",
      SVC({ resources: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } }),
      /^services\[0\]\.resources\.requests\.memory: 2Gi exceeds limits\.memory 1Gi/m,
    ],
    [
      "service named static",
      { environment: "dev", services: [{ name: "static", port: 3001 }] },
      /^services\[0\]\.name: "static" is a path prefix kept for static content; pick another name/m,
    ],
    [
      "service named assets",
      { environment: "dev", services: [{ name: "assets", port: 3001 }] },
      /^services\[0\]\.name: "assets" is a path prefix/m,
    ],
    [
      "service named uaip",
      { environment: "dev", services: [{ name: "uaip", port: 3001 }] },
      /^services\[0\]\.name: "uaip" would make Kubernetes inject UAIP_\* service-link variables/m,
    ],
    [
      "service named uaip-*",
      { environment: "dev", services: [{ name: "uaip-gateway", port: 3001 }] },
      /^services\[0\]\.name: "uaip-gateway" would make Kubernetes inject UAIP_\*/m,
    ],
    [
      "zero scrape interval",
      { environment: "dev", monitoring: { scrapeInterval: "0s" } },
      /^monitoring\.scrapeInterval: expected a positive duration, got "0s" \(Prometheus refuses 0\); use e\.g\. "15s"/m,
    ],
    [
      "zero storage",
      { environment: "dev", monitoring: { storageSize: "0Gi" } },
      /^monitoring\.storageSize: expected a volume size above zero, got "0Gi"/m,
    ],
    [
      "CDN off while the runtime purges it",
      { environment: "dev", cdn: { enabled: false }, runtime: { cache: { cdn: { enabled: true } } } },
      /^runtime\.cache\.cdn\.enabled: true, but cdn\.enabled is false: there is no distribution to purge/m,
    ],
    [
      "a service purging a CDN that is off",
      {
        environment: "dev",
        cdn: { enabled: false },
        services: [{ name: "a", port: 3001, runtime: { cache: { cdn: { enabled: true } } } }],
      },
      /^services\[0\]\.runtime\.cache\.cdn\.enabled: true, but cdn\.enabled is false/m,
    ],
    [
      "API min TTL while cookies are forwarded but not in the cache key",
      { environment: "dev", cdn: { apiTtl: { min: 5, default: 10, max: 60 } } },
      /^cdn\.apiTtl\.min: 5 caches API responses even when the origin says private, while cookies are forwarded but not in the cache key/m,
    ],
    [
      "a tag key AWS reserves",
      { environment: "dev", tags: { "aws:owner": "me" } },
      /^tags\.aws:owner: tag keys starting with "aws:" are reserved by AWS; rename it/m,
    ],
    [
      "a tag value with characters AWS refuses",
      { environment: "dev", tags: { team: "platform<ops>" } },
      /^tags\.team: tag value "platform<ops>" has characters AWS refuses/m,
    ],
    [
      "a reserved database user",
      { environment: "dev", database: { username: "rdsadmin" } },
      /^database\.username: "rdsadmin" is reserved by RDS or PostgreSQL; RDS refuses it as the master user: pick another, e\.g\. "uaip"/m,
    ],
    [
      "a SQL key word as database user",
      { environment: "dev", database: { username: "user" } },
      /^database\.username: "user" is reserved/m,
    ],
    [
      "a static CDN path no ALB rule routes",
      { environment: "dev", cdn: { staticPaths: ["/static/*"] } },
      /^cdn\.staticPaths\[0\]: "\/static\/\*" is under no service prefix/m,
    ],
    [
      "a minor PostgreSQL pin",
      { environment: "dev", database: { engineVersion: "16.4" } },
      /^database\.engineVersion: expected a PostgreSQL major version like "16" \(minor upgrades are automatic; pin the major only\), got "16\.4"/m,
    ],
    [
      "a Redis patch pin",
      { environment: "dev", redis: { engineVersion: "7.1.0" } },
      /^redis\.engineVersion: expected an ElastiCache Redis version like "7\.1" \(no patch level/m,
    ],
    [
      "an admin that is no IAM role",
      { environment: "dev", cluster: { adminRoleArns: ["arn:aws:iam::123456789012:user/alice"] } },
      /^cluster\.adminRoleArns\[0\]: expected an IAM role ARN/m,
    ],
  ])("%s", (_kind, raw, expected) => {
    const err = errorOf(raw);
    expect(err.code).toBe("UAIP_PROFILE_INVALID");
    expect(err.message).toMatch(expected);
  });

  it("accepts what the committed stacks and the presets use", () => {
    for (const environment of ["dev", "staging", "prod", "local"]) expect(() => parseConfig({ environment })).not.toThrow();
    expect(() => parseConfig(PUBLIC(["198.51.99.0/24", "100.64.0.0/10"]))).not.toThrow();
    expect(() => parseConfig({ environment: "dev", cdn: { staticPaths: ["/agent-intelligence/static/*"] } })).not.toThrow();
  });
});

describe("parseIpv4Cidr (strict)", () => {
  it.each([
    ["10.0.0.0/16", { base: 167772160, prefix: 16 }],
    ["0.0.0.0/0", { base: 0, prefix: 0 }],
    ["255.255.255.255/32", { base: 4294967295, prefix: 32 }],
  ])("%s parses", (text, parsed) => expect(parseIpv4Cidr(text)).toEqual(parsed));

  it.each([
    "10.0.0.0",
    "10.0.0/16",
    "010.0.0.0/16",
    "10.0.0.0/33",
    "10.0.0.0/016",
    "256.0.0.0/8",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "::/0",
    "10.1.0.0/8",
  ])("%j is refused", (text) => {
    expect(typeof parseIpv4Cidr(text)).toBe("string");
  });
});

describe("smaller rules", () => {
  it("example certificate values: AWS's documentation account, an all-zero id and RFC 2606 names are named with their values; real ones pass", () => {
    const withLb = (certificateArn: string, domainName: string) =>
      exampleCertificateIssues(parseConfig({ environment: "dev", loadBalancer: { certificateArn, domainName } }));
    const real = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
    expect(withLb(real, "origin.uaip.acme.io")).toEqual([]);
    expect(withLb(real.replace("123456789012", EXAMPLE_ACCOUNT_ID), "origin.uaip.acme.io")).toEqual([
      {
        path: "loadBalancer.certificateArn",
        message: expect.stringContaining(`"${real.replace("123456789012", EXAMPLE_ACCOUNT_ID)}" is the stack file's example`),
      },
    ]);
    expect(
      withLb(real.replace(/certificate\/.*/, "certificate/00000000-0000-0000-0000-000000000000"), "origin.uaip.acme.io"),
    ).toHaveLength(1);
    for (const reserved of ["origin.example.com", "a.b.example.org", "api.example", "origin.test", "x.invalid"])
      expect(withLb(real, reserved)).toEqual([
        { path: "loadBalancer.domainName", message: expect.stringContaining(`"${reserved}" is a reserved example name`) },
      ]);
    // Names that merely contain the words are someone's.
    expect(withLb(real, "example.company.com")).toEqual([]);
    expect(withLb(real, "origin.testing.io")).toEqual([]);
    expect(exampleCertificateIssues(parseConfig({ environment: "local" }))).toEqual([]);
  });

  it("webhook: https only, and the value is never echoed", () => {
    expect(webhookUrlIssue("https://hooks.example.com/T0/B0/x")).toBeUndefined();
    const http = webhookUrlIssue("http://hooks.example.com/secret-token")!;
    expect(http.path).toBe("alertWebhookUrl");
    expect(http.message).not.toContain("secret-token");
    expect(webhookUrlIssue("not a url")!.message).toContain("not a URL (value hidden");
  });

  it("tags: length, count and the aws: prefix", () => {
    expect(tagIssues({ [`k${"x".repeat(128)}`]: "v" })[0]!.message).toContain("1..128 characters, got 129");
    expect(tagIssues({ k: "v".repeat(257) })[0]!.message).toContain("at most 256 characters, got 257");
    expect(tagIssues(Object.fromEntries([...Array(43).keys()].map((i) => [`k${i}`, "v"])))[0]!.message).toContain(
      "exceed AWS's 50 per resource; keep at most 42",
    );
    expect(tagIssues({ team: "platform", "cost-center": "uaip-prod", "a b:c/d=e+f-g@h": "ok" })).toEqual([]);
  });

  it("database users: RDS roles, pg_/rds prefixes and SQL key words are reserved; ordinary names are not", () => {
    for (const name of ["rdsadmin", "rds_superuser", "pg_monitor", "rdsfoo", "select", "public", "none"])
      expect(reservedDbUsername(name)).toBeDefined();
    for (const name of ["uaip", "postgres", "app_user"]) expect(reservedDbUsername(name)).toBeUndefined();
  });
});
