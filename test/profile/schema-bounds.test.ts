import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { ProfileIssue } from "../../profile/errors";
import { fromZod, parseConfig, show } from "../../profile/parse";
import { profileSchema } from "../../profile/schema";

/**
 * The profile schema's limits, each on both sides (issue #22: profile/schema.ts's mutants are its bounds and
 * messages). The limits are written here from where they come from (AWS's and Kubernetes' API ranges, the
 * vendored data-tier limits, the profile's documented choices), never read from the schema under test. Each
 * value goes through the schema and fromZod as parseConfig does (one parse is ~1 ms, a whole parseConfig ~15).
 */

const limits = JSON.parse(readFileSync(join(__dirname, "../../vendor/aws/data-tier-limits.json"), "utf8"));
const MAX_TIMER_MS = 2 ** 31 - 1; // Node fires a longer setTimeout after 1 ms.

type Raw = Record<string, unknown>;
let base: Raw;
beforeAll(() => {
  // A valid profile to change one key of: local's, with an RDS Proxy and ElastiCache Serverless so their keys exist.
  base = structuredClone(parseConfig({ environment: "local" })) as unknown as Raw;
  const database = base.database as Raw;
  database.proxy = {
    maxConnectionsPercent: 100,
    maxIdleConnectionsPercent: 50,
    connectionBorrowTimeout: 120,
    idleClientTimeout: 1800,
    clientsPerServerConnection: 1,
  };
  database.maxConnections = 100;
  const redis = base.redis as Raw;
  Object.assign(redis, {
    shards: 3,
    replicasPerShard: 1,
    // Each minimum at its lowest and each maximum at its highest, so either can range over all AWS accepts.
    serverless: {
      dataStorageGb: {
        minimum: limits.elasticache.serverless.dataStorageGb.min,
        maximum: limits.elasticache.serverless.dataStorageGb.max,
      },
      ecpuPerSecond: {
        minimum: limits.elasticache.serverless.ecpuPerSecond.min,
        maximum: limits.elasticache.serverless.ecpuPerSecond.max,
      },
    },
  });
  Object.assign(base.cost as Raw, { monthlyBudget: 100 });
  Object.assign((base.services as Raw[])[0]!, {
    targetRps: 100,
    hpa: { ...((base.services as Raw[])[0]!.hpa as Raw), memoryTarget: 80 },
  });
});

/** "services[0].hpa.max" -> ["services", 0, "hpa", "max"]. */
const partsOf = (key: string): (string | number)[] =>
  [...key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));

/** The issues of the base profile with `key` set to `value` (deleted when undefined). */
function issuesWith(changes: Record<string, unknown>): ProfileIssue[] {
  const input = structuredClone(base);
  for (const [key, value] of Object.entries(changes)) {
    const parts = partsOf(key);
    const parent = parts.slice(0, -1).reduce<Raw>((node, part) => node[part] as Raw, input);
    if (value === undefined) delete parent[parts.at(-1)!];
    else parent[parts.at(-1)!] = value;
  }
  const parsed = profileSchema.safeParse(input);
  return parsed.success ? [] : fromZod(parsed.error, input, profileSchema);
}
const issuesAt = (key: string, value: unknown) => issuesWith({ [key]: value }).filter((i) => i.path === key);

