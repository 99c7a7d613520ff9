import fc from "fast-check";
import { DEFAULT_METRIC } from "@uaip/runtime/metrics";
import { result, warning } from "../../profile/check-result";
import {
  assertChecks,
  checkCacheTtlVsCdn,
  checkConnectionBudget,
  checkHeapFitsMemoryLimit,
  checkMemoryPressurePoint,
  checkRedisEviction,
  checkTimeouts,
  crossLayerChecks,
  CrossLayerCheckError,
} from "../../profile/checks";
import { StackError } from "../../profile/errors";
import { parseConfig } from "../../profile/parse";

/**
 * The cross-layer checks' verdicts on both sides of each boundary and the whole line the plan prints
 * (issue #22: Stryker's survivors in profile/checks.ts and check-result.ts): what was compared, with the
 * operator that held, and the fix only when a check fails. Numbers are computed here from the inputs.
 */

const dev = (extra: Record<string, unknown> = {}) => parseConfig({ environment: "dev", ...extra });
const one = (extra: Record<string, unknown> = {}) => ({ services: [{ name: "a", port: 3001, ...extra }] });

describe("result and warning: the fix follows what was compared only when the check fails", () => {
  it("property: ok prints the comparison alone; a failure appends '; ' and the fix", () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), fc.string(), fc.string(), (name, ok, compared, fix) => {
        expect(result(name, ok, compared, fix)).toEqual({ name, ok, detail: ok ? compared : `${compared}; ${fix}` });
      }),
      { numRuns: 50 },
    );
  });

  it("a warning passes and is marked as one", () => {
    expect(warning("capacity:a", "no capacity file")).toEqual({
      name: "capacity:a",
      ok: true,
      detail: "no capacity file",
      warning: true,
    });
  });
});

describe("timeouts: ALB idle vs the WebSocket heartbeat, keep-alive vs ALB idle", () => {
  const checks = (idleTimeout: number, heartbeatInterval: number, keepAliveTimeout: number) =>
    checkTimeouts(
      dev({ ...one(), loadBalancer: { idleTimeout }, runtime: { ws: { heartbeatInterval }, http: { keepAliveTimeout } } }),
    );

  it("both hold: the comparison with >", () => {
    expect(checks(60, 59_999, 60_001)).toEqual([
      {
        name: "alb-idle-vs-ws-heartbeat:a",
        ok: true,
        detail: "loadBalancer.idleTimeout 60000 ms > services[0] ws.heartbeatInterval 59999 ms",
      },
      {
        name: "keepalive-vs-alb-idle:a",
        ok: true,
        detail: "services[0] http.keepAliveTimeout 60001 ms > loadBalancer.idleTimeout 60000 ms",
      },
    ]);
  });

  it("both fail at equality: the comparison with <= and each fix", () => {
    expect(checks(60, 60_000, 60_000)).toEqual([
      {
        name: "alb-idle-vs-ws-heartbeat:a",
        ok: false,
        detail:
          "loadBalancer.idleTimeout 60000 ms <= services[0] ws.heartbeatInterval 60000 ms; idle WebSockets would be cut: raise loadBalancer.idleTimeout or lower runtime.ws.heartbeatInterval",
      },
      {
        name: "keepalive-vs-alb-idle:a",
        ok: false,
        detail:
          "services[0] http.keepAliveTimeout 60000 ms <= loadBalancer.idleTimeout 60000 ms; the service would close connections the ALB still reuses (502s): raise runtime.http.keepAliveTimeout above the idle timeout",
      },
    ]);
  });
});

describe("Redis eviction", () => {
  it.each([
    ["allkeys-lru", true, "redis.maxmemoryPolicy allkeys-lru evicts any key when memory is full"],
    ["allkeys-lfu", true, "redis.maxmemoryPolicy allkeys-lfu evicts any key when memory is full"],
    [
      "volatile-ttl",
      false,
      "redis.maxmemoryPolicy volatile-ttl does not suit a cache (writes fail or only TTL keys go when full); use allkeys-lru or allkeys-lfu",
    ],
  ])("%s", (maxmemoryPolicy, ok, detail) => {
    expect(checkRedisEviction(dev({ redis: { maxmemoryPolicy } }))).toEqual({ name: "redis-eviction", ok, detail });
  });
});

