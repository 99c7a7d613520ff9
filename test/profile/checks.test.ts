import fc from "fast-check";
import { parseConfig } from "../../profile/parse";
import {
  assertChecks,
  checkCacheTtlVsCdn,
  checkConnectionBudget,
  checkHeapFitsMemoryLimit,
  checkRedisEviction,
  checkTimeouts,
  crossLayerChecks,
  CrossLayerCheckError,
} from "../../profile/checks";
import { connectionBudget } from "../../profile/connection-budget";
import { maxConnectionsForClass } from "../../profile/instance-classes";

/** Three services with the given pool.max and hpa.max, on a db.t4g.micro (class limit 112). */
function withPools(poolMax: number, hpaMax: number, extra: Record<string, unknown> = {}) {
  const services = ["a", "b", "c"].map((name, i) => ({
    name,
    port: 3001 + i,
    pool: { min: 1, max: poolMax },
    hpa: { min: 1, max: hpaMax },
  }));
  return parseConfig({ environment: "dev", services, ...extra });
}

describe("instance-class table", () => {
  it.each([
    ["db.t4g.micro", 112],
    ["db.t4g.medium", 450],
    ["db.r7g.large", 1802],
    ["db.r7g.2xlarge", 5000], // capped at 5000 like RDS's LEAST(…, 5000)
  ] as const)("%s holds %i connections", (cls, expected) => {
    expect(maxConnectionsForClass(cls)).toBe(expected);
  });
});

/** Kubernetes's rounding of the services' 25% maxSurge, written out here: 25% of n pods is n/4, rounded up. */
const podsInRollout = (hpaMax: number) => hpaMax + Math.ceil(hpaMax / 4);
/** The migration Job's one client and RDS's own reservations (superuser 3 + rds_superuser 2). */
const MIGRATION = 1;
const RDS_RESERVED = 5;

describe("connection budget", () => {
  it("max_connections defaults to exactly the budget: Σ pool.max × pods in a rollout + the migration Job + reserved + RDS's own reservations", () => {
    const b = connectionBudget(withPools(5, 3));
    expect(b.perService.map((s) => s.rolloutPods)).toEqual([4, 4, 4]);
    expect(b.required).toBe(3 * 5 * podsInRollout(3) + MIGRATION + 10 + RDS_RESERVED);
    expect(b.maxConnections).toBe(b.required);
    expect(b.classLimit).toBe(112);
  });

  it.each([
    [4, 112, true],
    [5, 113, false],
  ])(
    "derived max_connections vs the class limit: 3 × 17 × 2 pods + migration 1 + reserved %i + server-reserved 5 = %i on db.t4g.micro (112) -> ok=%s",
    (reservedConnections, required, ok) => {
      const p = withPools(17, 1, { database: { reservedConnections } });
      expect(connectionBudget(p).required).toBe(required);
      expect(checkConnectionBudget(p).ok).toBe(ok);
    },
  );

  it.each([
    [112, true],
    [113, false],
  ])("class limit boundary: max_connections %i on db.t4g.micro -> ok=%s", (maxConnections, ok) => {
    const p = withPools(5, 3, { database: { maxConnections } });
    expect(checkConnectionBudget(p).ok).toBe(ok);
  });

  // pool.max 5 × hpa.max 4 on three services: 60 pooled without the surge, 75 with it (4 + 1 pods each).
  const withoutSurge = 3 * 5 * 4 + MIGRATION + 10 + RDS_RESERVED;
  const withSurge = 3 * 5 * podsInRollout(4) + MIGRATION + 10 + RDS_RESERVED;
  it.each([
    [withSurge, true],
    [withSurge - 1, false],
    [withoutSurge, false],
  ])("a budget that fits without the surge but not with it: max_connections %i -> ok=%s", (maxConnections, ok) => {
    expect(withoutSurge).toBeLessThan(withSurge - 1);
    const check = checkConnectionBudget(withPools(5, 4, { database: { maxConnections } }));
    expect(check.ok).toBe(ok);
    expect(check.detail).toContain("services[2] c: pool.max=5 × 5 pods in a rollout (hpa.max=4 + maxSurge 25% → 1) = 25");
    if (!ok) expect(check.detail).toContain(`= ${withSurge} exceeds max_connections ${maxConnections}`);
  });

  it("property: the check passes exactly when Σ pool.max × (hpa.max + ⌈25% × hpa.max⌉) + migration + reserved + 5 fits max_connections", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 3, max: 30 }),
        fc.integer({ min: 10, max: 450 }),
        (poolMax, hpaMax, reservedConnections, maxConnections) => {
          const p = withPools(poolMax, hpaMax, {
            database: { instanceClass: "db.t4g.medium", reservedConnections, maxConnections },
          });
          const needed = 3 * poolMax * podsInRollout(hpaMax) + MIGRATION + reservedConnections + RDS_RESERVED;
          expect(checkConnectionBudget(p).ok).toBe(needed <= maxConnections);
        },
      ),
    );
  });

  it("a violation names every service, its pool size, its pods in a rollout, the migration Job, the reserve and max_connections", () => {
    const p = withPools(20, 10, { database: { instanceClass: "db.t4g.medium", maxConnections: 400 } });
    const check = checkConnectionBudget(p);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`services[1] b: pool.max=20 × 13 pods in a rollout (hpa.max=10 + maxSurge 25% → 3) = 260`);
    expect(check.detail).toContain(
      "+ migration Job 1 + stats refresher 0 (borrows from its pod's pool) + database.reservedConnections 10 + server-reserved 5",
    );
    expect(check.detail).toContain(`= ${3 * 20 * podsInRollout(10) + MIGRATION + 10 + RDS_RESERVED}`);
    expect(check.detail).toContain("exceeds max_connections 400");
    expect(check.detail).toMatch(/lower pool\.max or hpa\.max/);
  });

  it("exceeding the instance class names the class and its limit", () => {
    const check = checkConnectionBudget(withPools(20, 10));
    expect(check.detail).toContain("exceeds what db.t4g.micro holds (112)");
  });
});

