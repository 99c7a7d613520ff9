/**
 * The data tier's checks at their edges, which the mutation run of profile/data-tier-checks.ts found untested
 * (issue #22): the proxy's server budget at max_connections equal to the class limit, the sign each check prints on
 * each side of its bound, which services' terms each read replica prints, the fixes of a failed check, and the
 * cache's topology (replicated mode, Serverless, cluster mode around the default node quota and ElastiCache's
 * maximum). Every number asserted is the arithmetic written out here, not read back from the code under test.
 */
import fc from "fast-check";
import { checkProxyBudget, checkRedisTopology, checkReplicaBudgets } from "../../profile/data-tier-checks";
import { parseConfig } from "../../profile/parse";
import { servicePlan } from "../../profile/service-settings";

/** hpa.max + Kubernetes's 25 % surge, rounded up: the pods of a rollout at full scale. */
const pods = (hpaMax: number) => hpaMax + Math.ceil(hpaMax / 4);
/** RDS PostgreSQL keeps superuser_reserved_connections 3 and rds.rds_superuser_reserved_connections 2. */
const RDS_RESERVED = { superuser_reserved_connections: 3, "rds.rds_superuser_reserved_connections": 2 };
const MIGRATION_JOB = 1;
/** ElastiCache cluster mode: 90 nodes per cluster by default, up to 500 on request (AWS's quota page). */
const DEFAULT_NODE_QUOTA = 90;
const MAX_NODES = 500;
/** db.t4g.micro has 1 GiB; RDS's max_connections formula is DBInstanceClassMemory / 9531392 = 112.6…, so 112. */
const MICRO_CLASS_LIMIT = Math.floor(1024 ** 3 / 9_531_392);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Services s0.. with their own pool.max and one hpa.max. */
function profile(poolMaxes: number[], hpaMax: number, database: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseConfig({
    environment: "staging",
    services: poolMaxes.map((max, i) => ({ name: `s${i}`, port: 3001 + i, pool: { min: 0, max }, hpa: { min: 1, max: hpaMax } })),
    database: { instanceClass: "db.r7g.2xlarge", ...database },
    ...extra,
  });
}