describe("cache TTL vs the CDN's: the longer of the two cache TTLs, against apiTtl.max, without a purge", () => {
  const check = (enabled: boolean, purge: boolean, memoryTtl: number, redisTtl: number) =>
    checkCacheTtlVsCdn(
      dev({
        ...one(),
        cdn: { enabled },
        runtime: { cache: { cdn: { enabled: purge }, memory: { ttl: memoryTtl }, redis: { ttl: redisTtl } } },
      }),
    );

  it("the L1 TTL counts when it is the longer one: equal to apiTtl.max passes, one more fails", () => {
    expect(check(true, false, 60_000, 1000)).toEqual([
      {
        name: "cache-ttl-vs-cdn:a",
        ok: true,
        detail: "services[0] cache TTL 60000 ms <= cdn.apiTtl.max 60000 ms without a CDN purge",
      },
    ]);
    expect(check(true, false, 60_001, 1000)).toEqual([
      {
        name: "cache-ttl-vs-cdn:a",
        ok: false,
        detail:
          "services[0] cache TTL 60001 ms > cdn.apiTtl.max 60000 ms without a CDN purge; enable runtime.cache.cdn.enabled or lower runtime.cache TTLs",
      },
    ]);
  });

  it("a purge or no CDN at all passes whatever the TTL, saying why", () => {
    expect(check(true, true, 600_000, 600_000)[0]!.detail).toBe(
      "services[0] purges the CDN on invalidation (runtime.cache.cdn.enabled)",
    );
    expect(check(false, false, 600_000, 600_000)[0]!.detail).toBe("cdn disabled: no CDN layer to keep in step");
    expect(check(false, false, 600_000, 600_000)[0]!.ok).toBe(true);
  });
});

describe("the heap against the memory limit and the memory monitor's pressure point", () => {
  const profile = (memory: string, heapSizeLimit: number, gcThreshold: number, threshold = 1) =>
    dev({
      ...one({ resources: { limits: { cpu: "1", memory } } }),
      runtime: { memory: { heapSizeLimit, gcThreshold, memoryMonitoring: { threshold } } },
    });

  it("heap up to 75 % of the limit passes with <=, one MiB more fails with > and the fix", () => {
    // 75 % of 1000Mi is 750 MiB.
    expect(checkHeapFitsMemoryLimit(profile("1000Mi", 750, 100))).toEqual([
      {
        name: "heap-vs-memory-limit:a",
        ok: true,
        detail: `services[0] memory.heapSizeLimit 750 MiB (--max-old-space-size, ${DEFAULT_METRIC.heapUsedBytes} alert base) <= 75% of resources.limits.memory 1000Mi (750 MiB)`,
      },
    ]);
    expect(checkHeapFitsMemoryLimit(profile("1000Mi", 751, 100))[0]!.detail).toBe(
      `services[0] memory.heapSizeLimit 751 MiB (--max-old-space-size, ${DEFAULT_METRIC.heapUsedBytes} alert base) > 75% of resources.limits.memory 1000Mi (750 MiB); raise services[].resources.limits.memory or lower runtime.memory.heapSizeLimit`,
    );
  });

  it("the pressure point equal to what fits passes, the GC hint one below it passes, at it fails", () => {
    const [fits] = checkMemoryPressurePoint(profile("1000Mi", 750, 749));
    expect(fits).toEqual({
      name: "memory-pressure-point:a",
      ok: true,
      detail:
        "gcThreshold 749 MiB < services[0] memory.heapSizeLimit 750 MiB × memoryMonitoring.threshold 1 = 750 MiB <= 750 MiB (75% of 1000Mi)",
    });
    expect(checkMemoryPressurePoint(profile("1000Mi", 750, 750))[0]).toEqual({
      name: "memory-pressure-point:a",
      ok: false,
      detail:
        "services[0] memory.heapSizeLimit 750 MiB × memoryMonitoring.threshold 1 = 750 MiB <= memory.gcThreshold 750 MiB: the service would shed load before it ever hints a GC; lower runtime.memory.gcThreshold below 750",
    });
  });
});

