import fc from "fast-check";
import { checkRuntimeEnv, RUNTIME_ENV, type RuntimeEnvName } from "@uaip/runtime/config";
import { parseConfig } from "../../profile/parse";
import { checkPodConfig, ignoredRuntimeSettings, planEndpoints, profileKeyFor } from "../../profile/pod-config";
import { serviceEnv, servicePlan, type ServicePlan } from "../../profile/service-settings";
import type { Profile } from "../../profile/schema";

/**
 * Issue #22: the edges of profile/pod-config.ts (the plan's `pod-config:<service>` check and the
 * "no dead parts" refusal of runtime settings another key overwrites), called directly on parsed
 * profiles: each branch on both sides, expectations from the profile, not from the code's output.
 */

const CERT = {
  certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000",
  domainName: "origin.dev.uaip.example.com",
};
const dev = (extra: Record<string, unknown> = {}) => parseConfig({ environment: "dev", loadBalancer: CERT, ...extra });
const local = (extra: Record<string, unknown> = {}) => parseConfig({ environment: "local", ...extra });

/** The env variable that carries a settings path (e.g. "pool.maxConnections" -> UAIP_POOL_MAX). */
const envName = (path: string): RuntimeEnvName =>
  (Object.keys(RUNTIME_ENV) as RuntimeEnvName[]).find((n) => RUNTIME_ENV[n].path === path)!;

describe("planEndpoints: what the pods are told before the platform exists", () => {
  const variants = fc.record({
    aws: fc.boolean(),
    proxy: fc.boolean(),
    readReplicas: fc.integer({ min: 0, max: 2 }),
    cdn: fc.boolean(),
  });

  it("TLS, CA bundle, region and CDN only on AWS; a proxy host and a direct host only with a proxy; a reader only with replicas", () => {
    const base = { aws: dev(), docker: local() };
    fc.assert(
      fc.property(variants, ({ aws, proxy, readReplicas, cdn }) => {
        const p0 = aws ? base.aws : base.docker;
        const p: Profile = {
          ...p0,
          cdn: { ...p0.cdn, enabled: cdn },
          database: {
            ...p0.database,
            readReplicas,
            proxy: proxy ? ({} as NonNullable<Profile["database"]["proxy"]>) : undefined,
            name: "orders",
            username: "svc",
            statsRefreshInterval: 12_345,
          },
        };
        const e = planEndpoints(p);
        expect(e.redisTls).toBe(aws);
        expect(e.dbSsl).toBe(aws);
        expect(e.dbSslCaFile.length > 0).toBe(aws);
        expect("awsRegion" in e).toBe(aws);
        if (aws) expect(e.awsRegion).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
        expect(e.cdnDistributionId.length > 0).toBe(aws && cdn);
        expect("dbDirectHost" in e).toBe(proxy);
        expect(e.dbHost === e.dbDirectHost).toBe(false);
        if (!proxy) expect(e.dbHost).not.toMatch(/proxy/);
        else expect(e.dbHost).toMatch(/proxy/);
        expect("dbReadHost" in e).toBe(readReplicas > 0);
        if (readReplicas > 0) expect(e.dbReadHost).not.toBe(e.dbHost);
        expect({ name: e.dbName, user: e.dbUser, stats: e.dbStatsRefreshIntervalMs, port: e.dbPort }).toEqual({
          name: "orders",
          user: "svc",
          stats: 12_345,
          port: 5432,
        });
        expect(e.redisPort).toBe(6379);
        for (const host of [e.redisHost, e.dbHost, e.dbDirectHost ?? "x", e.dbReadHost ?? "x"])
          expect(host.length).toBeGreaterThan(0);
      }),
    );
  });

  it("the Redis client mode follows redis.mode: cluster mode is told to the pods", () => {
    const p = dev();
    expect(planEndpoints(p).redisMode ?? "standalone").toBe("standalone");
    expect(planEndpoints({ ...p, redis: { ...p.redis, mode: "cluster" } }).redisMode).toBe("cluster");
  });
});

