import fc from "fast-check";
import { DB_INSTANCE_CLASSES, DB_INSTANCE_CLASS_VCPUS } from "../../../profile/instance-classes";
import type { CostReport } from "../../../tools/cost/estimate";
import { loadSnapshot, type Price, type PriceSnapshot } from "../../../tools/cost/prices";
import {
  BILLABLE_RULES,
  FREE_TYPE_REASONS,
  proxyBilledVcpus,
  replicationGroupNodes,
  SERVERLESS_MIN_GB,
  type CostResource,
  type UsageAssumptions,
} from "../../../tools/cost/resource-prices";
import { NO_USAGE, testEstimate as estimate } from "../../helpers/cost";

/**
 * The billing rules on hand-built planned resources: the data tier the stack is growing
 * (cluster-mode and Valkey replication groups, ElastiCache Serverless, RDS Proxy, read replicas),
 * node root volumes through the launch template, and the usage-driven S3/ECR/CodeBuild lines. The
 * expectations are computed here from the counts and the snapshot's prices, not by the rules.
 */
const SNAPSHOT = loadSnapshot();
const HOURS = 730;
const PARENT = "urn:pulumi:test::uaip::uaip:aws:Data::data";
const urn = (type: string, name: string) => `urn:pulumi:test::uaip::uaip:aws:Data$${type}::${name}`;
const res = (type: string, name: string, inputs: Record<string, unknown>, dependsOn: string[] = []): CostResource => ({
  type,
  name,
  parent: PARENT,
  urn: urn(type, name),
  dependsOn,
  inputs,
});

const usd = (sku: string, snapshot: PriceSnapshot = SNAPSHOT) =>
  snapshot.prices.find((p) => p.sku === sku && p.region === "us-east-1")!.usd;
const monthly = (r: CostReport, name: string) =>
  r.lines.filter((l) => l.resource === name).reduce((s, l) => s + l.fixedMonthly + l.usageMonthly, 0);

/** Node types the snapshot prices for both engines. */
const BOTH_ENGINES = SNAPSHOT.prices
  .filter((p) => p.sku.startsWith("elasticache.valkey.cache."))
  .map((p) => p.sku.replace("elasticache.valkey.", ""))
  .filter((t) => SNAPSHOT.prices.some((p) => p.sku === `elasticache.redis.${t}`));

describe("ElastiCache replication groups", () => {
  const RG = "aws:elasticache/replicationGroup:ReplicationGroup";

  it("cluster mode bills numNodeGroups × (1 + replicasPerNodeGroup) nodes at the engine's node rate", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BOTH_ENGINES),
        fc.constantFrom("redis", "valkey"),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 0, max: 5 }),
        (nodeType, engine, shards, replicas) => {
          const r = estimate([res(RG, "rg", { engine, nodeType, numNodeGroups: shards, replicasPerNodeGroup: replicas })]);
          expect(monthly(r, "rg")).toBeCloseTo(shards * (1 + replicas) * usd(`elasticache.${engine}.${nodeType}`) * HOURS, 6);
          expect(r.unpriced).toEqual([]);
        },
      ),
    );
  });

  it("without shards it bills numCacheClusters nodes, one when unset; an unset replica count is no replica", () => {
    expect(replicationGroupNodes({ numCacheClusters: 3 }).nodes).toBe(3);
    expect(replicationGroupNodes({}).nodes).toBe(1);
    expect(replicationGroupNodes({ numNodeGroups: 4 }).nodes).toBe(4);
    // Cluster mode wins over a stale numCacheClusters.
    expect(replicationGroupNodes({ numNodeGroups: 2, replicasPerNodeGroup: 1, numCacheClusters: 9 }).nodes).toBe(4);
  });

  it("Valkey costs 20% less than Redis OSS for the same group (the engine arg picks the rate)", () => {
    for (const nodeType of ["cache.t4g.micro", "cache.t4g.small", "cache.r7g.large"]) {
      const shape = { nodeType, numNodeGroups: 3, replicasPerNodeGroup: 1 };
      const redis = monthly(estimate([res(RG, "rg", { ...shape, engine: "redis" })]), "rg");
      const valkey = monthly(estimate([res(RG, "rg", { ...shape, engine: "valkey" })]), "rg");
      expect(redis).toBeGreaterThan(0);
      expect(Math.abs(valkey - 0.8 * redis)).toBeLessThanOrEqual(0.01 * redis);
    }
  });
});