describe("the connection budget's line", () => {
  const pools = (maxes: number[], database: Record<string, unknown>) =>
    dev({
      services: maxes.map((max, i) => ({ name: `s${i}`, port: 3001 + i, pool: { min: 1, max }, hpa: { min: 1, max: 4 } })),
      database: { instanceClass: "db.t4g.medium", reservedConnections: 10, ...database },
    });
  // Each service: pool.max × (hpa.max 4 + 25 % surge 1) pods; + migration Job 1 + reserved 10 + RDS's 3 + 2.
  const required = (maxes: number[]) => maxes.reduce((sum, m) => sum + m * 5, 0) + 1 + 10 + 5;
  const terms = (maxes: number[]) =>
    maxes
      .map((m, i) => `services[${i}] s${i}: pool.max=${m} × 5 pods in a rollout (hpa.max=4 + maxSurge 25% → 1) = ${m * 5}`)
      .join("; ");
  const sum = (maxes: number[]) =>
    `${terms(maxes)} + migration Job 1 + stats refresher 0 (borrows from its pod's pool) + database.reservedConnections 10 + server-reserved 5 (superuser_reserved_connections 3 + rds.rds_superuser_reserved_connections 2) = ${required(maxes)}`;

  it("fits exactly: the sum, <= max_connections, <= the class limit", () => {
    const maxes = [3, 7];
    expect(checkConnectionBudget(pools(maxes, { maxConnections: required(maxes) }))).toEqual({
      name: "connection-budget",
      ok: true,
      detail: `${sum(maxes)} <= max_connections ${required(maxes)} <= db.t4g.medium limit 450`,
    });
  });

  it("one short: what the services may use, and the fix names the largest pool's service", () => {
    // On a tie the first service listed is named, so the message does not change between runs.
    for (const maxes of [
      [3, 7, 2],
      [7, 3],
      [2, 4, 4],
    ]) {
      const max = required(maxes) - 1;
      const largest = `s${maxes.indexOf(Math.max(...maxes))}`;
      expect(checkConnectionBudget(pools(maxes, { maxConnections: max })).detail).toBe(
        `${sum(maxes)} exceeds max_connections ${max} (budget for services ${max - 10 - 5 - 1} = max_connections ${max} − reserved 10 − server-reserved 5 − others 1); lower pool.max or hpa.max (largest: ${largest}), or raise database.maxConnections / pick a larger database.instanceClass (a rollout at hpa.max runs maxSurge 25% more pods, each with its own pool)`,
      );
    }
  });

  it("above the class limit: the class and its limit, and the fix", () => {
    expect(checkConnectionBudget(pools([3], { maxConnections: 451 })).detail).toBe(
      `${sum([3])}; max_connections 451 exceeds what db.t4g.medium holds (450); lower pool.max or hpa.max, or pick a larger database.instanceClass`,
    );
  });

  it("is checked only without RDS Proxy (through it, the proxy's client limit counts)", () => {
    const names = (p: ReturnType<typeof dev>) => crossLayerChecks(p).map((c) => c.name);
    expect(names(dev())[0]).toBe("connection-budget");
    const proxied = crossLayerChecks(dev({ database: { proxy: {} } }));
    expect(proxied.map((c) => c.name)).not.toContain("connection-budget");
    expect(proxied.every((c) => typeof c.name === "string" && typeof c.ok === "boolean")).toBe(true);
  });
});

describe("assertChecks", () => {
  it("passes when every check passes, warnings included; otherwise lists the failed ones only, one per line", () => {
    const ok = result("fine", true, "1 <= 2", "");
    expect(() => assertChecks([ok, warning("w", "unchecked")])).not.toThrow();
    const failed = [result("first", false, "3 > 2", "lower it"), result("second", false, "x", "y")];
    let error: unknown;
    try {
      assertChecks([ok, ...failed]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CrossLayerCheckError);
    expect(error).toBeInstanceOf(StackError);
    expect(error).toMatchObject({
      code: "UAIP_CROSS_LAYER_CHECK_FAILED",
      failed,
      message: "cross-layer checks failed:\n  ✗ first: 3 > 2; lower it\n  ✗ second: x; y",
    });
  });
});
