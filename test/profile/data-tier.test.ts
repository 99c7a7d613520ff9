import fc from "fast-check";
import { parseConfig } from "../../profile/parse";
import { connectionBudget } from "../../profile/connection-budget";
import { instanceMaxConnections, proxyBudget, replicaBudgets } from "../../profile/proxy-budget";
import { readReplicaOf, redisClientMode } from "../../profile/data-tier";
import { checkProxyBudget, checkRedisTopology, checkReplicaBudgets } from "../../profile/data-tier-checks";
import { servicePlan } from "../../profile/service-settings";
import { crossLayerChecks } from "../../profile/checks";
import { serviceEnv } from "../../profile/service-settings";
import { planEndpoints } from "../../profile/pod-config";
import { parseIssues } from "../helpers/profile-issues";
import limits from "../../vendor/aws/data-tier-limits.json";
import { ELASTICACHE_MAX_SHARDS, RDS_POSTGRES_MAX_READ_REPLICAS } from "../../profile/schema";
import { SERVERLESS_LIMITS, ELASTICACHE_MAX_REPLICAS, ELASTICACHE_MAX_NODES_PER_CLUSTER } from "../../components/aws/redis";
import { MAX_READ_REPLICAS } from "../../components/aws/database";

/** Three services with pool.max and hpa.max on a class big enough that the class limit never decides. */
function profile(poolMax: number, hpaMax: number, database: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const services = ["a", "b", "c"].map((name, i) => ({
    name,
    port: 3001 + i,
    pool: { min: 0, max: poolMax },
    hpa: { min: 1, max: hpaMax },
  }));
  return parseConfig({ environment: "staging", services, database: { instanceClass: "db.r7g.2xlarge", ...database }, ...extra });
}

describe("the numbers in code are the vendored AWS limits", () => {
  it("ElastiCache shards, replicas, nodes and serverless ranges; RDS read replicas; RDS Proxy ranges", () => {
    expect(ELASTICACHE_MAX_SHARDS).toBe(limits.elasticache.shards.max);
    expect(ELASTICACHE_MAX_REPLICAS).toBe(limits.elasticache.replicasPerShard.max);
    expect(ELASTICACHE_MAX_NODES_PER_CLUSTER).toBe(limits.elasticache.nodesPerCluster.max);
    expect(SERVERLESS_LIMITS).toEqual({
      dataStorageGb: limits.elasticache.serverless.dataStorageGb,
      ecpuPerSecond: limits.elasticache.serverless.ecpuPerSecond,
    });
    expect(RDS_POSTGRES_MAX_READ_REPLICAS).toBe(limits.rdsPostgresReadReplicas.maxPerSource);
    expect(MAX_READ_REPLICAS).toBe(limits.rdsPostgresReadReplicas.maxPerSource);
  });
});