interface Bound {
  key: string;
  min: number;
  max?: number;
  /** Whole numbers only. */
  int: boolean;
  why: string;
}
const aws = (path: string) => `https://docs.aws.amazon.com/${path}`;
const BOUNDS: Bound[] = [
  { key: "services[0].port", min: 1, max: 65535, int: true, why: "a TCP port" },
  { key: "services[0].hpa.min", min: 1, int: true, why: "an HPA's minReplicas (0 needs a feature gate)" },
  { key: "services[0].hpa.max", min: 1, int: true, why: "maxReplicas" },
  { key: "services[0].hpa.cpuTarget", min: 1, max: 100, int: true, why: "percent of the request" },
  { key: "services[0].hpa.memoryTarget", min: 1, max: 100, int: true, why: "percent of the request" },
  {
    key: "services[0].hpa.scaleDownStabilizationSeconds",
    min: 0,
    max: 3600,
    int: true,
    why: "Kubernetes' HPA behavior: stabilizationWindowSeconds 0..3600",
  },
  { key: "services[0].headroom", min: 0, max: 0.9, int: false, why: "the spare fraction at peak (README: 0-0.9)" },
  { key: "services[0].pool.min", min: 0, int: true, why: "a pool may start empty" },
  { key: "services[0].pool.max", min: 1, int: true, why: "a pool holds a connection" },
  { key: "network.azCount", min: 2, max: 3, int: true, why: "an ALB needs subnets in 2 AZs; the VPC layout has 3" },
  { key: "cluster.nodes.min", min: 1, int: true, why: "a node for the system pods" },
  { key: "cluster.nodes.desired", min: 1, int: true, why: "as min" },
  { key: "cluster.nodes.max", min: 1, int: true, why: "as min" },
  { key: "database.allocatedStorage", min: 20, max: 65536, int: true, why: aws("AmazonRDS/latest/UserGuide/CHAP_Storage.html") },
  { key: "database.maxAllocatedStorage", min: 20, max: 65536, int: true, why: "as allocatedStorage" },
  { key: "database.backupRetentionDays", min: 0, max: 35, int: true, why: "RDS BackupRetentionPeriod 0..35" },
  { key: "database.reservedConnections", min: 3, int: true, why: "admins, migrations, monitoring" },
  { key: "database.maxConnections", min: 10, int: true, why: "an explicit max_connections" },
  { key: "database.logMinDurationMs", min: -1, max: MAX_TIMER_MS, int: true, why: "PostgreSQL: -1 turns it off" },
  { key: "database.statsRefreshInterval", min: 0, max: MAX_TIMER_MS, int: true, why: "0: never; a Node timer" },
  {
    key: "database.readReplicas",
    min: 0,
    max: limits.rdsPostgresReadReplicas.maxPerSource,
    int: true,
    why: "vendor/aws/data-tier-limits.json",
  },
  ...(["maxConnectionsPercent", "connectionBorrowTimeout", "idleClientTimeout"] as const).map((k) => ({
    key: `database.proxy.${k}`,
    min: limits.rdsProxy[k].min as number,
    max: limits.rdsProxy[k].max as number,
    int: true,
    why: "vendor/aws/data-tier-limits.json (RDS Proxy)",
  })),
  {
    key: "database.proxy.maxIdleConnectionsPercent",
    min: limits.rdsProxy.maxIdleConnectionsPercent.min,
    max: 100,
    int: true,
    why: "RDS Proxy: 0..maxConnectionsPercent (100 here)",
  },
  { key: "database.proxy.clientsPerServerConnection", min: 1, max: 100, int: false, why: "the profile's choice (schema doc)" },
  {
    key: "redis.replicas",
    min: 0,
    max: limits.elasticache.replicasPerShard.max,
    int: true,
    why: "ElastiCache replicas per node group",
  },
  { key: "redis.snapshotRetentionDays", min: 0, max: 35, int: true, why: "ElastiCache SnapshotRetentionLimit 0..35" },
  { key: "redis.shards", min: limits.elasticache.shards.min, max: limits.elasticache.shards.max, int: true, why: "vendor" },
  {
    key: "redis.replicasPerShard",
    min: limits.elasticache.replicasPerShard.min,
    max: limits.elasticache.replicasPerShard.max,
    int: true,
    why: "vendor",
  },
  ...(["dataStorageGb", "ecpuPerSecond"] as const).flatMap((k) =>
    (["minimum", "maximum"] as const).map((m) => ({
      key: `redis.serverless.${k}.${m}`,
      min: limits.elasticache.serverless[k].min as number,
      max: limits.elasticache.serverless[k].max as number,
      int: true,
      why: "vendor/aws/data-tier-limits.json (CacheUsageLimits)",
    })),
  ),
  ...["apiTtl", "staticTtl"].flatMap((t) =>
    ["min", "default", "max"].map((m) => ({ key: `cdn.${t}.${m}`, min: 0, int: true, why: "CloudFront TTLs, seconds" })),
  ),
  { key: "loadBalancer.idleTimeout", min: 1, max: 4000, int: true, why: "ALB idle_timeout.timeout_seconds 1..4000" },
  { key: "loadBalancer.deregistrationDelay", min: 0, max: 3600, int: true, why: "target group deregistration delay 0..3600" },
  { key: "monitoring.replicas", min: 1, max: 5, int: true, why: "the profile's choice" },
  { key: "monitoring.slo.latencyP95Ms", min: 1, max: MAX_TIMER_MS, int: true, why: "a duration in ms" },
  { key: "cost.monthlyBudget", min: Number.MIN_VALUE, int: false, why: "USD, above zero" },
  ...["requestsPerMonth", "s3PutRequestsPerMonth"].map((k) => ({
    key: `cost.assumptions.${k}`,
    min: 0,
    int: true,
    why: "a count",
  })),
  ...[
    "gbOutPerMonth",
    "logGbPerMonth",
    "natGbPerMonth",
    "s3GbStored",
    "ecrGbStored",
    "ciBuildMinutesPerMonth",
    "cacheGbStored",
    "cacheEcpuPerRequest",
  ].map((k) => ({ key: `cost.assumptions.${k}`, min: 0, int: false, why: "an amount" })),
];

