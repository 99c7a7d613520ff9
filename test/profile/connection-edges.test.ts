/**
 * The connection budget's edges that the mutation run of profile/connection-arithmetic.ts, connection-budget.ts
 * and proxy-budget.ts found untested (issue #22): a maxSurge with text after the percent sign, the server's own
 * reservations on each platform, and the max_connections the stack sets with read replicas, with and without
 * RDS Proxy, up to a proxy share of 100 %. Every expectation is the arithmetic written out here.
 */
import fc from "fast-check";
import { rolloutPods, surgePods } from "../../profile/connection-arithmetic";
import { connectionBudget } from "../../profile/connection-budget";
import { readReplicaOf } from "../../profile/data-tier";
import { checkProxyBudget, checkReplicaBudgets } from "../../profile/data-tier-checks";
import { crossLayerChecks } from "../../profile/checks";
import { parseConfig } from "../../profile/parse";
import { instanceMaxConnections, proxyBudget } from "../../profile/proxy-budget";
import { servicePlan } from "../../profile/service-settings";

/** hpa.max + Kubernetes's 25 % surge, rounded up: the pods of a rollout at full scale. */
const pods = (hpaMax: number) => hpaMax + Math.ceil(hpaMax / 4);
/** RDS PostgreSQL keeps superuser_reserved_connections 3 and rds.rds_superuser_reserved_connections 2. */
const RDS_RESERVED = 3 + 2;
const MIGRATION_JOB = 1;

describe("maxSurge: exactly a whole number or a whole percentage", () => {
  it("property: a valid percentage with anything before or after it is refused, never read as its number", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.string({ minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (percent, extra, before) => {
          const text = before ? `${extra}${percent}%` : `${percent}%${extra}`;
          // Only digits before a single "%" are a percentage; a prefix of digits is still one (e.g. "1" + "25%").
          fc.pre(!/^\d+%$/.test(text));
          expect(surgePods(8, text)).toBeUndefined();
          expect(() => rolloutPods(8, text)).toThrow(/maxSurge/);
        },
      ),
    );
  });
});

describe("the server's own reservations depend on the platform", () => {
  it.each([
    ["dev", RDS_RESERVED], // RDS PostgreSQL: PostgreSQL's 3 + RDS's 2
    ["local", 3], // a plain PostgreSQL container: PostgreSQL's 3 only
  ])(
    "%s: max_connections defaults to Σ pool.max × pods + migration Job + reserved + %i; one less fails",
    (environment, server) => {
      fc.assert(
        fc.property(fc.integer({ min: 3, max: 40 }), (reserved) => {
          const p = parseConfig({ environment, database: { reservedConnections: reserved } });
          const pooled = p.services.reduce((n, s) => n + s.pool.max * pods(s.hpa.max), 0);
          const required = pooled + MIGRATION_JOB + reserved + server;
          const b = connectionBudget(p);
          expect(b.serverReservedTotal).toBe(server);
          expect(b.maxConnections).toBe(required);
          expect(b.ok).toBe(true);
          const tight = connectionBudget(
            parseConfig({ environment, database: { reservedConnections: reserved, maxConnections: required - 1 } }),
          );
          expect(tight.ok).toBe(false);
        }),
        { numRuns: 10 },
      );
    },
  );
});

/** Services with their own pool.max (so the replicas' shares differ) and one hpa.max, on a class large enough. */
function profile(poolMaxes: number[], hpaMax: number, database: Record<string, unknown>) {
  return parseConfig({
    environment: "staging",
    services: poolMaxes.map((max, i) => ({ name: `s${i}`, port: 3001 + i, pool: { min: 0, max }, hpa: { min: 1, max: hpaMax } })),
    database: { instanceClass: "db.r7g.2xlarge", ...database },
  });
}

/** Each read replica's need at full scale: its services' pools (service i reads from replica i mod n) + reserved + RDS's. */
function replicaNeeds(poolMaxes: number[], hpaMax: number, replicas: number, reserved: number): number[] {
  return Array.from(
    { length: replicas },
    (_, r) =>
      poolMaxes.filter((_, i) => i % replicas === r).reduce((n, max) => n + max * pods(hpaMax), 0) + reserved + RDS_RESERVED,
  );
}

const poolMaxes = fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 });