describe("ElastiCache Serverless", () => {
  const SC = "aws:elasticache/serverlessCache:ServerlessCache";
  const cost = (engine: string, a: Partial<UsageAssumptions>, inputs: Record<string, unknown> = {}) =>
    monthly(estimate([res(SC, "sc", { engine, ...inputs })], { assumptions: { ...NO_USAGE, ...a } }), "sc");

  it.each(["valkey", "redis"])(
    "%s: data GB-hours never below the engine's metered minimum, above it the assumed GB",
    (engine) => {
      const gbHour = usd(`elasticache.serverless.${engine}.gbHour`);
      const min = SERVERLESS_MIN_GB[engine]!;
      expect(cost(engine, { cacheGbStored: 0 })).toBeCloseTo(min * HOURS * gbHour, 6);
      expect(cost(engine, { cacheGbStored: min / 2 })).toBeCloseTo(min * HOURS * gbHour, 6);
      expect(cost(engine, { cacheGbStored: min * 3 })).toBeCloseTo(min * 3 * HOURS * gbHour, 6);
    },
  );

  it("bills ECPUs as requests × ECPU per request, or the configured minimum ECPU/s if higher", () => {
    const gb = SERVERLESS_MIN_GB.valkey! * HOURS * usd("elasticache.serverless.valkey.gbHour");
    const perMillion = usd("elasticache.serverless.valkey.ecpuMillion");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 5000 }),
        (req, per, floor) => {
          const expected = Math.max(req * per, floor * 3600 * HOURS);
          const got = cost(
            "valkey",
            { requestsPerMonth: req, cacheEcpuPerRequest: per },
            { cacheUsageLimits: { ecpuPerSecond: { minimum: floor } } },
          );
          expect(got).toBeCloseTo(gb + (expected / 1e6) * perMillion, 6);
        },
      ),
    );
  });

  it("Valkey serverless is cheaper than Redis OSS serverless for the same usage", () => {
    const a = { cacheGbStored: 5, requestsPerMonth: 1e8, cacheEcpuPerRequest: 2 };
    expect(cost("valkey", a)).toBeLessThan(cost("redis", a));
  });
});