describe("timeouts", () => {
  it.each([
    // idle timeout (s), heartbeat (ms), ok
    [60, 59_999, true],
    [60, 60_000, false],
    [30, 30_000, false],
  ])("ALB idle %is vs WebSocket heartbeat %ims -> ok=%s", (idleTimeout, heartbeatInterval, ok) => {
    const p = parseConfig({ environment: "dev", loadBalancer: { idleTimeout }, runtime: { ws: { heartbeatInterval } } });
    expect(
      checkTimeouts(p)
        .filter((c) => c.name.startsWith("alb-idle"))
        .every((c) => c.ok),
    ).toBe(ok);
  });

  it.each([
    [60_001, true],
    [60_000, false],
  ])("keep-alive %ims vs ALB idle 60s -> ok=%s", (keepAliveTimeout, ok) => {
    const p = parseConfig({ environment: "dev", loadBalancer: { idleTimeout: 60 }, runtime: { http: { keepAliveTimeout } } });
    const checks = checkTimeouts(p).filter((c) => c.name.startsWith("keepalive"));
    expect(checks).toHaveLength(3);
    expect(checks.every((c) => c.ok)).toBe(ok);
    if (!ok) expect(checks[0].detail).toMatch(/raise runtime\.http\.keepAliveTimeout/);
  });

  it("a per-service heartbeat override is checked for that service only", () => {
    const p = parseConfig({
      environment: "dev",
      services: [
        { name: "a", port: 3001 },
        { name: "b", port: 3002, runtime: { ws: { heartbeatInterval: 90_000 } } },
      ],
    });
    const byName = Object.fromEntries(checkTimeouts(p).map((c) => [c.name, c.ok]));
    expect(byName["alb-idle-vs-ws-heartbeat:a"]).toBe(true);
    expect(byName["alb-idle-vs-ws-heartbeat:b"]).toBe(false);
  });
});

describe("Redis eviction, cache TTL vs CDN, heap vs memory limit", () => {
  it.each([
    ["allkeys-lru", true],
    ["allkeys-lfu", true],
    ["volatile-lru", false],
    ["noeviction", false],
  ])("maxmemory-policy %s -> ok=%s", (maxmemoryPolicy, ok) => {
    expect(checkRedisEviction(parseConfig({ environment: "dev", redis: { maxmemoryPolicy } })).ok).toBe(ok);
  });

  it.each([
    // cdn.enabled, purge on invalidation, redis ttl ms, ok
    [true, true, 600_000, true],
    [true, false, 60_000, true],
    [true, false, 60_001, false],
    [false, false, 600_000, true],
  ])("cdn %s, purge %s, L2 TTL %ims against apiTtl.max 60s -> ok=%s", (enabled, purge, ttl, ok) => {
    const p = parseConfig({
      environment: "dev",
      cdn: { enabled },
      runtime: { cache: { cdn: { enabled: purge }, redis: { ttl }, memory: { ttl: 1000 } } },
    });
    expect(checkCacheTtlVsCdn(p).every((c) => c.ok)).toBe(ok);
  });

  it.each([
    ["512Mi", 384, true],
    ["512Mi", 385, false],
    ["1Gi", 768, true],
  ])("memory limit %s with heapSizeLimit %i MiB -> ok=%s", (memory, heapSizeLimit, ok) => {
    const p = parseConfig({
      environment: "dev",
      services: [{ name: "a", port: 3001, resources: { limits: { cpu: "1", memory } } }],
      runtime: { memory: { heapSizeLimit, gcThreshold: 128 } },
    });
    const [check] = checkHeapFitsMemoryLimit(p);
    expect(check.ok).toBe(ok);
    if (!ok) expect(check.detail).toContain("services[0] memory.heapSizeLimit 385 MiB");
  });
});

describe("assertChecks", () => {
  it("passes the presets of every environment", () => {
    for (const environment of ["dev", "staging", "prod", "local"]) {
      expect(() => assertChecks(crossLayerChecks(parseConfig({ environment })))).not.toThrow();
    }
  });

  it("throws one error listing every failed check", () => {
    const p = parseConfig({ environment: "dev", redis: { maxmemoryPolicy: "noeviction" }, loadBalancer: { idleTimeout: 10 } });
    let error: unknown;
    try {
      assertChecks(crossLayerChecks(p));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CrossLayerCheckError);
    const failed = (error as CrossLayerCheckError).failed.map((c) => c.name);
    expect(failed).toContain("redis-eviction");
    expect(failed).toContain("alb-idle-vs-ws-heartbeat:agent-intelligence");
  });
});