const check = (checks: { name: string; ok: boolean; detail: string }[], name: string) => {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name} in ${checks.map((x) => x.name).join(", ")}`);
  return c;
};

/** The term a service contributes: its index, name, pool.max, pods and their product. */
const term = (i: number, poolMax: number, hpaMax: number) =>
  `services[${i}] s${i}: pool.max=${poolMax} × pods=${pods(hpaMax)} = ${poolMax * pods(hpaMax)}`;

describe("RDS Proxy's client budget prints its relation and, when over, by how much", () => {
  it("property: on both sides of the client limit, the sign, every service's term (each on its own) and the excess", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: -3, max: 3 }),
        (poolMaxes, hpaMax, slack) => {
          const clients = poolMaxes.reduce((n, m) => n + m * pods(hpaMax), 0);
          // 100 % and ratio 1: the client limit is max_connections itself.
          const maxConnections = clients + slack;
          fc.pre(maxConnections >= 10);
          const p = profile(poolMaxes, hpaMax, {
            maxConnections,
            proxy: { maxConnectionsPercent: 100, clientsPerServerConnection: 1 },
          });
          const c = check(checkProxyBudget(p, servicePlan(p)), "proxy-client-budget");
          expect(c.ok).toBe(clients <= maxConnections);
          const sign = clients <= maxConnections ? "<=" : ">";
          expect(c.detail).toMatch(new RegExp(`= ${clients} client connections ${sign} proxy client limit ${maxConnections} `));
          // Each service's term stands alone between separators, in order.
          const terms = c.detail.split(` = ${clients} client connections`)[0]!.split("; ");
          expect(terms).toEqual(poolMaxes.map((m, i) => term(i, m, hpaMax)));
          if (clients > maxConnections) {
            expect(c.detail).toMatch(new RegExp(`would make ${clients - maxConnections} of them wait`));
            for (const setting of [
              "pool.max",
              "hpa.max",
              "database.maxConnections",
              "maxConnectionsPercent",
              "clientsPerServerConnection",
            ])
              expect(c.detail).toContain(setting);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("RDS Proxy's server budget", () => {
  // One service, pool.max 2 × 3 pods = 6 clients; 50 % of max_connections is far more than that.
  const at = (maxConnections: number, extra: Record<string, unknown> = {}) =>
    profile([2], 2, { instanceClass: "db.t4g.micro", maxConnections, proxy: { maxConnectionsPercent: 50 }, ...extra });

  it("max_connections equal to the class limit passes; one more exceeds the class, with the class named and the fix", () => {
    const equal = check(checkProxyBudget(at(MICRO_CLASS_LIMIT), servicePlan(at(MICRO_CLASS_LIMIT))), "proxy-server-budget");
    expect(equal.ok).toBe(true);
    expect(equal.detail).toMatch(
      new RegExp(`<= max_connections ${MICRO_CLASS_LIMIT} <= db\\.t4g\\.micro limit ${MICRO_CLASS_LIMIT}$`),
    );
    const over = at(MICRO_CLASS_LIMIT + 1);
    const c = check(checkProxyBudget(over, servicePlan(over)), "proxy-server-budget");
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(
      new RegExp(`max_connections ${MICRO_CLASS_LIMIT + 1} .*db\\.t4g\\.micro.*\\(${MICRO_CLASS_LIMIT}\\)`),
    );
    expect(c.detail).toContain("database.instanceClass");
  });

  it("property: the sum of the proxy's share and the direct terms, its sign on both sides, and RDS's reservations each named", () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 100 }), fc.integer({ min: 3, max: 12 }), (percent, reserved) => {
        const maxConnections = 100;
        const p = at(maxConnections, { reservedConnections: reserved, proxy: { maxConnectionsPercent: percent } });
        const share = Math.floor((maxConnections * percent) / 100);
        const rds = Object.values(RDS_RESERVED).reduce((a, b) => a + b, 0);
        const required = share + MIGRATION_JOB + reserved + rds;
        const c = check(checkProxyBudget(p, servicePlan(p)), "proxy-server-budget");
        expect(c.ok).toBe(required <= maxConnections);
        const sign = required <= maxConnections ? "<=" : ">";
        expect(c.detail).toMatch(new RegExp(`= ${required} ${sign} max_connections ${maxConnections} `));
        // RDS's two reservations, each with its value, summed.
        const named = Object.entries(RDS_RESERVED).map(([k, v]) => `${k} ${v}`);
        expect(c.detail).toContain(`server-reserved ${rds} (${named.join(" + ")})`);
      }),
      { numRuns: 30 },
    );
  });
});

describe("each read replica prints its own services' terms and its relation", () => {
  it("property: replica r names exactly the services i with i mod n = r; the sign on both sides; the fix names the settings", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 3 }),
        fc.integer({ min: -2, max: 2 }),
        (poolMaxes, hpaMax, replicas, slack) => {
          fc.pre(replicas <= poolMaxes.length); // every replica has a service (the one without: below)
          const reserved = 10;
          const rds = 3 + 2;
          const pooledOn = (r: number) => poolMaxes.reduce((n, m, i) => (i % replicas === r ? n + m * pods(hpaMax) : n), 0);
          const needs = Array.from({ length: replicas }, (_, r) => pooledOn(r) + reserved + rds);
          // max_connections near replica 0's need (which is the largest, having the most services): both sides.
          const maxConnections = needs[0]! + slack;
          const p = profile(poolMaxes, hpaMax, {
            readReplicas: replicas,
            maxConnections,
            reservedConnections: reserved,
          });
          const checks = checkReplicaBudgets(p, servicePlan(p));
          expect(checks.map((c) => c.name)).toEqual(needs.map((_, r) => `replica-budget:${r}`));
          checks.forEach((c, r) => {
            const ok = needs[r]! <= maxConnections;
            expect(c.ok).toBe(ok);
            expect(c.detail).toMatch(new RegExp(`= ${needs[r]} ${ok ? "<=" : ">"} max_connections ${maxConnections} `));
            const mine = poolMaxes.flatMap((m, i) => (i % replicas === r ? [term(i, m, hpaMax)] : []));
            const printed = c.detail
              .replace(/^read replica \d+: /, "")
              .split("; + reserved")[0]!
              .split("; ");
            expect(printed).toEqual(mine);
            if (!ok)
              for (const setting of ["pool.max", "hpa.max", "database.readReplicas", "database.maxConnections"])
                expect(c.detail).toContain(setting);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a replica no service reads from says so and names no service", () => {
    const p = profile([2, 2], 2, { readReplicas: 3, maxConnections: 200 });
    const c = check(checkReplicaBudgets(p, servicePlan(p)), "replica-budget:2");
    expect(c.ok).toBe(true);
    expect(c.detail).not.toMatch(/services\[/);
    expect(c.detail).toMatch(/^read replica 2: no service reads here; /);
  });
});

describe("the cache's topology", () => {
  const redis = (r: Record<string, unknown>) => profile([2], 2, {}, { redis: r });

  it("a replication group (not cluster mode, not Serverless) has no topology check", () => {
    expect(checkRedisTopology(redis({ mode: "replicated", replicas: 2 }))).toEqual([]);
    expect(checkRedisTopology(redis({}))).toEqual([]);
  });

  it("Serverless prints its engine, each range as written (min..max or up to max) and the client mode, and always passes", () => {
    const both = checkRedisTopology(
      redis({
        mode: "cluster",
        serverless: { dataStorageGb: { minimum: 2, maximum: 10 }, ecpuPerSecond: { minimum: 1500, maximum: 5000 } },
      }),
    );
    expect(both).toHaveLength(1);
    expect(both[0]!.name).toBe("redis-topology");
    expect(both[0]!.ok).toBe(true);
    expect(both[0]!.detail).toMatch(/Serverless/);
    expect(both[0]!.detail).toMatch(/\b2\.\.10 GB/);
    expect(both[0]!.detail).toMatch(/\b1500\.\.5000 ECPU/);
    expect(both[0]!.detail).toContain("UAIP_REDIS_MODE=cluster");
    expect(both[0]!.detail).not.toContain("; ;");
    const p = redis({ mode: "cluster", serverless: { dataStorageGb: { maximum: 7 }, ecpuPerSecond: { maximum: 3000 } } });
    const upTo = checkRedisTopology(p)[0]!.detail;
    expect(upTo).toMatch(/up to 7 GB/);
    expect(upTo).toMatch(/up to 3000 ECPU/);
    expect(upTo).not.toMatch(/\.\./);
    expect(upTo).toContain(`${p.redis.engine} ${p.redis.engineVersion}`);
  });

  it.each([
    // [shards, replicasPerShard]: nodes = shards × (1 + replicasPerShard)
    [45, 1], // 90: at the default quota
    [91, 0], // 91: one above it
    [250, 1], // 500: ElastiCache's maximum
    [167, 2], // 501: one above it
    [30, 2], // 90
    [1, 0], // 1
  ])(
    "cluster mode with %i shards × (1 + %i): nodes against the maximum, the quota remark only above the quota and within the maximum",
    (shards, perShard) => {
      const nodes = shards * (1 + perShard);
      const [c] = checkRedisTopology(
        redis({ mode: "cluster", shards, replicasPerShard: perShard, replicas: perShard === 1 ? 2 : 1 }),
      );
      expect(c!.name).toBe("redis-topology");
      expect(c!.ok).toBe(nodes <= MAX_NODES);
      const sign = nodes <= MAX_NODES ? "<=" : ">";
      expect(c!.detail).toMatch(
        new RegExp(
          `redis\\.shards ${shards} × \\(1 \\+ replicasPerShard ${perShard}\\) = ${nodes} nodes ${escape(sign)} ${MAX_NODES} per cluster`,
        ),
      );
      const remark = nodes > DEFAULT_NODE_QUOTA && nodes <= MAX_NODES;
      // Nothing but the remark (when due) between the maximum and the client mode.
      const between = c!.detail.split(`${MAX_NODES} per cluster`)[1]!.split("; UAIP_REDIS_MODE=cluster")[0]!;
      if (remark) expect(between).toMatch(new RegExp(`quota of ${DEFAULT_NODE_QUOTA}\\b`));
      else expect(between).toBe("");
      // The fix, after the arithmetic (which names the settings too), says what to lower.
      const fix = c!.detail.split("UAIP_REDIS_MODE=cluster")[1]!;
      if (c!.ok) expect(fix).toBe("");
      else for (const setting of ["redis.shards", "replicasPerShard"]) expect(fix).toContain(setting);
    },
  );

  it("replicasPerShard defaults to redis.replicas, and wins over it when set", () => {
    const defaulted = checkRedisTopology(redis({ mode: "cluster", shards: 4, replicas: 2 }))[0]!;
    expect(defaulted.detail).toContain(`= ${4 * (1 + 2)} nodes`);
    const set = checkRedisTopology(redis({ mode: "cluster", shards: 4, replicas: 1, replicasPerShard: 3 }))[0]!;
    expect(set.detail).toContain(`= ${4 * (1 + 3)} nodes`);
    const zero = checkRedisTopology(redis({ mode: "cluster", shards: 4, replicas: 2, replicasPerShard: 0 }))[0]!;
    expect(zero.detail).toContain(`= 4 nodes`);
  });
});