describe("budget through RDS Proxy", () => {
  it("clients: Σ pool.max × pods against floor(max_connections × pct / 100) × clientsPerServerConnection, on both sides of the limit", () => {
    // max_connections 280, 50 % -> 140 server connections; ratio 1.5 -> client limit 210 = 3 services × 10 × 7 pods (5 + maxSurge 25%).
    const at = profile(10, 5, { maxConnections: 280, proxy: { maxConnectionsPercent: 50, clientsPerServerConnection: 1.5 } });
    const b = proxyBudget(at, connectionBudget(at))!;
    expect({ server: b.serverConnections, limit: b.clientLimit, clients: b.clients, ok: b.clientsOk }).toEqual({
      server: 140,
      limit: 210,
      clients: 210,
      ok: true,
    });
    const over = profile(10, 5, { maxConnections: 279, proxy: { maxConnectionsPercent: 50, clientsPerServerConnection: 1.5 } });
    const c = checkProxyBudget(over, servicePlan(over)).find((x) => x.name === "proxy-client-budget")!;
    expect(c.ok).toBe(false);
    // The message carries every term: the pods × pool, the total, the limit and how it is made.
    expect(c.detail).toContain("pool.max=10 × pods=7 = 70");
    expect(c.detail).toContain(
      "210 client connections > proxy client limit 208 = 139 × database.proxy.clientsPerServerConnection 1.5",
    );
    expect(c.detail).toContain("floor(max_connections 279 × database.proxy.maxConnectionsPercent 50 %)");
  });

  it("servers: at 100 % the proxy could take the reservations' slots, and the check says how far to lower it", () => {
    const p = profile(2, 2, {
      maxConnections: 100,
      reservedConnections: 10,
      proxy: { maxConnectionsPercent: 100, maxIdleConnectionsPercent: 50 },
    });
    const c = checkProxyBudget(p, servicePlan(p)).find((x) => x.name === "proxy-server-budget")!;
    expect(c.ok).toBe(false);
    // 100 − migration Job 1 − reserved 10 − server-reserved 5 = 84 of 100 may go to the proxy: 84 %.
    expect(c.detail).toContain("lower database.proxy.maxConnectionsPercent to at most 84");
    expect(c.detail).toContain("migration Job 1 (direct)");
    const fixed = profile(2, 2, { maxConnections: 100, reservedConnections: 10, proxy: { maxConnectionsPercent: 84 } });
    expect(checkProxyBudget(fixed, servicePlan(fixed)).every((x) => x.ok)).toBe(true);
    // One past: 85 % leaves no slot for the migration Job (the check once passed it).
    const over = profile(2, 2, { maxConnections: 100, reservedConnections: 10, proxy: { maxConnectionsPercent: 85 } });
    expect(checkProxyBudget(over, servicePlan(over)).find((x) => x.name === "proxy-server-budget")!.ok).toBe(false);
  });

  it("the writer counts the migration Job with the proxy as without it: on both sides of each boundary", () => {
    const serverCheck = (q: ReturnType<typeof profile>) =>
      checkProxyBudget(q, servicePlan(q)).find((x) => x.name === "proxy-server-budget")!.ok;
    const directCheck = (q: ReturnType<typeof profile>) =>
      crossLayerChecks(q, servicePlan(q)).find((x) => x.name === "connection-budget")!.ok;
    // Without a proxy: 3 services × pool.max 2 × pods 3 (hpa.max 2 + maxSurge 25 % rounded up) = 18,
    // + migration Job 1 + reserved 10 + server-reserved 5 (RDS: 3 + 2) = 34.
    expect(directCheck(profile(2, 2, { maxConnections: 34, reservedConnections: 10 }))).toBe(true);
    expect(directCheck(profile(2, 2, { maxConnections: 33, reservedConnections: 10 }))).toBe(false);
    // Through the proxy, the same direct terms next to floor(max_connections × pct / 100), written out
    // here; pct is drawn so the proxy's share lands within a few slots of the edge (random pairs rarely
    // meet it, and a one-slot term such as the Job only shows there).
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 400 }),
        fc.integer({ min: 3, max: 40 }),
        fc.integer({ min: -2, max: 2 }),
        (max, reserved, delta) => {
          const target = max - 1 - reserved - 5 + delta;
          const pct = Math.ceil((target * 100) / max);
          fc.pre(pct >= 1 && pct <= 100);
          const q = profile(1, 1, {
            maxConnections: max,
            reservedConnections: reserved,
            proxy: { maxConnectionsPercent: pct, maxIdleConnectionsPercent: Math.min(50, pct) },
          });
          expect(serverCheck(q)).toBe(Math.floor((max * pct) / 100) + 1 + reserved + 5 <= max);
        },
      ),
    );
    // The max_connections the stack sets without database.maxConnections: the property test below.
  });

  it("without database.maxConnections, max_connections is the least that passes both checks (one less fails one)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 99 }),
        fc.constantFrom(1, 1.5, 2, 4),
        fc.integer({ min: 3, max: 30 }),
        (poolMax, hpaMax, pct, ratio, reserved) => {
          const p = profile(poolMax, hpaMax, {
            reservedConnections: reserved,
            proxy: {
              maxConnectionsPercent: pct,
              maxIdleConnectionsPercent: Math.min(50, pct),
              clientsPerServerConnection: ratio,
            },
          });
          const m = instanceMaxConnections(p, connectionBudget(p));
          // Independent of the code: both conditions written out.
          const fits = (max: number) => {
            const server = Math.floor((max * pct) / 100);
            const pods = hpaMax + Math.ceil((hpaMax * 25) / 100); // a rollout at hpa.max: + maxSurge 25%
            // The proxy's servers + the migration Job (direct) + reserved + RDS's 3 + 2 fit max_connections.
            return Math.floor(server * ratio) >= 3 * poolMax * pods && server + 1 + reserved + 5 <= max;
          };
          expect(fits(m)).toBe(true);
          if (m > 10) expect(fits(m - 1)).toBe(false);
          // Both checks pass with it, unless it is more than the instance class holds: then the server check says so.
          const classLimit = connectionBudget(p).classLimit;
          const checks = checkProxyBudget(p, servicePlan(p));
          if (m <= classLimit) expect(checks.every((c) => c.ok)).toBe(true);
          else
            expect(checks.find((c) => c.name === "proxy-server-budget")!.detail).toContain(`exceeds what db.r7g.2xlarge holds`);
        },
      ),
    );
  });

  it("with a proxy the direct connection-budget check gives way to the proxy's two checks", () => {
    const p = profile(10, 5, { proxy: {} });
    const names = crossLayerChecks(p, servicePlan(p)).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["proxy-client-budget", "proxy-server-budget"]));
    expect(names).not.toContain("connection-budget");
  });
});