/** One step past a limit: 1 for whole numbers, the next double otherwise. */
const step = (b: Bound, at: number) => (b.int ? 1 : Math.max(Math.abs(at) * Number.EPSILON, Number.MIN_VALUE));
const inRange = (b: Bound, v: number) => v >= b.min && (b.max === undefined || v <= b.max) && (!b.int || Number.isInteger(v));

function expectRefused(b: Bound, value: number): void {
  const messages = issuesAt(b.key, value).map((i) => i.message);
  // The expectation (zod's "Too small: expected number to be >=1", or the profile's own) and the value as written.
  const written = `, got ${show(value)}`;
  expect({ value, messages }).toEqual({
    value,
    messages: expect.arrayContaining([expect.stringMatching(/^(Too (small|big): )?expected /)]),
  });
  for (const m of messages) expect(m.endsWith(written)).toBe(true);
}

describe("every numeric limit of the profile, on both sides", () => {
  it.each(BOUNDS.map((b) => [b.key, b] as const))("%s", (_key, b) => {
    expect(issuesAt(b.key, b.min)).toEqual([]);
    expectRefused(b, b.min - step(b, b.min));
    if (b.max !== undefined) {
      expect(issuesAt(b.key, b.max)).toEqual([]);
      expectRefused(b, b.max + step(b, b.max));
    }
    if (b.int) expectRefused(b, b.min + 0.5);
  });

  it("property: a value is accepted exactly when it lies within the key's limits", () => {
    const value = fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.double({ min: -2, max: 200, noNaN: true }));
    fc.assert(
      fc.property(fc.constantFrom(...BOUNDS), value, (b, v) => {
        expect(issuesAt(b.key, v).length > 0).toBe(!inRange(b, v));
      }),
      { numRuns: 60 },
    );
  });

  it("exclusive limits: targetRps above 0, the SLO's error rate strictly between 0 and 1", () => {
    for (const [key, refused, accepted] of [
      ["services[0].targetRps", [0, -1, Infinity], [Number.MIN_VALUE, 1e9]],
      ["monitoring.slo.errorRate", [0, 1, -0.1], [Number.MIN_VALUE, 1 - Number.EPSILON / 2, 0.5]],
    ] as const) {
      for (const v of refused)
        expect(issuesAt(key, v).map((i) => i.message)).toEqual([expect.stringContaining(`got ${show(v)}`)]);
      for (const v of accepted) expect(issuesAt(key, v)).toEqual([]);
    }
  });

  it("the durations' refusal says why (Node fires a longer timer at once)", () => {
    expect(issuesAt("database.statsRefreshInterval", MAX_TIMER_MS + 1)[0]!.message).toMatch(/at most 2147483647 ms/);
  });
});