describe("max_connections the stack sets with read replicas (database.maxConnections unset)", () => {
  it("property: without a proxy it is the writer's budget, which every replica's share fits; one less fails the writer", () => {
    fc.assert(
      fc.property(
        poolMaxes,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 3, max: 30 }),
        (maxes, hpaMax, replicas, reserved) => {
          const p = profile(maxes, hpaMax, { readReplicas: replicas, reservedConnections: reserved });
          const writer = maxes.reduce((n, max) => n + max * pods(hpaMax), 0) + MIGRATION_JOB + reserved + RDS_RESERVED;
          const m = instanceMaxConnections(p, connectionBudget(p));
          expect(m).toBe(writer);
          for (const need of replicaNeeds(maxes, hpaMax, replicas, reserved)) expect(need).toBeLessThanOrEqual(m);
          expect(checkReplicaBudgets(p, servicePlan(p)).every((c) => c.ok)).toBe(true);
          expect(checkReplicaBudgets(p, servicePlan(p))).toHaveLength(replicas);
          const less = profile(maxes, hpaMax, { readReplicas: replicas, reservedConnections: reserved, maxConnections: m - 1 });
          expect(crossLayerChecks(less, servicePlan(less)).find((c) => c.name === "connection-budget")!.ok).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("property: with a proxy below 100 % it is the least that fits the clients, the proxy's servers and every replica", () => {
    fc.assert(
      fc.property(
        poolMaxes,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 3, max: 30 }),
        fc.integer({ min: 1, max: 99 }),
        fc.constantFrom(1, 2, 4, 10),
        (maxes, hpaMax, replicas, reserved, pct, ratio) => {
          const proxy = {
            maxConnectionsPercent: pct,
            maxIdleConnectionsPercent: Math.min(50, pct),
            clientsPerServerConnection: ratio,
          };
          const p = profile(maxes, hpaMax, { readReplicas: replicas, reservedConnections: reserved, proxy });
          const clients = maxes.reduce((n, max) => n + max * pods(hpaMax), 0);
          const needs = replicaNeeds(maxes, hpaMax, replicas, reserved);
          const fits = (max: number) => {
            const servers = Math.floor((max * pct) / 100);
            return (
              Math.floor(servers * ratio) >= clients &&
              servers + MIGRATION_JOB + reserved + RDS_RESERVED <= max &&
              needs.every((need) => need <= max)
            );
          };
          const m = instanceMaxConnections(p, connectionBudget(p));
          expect(fits(m)).toBe(true);
          if (m > 10) expect(fits(m - 1)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("property: at 100 % no max_connections leaves the direct connections a slot; it fits the clients and replicas, and the server check names the share to lower", () => {
    fc.assert(
      fc.property(
        poolMaxes,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 3, max: 30 }),
        fc.constantFrom(1, 2, 4),
        (maxes, hpaMax, replicas, reserved, ratio) => {
          const proxy = { maxConnectionsPercent: 100, maxIdleConnectionsPercent: 50, clientsPerServerConnection: ratio };
          const p = profile(maxes, hpaMax, { readReplicas: replicas, reservedConnections: reserved, proxy });
          const clients = maxes.reduce((n, max) => n + max * pods(hpaMax), 0);
          const direct = MIGRATION_JOB + reserved + RDS_RESERVED;
          // The least max_connections (at least 10) whose proxy share fits the clients and that every replica fits,
          // plus room for the direct connections: lowering the share to (max − direct) / max then passes.
          const least = Math.max(10, Math.ceil(clients / ratio), ...replicaNeeds(maxes, hpaMax, replicas, reserved));
          const m = instanceMaxConnections(p, connectionBudget(p));
          expect(m).toBe(least + direct);
          const b = proxyBudget(p, connectionBudget(p))!;
          expect(b.clientsOk).toBe(true);
          expect(b.server.ok).toBe(false);
          const checks = checkProxyBudget(p, servicePlan(p));
          const server = checks.find((c) => c.name === "proxy-server-budget")!;
          expect(server.ok).toBe(false);
          if (m <= connectionBudget(p).classLimit)
            expect(server.detail).toContain(
              `lower database.proxy.maxConnectionsPercent to at most ${Math.floor(((m - direct) * 100) / m)}`,
            );
          expect(checkReplicaBudgets(p, servicePlan(p)).every((c) => c.ok)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("the replicas' shares follow readReplicaOf (service i reads from replica i mod n)", () => {
    expect([0, 1, 2, 3, 4].map((i) => readReplicaOf(i, 3))).toEqual([0, 1, 2, 0, 1]);
  });
});

describe("trustedProxyHops: a wrong value names the proxies the topology has", () => {
  it.each([
    [{ environment: "local" }, 0, "none (local ports go straight to the containers)"],
    [{ environment: "dev", cdn: { enabled: false } }, 1, "the ALB (cdn.enabled false)"],
    [{ environment: "dev" }, 2, "CloudFront + ALB"],
  ])("%j: expected %i, with the proxies named", (base, hops, proxies) => {
    expect(() => parseConfig({ ...base, runtime: { http: { trustedProxyHops: hops + 1 } } })).toThrow(
      `expected ${hops} (the proxies in front: ${proxies}), got ${hops + 1}`,
    );
  });
});