describe("RDS: Multi-AZ, read replicas, RDS Proxy", () => {
  const DB = "aws:rds/instance:Instance";
  const PROXY = "aws:rds/proxy:Proxy";
  const TARGET = "aws:rds/proxyTarget:ProxyTarget";
  const primary = (instanceClass: string, multiAz = true) =>
    res(DB, "db", { instanceClass, multiAz, allocatedStorage: 100, storageType: "gp3" });
  // The snapshot's RDS Proxy rate, as its cited offer-file transcription states it (SKU AHVT2C6WP2BB5BXQ).
  const PROXY_PER_VCPU_HOUR = 0.015;

  it("a read replica bills as an instance of its class, with its source's storage when it sets none", () => {
    const cls = "db.r7g.xlarge";
    const replica = res(DB, "replica", { instanceClass: cls, replicateSourceDb: "db-id" }, [urn(DB, "db")]);
    const r = estimate([primary("db.r7g.large"), replica]);
    expect(monthly(r, "replica")).toBeCloseTo(usd(`rds.postgres.${cls}`) * HOURS + 100 * usd("rds.storage.gp3"), 6);
    expect(r.lines.find((l) => l.resource === "replica")!.what).toMatch(/^read replica of db, 1 × db.r7g.xlarge/);
    // A Multi-AZ replica has its own standby.
    const az = estimate([primary("db.r7g.large"), { ...replica, inputs: { ...replica.inputs, multiAz: true } }]);
    expect(monthly(az, "replica")).toBeCloseTo(2 * monthly(r, "replica"), 6);
  });

  it("a proxy bills max(2, vCPUs) of each instance its targets name, per hour (every allowed class)", () => {
    for (const cls of DB_INSTANCE_CLASSES) {
      const proxy = res(PROXY, "proxy", { engineFamily: "POSTGRESQL" });
      const target = res(TARGET, "target", { dbProxyName: "proxy", dbInstanceIdentifier: "db" }, [proxy.urn!, urn(DB, "db")]);
      const r = estimate([primary(cls), proxy, target]);
      const vcpus = Math.max(2, DB_INSTANCE_CLASS_VCPUS[cls]);
      expect({ cls, proxy: monthly(r, "proxy") }).toEqual({
        cls,
        proxy: expect.closeTo(vcpus * PROXY_PER_VCPU_HOUR * HOURS, 6) as number,
      });
      // Multi-AZ does not double it: the proxy fronts the writer.
      expect(monthly(estimate([primary(cls, false), proxy, target]), "proxy")).toBeCloseTo(monthly(r, "proxy"), 6);
    }
  });

  it("the 2-vCPU minimum, on both sides of it", () => {
    expect([1, 2, 3, 4, 16].map(proxyBilledVcpus)).toEqual([2, 2, 3, 4, 16]);
    const proxy = res(PROXY, "proxy", {});
    const r = (cls: string) => monthly(estimate([primary(cls), proxy]), "proxy");
    expect(r("db.t4g.micro")).toBeCloseTo(2 * PROXY_PER_VCPU_HOUR * HOURS, 6);
    expect(r("db.r7g.xlarge")).toBeCloseTo(4 * PROXY_PER_VCPU_HOUR * HOURS, 6);
  });

  it("without a ProxyTarget it fronts its component's writers, not their replicas", () => {
    const replica = res(DB, "replica", { instanceClass: "db.r7g.4xlarge", replicateSourceDb: "db-id" }, [urn(DB, "db")]);
    const r = estimate([primary("db.r7g.xlarge"), replica, res(PROXY, "proxy", {})]);
    expect(monthly(r, "proxy")).toBeCloseTo(4 * PROXY_PER_VCPU_HOUR * HOURS, 6);
  });

  it("a snapshot without the proxy's price leaves it unpriced by name, with the vCPU-hours it would bill", () => {
    const without: PriceSnapshot = { ...SNAPSHOT, prices: SNAPSHOT.prices.filter((p) => p.sku !== "rds.proxy.vcpuHour") };
    const r = estimate([primary("db.r7g.xlarge"), res(PROXY, "proxy", {})], { snapshot: without });
    const u = r.unpriced.find((x) => x.resource === "proxy")!;
    expect(u).toMatchObject({ sku: "rds.proxy.vcpuHour", quantity: 4, basis: "hourly" });
    expect(u.what).toContain("4 vCPU(s) of db (db.r7g.xlarge; minimum 2)");
  });
});

describe("nodes, storage and CI", () => {
  it("each node bills its launch template's root volume; the range's ends include it", () => {
    const LT = "aws:ec2/launchTemplate:LaunchTemplate";
    const NG = "aws:eks/nodeGroup:NodeGroup";
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 20, max: 500 }),
        (a, b, gb) => {
          const [min, max] = [Math.min(a, b), Math.max(a, b)];
          const lt = res(LT, "lt", { blockDeviceMappings: [{ ebs: { volumeSize: gb, volumeType: "gp3" } }] });
          const ng = res(NG, "ng", { instanceTypes: ["m6i.large"], scalingConfig: { minSize: min, maxSize: max } }, [lt.urn!]);
          const r = estimate([lt, ng]);
          const perNode = usd("ec2.instance.m6i.large") * HOURS + gb * usd("ebs.volume.gp3");
          expect(monthly(r, "lt")).toBe(0); // the template bills nothing by itself
          expect(monthly(r, "ng")).toBeCloseTo(min * perNode, 6);
          expect(r.nodeRanges[0]!.minMonthly).toBeCloseTo(min * perNode, 6);
          expect(r.nodeRanges[0]!.maxMonthly).toBeCloseTo(max * perNode, 6);
          expect(r.totals.monthlyAtMaxNodes).toBeCloseTo(max * perNode, 6);
        },
      ),
    );
  });

  it("S3, ECR and CodeBuild bill the stated assumptions, shared among the resources of their type", () => {
    const a = { ...NO_USAGE, s3GbStored: 30, s3PutRequestsPerMonth: 9000, ecrGbStored: 8, ciBuildMinutesPerMonth: 600 };
    const r = estimate(
      [
        res("aws:s3/bucket:Bucket", "b1", {}),
        res("aws:s3/bucket:Bucket", "b2", {}),
        res("aws:ecr/repository:Repository", "repo", {}),
        res("aws:codebuild/project:Project", "ci", {
          environment: { computeType: "BUILD_GENERAL1_MEDIUM", type: "LINUX_CONTAINER" },
        }),
      ],
      { assumptions: a },
    );
    expect(monthly(r, "b1")).toBeCloseTo(15 * usd("s3.storage.standard") + 4.5 * usd("s3.requests.tier1"), 6);
    expect(monthly(r, "b2")).toBeCloseTo(monthly(r, "b1"), 9);
    expect(monthly(r, "repo")).toBeCloseTo(8 * usd("ecr.storage"), 6);
    expect(monthly(r, "ci")).toBeCloseTo(600 * usd("codebuild.linux.general1.medium"), 6);
    expect(r.unpriced).toEqual([]);
  });
});