describe("two limits that depend on each other", () => {
  it.each(["dataStorageGb", "ecpuPerSecond"])("serverless %s: minimum up to the maximum, one more refused, naming both", (k) => {
    const max = limits.elasticache.serverless[k].min + 10;
    const at = `redis.serverless.${k}`;
    expect(issuesWith({ [`${at}.maximum`]: max, [`${at}.minimum`]: max })).toEqual([]);
    expect(issuesWith({ [`${at}.maximum`]: max, [`${at}.minimum`]: undefined })).toEqual([]);
    expect(issuesWith({ [`${at}.maximum`]: max, [`${at}.minimum`]: max + 1 })).toEqual([
      {
        path: `${at}.minimum`,
        message: `${max + 1} exceeds ${k}.maximum ${max}; lower the minimum or raise the maximum, got ${max + 1}`,
      },
    ]);
  });

  it("proxy: idle connections up to maxConnectionsPercent, one more refused, naming both", () => {
    const at = "database.proxy";
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99 }), (pct) => {
        expect(issuesWith({ [`${at}.maxConnectionsPercent`]: pct, [`${at}.maxIdleConnectionsPercent`]: pct })).toEqual([]);
        expect(issuesWith({ [`${at}.maxConnectionsPercent`]: pct, [`${at}.maxIdleConnectionsPercent`]: pct + 1 })).toEqual([
          {
            path: `${at}.maxIdleConnectionsPercent`,
            message: `${pct + 1} exceeds maxConnectionsPercent ${pct} (RDS refuses it); lower it, got ${pct + 1}`,
          },
        ]);
      }),
      { numRuns: 20 },
    );
  });
});