describe("profileKeyFor: the key a pod-config issue names", () => {
  let p: Profile;
  beforeAll(() => {
    p = local({
      runtime: { cache: { memory: { ttl: 1000 } } },
      services: [
        { name: "a", port: 3001, runtime: { cache: { memory: { ttl: 2000 } } } },
        { name: "b", port: 3002 },
      ],
    });
  });

  it("a service's own override, else the shared key", () => {
    expect(profileKeyFor(p, 0, "cache.memory.ttl")).toBe("services[0].runtime.cache.memory.ttl");
    expect(profileKeyFor(p, 1, "cache.memory.ttl")).toBe("runtime.cache.memory.ttl");
  });

  it("a variable another profile key writes names that key, for the service asked about", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), (i) => {
        expect(profileKeyFor(p, i, "pool.maxConnections")).toBe(`services[${i}].pool.max`);
        expect(profileKeyFor(p, i, "pool.minConnections")).toBe(`services[${i}].pool.min`);
        expect(profileKeyFor(p, i, "database.statsRefreshIntervalMs")).toBe("database.statsRefreshInterval");
      }),
    );
  });

  it("a variable the platform writes has no profile key: the runtime key is named", () => {
    expect(profileKeyFor(p, 1, "cache.redis.host")).toBe("runtime.cache.redis.host");
    expect(profileKeyFor(p, 0, "database.readHost")).toBe("runtime.database.readHost");
  });
});