describe("read replicas", () => {
  it("services spread over the replicas in order, each replica's budget is its own services' pools", () => {
    expect([0, 1, 2, 3, 4].map((i) => readReplicaOf(i, 2))).toEqual([0, 1, 0, 1, 0]);
    expect(readReplicaOf(3, 0)).toBeUndefined();
    const p = profile(10, 5, { readReplicas: 2, maxConnections: 400 });
    const r = replicaBudgets(p, connectionBudget(p));
    expect(r.map((x) => x.arithmetic.pooled)).toEqual([140, 70]); // 10 × 7 pods (5 + maxSurge 25%) per service
  });

  it("a replica whose services' pools exceed max_connections fails, naming the replica and the terms", () => {
    // Services a and c on replica 0: 2 × 10 × 7 pods (5 + maxSurge 25%) = 140 pooled + reserved 10 + 5 = 155 > 154.
    const p = profile(10, 5, {
      readReplicas: 2,
      maxConnections: 154,
      reservedConnections: 10,
      proxy: { maxConnectionsPercent: 50, clientsPerServerConnection: 4 },
    });
    const checks = checkReplicaBudgets(p, servicePlan(p));
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ["replica-budget:0", false],
      ["replica-budget:1", true],
    ]);
    expect(checks[0]!.detail).toContain("= 155 > max_connections 154");
    const ok = profile(10, 5, {
      readReplicas: 2,
      maxConnections: 155,
      reservedConnections: 10,
      proxy: { maxConnectionsPercent: 50, clientsPerServerConnection: 4 },
    });
    expect(checkReplicaBudgets(ok, servicePlan(ok)).every((c) => c.ok)).toBe(true);
  });

  it("read replicas need backups on the source", () => {
    expect(parseIssues({ environment: "dev", database: { readReplicas: 1, backupRetentionDays: 0 } })).toEqual([
      expect.objectContaining({ path: "database.backupRetentionDays", message: expect.stringMatching(/automated backups/) }),
    ]);
    expect(parseIssues({ environment: "dev", database: { readReplicas: 1, backupRetentionDays: 1 } })).toEqual([]);
    expect(parseIssues({ environment: "dev", database: { readReplicas: RDS_POSTGRES_MAX_READ_REPLICAS + 1 } })[0]?.path).toBe(
      "database.readReplicas",
    );
  });
});

