import fc from "fast-check";
import { dataTierIssues, readReplicaOf, redisClientMode } from "../../profile/data-tier";
import type { Profile } from "../../profile/schema";
import limits from "../../vendor/aws/data-tier-limits.json";

// dataTierIssues called directly on every combination of the keys it joins (data-tier.test.ts goes through
// parseConfig, one example per rule). The expected issues are the rules as the profile's docs state them.
const SECRETS = limits.rdsProxy.secretsPerProxy;
const SERVERLESS = { dataStorageGb: { maximum: 10 }, ecpuPerSecond: { maximum: 5000 } };

const combination = fc.record({
  platform: fc.constantFrom("aws", "docker"),
  mode: fc.constantFrom("replicated", "cluster"),
  serverless: fc.boolean(),
  shards: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  replicasPerShard: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  readReplicas: fc.integer({ min: 0, max: 2 }),
  backupRetentionDays: fc.integer({ min: 0, max: 2 }),
  proxy: fc.boolean(),
  services: fc.constantFrom(1, 3, SECRETS - 1, SECRETS, SECRETS + 1),
});
type Combination = typeof combination extends fc.Arbitrary<infer T> ? T : never;

const profileOf = (c: Combination) =>
  ({
    platform: c.platform,
    redis: {
      mode: c.mode,
      ...(c.serverless ? { serverless: SERVERLESS } : {}),
      ...(c.shards === undefined ? {} : { shards: c.shards }),
      ...(c.replicasPerShard === undefined ? {} : { replicasPerShard: c.replicasPerShard }),
    },
    database: { readReplicas: c.readReplicas, backupRetentionDays: c.backupRetentionDays, ...(c.proxy ? { proxy: {} } : {}) },
    services: Array.from({ length: c.services }, (_, i) => ({ name: `s${i}`, port: 3000 + i })),
  }) as unknown as Profile;

describe("dataTierIssues: every wrong combination, each on its key, nothing for a right one", () => {
  it("property: the issues are exactly the broken rules, in the order the keys are checked", () => {
    fc.assert(
      fc.property(combination, (c) => {
        const cluster = c.mode === "cluster";
        const expected: [string, RegExp][] = [];
        if (!cluster) {
          if (c.shards !== undefined)
            expected.push([
              "redis.shards",
              new RegExp(`^${c.shards} applies to cluster mode only \\(redis.mode is "${c.mode}"\\)`),
            ]);
          if (c.replicasPerShard !== undefined)
            expected.push([
              "redis.replicasPerShard",
              new RegExp(`^${c.replicasPerShard} applies to cluster mode only \\(redis.mode is "${c.mode}"\\)`),
            ]);
        }
        if (c.serverless && !cluster)
          expected.push(["redis.mode", new RegExp(`^"${c.mode}": ElastiCache Serverless always runs in cluster mode`)]);
        if (c.serverless && (c.shards !== undefined || c.replicasPerShard !== undefined))
          expected.push([
            c.shards !== undefined ? "redis.shards" : "redis.replicasPerShard",
            /^a serverless cache has no shards or replicas/,
          ]);
        if (c.readReplicas > 0 && c.backupRetentionDays === 0)
          expected.push([
            "database.backupRetentionDays",
            new RegExp(`^0 with database.readReplicas ${c.readReplicas}: RDS creates`),
          ]);
        if (c.proxy && c.services > SECRETS)
          expected.push([
            "database.proxy",
            new RegExp(`^${c.services} services need ${c.services} secrets .* at most ${SECRETS};`),
          ]);
        if (c.platform === "docker") {
          const awsOnly = /^the Docker platform runs one Redis and one PostgreSQL/;
          if (cluster) expected.push(["redis.mode", awsOnly]);
          if (c.serverless) expected.push(["redis.serverless", awsOnly]);
          if (c.proxy) expected.push(["database.proxy", awsOnly]);
          if (c.readReplicas > 0) expected.push(["database.readReplicas", awsOnly]);
        }
        const issues = dataTierIssues(profileOf(c));
        expect(issues.map((i) => i.path)).toEqual(expected.map(([path]) => path));
        issues.forEach((issue, i) => expect(issue.message).toMatch(expected[i]![1]));
      }),
      { numRuns: 150 },
    );
  });

  it("on both sides of each limit: backups 0 and 1 with a replica, the proxy's secrets at the quota and one past", () => {
    const base: Combination = {
      platform: "aws",
      mode: "replicated",
      serverless: false,
      shards: undefined,
      replicasPerShard: undefined,
      readReplicas: 1,
      backupRetentionDays: 1,
      proxy: true,
      services: SECRETS,
    };
    expect(dataTierIssues(profileOf(base))).toEqual([]);
    expect(dataTierIssues(profileOf({ ...base, backupRetentionDays: 0 })).map((i) => i.path)).toEqual([
      "database.backupRetentionDays",
    ]);
    expect(dataTierIssues(profileOf({ ...base, readReplicas: 0, backupRetentionDays: 0 }))).toEqual([]);
    expect(dataTierIssues(profileOf({ ...base, services: SECRETS + 1 })).map((i) => i.path)).toEqual(["database.proxy"]);
    expect(dataTierIssues(profileOf({ ...base, proxy: false, services: SECRETS + 1 }))).toEqual([]);
    // Serverless in cluster mode: refused only with shards or replicasPerShard set, on the one that is.
    const serverless: Combination = { ...base, mode: "cluster", serverless: true, readReplicas: 0, proxy: false };
    expect(dataTierIssues(profileOf(serverless))).toEqual([]);
    expect(dataTierIssues(profileOf({ ...serverless, replicasPerShard: 1 })).map((i) => i.path)).toEqual([
      "redis.replicasPerShard",
    ]);
    expect(dataTierIssues(profileOf({ ...serverless, shards: 2, replicasPerShard: 1 })).map((i) => i.path)).toEqual([
      "redis.shards",
    ]);
  });
});

describe("redisClientMode and readReplicaOf", () => {
  it("cluster for cluster mode or serverless, standalone only for a replication group without serverless", () => {
    for (const mode of ["replicated", "cluster"])
      for (const serverless of [false, true]) {
        const p = { redis: { mode, ...(serverless ? { serverless: SERVERLESS } : {}) } } as unknown as Profile;
        expect(redisClientMode(p)).toBe(mode === "cluster" || serverless ? "cluster" : "standalone");
      }
  });

  it("services take the replicas in turn; none without replicas", () => {
    fc.assert(
      fc.property(fc.nat(50), fc.integer({ min: 1, max: 5 }), (i, n) => {
        const r = readReplicaOf(i, n)!;
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThan(n);
        // The next service takes the next replica, wrapping round.
        expect(readReplicaOf(i + 1, n)).toBe(r === n - 1 ? 0 : r + 1);
        expect(readReplicaOf(i, 0)).toBeUndefined();
      }),
      {
        numRuns: 50,
        examples: [
          [0, 1],
          [0, 5],
        ],
      },
    );
    expect(readReplicaOf(0, 1)).toBe(0);
  });
});