describe("checkPodConfig: the runtime's verdict on each pod's env", () => {
  it("a clean profile: one ok check per service, counting the variables the pod gets, with its heap", () => {
    const p = local();
    const plan = servicePlan(p);
    const checks = checkPodConfig(p, plan);
    expect(checks.map((c) => c.name)).toEqual(p.services.map((s) => `pod-config:${s.name}`));
    checks.forEach((c, i) => {
      const env = serviceEnv(p.environment, plan.services[i]!, planEndpoints(p));
      expect(c.ok).toBe(true);
      expect(c.detail).toContain(`services[${i}]`);
      expect(c.detail).toContain(` ${Object.keys(env).length} variables`);
      expect(c.detail).toContain(` ${plan.services[i]!.runtime.memory.heapSizeLimit} MiB heap`);
    });
  });

  /** The plan with service 0's NODE_OPTIONS replaced. */
  const withNodeOptions = (plan: ServicePlan, nodeOptions: string): ServicePlan => ({
    ...plan,
    services: plan.services.map((s, i) => (i === 0 ? { ...s, nodeOptions } : s)),
  });

  it("the heap is the one NODE_OPTIONS gives (several digits), else the heap setting", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 99_999 }), (heap) => {
        const p = local();
        const plan = servicePlan(p);
        const told = checkPodConfig(p, withNodeOptions(plan, `--enable-source-maps --max-old-space-size=${heap}`))[0]!;
        expect(told.detail).toContain(` ${heap} MiB`);
        const untold = checkPodConfig(p, withNodeOptions(plan, "--enable-source-maps"))[0]!;
        expect(untold.detail).toContain(` ${plan.services[0]!.runtime.memory.heapSizeLimit} MiB`);
      }),
      { numRuns: 20 },
    );
  });

  it("a cache the heap cannot hold fails the check under the key that wrote it: shared, or the service's own", () => {
    const maxSize = 50_000_000;
    const shared = local({ runtime: { cache: { memory: { maxSize } } } });
    const sharedCheck = checkPodConfig(shared, servicePlan(shared));
    sharedCheck.forEach((c, i) => {
      expect(c.ok).toBe(false);
      const heap = servicePlan(shared).services[i]!.runtime.memory.heapSizeLimit;
      expect(c.detail.startsWith(`runtime.cache.memory.maxSize = ${maxSize} (${envName("cache.memory.maxSize")}, `)).toBe(true);
      expect(c.detail).toContain(`pod heap ${heap} MiB from services[${i}] NODE_OPTIONS): `);
      // The runtime's fix follows its message after "; ".
      expect(c.detail).toMatch(/\): .+; .*lower it, or raise the heap/);
    });
    const own = local({
      services: [
        { name: "a", port: 3001, runtime: { cache: { memory: { maxSize } } } },
        { name: "b", port: 3002 },
      ],
    });
    const [a, b] = checkPodConfig(own, servicePlan(own));
    expect(a!.ok).toBe(false);
    expect(a!.detail.startsWith("services[0].runtime.cache.memory.maxSize = ")).toBe(true);
    expect(b!.ok).toBe(true);
  });

  it("a heap setting above the heap NODE_OPTIONS gives fails, on both sides of the boundary", () => {
    const p = local();
    const plan = servicePlan(p);
    const setting = plan.services[0]!.runtime.memory.heapSizeLimit;
    fc.assert(
      fc.property(fc.integer({ min: setting - 50, max: setting + 50 }), (told) => {
        const c = checkPodConfig(p, withNodeOptions(plan, `--max-old-space-size=${told}`))[0]!;
        expect(c.ok).toBe(told >= setting);
        if (told < setting) expect(c.detail.startsWith(`runtime.memory.heapSizeLimit = ${setting} (`)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it("an issue the runtime gives no fix for ends with the runtime's message, nothing appended", () => {
    const p = local();
    const plan = servicePlan(p);
    const s0 = plan.services[0]!;
    const bad: ServicePlan = {
      ...plan,
      services: plan.services.map((s, i) =>
        i === 0 ? { ...s, runtime: { ...s0.runtime, rateLimit: { ...s0.runtime.rateLimit, maxRequests: -5 } } } : s,
      ),
    };
    const env = serviceEnv(p.environment, bad.services[0]!, planEndpoints(p));
    const [issue, ...others] = checkRuntimeEnv(env, { heapMiB: s0.runtime.memory.heapSizeLimit }).issues;
    expect({ others, fix: issue!.fix }).toEqual({ others: [], fix: undefined });
    const detail = checkPodConfig(p, bad)[0]!.detail;
    expect(detail.startsWith("runtime.rateLimit.maxRequests = -5 (")).toBe(true);
    expect(detail.endsWith(`): ${issue!.message}`)).toBe(true);
  });

  it("several issues of one pod are all listed, each with its key, joined by '; '", () => {
    const p = local({ runtime: { cache: { memory: { maxSize: 50_000_000 } } } });
    const plan = servicePlan(p);
    const detail = checkPodConfig(p, withNodeOptions(plan, "--max-old-space-size=16"))[0]!.detail;
    const keys = detail.split(/; (?=runtime\.)/).map((part) => part.slice(0, part.indexOf(" = ")));
    expect(keys).toEqual(["runtime.cache.memory.maxSize", "runtime.memory.heapSizeLimit"]);
  });
});

describe("ignoredRuntimeSettings: a runtime setting another key overwrites is refused", () => {
  // Parsed in beforeAll, not while jest collects the tests: a mutant that makes parseConfig throw fails the
  // tests (killed), not the whole file (a runtime error, which Stryker leaves out of the score).
  let p: Profile;
  let plan: ServicePlan;
  beforeAll(() => {
    p = local({
      services: [
        { name: "a", port: 3001, pool: { min: 1, max: 7 } },
        { name: "b", port: 3002, pool: { min: 1, max: 9 } },
      ],
    });
    plan = servicePlan(p);
  });

  it("a pool size the services' pools overwrite: named once, with what writes it instead and the fix", () => {
    const issues = ignoredRuntimeSettings(p, plan, { pool: { maxConnections: 500 } });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("runtime.pool.maxConnections");
    expect(issues[0]!.message).toBe(
      `500 never reaches the pods: ${envName("pool.maxConnections")} is "7" for services[0] a, written by services[0].pool.max; remove this key and set services[0].pool.max`,
    );
  });

  it("a value equal to the one the pods get, on both sides of it: refused only when it differs", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (max) => {
        // One service whose pool is 7: 7 reaches it, any other value is refused.
        const one = local({ services: [{ name: "a", port: 3001, pool: { min: 1, max: 7 } }] });
        expect(ignoredRuntimeSettings(one, servicePlan(one), { pool: { maxConnections: max } }).length).toBe(max === 7 ? 0 : 1);
        // Pools of 7 and 9: every value differs from one of them; the shared key is still named once.
        const issues = ignoredRuntimeSettings(p, plan, { pool: { maxConnections: max } });
        expect(issues.map((i) => i.path)).toEqual(["runtime.pool.maxConnections"]);
        expect(issues[0]!.message).toContain(max === 7 ? 'is "9" for services[1] b' : 'is "7" for services[0] a');
      }),
    );
  });

  it("a service's own override another key overwrites names the service's key", () => {
    // parseConfig refuses it (through this function): the override is set on the parsed profile.
    const own: Profile = {
      ...p,
      services: p.services.map((s, i) => (i === 0 ? { ...s, runtime: { pool: { maxConnections: 3 } } } : s)),
    };
    const issues = ignoredRuntimeSettings(own, servicePlan(own), {});
    expect(issues.map((i) => i.path)).toEqual(["services[0].runtime.pool.maxConnections"]);
  });

  describe("each variable another key or the platform writes names its writer", () => {
    // An AWS profile with a proxy and a read replica, so every platform variable is in the env.
    let aws: Profile;
    let awsPlan: ServicePlan;
    beforeAll(() => {
      const base = dev();
      awsPlan = servicePlan(base);
      aws = {
        ...base,
        database: { ...base.database, readReplicas: 1, proxy: {} as NonNullable<Profile["database"]["proxy"]> },
      };
    });
    it.each<[Record<string, unknown>, string]>([
      [{ pool: { minConnections: 99 } }, "services[0].pool.min"],
      [{ pool: { maxConnections: 99 } }, "services[0].pool.max"],
      [{ database: { statsRefreshIntervalMs: 99_999 } }, "database.statsRefreshInterval"],
      [{ serviceName: "zz" }, "services[0].name"],
      [{ port: 9999 }, "services[0].port"],
      [{ cache: { redis: { mode: "cluster" } } }, "redis.mode / redis.serverless"],
    ])("%j: written by %s, which is the key to set", (raw, writer) => {
      const [issue, ...rest] = ignoredRuntimeSettings(aws, awsPlan, raw);
      expect(rest).toEqual([]);
      expect(issue!.message.endsWith(`written by ${writer}; remove this key and set ${writer}`)).toBe(true);
    });
    it.each<[Record<string, unknown>, RegExp]>([
      [{ cache: { redis: { host: "x" } } }, /Redis/],
      [{ cache: { redis: { port: 1 } } }, /Redis/],
      [{ cache: { redis: { tls: false } } }, /TLS/],
      [{ database: { readHost: "x" } }, /database\.readReplicas/],
      [{ database: { directHost: "x" } }, /database\.proxy/],
      [{ cache: { cdn: { distributionId: "x" } } }, /CloudFront/],
    ])("%j: written by the platform (%s): remove the key, nothing to set", (raw, what) => {
      const [issue, ...rest] = ignoredRuntimeSettings(aws, awsPlan, raw);
      expect(rest).toEqual([]);
      const m = /written by the platform \((.+)\); remove this key$/.exec(issue!.message);
      expect(m?.[1]).toMatch(what);
    });
  });

  it("a platform's variable: remove the key, nothing to set instead", () => {
    const issues = ignoredRuntimeSettings(p, plan, { cache: { redis: { host: "my-redis" } } });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/written by the platform \(its Redis endpoint\); remove this key$/);
  });

  it("a setting no other key writes is not refused, in any accepted spelling", () => {
    const heap = plan.services[0]!.runtime.memory.heapSizeLimit;
    expect(ignoredRuntimeSettings(p, plan, { memory: { heapSizeLimit: heap } })).toEqual([]);
    expect(ignoredRuntimeSettings(p, plan, { memory: { heapSizeLimit: `${heap}Mi` } })).toEqual([]);
  });

  it("a difference no known key explains (a raw section the plan was not built from) is still refused, naming a writer", () => {
    const heap = plan.services[0]!.runtime.memory.heapSizeLimit;
    const issues = ignoredRuntimeSettings(p, plan, { memory: { heapSizeLimit: heap + 1 } });
    expect(issues.map((i) => i.path)).toEqual(["runtime.memory.heapSizeLimit"]);
    expect(issues[0]!.message).toContain(`${envName("memory.heapSizeLimit")} is "${heap}"`);
    expect(issues[0]!.message).toMatch(/written by \S.*; remove this key and set \S/);
  });

  it("a shared setting a service overrides on purpose is not ignored", () => {
    const own = local({
      runtime: { cache: { memory: { ttl: 1000 } } },
      services: [{ name: "a", port: 3001, runtime: { cache: { memory: { ttl: 2000 } } } }],
    });
    expect(ignoredRuntimeSettings(own, servicePlan(own), { cache: { memory: { ttl: 1000 } } })).toEqual([]);
  });

  it("secrets and keys of no variable are not judged here; no runtime section, no issue", () => {
    expect(ignoredRuntimeSettings(p, plan, { database: { password: "x" }, notASetting: 1 })).toEqual([]);
    expect(ignoredRuntimeSettings(p, plan, undefined)).toEqual([]);
  });
});