describe("the cache's modes", () => {
  it("UAIP_REDIS_MODE: cluster for cluster mode and serverless, standalone for a replication group", () => {
    const replicated = profile(1, 1);
    const cluster = profile(1, 1, {}, { redis: { mode: "cluster", shards: 2 } });
    const serverless = profile(
      1,
      1,
      {},
      { redis: { mode: "cluster", serverless: { dataStorageGb: { maximum: 10 }, ecpuPerSecond: { maximum: 5000 } } } },
    );
    expect([replicated, cluster, serverless].map(redisClientMode)).toEqual(["standalone", "cluster", "cluster"]);
    const env = (p: typeof replicated) => serviceEnv(p.environment, servicePlan(p).services[0]!, planEndpoints(p));
    expect([replicated, cluster, serverless].map((p) => env(p).UAIP_REDIS_MODE)).toEqual(["standalone", "cluster", "cluster"]);
  });

  it("cluster mode's nodes against ElastiCache's 500 per cluster, printed with the quota", () => {
    const at = profile(1, 1, {}, { redis: { mode: "cluster", shards: 250, replicasPerShard: 1 } });
    expect(checkRedisTopology(at)[0]).toMatchObject({
      ok: true,
      detail: expect.stringContaining("= 500 nodes <= 500 per cluster (above the default quota of 90"),
    });
    expect(() => profile(1, 1, {}, { redis: { mode: "cluster", shards: 251, replicasPerShard: 1 } })).not.toThrow();
    const over = profile(1, 1, {}, { redis: { mode: "cluster", shards: 251, replicasPerShard: 1 } });
    expect(checkRedisTopology(over)[0]!.ok).toBe(false);
  });

  it("shards and replicasPerShard belong to cluster mode; serverless needs mode cluster; both named with the fix", () => {
    expect(parseIssues({ environment: "dev", redis: { shards: 3 } })).toEqual([
      expect.objectContaining({ path: "redis.shards", message: expect.stringMatching(/set redis.mode: cluster/) }),
    ]);
    expect(
      parseIssues({
        environment: "dev",
        redis: { serverless: { dataStorageGb: { maximum: 10 }, ecpuPerSecond: { maximum: 5000 } } },
      }),
    ).toEqual([expect.objectContaining({ path: "redis.mode" })]);
  });

  it("serverless limits: each bound of AWS's ranges accepted, one past refused, minimum above maximum refused", () => {
    const issues = (dataStorageGb: object, ecpuPerSecond: object) =>
      parseIssues({ environment: "dev", redis: { mode: "cluster", serverless: { dataStorageGb, ecpuPerSecond } } }).map(
        (i) => i.path,
      );
    expect(issues({ minimum: 1, maximum: 5000 }, { minimum: 1000, maximum: 15_000_000 })).toEqual([]);
    expect(issues({ maximum: 5001 }, { maximum: 15_000_001 })).toEqual([
      "redis.serverless.dataStorageGb.maximum",
      "redis.serverless.ecpuPerSecond.maximum",
    ]);
    expect(issues({ maximum: 0 }, { maximum: 999 })).toEqual([
      "redis.serverless.dataStorageGb.maximum",
      "redis.serverless.ecpuPerSecond.maximum",
    ]);
    expect(issues({ minimum: 11, maximum: 10 }, { maximum: 5000 })).toEqual(["redis.serverless.dataStorageGb.minimum"]);
  });

  it("the Docker platform refuses every AWS-only mode by name", () => {
    const paths = parseIssues({
      environment: "local",
      redis: { mode: "cluster" },
      database: { readReplicas: 1, proxy: {} },
    }).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["redis.mode", "database.proxy", "database.readReplicas"]));
  });

  it("valkey versions are checked against ElastiCache's Valkey list, not Redis OSS's", () => {
    expect(parseIssues({ environment: "dev", redis: { engine: "valkey", engineVersion: "8.0" } })).toEqual([]);
    expect(parseIssues({ environment: "dev", redis: { engine: "valkey", engineVersion: "7.1" } })).toEqual([
      expect.objectContaining({ path: "redis.engineVersion", message: expect.stringMatching(/not a Valkey version/) }),
    ]);
    expect(parseIssues({ environment: "dev", redis: { engine: "redis", engineVersion: "8.0" } })[0]?.path).toBe(
      "redis.engineVersion",
    );
  });
});