describe("classification", () => {
  it("no type is both billed and free, and every free type says why", () => {
    for (const [type, reason] of Object.entries(FREE_TYPE_REASONS)) {
      expect(type in BILLABLE_RULES).toBe(false);
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  it("every price the rules can name for the presets' regions has a cited source (no SKU is priced without one)", () => {
    for (const p of SNAPSHOT.prices as Price[]) expect(p.source.url).toMatch(/^https:\/\//);
  });
});

describe("inputs as the provider may plan them", () => {
  const RG = "aws:elasticache/replicationGroup:ReplicationGroup";
  it("counts given as strings, flags as 'true', engines in any case", () => {
    expect(replicationGroupNodes({ numCacheClusters: "3" }).nodes).toBe(3);
    expect(replicationGroupNodes({ numNodeGroups: "2", replicasPerNodeGroup: "2" }).nodes).toBe(6);
    // A value that is not a number falls back to AWS's default rather than NaN dollars.
    expect(replicationGroupNodes({ numCacheClusters: "three" }).nodes).toBe(1);
    expect(replicationGroupNodes({ numCacheClusters: "" }).nodes).toBe(1);
    const valkey = estimate([res(RG, "rg", { engine: "VALKEY", nodeType: "cache.t4g.micro" })]);
    expect(valkey.lines[0]!.sku).toBe("elasticache.valkey.cache.t4g.micro");
    const unset = estimate([res(RG, "rg", { nodeType: "cache.t4g.micro" })]);
    expect(unset.lines[0]!.sku).toBe("elasticache.redis.cache.t4g.micro");
    const db = (multiAz: unknown) =>
      monthly(
        estimate([
          res("aws:rds/instance:Instance", "db", {
            instanceClass: "db.t4g.micro",
            multiAz,
            allocatedStorage: 20,
            storageType: "gp3",
          }),
        ]),
        "db",
      );
    expect(db("true")).toBeCloseTo(2 * db(false), 9);
    expect(db("false")).toBeCloseTo(db(false), 9);
    expect(db(undefined)).toBeCloseTo(db(false), 9);
  });

  it("names the CodeBuild SKU from the environment's type and compute size", () => {
    const sku = (environment: Record<string, unknown>) => {
      const r = estimate([res("aws:codebuild/project:Project", "ci", { environment })], {
        assumptions: { ...NO_USAGE, ciBuildMinutesPerMonth: 10 },
      });
      return [...r.lines.map((l) => l.sku), ...r.unpriced.map((u) => u.sku)];
    };
    expect(sku({ computeType: "BUILD_GENERAL1_LARGE", type: "LINUX_CONTAINER" })).toEqual(["codebuild.linux.general1.large"]);
    expect(sku({ computeType: "BUILD_GENERAL1_SMALL", type: "ARM_CONTAINER" })).toEqual(["codebuild.arm.general1.small"]);
    expect(sku({})).toEqual(["codebuild.linux.general1.small"]);
  });
});

describe("links between resources", () => {
  it("a node group's volumes come from the launch template it depends on, not from another one or another type", () => {
    const LT = "aws:ec2/launchTemplate:LaunchTemplate";
    const other = res(LT, "other", { blockDeviceMappings: [{ ebs: { volumeSize: 999, volumeType: "gp3" } }] });
    const lt = res(LT, "lt", { blockDeviceMappings: [{ ebs: { volumeSize: 50, volumeType: "gp3" } }] });
    const role = res("aws:iam/role:Role", "role", { blockDeviceMappings: [{ ebs: { volumeSize: 7, volumeType: "gp3" } }] });
    const ng = res(
      "aws:eks/nodeGroup:NodeGroup",
      "ng",
      { instanceTypes: ["m6i.large"], scalingConfig: { minSize: 2, maxSize: 2 } },
      [role.urn!, lt.urn!],
    );
    const r = estimate([other, role, lt, ng]);
    expect(r.lines.filter((l) => l.sku === "ebs.volume.gp3").map((l) => l.quantity)).toEqual([100]);
  });

  it("a replica's source is the instance it depends on; a proxy fronts only what its own targets name, or its own component's writers", () => {
    const DB = "aws:rds/instance:Instance";
    const stranger = { ...res(DB, "stranger", { instanceClass: "db.r7g.2xlarge", allocatedStorage: 999 }), parent: "urn:other" };
    const src = res(DB, "db", { instanceClass: "db.r7g.large", allocatedStorage: 100, storageType: "gp3" });
    const replica = res(DB, "replica", { instanceClass: "db.r7g.large", replicateSourceDb: "db" }, [
      stranger.urn!.replace("stranger", "x"),
      src.urn!,
    ]);
    const r = estimate([stranger, src, replica]);
    expect(r.lines.find((l) => l.resource === "replica" && l.sku === "rds.storage.gp3")!.quantity).toBe(100);
    // A proxy of another component, with a target for it, takes nothing from ours; ours fronts only its component's writer.
    const proxy = res("aws:rds/proxy:Proxy", "proxy", {});
    const otherProxy = { ...res("aws:rds/proxy:Proxy", "other-proxy", {}), parent: "urn:other" };
    const otherTarget = res("aws:rds/proxyTarget:ProxyTarget", "other-target", {}, [otherProxy.urn!, stranger.urn!]);
    const withProxies = estimate([stranger, src, replica, proxy, otherProxy, otherTarget]);
    const billed = (name: string) => withProxies.lines.filter((l) => l.resource === name).map((l) => l.quantity);
    expect(billed("proxy")).toEqual([2]); // db.r7g.large, not the replica nor the stranger
    expect(billed("other-proxy")).toEqual([8]); // db.r7g.2xlarge through its target
  });
});

describe("the other billed types", () => {
  const a = { ...NO_USAGE, requestsPerMonth: 2_000_000, gbOutPerMonth: 40, logGbPerMonth: 6, natGbPerMonth: 9 };
  const one = (type: string, inputs: Record<string, unknown> = {}, n = 1) =>
    estimate(
      Array.from({ length: n }, (_, k) => res(type, `r${k}`, inputs)),
      { assumptions: a },
    );
  it("load balancer: hours, and one LCU-hour per GB out", () => {
    expect(monthly(one("aws:lb/loadBalancer:LoadBalancer"), "r0")).toBeCloseTo(
      usd("elb.application.hour") * HOURS + 40 * usd("elb.application.lcuHour"),
      6,
    );
    expect(one("aws:lb/loadBalancer:LoadBalancer", { loadBalancerType: "network" }).unpriced.map((u) => u.sku)).toEqual([
      "elb.network.hour",
      "elb.network.lcuHour",
    ]);
  });
  it("CloudFront: requests per 10,000 and GB out", () => {
    expect(monthly(one("aws:cloudfront/distribution:Distribution"), "r0")).toBeCloseTo(
      200 * usd("cloudfront.httpsRequests.10k") + 40 * usd("cloudfront.dataTransferOut.gb"),
      6,
    );
  });
  it("NAT gateways and log groups share their assumption; an EIP, a key and a secret bill a unit each", () => {
    expect(monthly(one("aws:ec2/natGateway:NatGateway", {}, 3), "r1")).toBeCloseTo(
      usd("vpc.natGateway.hour") * HOURS + 3 * usd("vpc.natGateway.gbProcessed"),
      6,
    );
    expect(monthly(one("aws:cloudwatch/logGroup:LogGroup", {}, 2), "r1")).toBeCloseTo(
      3 * (usd("cloudwatch.logs.ingestedGb") + usd("cloudwatch.logs.storedGbMonth")),
      6,
    );
    expect(monthly(one("aws:ec2/eip:Eip"), "r0")).toBeCloseTo(usd("vpc.publicIpv4.hour") * HOURS, 6);
    expect(monthly(one("aws:kms/key:Key"), "r0")).toBeCloseTo(usd("kms.key.month"), 6);
    expect(monthly(one("aws:secretsmanager/secret:Secret"), "r0")).toBeCloseTo(usd("secretsmanager.secret.month"), 6);
  });
  it("lists the plan's free types once each, with their reason", () => {
    const r = estimate([
      res("aws:iam/role:Role", "a", {}),
      res("aws:iam/role:Role", "b", {}),
      res("aws:ec2/vpc:Vpc", "v", {}),
      res("aws:kms/key:Key", "k", {}),
    ]);
    expect(r.free).toEqual([
      { type: "aws:ec2/vpc:Vpc", reason: FREE_TYPE_REASONS["aws:ec2/vpc:Vpc"] },
      { type: "aws:iam/role:Role", reason: FREE_TYPE_REASONS["aws:iam/role:Role"] },
    ]);
  });
});

describe("VPC flow logs", () => {
  const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
  const FLOW_LOG = "aws:ec2/flowLog:FlowLog";

  it("a flow log to CloudWatch Logs bills its delivery at the vended-log rate and its log group only storage; other groups ingest at the standard rate; the GB are shared alike", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 5 }), (logGb, plainGroups) => {
        const flowGroup = res(LOG_GROUP, "flow-logs", {});
        const flowLog = res(FLOW_LOG, "flow-log", { trafficType: "ALL", logDestinationType: "cloud-watch-logs" }, [
          flowGroup.urn!,
        ]);
        const plain = Array.from({ length: plainGroups }, (_, i) => res(LOG_GROUP, `app-${i}`, {}));
        const r = estimate([flowGroup, flowLog, ...plain], { assumptions: { ...NO_USAGE, logGbPerMonth: logGb } });
        const share = logGb / (plainGroups + 1);
        const skus = (name: string) => r.lines.filter((l) => l.resource === name).map((l) => [l.sku, l.quantity]);
        expect(skus("flow-log")).toEqual([["vpc.flowLogs.vendedLogsGb", share]]);
        expect(skus("flow-logs")).toEqual([["cloudwatch.logs.storedGbMonth", share]]);
        for (const g of plain)
          expect(skus(g.name)).toEqual([
            ["cloudwatch.logs.ingestedGb", share],
            ["cloudwatch.logs.storedGbMonth", share],
          ]);
        // Delivered once: the flow log's GB at the vended rate, plus their storage, and nothing else.
        expect(monthly(r, "flow-log") + monthly(r, "flow-logs")).toBeCloseTo(
          share * (usd("vpc.flowLogs.vendedLogsGb") + usd("cloudwatch.logs.storedGbMonth")),
          6,
        );
        expect(r.unpriced).toEqual([]);
        // Every GB is usage (from the assumption), none of it fixed; the line says what it is.
        for (const l of r.lines) expect([l.resource, l.fixedMonthly]).toEqual([l.resource, 0]);
        expect(r.lines.find((l) => l.resource === "flow-log")!.what).toContain("GB delivered to cloud-watch-logs");
        // AWS's default destination is CloudWatch Logs.
        const unset = res(FLOW_LOG, "flow-log", {}, [flowGroup.urn!]);
        expect(estimate([flowGroup, unset]).lines.find((l) => l.resource === "flow-log")!.sku).toBe("vpc.flowLogs.vendedLogsGb");
      }),
    );
  });

  it("a flow log to another destination (S3, Firehose) is unpriced by name, with the GB it would deliver", () => {
    for (const destination of ["s3", "kinesis-data-firehose"]) {
      const r = estimate([res(LOG_GROUP, "app", {}), res(FLOW_LOG, "flow-log", { logDestinationType: destination })], {
        assumptions: { ...NO_USAGE, logGbPerMonth: 40 },
      });
      expect(r.unpriced).toEqual([
        expect.objectContaining({ resource: "flow-log", sku: `vpc.flowLogs.${destination}.deliveredGb`, quantity: 40 }),
      ]);
    }
  });
});
