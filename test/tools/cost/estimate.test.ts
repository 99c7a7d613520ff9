import fc from "fast-check";
import { EKS_CALENDAR, ELASTICACHE_NODE_TYPES } from "../../../profile/aws-catalog";
import { parseConfig } from "../../../profile/parse";
import { DB_INSTANCE_CLASSES } from "../../../profile/instance-classes";
import { ENVIRONMENTS } from "../../../profile/schema";
import { budgetCheck } from "../../../tools/cost/budget";
import type { CostInput } from "../../../tools/cost/estimate";
import { eksExtendedSupportOn } from "../../../tools/cost/for-profile";
import { loadSnapshot, type Price, type PriceSnapshot } from "../../../tools/cost/prices";
import { COST_TODAY as TODAY, testEstimate as estimate } from "../../helpers/cost";
import { renderCost } from "../../../tools/cost/render";

/**
 * The cost estimate over synthetic planned resources: known list prices reproduced from the
 * snapshot's cited sources, the Multi-AZ and instance-class deltas as a rule over every priced
 * class, the 90-day and extended-support warnings at their boundaries, the budget.
 */
const SNAPSHOT = loadSnapshot();
const HOURS = 730;

type Resource = CostInput["resources"][number];
const res = (type: string, inputs: Record<string, unknown> = {}, name = "r"): Resource => ({
  type,
  name,
  parent: "urn:pulumi:test::uaip::uaip:test:Component::comp",
  inputs,
});

const within1pct = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.01);

