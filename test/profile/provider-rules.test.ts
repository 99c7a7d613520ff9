import fc from "fast-check";
import { parseConfig } from "../../profile/parse";
import {
  certificateIssue,
  EXAMPLE_ACCOUNT_ID,
  exampleCertificateIssues,
  parseIpv4Cidr,
  reservedDbUsername,
  tagIssues,
  webhookUrlIssue,
} from "../../profile/provider-rules";
import { parseError as errorOf, parseIssues } from "../helpers/profile-issues";

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

describe("provider rules at their edges (issue #22: Stryker's survivors in profile/provider-rules.ts)", () => {
  const issuesOf = (raw: Record<string, unknown>) => parseIssues({ environment: "dev", ...raw });
  const pathsOf = (raw: Record<string, unknown>) => issuesOf(raw).map((i) => i.path);

  it("parseIpv4Cidr names what is wrong: not a CIDR at all, or a prefix over 32", () => {
    for (const text of ["10.0.0.0", "x10.0.0.0/8", "10.0.0.0/8x", "1234.0.0.0/8", "10.0.0.0/123"])
      expect(parseIpv4Cidr(text)).toMatch(/expected an IPv4 CIDR like "198\.18\.0\.0\/24"/);
    expect(parseIpv4Cidr("10.0.0.0/33")).toMatch(/0\.\.32/);
    expect(parseIpv4Cidr("0.0.0.0/1")).toEqual({ base: 0, prefix: 1 });
    expect(parseIpv4Cidr("10.0.0.0/08")).toMatch(/without leading zeros/);
    expect(parseIpv4Cidr("10.0.0.00/32")).toMatch(/without leading zeros/);
  });

  it("property: a CIDR parses exactly when its octets are 0..255 and it has no host bits; the refusal names the network", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 32 }),
        (octets, prefix) => {
          const parsed = parseIpv4Cidr(`${octets.join(".")}/${prefix}`);
          if (octets.some((o) => o > 255)) return void expect(parsed).toMatch(/0\.\.255/);
          const ip = octets.reduce((a, o) => a * 256 + o, 0);
          const size = 2 ** (32 - prefix);
          const network = ip - (ip % size);
          if (network === ip) expect(parsed).toEqual({ base: ip, prefix });
          else {
            const dotted = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
            expect(parsed).toBe(`host bits are set; the network is ${dotted}/${prefix}`);
          }
        },
      ),
    );
  });

  it("public access CIDRs: a /8 is the widest allowed, a /7 is refused; anything touching a documentation range is refused", () => {
    expect(pathsOf(PUBLIC(["10.0.0.0/8"]))).toEqual([]);
    expect(pathsOf(PUBLIC(["10.0.0.0/7"]))).toEqual(["cluster.publicAccessCidrs[0]"]);
    for (const cidr of ["192.0.2.128/25", "198.51.100.7/32", "203.0.0.0/16"])
      expect(issuesOf(PUBLIC(["10.0.0.0/8", cidr]))).toEqual([
        { path: "cluster.publicAccessCidrs[1]", message: expect.stringContaining(`"${cidr}" is a documentation range`) },
      ]);
    for (const cidr of ["192.0.3.0/24", "198.51.101.0/24", "203.0.112.0/24"]) expect(pathsOf(PUBLIC([cidr]))).toEqual([]);
    // While the endpoint is private the CIDRs open nothing: refused as having no effect, not as too wide.
    expect(pathsOf({ cluster: { endpointPublicAccess: false, publicAccessCidrs: ["10.0.0.0/7"] } })).toEqual([
      "cluster.publicAccessCidrs",
    ]);
  });

  it("service names: 25 characters fit the target group name, 26 do not; names that merely start like reserved ones pass", () => {
    const named = (name: string) => pathsOf({ services: [{ name, port: 3001 }] });
    expect(named("a".repeat(25))).toEqual([]);
    expect(named("a".repeat(26))).toEqual(["services[0].name"]);
    for (const name of ["statics", "asset", "uaipx", "my-uaip"]) expect(named(name)).toEqual([]);
  });

  it("requests equal to their limits pass; a zero request is refused, naming the value", () => {
    const svc = (requests: Record<string, string>, limits: Record<string, string>) =>
      issuesOf({ services: [{ name: "a", port: 3001, resources: { requests, limits } }] });
    expect(svc({ cpu: "500m", memory: "512Mi" }, { cpu: "500m", memory: "512Mi" })).toEqual([]);
    expect(svc({ cpu: "0", memory: "256Mi" }, { cpu: "500m", memory: "512Mi" })).toEqual([
      { path: "services[0].resources.requests.cpu", message: expect.stringContaining("above zero, got 0;") },
    ]);
    expect(svc({ cpu: "100m", memory: "0Mi" }, { cpu: "500m", memory: "512Mi" })).toEqual([
      { path: "services[0].resources.requests.memory", message: "expected a memory request above zero, got 0Mi" },
    ]);
  });

  it("zero durations are refused however many zeros; any positive one passes", () => {
    expect(pathsOf({ monitoring: { scrapeInterval: "00s", retention: "000d" } })).toEqual([
      "monitoring.scrapeInterval",
      "monitoring.retention",
    ]);
    for (const scrapeInterval of ["10s", "30s", "1m", "100h"]) expect(pathsOf({ monitoring: { scrapeInterval } })).toEqual([]);
    for (const retention of ["10d", "30d", "1w", "100y"]) expect(pathsOf({ monitoring: { retention } })).toEqual([]);
    expect(issuesOf({ monitoring: { retention: "0y" } })).toEqual([
      { path: "monitoring.retention", message: expect.stringContaining('got "0y"') },
    ]);
  });

  it("static CDN paths: under any one service's prefix passes; the prefix must be whole", () => {
    const p = parseConfig({ environment: "dev" });
    const [first, second] = p.services.map((s) => s.name);
    expect(pathsOf({ cdn: { staticPaths: [`/${second}/static/*`, `/${first}/img/*`] } })).toEqual([]);
    const issues = issuesOf({ cdn: { staticPaths: [`/${first}x/static/*`] } });
    expect(issues).toEqual([
      { path: "cdn.staticPaths[0]", message: expect.stringContaining(p.services.map((s) => s.name).join(", ")) },
    ]);
  });

  it("an API minimum TTL is refused only while the CDN is on, and 0 passes", () => {
    expect(pathsOf({ cdn: { enabled: false, apiTtl: { min: 5, default: 10, max: 60 } } })).toEqual([]);
    expect(pathsOf({ cdn: { apiTtl: { min: 0, default: 10, max: 60 } } })).toEqual([]);
    expect(pathsOf({ cdn: { apiTtl: { min: 1, default: 10, max: 60 } } })).toEqual(["cdn.apiTtl.min"]);
  });

  it("tags at AWS's limits: 42 of the profile's beside the platform's 8 (50 in all), keys of 1 and 128, values of 0 and 256", () => {
    const many = (n: number) => Object.fromEntries([...Array(n).keys()].map((i) => [`k${i}`, "v"]));
    expect(tagIssues(many(50 - 8))).toEqual([]);
    expect(tagIssues(many(50 - 8 + 1)).map((i) => i.path)).toEqual(["tags"]);
    expect(tagIssues({ a: "", ["k".repeat(128)]: "v".repeat(256) })).toEqual([]);
    expect(tagIssues({ "": "v" })).toEqual([
      { path: "tags.", message: "tag keys must be 1..128 characters, got 0; give the tag a key" },
    ]);
  });

  it("a key too long is told to be shortened; a key or value with characters AWS refuses is named with them", () => {
    expect(tagIssues({ ["k".repeat(129)]: "v" })).toEqual([
      { path: `tags.${"k".repeat(129)}`, message: "tag keys must be 1..128 characters, got 129; shorten it" },
    ]);
    expect(tagIssues({ "team<ops>": "v" })).toEqual([
      {
        path: "tags.team<ops>",
        message: 'tag key "team<ops>" has characters AWS refuses; use letters, digits, spaces and _ . : / = + - @',
      },
    ]);
  });

  it("the aws: prefix is reserved in any case, and only as a prefix", () => {
    for (const key of ["aws:x", "AWS:x", "Aws:cost"])
      expect(tagIssues({ [key]: "v" }).map((i) => i.path)).toEqual([`tags.${key}`]);
    for (const key of ["x-aws:y", "aws-x", "awsx:y"]) expect(tagIssues({ [key]: "v" })).toEqual([]);
  });

  it("database users: an RDS or pg_ prefix is refused with the prefix named; a database may be named so", () => {
    expect(issuesOf({ database: { username: "pg_app" } })).toEqual([
      {
        path: "database.username",
        message: expect.stringMatching(
          /^"pg_app" starts with a prefix PostgreSQL\/RDS reserves \(pg_, rds\); RDS refuses it as the master user/,
        ),
      },
    ]);
    for (const name of ["pg_data", "rdsdata"]) expect(issuesOf({ database: { name } })).toEqual([]);
    expect(issuesOf({ database: { name: "postgres" } })).toEqual([
      { path: "database.name", message: expect.stringMatching(/RDS refuses it as the database name: pick another/) },
    ]);
  });

  it("every AWS stack needs a certificate; a Docker stack does not", () => {
    const cert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-4789-abcd-ef0123456789";
    expect(certificateIssue(parseConfig({ environment: "dev" }))).toEqual({
      path: "loadBalancer.certificateArn",
      message: expect.stringMatching(/^every AWS stack \(here dev\) needs HTTPS .*got nothing; request an ACM certificate/),
    });
    expect(
      certificateIssue(parseConfig({ environment: "dev", loadBalancer: { certificateArn: cert, domainName: "o.uaip.io" } })),
    ).toBeUndefined();
    expect(certificateIssue(parseConfig({ environment: "local" }))).toBeUndefined();
  });

  it("example certificates: only AWS's documentation account or an all-zero id; a real one in another partition passes", () => {
    const withArn = (certificateArn: string) =>
      exampleCertificateIssues(parseConfig({ environment: "dev", loadBalancer: { certificateArn, domainName: "o.uaip.io" } }));
    const arn = (account: string, id: string, partition = "aws") => `arn:${partition}:acm:us-east-1:${account}:certificate/${id}`;
    const id = "0a1b2c3d-4e5f-4789-abcd-ef0123456789";
    expect(withArn(arn("123456789012", id))).toEqual([]);
    expect(withArn(arn("123456789012", "00000000-0000-0000-0000-000000000001"))).toEqual([]);
    expect(withArn(arn(EXAMPLE_ACCOUNT_ID, id)).map((i) => i.path)).toEqual(["loadBalancer.certificateArn"]);
    expect(withArn(arn(EXAMPLE_ACCOUNT_ID, id, "aws-us-gov").replace("us-east-1", "us-gov-west-1")).map((i) => i.path)).toEqual([
      "loadBalancer.certificateArn",
    ]);
    expect(
      exampleCertificateIssues({
        ...parseConfig({ environment: "dev" }),
        loadBalancer: { ...parseConfig({ environment: "dev" }).loadBalancer, certificateArn: `x${arn(EXAMPLE_ACCOUNT_ID, id)}` },
      }),
    ).toEqual([]);
  });

  it("the VPC CIDR is AWS's only: with host bits it is refused on AWS naming the network, and ignored on Docker", () => {
    expect(issuesOf({ network: { cidr: "10.0.0.1/16" } })).toEqual([
      { path: "network.cidr", message: 'host bits are set; the network is 10.0.0.0/16, got "10.0.0.1/16"' },
    ]);
    expect(parseIssues({ environment: "local", network: { cidr: "10.0.0.1/16" } })).toEqual([]);
  });

  it("example certificates are looked for on AWS only, in a whole ARN, with an id of zeros only", () => {
    const dev = parseConfig({ environment: "dev" });
    const local = parseConfig({ environment: "local" });
    const withArn = (p: typeof dev, certificateArn: string) =>
      exampleCertificateIssues({ ...p, loadBalancer: { ...p.loadBalancer, certificateArn, domainName: "origin.example.com" } });
    const example = `arn:aws:acm:us-east-1:${EXAMPLE_ACCOUNT_ID}:certificate/0a1b2c3d-4e5f-4789-abcd-ef0123456789`;
    expect(withArn(local, example)).toEqual([]);
    expect(withArn(dev, example).map((i) => i.path)).toEqual(["loadBalancer.certificateArn", "loadBalancer.domainName"]);
    expect(withArn(dev, `${example}Z`).map((i) => i.path)).toEqual(["loadBalancer.domainName"]);
    const zeros = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000";
    expect(withArn(dev, `${zeros}Z`).map((i) => i.path)).toEqual(["loadBalancer.domainName"]);
    const endsInZeros = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-4789-abcd-ef0123400000";
    expect(withArn(dev, endsInZeros).map((i) => i.path)).toEqual(["loadBalancer.domainName"]);
  });

  it("webhook: the refusal of a non-https URL names its scheme, never the value", () => {
    const issue = webhookUrlIssue("ftp://hooks.example.com/secret-token")!;
    expect(issue).toEqual({ path: "alertWebhookUrl", message: expect.stringContaining("got a ftp:// URL") });
    expect(issue.message).not.toContain("secret-token");
    expect(webhookUrlIssue("not a url")).toEqual({
      path: "alertWebhookUrl",
      message: expect.stringContaining("pulumi config set --secret uaip:alertWebhookUrl"),
    });
  });
});