describe("every pattern-checked key: accepted as written in the docs, refused one character off, the refusal says what is expected", () => {
  const CERT = "arn:aws:acm:us-east-1:111122223333:certificate/0a1b-2c3d";
  const ROLE = "arn:aws:iam::123456789012:role/";
  const DNS_NAME = "a".repeat(42);
  const RDS_NAME = `a${"_9".repeat(31)}`; // 63 characters, RDS's longest database name.
  const TAG = `v${"1".repeat(127)}`; // 128 characters, the longest image tag.
  const PATTERNS: [key: string, accepted: string[], refused: string[], expected: RegExp][] = [
    [
      "network.cidr",
      ["10.0.0.0/16", "172.16.0.0/24", "100.64.10.0/19", "10.0.0.0/20"],
      ["10.0.0.0/15", "10.0.0.0/25", "10.0.0.0/26", "10.0.0/16", "x10.0.0.0/16", "10.0.0.0/16x", "10.0.0.0/1", "10.0.0.0/2"],
      /between \/16 and \/24/,
    ],
    [
      "cluster.version",
      ["1.35", "1.9"],
      ["2.35", "1.35.1", "v1.35", "1.", "1x35", "11.35"],
      /Kubernetes minor version like "1\.35"/,
    ],
    [
      "cluster.publicAccessCidrs[0]",
      ["203.0.113.7/32", "198.51.100.42/32", "10.0.0.0/8", "10.0.0.0/10", "100.64.0.0/20"],
      ["10.0.0.0/123", "10.0.0.0", "x10.0.0.0/8", "10.0.0.0/8x", "10.0.0/8"],
      /expected an IPv4 CIDR/,
    ],
    [
      "cluster.publicAccessCidrs[0]",
      [],
      ["0.0.0.0/0", "10.0.0.0/0"],
      /whole internet may not reach the Kubernetes API; give your CI\/VPN/,
    ],
    [
      "cluster.adminRoleArns[0]",
      [`${ROLE}platform-admin`, `${ROLE}a/b.c@d`, "arn:aws-us-gov:iam::123456789012:role/x", `${ROLE}${"r".repeat(64)}`],
      // The schema checks the shape only; a name over 64 characters or a bad path is iamRoleArnIssue's to refuse,
      // with AWS's limits (test/profile/aws-identifiers.test.ts).
      [`${ROLE}`, "arn:aws:iam::12345678901:role/x", "arn:aws:iam::123456789012:user/x", `x${ROLE}x`, `${ROLE}x y`],
      /IAM role ARN like "arn:aws:iam::123456789012:role\/platform-admin"/,
    ],
    ["services[0].name", ["a", "agent-1", DNS_NAME], ["Agent", "agent_1", "-a"], /DNS-1123 label \(lowercase/],
    ["services[0].name", [], [`${DNS_NAME}b`], /DNS-1123 label of at most 42 characters/],
    ["services[0].resources.requests.cpu", ["250m", "1", "0.5"], ["lots", "", "1Gi"], /CPU quantity like "250m"/],
    ["services[0].resources.limits.memory", ["512Mi", "1Gi"], ["lots", "", "512MB"], /memory quantity like "512Mi"/],
    ["monitoring.storageSize", ["5Gi"], ["5 GB"], /memory quantity like "512Mi"/],
    [
      "database.engineVersion",
      ["16", "17"],
      ["16.1", "v16", "16x", ""],
      /PostgreSQL major version like "16" \(minor upgrades are automatic/,
    ],
    [
      "database.name",
      ["uaip", "a", RDS_NAME],
      [`${RDS_NAME}a`, "1abc", "Uaip", "a-b", "xa b", ""],
      /letter, then lowercase letters, digits or underscores/,
    ],
    ["database.username", ["uaip_admin"], ["Admin", "_a"], /letter, then lowercase letters, digits or underscores/],
    [
      "redis.nodeType",
      ["cache.t4g.micro", "cache.local"],
      ["t4g.micro", "xcache.t4g", "cachet4g"],
      /ElastiCache node type like "cache\.t4g\.micro"/,
    ],
    ["redis.engineVersion", ["7.1", "10.22"], ["7", "7.1.2", "v7.1", "7.1x"], /like "7\.1" \(no patch level/],
    [
      "cdn.staticPaths[0]",
      ["/agent-intelligence/static/*", "/a/", "/a1/x.y_z-w/*"],
      ["agent/static/*", "/-a/x", "/A/x", "/a", "x/a/b", "/a/b c", "/a/b?"],
      /path pattern under a service prefix, like "\/agent-intelligence\/static\/\*"/,
    ],
    [
      "loadBalancer.certificateArn",
      ["", CERT, CERT.replace("aws:", "aws-cn:")],
      [`${CERT} `, "arn:aws:acm:us-east-1:1111:certificate/0", `x${CERT}`, CERT.replace("certificate", "cert")],
      /ACM certificate ARN or an empty string/,
    ],
    [
      "loadBalancer.domainName",
      ["", "origin.dev.example.com", "a-b"],
      ["Origin.example.com", "a..b", "a_b.com", " a.com"],
      /DNS name or an empty string/,
    ],
    [
      "monitoring.scrapeInterval",
      ["15s", "1m", "2h", "120s"],
      ["15d", "15", "s", "1.5s", "x15s", "15sx"],
      /Prometheus duration like "15s"/,
    ],
    [
      "monitoring.retention",
      ["15d", "2w", "1y", "72h", "100d"],
      ["15s", "15m", "d", "x15d", "15dd"],
      /Prometheus retention like "15d"/,
    ],
    [
      "images.registry",
      ["ghcr.io/uaip", "localhost:5000/x", "registry.example.com", "a.b/c_d/e-f.g"],
      ["GHCR.io/x", "ghcr.io/uaip/", "https://ghcr.io", "host:port/x", ":5000/x"],
      /registry path like "ghcr\.io\/uaip"/,
    ],
    [
      "images.tag",
      ["v1.2.3", "a", "latest2", "_x", TAG],
      ["latest", "-x", ".x", `${TAG}1`, "a b", ""],
      /image tag other than "latest"/,
    ],
  ];

  it.each(PATTERNS.map(([key, ...rest]) => [key, ...rest] as const))("%s", (key, accepted, refused, expected) => {
    // images is a union: its registry/tag shape is the one under test here.
    const changes = (value: string) => ({
      ...(key.startsWith("images.") ? { images: { registry: "ghcr.io/uaip", tag: "v1" } } : {}),
      ...(key.startsWith("cluster.publicAccessCidrs") ? { "cluster.publicAccessCidrs": [] } : {}),
      ...(key.startsWith("cluster.adminRoleArns") ? { "cluster.adminRoleArns": [] } : {}),
      ...(key.startsWith("cdn.staticPaths") ? { "cdn.staticPaths": [] } : {}),
      [key]: value,
    });
    for (const value of accepted) expect({ value, issues: issuesWith(changes(value)) }).toEqual({ value, issues: [] });
    for (const value of refused)
      expect({ value, issues: issuesWith(changes(value)) }).toEqual({
        value,
        issues: [
          {
            path: key,
            message: expect.stringMatching(
              new RegExp(
                `^(?=expected |the ).*${expected.source}.*, got ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`,
              ),
            ),
          },
        ],
      });
  });

  it("lists: at least one instance type and one service, each named; more than one allowed", () => {
    expect(issuesWith({ "cluster.instanceTypes": ["m6i.large", "m6a.large"] })).toEqual([]);
    expect(issuesWith({ "cluster.instanceTypes": [] }).map((i) => i.path)).toEqual(["cluster.instanceTypes"]);
    expect(issuesWith({ "cluster.instanceTypes": [""] }).map((i) => i.path)).toEqual(["cluster.instanceTypes[0]"]);
    const [first] = base.services as Raw[];
    expect(issuesWith({ services: [first, { ...first, name: "b", port: 3002 }] })).toEqual([]);
    expect(issuesWith({ services: [] }).map((i) => i.path)).toEqual(["services"]);
  });

  it("an image or a build names something: empty strings refused, longer ones kept", () => {
    expect(issuesWith({ "services[0].build": undefined, "services[0].image": "nginx:1" })).toEqual([]);
    expect(issuesWith({ "services[0].build": undefined, "services[0].image": "" }).map((i) => i.path)).toEqual([
      "services[0].image",
    ]);
    for (const key of ["context", "dockerfile"]) {
      expect(issuesWith({ [`services[0].build.${key}`]: "" }).map((i) => i.path)).toEqual([`services[0].build.${key}`]);
      expect(issuesWith({ [`images`]: { build: { context: ".", dockerfile: "D", [key]: "" } } }).map((i) => i.path)).toEqual([
        `images.build.${key}`,
      ]);
    }
  });
});

describe("every choice of an enumerated key is accepted; a near miss is refused with the choices", () => {
  // The values from their owners' docs: Redis' maxmemory-policy, CloudFront's price classes, ...
  const CHOICES: [string, string[]][] = [
    ["environment", ["dev", "staging", "prod", "local"]],
    ["platform", ["aws", "docker"]],
    ["network.natGateways", ["single", "perAz"]],
    [
      "redis.maxmemoryPolicy",
      [
        "noeviction",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
      ],
    ],
    ["redis.engine", ["redis", "valkey"]],
    ["redis.mode", ["replicated", "cluster"]],
    ["cdn.provider", ["cloudfront"]],
    ["cdn.priceClass", ["PriceClass_100", "PriceClass_200", "PriceClass_All"]],
    ["database.instanceClass", ["db.t4g.micro", "db.r7g.large"]],
  ];
  it.each(CHOICES)("%s", (key, values) => {
    for (const value of values) expect({ value, issues: issuesWith({ [key]: value }) }).toEqual({ value, issues: [] });
    const [issue, ...rest] = issuesWith({ [key]: `${values[0]}x` });
    expect(rest).toEqual([]);
    expect(issue!.path).toBe(key);
    expect(issue!.message).toContain(`got ${JSON.stringify(`${values[0]}x`)}`);
    for (const value of values.slice(0, 3)) expect(issue!.message).toContain(value);
  });
});

describe("defaults the schema fills in", () => {
  it("a service without adminEndpoints or a dockerfile; Redis without engine or mode; a database without readReplicas", () => {
    const input = structuredClone(base) as { services: Raw[]; redis: Raw; database: Raw };
    delete input.services[0]!.adminEndpoints;
    input.services[0]!.build = { context: "." };
    delete input.redis.engine;
    delete input.redis.mode;
    delete input.database.readReplicas;
    const p = profileSchema.parse(input);
    expect(p.services[0]).toMatchObject({ adminEndpoints: false, build: { context: ".", dockerfile: "Dockerfile" } });
    expect(p.redis).toMatchObject({ engine: "redis", mode: "replicated" });
    expect(p.database.readReplicas).toBe(0);
  });
});