describe("price snapshot (vendor/aws/prices/snapshot.json)", () => {
  it("prices every ElastiCache node type new clusters can use, for Redis OSS and Valkey, in us-east-1", () => {
    const missing = [...ELASTICACHE_NODE_TYPES].flatMap((t) =>
      ["redis", "valkey"]
        .map((engine) => `elasticache.${engine}.${t}`)
        .filter((sku) => !SNAPSHOT.prices.some((p) => p.sku === sku && p.region === "us-east-1")),
    );
    expect(missing).toEqual([]);
  });

  it("prices every RDS class the profile accepts in us-east-1, or declares it unpriced with the reason; never both", () => {
    const declared = new Map((SNAPSHOT.unpriced ?? []).map((u) => [u.sku, u.reason]));
    const missing = DB_INSTANCE_CLASSES.map((c) => `rds.postgres.${c}`).filter(
      (sku) => !SNAPSHOT.prices.some((p) => p.sku === sku && p.region === "us-east-1") && !declared.has(sku),
    );
    expect(missing).toEqual([]);
    for (const [sku, reason] of declared) {
      expect({ sku, priced: SNAPSHOT.prices.some((p) => p.sku === sku) }).toEqual({ sku, priced: false });
      expect(reason.length).toBeGreaterThan(20);
    }
    // The rule has teeth: a class the schema gains without a decision is named.
    const withNewClass = [...DB_INSTANCE_CLASSES, "db.r8g.large"].map((c) => `rds.postgres.${c}`);
    expect(withNewClass.filter((sku) => !SNAPSHOT.prices.some((p) => p.sku === sku) && !declared.has(sku))).toEqual([
      "rds.postgres.db.r8g.large",
    ]);
  });

  it("an unpriced item carries the snapshot's declared reason", () => {
    const [sku, reason] = [SNAPSHOT.unpriced![0]!.sku, SNAPSHOT.unpriced![0]!.reason];
    const r = estimate([res("aws:rds/instance:Instance", { instanceClass: sku.replace("rds.postgres.", "") })]);
    expect(r.unpriced.find((u) => u.sku === sku)).toMatchObject({ reason });
    expect(renderCost(r)).toContain(`${sku} — 1 × ${sku.replace("rds.postgres.", "")}`);
    expect(renderCost(r)).toContain(`(no price: ${reason})`);
  });

  it("records, for every price, its source document and URL, region, unit and the day it was read", () => {
    const seen = new Set<string>();
    for (const p of SNAPSHOT.prices) {
      expect(p.usd).toBeGreaterThan(0);
      expect(p.unit).not.toBe("");
      expect(p.region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
      expect(p.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.asOf <= TODAY).toBe(true);
      expect(p.source.document.length).toBeGreaterThan(20);
      expect(p.source.url).toMatch(/^https:\/\//);
      const key = `${p.sku}@${p.region}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  });
});

/**
 * Known list prices as their cited sources state them (typed from the sources, not read from the
 * snapshot): the test fails if the snapshot or the estimate drifts more than 1% from them.
 */
const CITED: { sku: string; hourly: number; quote: string; url: string }[] = [
  {
    sku: "eks.cluster.standardSupport",
    hourly: 0.1,
    quote: "$0.10",
    url: "amazon-eks-extended-support-for-kubernetes-versions-pricing",
  },
  {
    sku: "eks.cluster.extendedSupport",
    hourly: 0.6,
    quote: "$0.60",
    url: "amazon-eks-extended-support-for-kubernetes-versions-pricing",
  },
  { sku: "vpc.natGateway.hour", hourly: 0.045, quote: "$0.045/hr", url: "aws-nat-gateway-pricing" },
  // karpenter-provider-aws zz_generated.pricing_aws.go @1d927085, us-east-1: the presets' node types.
  {
    sku: "ec2.instance.t3.medium",
    hourly: 0.0416,
    quote: "zz_generated.pricing_aws.go",
    url: "1d927085dd81a9df9301e613f371dac5b4d16bfe",
  },
  {
    sku: "ec2.instance.m6i.large",
    hourly: 0.096,
    quote: "zz_generated.pricing_aws.go",
    url: "1d927085dd81a9df9301e613f371dac5b4d16bfe",
  },
  {
    sku: "ec2.instance.m6a.large",
    hourly: 0.0864,
    quote: "zz_generated.pricing_aws.go",
    url: "1d927085dd81a9df9301e613f371dac5b4d16bfe",
  },
  {
    sku: "rds.proxy.vcpuHour",
    hourly: 0.015,
    quote: '"$0.015 per hour per vCPU of the RDS PostgreSQL instances associated with an RDS Proxy"',
    url: "AmazonRDS/current/us-east-1",
  },
  { sku: "rds.postgres.db.t4g.xlarge", hourly: 0.258, quote: '"db.t4g.xlarge": 0.258', url: "rds/postgresql/pricing" },
  { sku: "rds.postgres.db.t4g.micro", hourly: 0.016, quote: "db.t4g.micro $0.016/hr", url: "infratally.com" },
  { sku: "rds.postgres.db.t4g.medium", hourly: 0.065, quote: "db.t4g.medium $0.065/hr", url: "infratally.com" },
  // AWS Price List offer files (AmazonRDS us-east-1), as transcribed with their offer URL.
  {
    sku: "rds.postgres.db.r7g.large",
    hourly: 0.239,
    quote: "$0.239/hr (2 vCPU, 16 GiB; SKU 7WFFXKTD43Q8CUSV)",
    url: "AmazonRDS/20260531103119",
  },
  { sku: "rds.postgres.db.r7g.xlarge", hourly: 0.478, quote: '"db.r7g.xlarge": 0.478', url: "AmazonRDS/20260924211011" },
  { sku: "rds.postgres.db.r7g.2xlarge", hourly: 0.956, quote: '"db.r7g.2xlarge": 0.956', url: "AmazonRDS/20260924211011" },
  { sku: "rds.postgres.db.t4g.small", hourly: 0.032, quote: '"db.t4g.small": 0.032', url: "AmazonRDS/20260924211011" },
  { sku: "rds.postgres.db.t4g.large", hourly: 0.129, quote: '"db.t4g.large": 0.129', url: "AmazonRDS/20260924211011" },
  // AmazonElastiCache us-east-1 (the presets' node types), Redis OSS and Valkey.
  { sku: "elasticache.redis.cache.t4g.micro", hourly: 0.016, quote: "0.016 per node-hour", url: "AmazonElastiCache" },
  { sku: "elasticache.redis.cache.t4g.small", hourly: 0.032, quote: "0.032 per node-hour", url: "AmazonElastiCache" },
  { sku: "elasticache.redis.cache.r7g.large", hourly: 0.219, quote: "SKU MWNGNHD8QDQRAGKN", url: "AmazonElastiCache" },
  { sku: "elasticache.valkey.cache.t4g.micro", hourly: 0.0128, quote: "0.0128 per node-hour", url: "AmazonElastiCache" },
  { sku: "elasticache.valkey.cache.t4g.small", hourly: 0.0256, quote: "0.0256 per node-hour", url: "AmazonElastiCache" },
  { sku: "elasticache.valkey.cache.r7g.large", hourly: 0.1752, quote: "0.1752 per node-hour", url: "AmazonElastiCache" },
];

/** Monthly and usage list prices, as their cited sources state them. */
const CITED_OTHER: { sku: string; usd: number; quote: string; url: string }[] = [
  { sku: "ebs.volume.gp3", usd: 0.08, quote: '"Storage (general purpose SSD, gp3) 40 GB $3.20"', url: "ebs_volume_test.golden" },
  { sku: "ecr.storage", usd: 0.1, quote: '"Storage 1 GB $0.10"', url: "ecr_repository_test.golden" },
  { sku: "s3.storage.standard", usd: 0.023, quote: '"Storage 10,000 GB $230.00"', url: "s3_bucket_test.golden" },
  {
    sku: "s3.requests.tier1",
    usd: 0.005,
    quote: '"PUT, COPY, POST, LIST requests 10 1k requests $0.05"',
    url: "s3_bucket_test.golden",
  },
  {
    sku: "codebuild.linux.general1.medium",
    usd: 0.01,
    quote: '"Linux (general1.medium) 10,000 minutes $100.00"',
    url: "codebuild_project_test.golden",
  },
  { sku: "secretsmanager.secret.month", usd: 0.4, quote: '"Secret 1 months $0.40"', url: "secretsmanager_secret_test.golden" },
  { sku: "vpc.flowLogs.vendedLogsGb", usd: 0.5, quote: "$0.50/GB (in us-east-1)", url: "aws_cloudwatch_log_group" },
  { sku: "elasticache.serverless.valkey.gbHour", usd: 0.084, quote: "$0.084/GB-hour", url: "usage.ai" },
  { sku: "elasticache.serverless.valkey.ecpuMillion", usd: 0.0023, quote: "$0.0023/million ECPUs", url: "usage.ai" },
  { sku: "elasticache.serverless.redis.gbHour", usd: 0.125, quote: "$0.125/GB-hour", url: "usage.ai" },
  { sku: "elasticache.serverless.redis.ecpuMillion", usd: 0.0034, quote: "$0.0034/million ECPUs", url: "usage.ai" },
];

describe("known list prices, within 1% of the snapshot's cited source", () => {
  it.each(CITED)("$sku: $hourly per hour, as its source says", ({ sku, hourly, quote, url }) => {
    const p = SNAPSHOT.prices.find((x) => x.sku === sku && x.region === "us-east-1") as Price;
    expect(p).toBeDefined();
    expect(p.source.document).toContain(quote);
    expect(p.source.url).toContain(url);
    within1pct(p.usd, hourly);
  });

  it.each(CITED_OTHER)("$sku: $usd, as its source says", ({ sku, usd, quote, url }) => {
    const p = SNAPSHOT.prices.find((x) => x.sku === sku && x.region === "us-east-1") as Price;
    expect(p).toBeDefined();
    expect(p.source.document).toContain(quote);
    expect(p.source.url).toContain(url);
    within1pct(p.usd, usd);
  });

  it("Valkey nodes bill 20% below Redis OSS nodes of the same type (AWS's stated discount), for every type priced both ways", () => {
    const valkey = SNAPSHOT.prices.filter((p) => p.sku.startsWith("elasticache.valkey."));
    expect(valkey.length).toBeGreaterThan(10);
    for (const v of valkey) {
      const redis = SNAPSHOT.prices.find((p) => p.sku === v.sku.replace(".valkey.", ".redis.") && p.region === v.region);
      if (redis) within1pct(v.usd, redis.usd * 0.8);
    }
  });

  it("EKS control plane in standard support: $0.10/h, about $73 a month", () => {
    const r = estimate([res("aws:eks/cluster:Cluster", { version: "1.35" })]);
    within1pct(r.totals.fixedMonthly, 0.1 * HOURS);
    within1pct(r.totals.fixedMonthly, 73);
  });

  it("a NAT gateway in us-east-1: $0.045/h", () => {
    const r = estimate([res("aws:ec2/natGateway:NatGateway")]);
    within1pct(r.totals.fixedMonthly, 0.045 * HOURS);
  });

  it("prices every preset's node types, and names the preset classes the snapshot lacks as unpriced", () => {
    for (const environment of ENVIRONMENTS) {
      const p = parseConfig({ environment });
      if (p.platform !== "aws") continue;
      const report = estimate([
        res(
          "aws:eks/nodeGroup:NodeGroup",
          { instanceTypes: p.cluster.instanceTypes, scalingConfig: { minSize: 1, maxSize: 1 } },
          "nodes",
        ),
        res(
          "aws:rds/instance:Instance",
          { instanceClass: p.database.instanceClass, multiAz: false, allocatedStorage: 0, storageType: "gp3" },
          "db",
        ),
        res(
          "aws:elasticache/replicationGroup:ReplicationGroup",
          { engine: "redis", nodeType: p.redis.nodeType, numCacheClusters: 1 },
          "redis",
        ),
      ]);
      const cited = (sku: string) => CITED.find((c) => c.sku === sku)?.hourly;
      for (const [sku, line] of [
        [`ec2.instance.${p.cluster.instanceTypes[0]}`, report.lines.find((l) => l.resource === "nodes")],
        [
          `rds.postgres.${p.database.instanceClass}`,
          report.lines.find((l) => l.resource === "db" && l.sku.startsWith("rds.postgres")),
        ],
        [`elasticache.redis.${p.redis.nodeType}`, report.lines.find((l) => l.resource === "redis")],
      ] as const) {
        if (line) within1pct(line.fixedMonthly, cited(sku)! * HOURS);
        else expect(report.unpriced.map((u) => u.sku)).toContain(sku);
      }
    }
  });
});

/** Every RDS class the snapshot prices, and the gp3 storage price. */
const RDS_CLASSES = SNAPSHOT.prices.filter((p) => p.sku.startsWith("rds.postgres.") && p.region === "us-east-1");
const GP3 = SNAPSHOT.prices.find((p) => p.sku === "rds.storage.gp3")!.usd;

describe("database.instanceClass and Multi-AZ", () => {
  const db = (instanceClass: string, multiAz: boolean, allocatedStorage: number) =>
    estimate([res("aws:rds/instance:Instance", { instanceClass, multiAz, allocatedStorage, storageType: "gp3" })]).totals.monthly;

  it("changing the class moves the month by the hourly difference × 730, × 2 with Multi-AZ (every priced pair)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RDS_CLASSES),
        fc.constantFrom(...RDS_CLASSES),
        fc.boolean(),
        fc.integer({ min: 20, max: 5000 }),
        (a, b, multiAz, gb) => {
          const delta = db(b.sku.replace("rds.postgres.", ""), multiAz, gb) - db(a.sku.replace("rds.postgres.", ""), multiAz, gb);
          expect(delta).toBeCloseTo((b.usd - a.usd) * HOURS * (multiAz ? 2 : 1), 6);
        },
      ),
    );
  });

  it("Multi-AZ bills the standby's instance and storage: exactly twice Single-AZ", () => {
    fc.assert(
      fc.property(fc.constantFrom(...RDS_CLASSES), fc.integer({ min: 20, max: 5000 }), (c, gb) => {
        const cls = c.sku.replace("rds.postgres.", "");
        expect(db(cls, false, gb)).toBeCloseTo(c.usd * HOURS + gb * GP3, 6);
        expect(db(cls, true, gb)).toBeCloseTo(2 * (c.usd * HOURS + gb * GP3), 6);
      }),
    );
  });

  it("db.r7g.large -> db.r7g.xlarge: (0.478 − 0.239) × 730 a month, × 2 with Multi-AZ (the cited list prices)", () => {
    for (const multiAz of [false, true]) {
      const delta = db("db.r7g.xlarge", multiAz, 100) - db("db.r7g.large", multiAz, 100);
      expect(delta).toBeCloseTo((0.478 - 0.239) * 730 * (multiAz ? 2 : 1), 6);
    }
    expect(db("db.r7g.xlarge", true, 100) - db("db.r7g.large", true, 100)).toBeCloseTo(348.94, 2);
  });

  it("names every class the profile allows that the snapshot cannot price, and prices the others", () => {
    for (const cls of DB_INSTANCE_CLASSES) {
      const r = estimate([
        res("aws:rds/instance:Instance", { instanceClass: cls, multiAz: false, allocatedStorage: 0, storageType: "gp3" }),
      ]);
      const priced = SNAPSHOT.prices.some((p) => p.sku === `rds.postgres.${cls}` && p.region === "us-east-1");
      expect({ cls, unpriced: r.unpriced.map((u) => u.sku) }).toEqual({ cls, unpriced: priced ? [] : [`rds.postgres.${cls}`] });
    }
  });
});

describe("node range: the cluster autoscaler's minimum to maximum", () => {
  const EC2 = SNAPSHOT.prices.filter((p) => p.sku.startsWith("ec2.instance."));
  it("always-on cost is the minimum at the first type; the range's top is the maximum at the dearest type", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...EC2), { minLength: 1, maxLength: EC2.length, selector: (p) => p.sku }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        (types, a, b) => {
          const [min, max] = [Math.min(a, b), Math.max(a, b)];
          const r = estimate([
            res("aws:eks/nodeGroup:NodeGroup", {
              instanceTypes: types.map((t) => t.sku.replace("ec2.instance.", "")),
              scalingConfig: { minSize: min, maxSize: max, desiredSize: min },
            }),
          ]);
          const dearest = Math.max(...types.map((t) => t.usd));
          expect(r.totals.fixedMonthly).toBeCloseTo(min * types[0]!.usd * HOURS, 6);
          expect(r.nodeRanges).toHaveLength(1);
          expect(r.nodeRanges[0]!.minMonthly).toBeCloseTo(r.totals.fixedMonthly, 6);
          expect(r.nodeRanges[0]!.maxMonthly).toBeCloseTo(max * dearest * HOURS, 6);
          expect(r.totals.monthlyAtMaxNodes).toBeGreaterThanOrEqual(r.totals.monthly - 1e-9);
        },
      ),
    );
  });

  it("an instance type without a price is unpriced by name and gets no range", () => {
    const r = estimate([
      res("aws:eks/nodeGroup:NodeGroup", {
        instanceTypes: ["m6i.large", "x2idn.metal"],
        scalingConfig: { minSize: 1, maxSize: 3 },
      }),
    ]);
    expect(r.nodeRanges).toEqual([]);
    // The always-on minimum is priced at the first type; the missing one is named.
    expect(r.totals.fixedMonthly).toBeCloseTo(0.096 * HOURS, 6);
  });
});

describe("unpriced and unclassified resources", () => {
  it("names a billed SKU the snapshot lacks, and a type no rule classifies; both count $0", () => {
    const r = estimate([
      res("aws:elasticache/replicationGroup:ReplicationGroup", { nodeType: "cache.c7gn.large", numCacheClusters: 3 }, "redis"),
      res("aws:sqs/queue:Queue", {}, "q"),
    ]);
    expect(r.unpriced.map((u) => [u.resource, u.sku])).toEqual([
      ["redis", "elasticache.redis.cache.c7gn.large"],
      ["q", "(type not classified in tools/cost/resource-prices.ts)"],
    ]);
    expect(r.totals.monthly).toBe(0);
  });

  it("prices nothing in a region the snapshot does not cover (never a neighbour's price)", () => {
    const r = estimate([res("aws:eks/cluster:Cluster", { version: "1.35" })], { region: "eu-west-1" });
    expect(r.lines).toEqual([]);
    expect(r.unpriced.map((u) => u.sku)).toEqual(["eks.cluster.standardSupport"]);
    expect(r.warnings.join("\n")).toMatch(/prices for us-east-1 but none for eu-west-1, .*: eks.cluster.standardSupport;/);
  });
});

describe("warnings", () => {
  const withAsOf = (asOf: string): PriceSnapshot => ({ ...SNAPSHOT, prices: SNAPSHOT.prices.map((p) => ({ ...p, asOf })) });
  const nat = [res("aws:ec2/natGateway:NatGateway")];
  it("warns when a price used is older than 90 days, not at 90", () => {
    expect(estimate(nat, { snapshot: withAsOf("2026-09-07") }).warnings.join("\n")).not.toMatch(/older than 90 days/); // 90 days
    expect(estimate(nat, { snapshot: withAsOf("2026-09-06") }).warnings.join("\n")).toMatch(
      /older than 90 days.*vpc.natGateway.hour \(2026-09-06\)/,
    ); // 91
  });

  it("bills and warns for a Kubernetes version in EKS extended support, from the day its standard support ends", () => {
    const w = EKS_CALENDAR.releases.find(
      (x) => typeof x.standardSupportEnds === "string" && typeof x.extendedSupportEnds === "string",
    )!;
    const end = w.standardSupportEnds as string;
    const dayBefore = new Date(Date.parse(`${end}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const cluster = [res("aws:eks/cluster:Cluster", { version: w.cycle })];
    const before = estimate(cluster, { eksExtendedSupport: eksExtendedSupportOn(dayBefore), today: dayBefore });
    const on = estimate(cluster, { eksExtendedSupport: eksExtendedSupportOn(end), today: end });
    expect(before.totals.fixedMonthly).toBeCloseTo(0.1 * HOURS, 6);
    expect(before.warnings.join("\n")).not.toMatch(/extended support/);
    expect(on.totals.fixedMonthly).toBeCloseTo(0.6 * HOURS, 6);
    expect(on.warnings.join("\n")).toMatch(/EKS extended support.*6×/);
  });
});

describe("cost.monthlyBudget", () => {
  const report = estimate([
    res("aws:eks/cluster:Cluster", { version: "1.35" }, "eks"),
    res("aws:ec2/natGateway:NatGateway", {}, "nat"),
    res("aws:kms/key:Key", {}, "key"),
  ]);
  const total = report.totals.monthly;
  it("passes at the budget, fails a cent below it naming the largest items first", () => {
    expect(budgetCheck(report, undefined)).toBeUndefined();
    expect(budgetCheck(report, total)!.ok).toBe(true);
    const over = budgetCheck(report, total - 0.01)!;
    expect(over.ok).toBe(false);
    expect(over.detail).toMatch(/exceeds cost.monthlyBudget/);
    const order = ["eks", "nat", "key"].map((n) => over.detail.indexOf(`${n} `));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
