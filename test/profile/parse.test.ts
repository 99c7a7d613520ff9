import { parseConfig } from "../../profile/parse";
import { presetFor, SEED_SERVICES } from "../../profile/presets";
import { parseError as errorOf } from "../helpers/profile-issues";

describe("parseConfig: presets per environment", () => {
  it.each([
    [
      "dev",
      { multiAz: false, deletionProtection: false, instanceClass: "db.t4g.micro" },
      { azCount: 2, natGateways: "single", flowLogs: false },
      "7d",
    ],
    [
      "staging",
      { multiAz: false, deletionProtection: false, instanceClass: "db.t4g.medium" },
      { azCount: 3, natGateways: "single", flowLogs: false },
      "15d",
    ],
    [
      "prod",
      { multiAz: true, deletionProtection: true, instanceClass: "db.r7g.large" },
      { azCount: 3, natGateways: "perAz", flowLogs: true },
      "30d",
    ],
  ])("%s", (environment, database, network, retention) => {
    const p = parseConfig({ environment });
    expect(p.environment).toBe(environment);
    expect(p.database).toMatchObject(database);
    expect(p.network).toMatchObject(network);
    expect(p.monitoring.retention).toBe(retention);
  });

  it("every environment starts from the seed's three services, ports and SLOs", () => {
    for (const environment of ["dev", "staging", "prod"]) {
      const p = parseConfig({ environment });
      expect(p.services.map((s) => [s.name, s.port])).toEqual(SEED_SERVICES.map((s) => [s.name, s.port]));
      expect(p.monitoring).toMatchObject({ scrapeInterval: "15s", slo: { latencyP95Ms: 500, errorRate: 0.01 } });
      expect(p.runtime.batching).toEqual({ batchSize: 100, flushInterval: 100 });
    }
  });

  it("prod differs from dev in redundancy, protection and retention", () => {
    const dev = parseConfig({ environment: "dev" });
    const prod = parseConfig({ environment: "prod" });
    expect([dev.redis.multiAz, prod.redis.multiAz]).toEqual([false, true]);
    expect([dev.loadBalancer.deletionProtection, prod.loadBalancer.deletionProtection]).toEqual([false, true]);
    expect(prod.database.backupRetentionDays).toBeGreaterThan(dev.database.backupRetentionDays);
  });

  it("derives keep-alive above the ALB idle timeout and CDN purge from cdn.enabled", () => {
    const p = parseConfig({ environment: "dev", loadBalancer: { idleTimeout: 120 }, cdn: { enabled: false } });
    expect(p.runtime.http.keepAliveTimeout).toBe(125_000);
    expect(p.runtime.cache.cdn.enabled).toBe(false);
    expect(parseConfig({ environment: "dev" }).runtime.cache.cdn.enabled).toBe(true);
  });
});

describe("parseConfig: a stack file overrides any field", () => {
  it("nested scalar wins, siblings keep the preset", () => {
    const p = parseConfig({ environment: "prod", database: { instanceClass: "db.r7g.xlarge" } });
    expect(p.database.instanceClass).toBe("db.r7g.xlarge");
    expect(p.database.multiAz).toBe(true);
  });

  it("a services list replaces the preset list; each entry is filled from the environment's service defaults", () => {
    const p = parseConfig({ environment: "dev", services: [{ name: "solo", port: 4000, hpa: { max: 5 } }] });
    expect(p.services).toHaveLength(1);
    expect(p.services[0]).toMatchObject({
      name: "solo",
      port: 4000,
      hpa: { min: 1, max: 5, cpuTarget: 70 },
      pool: { min: 1, max: 8 },
    });
  });

  it("runtime settings and explicit keep-alive are kept", () => {
    const p = parseConfig({ environment: "dev", runtime: { rateLimit: { maxRequests: 7 }, http: { keepAliveTimeout: 90_000 } } });
    expect(p.runtime.rateLimit).toMatchObject({ maxRequests: 7, windowMs: 60_000 });
    expect(p.runtime.http.keepAliveTimeout).toBe(90_000);
  });

  it("a parsed profile shares no objects with the presets (mutating one leaves the next parse intact)", () => {
    const first = parseConfig({ environment: "dev" });
    first.tags.mutated = "yes";
    first.runtime.cache.memory.ttl = 1;
    const second = parseConfig({ environment: "dev" });
    expect(second.tags).not.toHaveProperty("mutated");
    expect(second.runtime.cache.memory.ttl).toBe(60_000);
    expect((presetFor("dev").database as { instanceClass: string }).instanceClass).toBe("db.t4g.micro");
  });
});

describe("parseConfig: bad input names the key, the value and the fix", () => {
  it.each<[string, unknown, RegExp]>([
    ["unknown environment", { environment: "qa" }, /^environment: expected one of dev, staging, prod, local, got "qa"/],
    ["missing environment", {}, /^environment: .*got nothing/],
    ["not an object", "dev", /^\(root\): expected an object/],
    ["wrong type", { environment: "dev", redis: { replicas: "2" } }, /^redis\.replicas: expected number, got "2"/],
    [
      "unknown key",
      { environment: "dev", database: { instanceClas: "db.t4g.micro" } },
      /^database\.instanceClas: unknown key, got "db\.t4g\.micro"; did you mean instanceClass\?/,
    ],
    ["unknown top-level key", { environment: "dev", databse: {} }, /^databse: unknown key/],
    ["negative size", { environment: "dev", database: { allocatedStorage: -5 } }, /^database\.allocatedStorage: .*>=20.*got -5/],
    [
      "hpa min > max",
      {
        environment: "dev",
        services: [
          { name: "a", port: 3001 },
          { name: "b", port: 3002, hpa: { min: 2, max: 1 } },
        ],
      },
      /^services\[1\]\.hpa\.max: expected integer >= hpa\.min \(2\), got 1/,
    ],
    [
      "pool min > max",
      { environment: "dev", services: [{ name: "a", port: 3001, pool: { min: 9, max: 3 } }] },
      /^services\[0\]\.pool\.max: expected integer >= pool\.min \(9\), got 3/,
    ],
    [
      "cpu target outside 1-100",
      { environment: "dev", services: [{ name: "a", port: 3001, hpa: { cpuTarget: 150 } }] },
      /^services\[0\]\.hpa\.cpuTarget: .*<=100.*got 150/,
    ],
    [
      "duplicate service name",
      {
        environment: "dev",
        services: [
          { name: "a", port: 3001 },
          { name: "a", port: 3002 },
        ],
      },
      /^services\[1\]\.name: duplicate service name "a"/,
    ],
    [
      "duplicate port",
      {
        environment: "dev",
        services: [
          { name: "a", port: 3001 },
          { name: "b", port: 3001 },
        ],
      },
      /^services\[1\]\.port: duplicate port 3001/,
    ],
    [
      "bad memory quantity",
      { environment: "dev", services: [{ name: "a", port: 3001, resources: { limits: { memory: "lots" } } }] },
      /^services\[0\]\.resources\.limits\.memory: expected a memory quantity.*got "lots"/,
    ],
    [
      "unknown instance class",
      { environment: "dev", database: { instanceClass: "db.x1.huge" } },
      /^database\.instanceClass: .*db\.t4g\.micro.*got "db\.x1\.huge"/,
    ],
    [
      "multi-AZ Redis without a replica",
      { environment: "dev", redis: { multiAz: true, replicas: 0 } },
      /^redis\.replicas: expected >= 1 when redis\.multiAz/,
    ],
    [
      "node counts out of order",
      { environment: "dev", cluster: { nodes: { min: 3, desired: 2, max: 4 } } },
      /^cluster\.nodes: expected min <= desired <= max, got 3\/2\/4/,
    ],
    [
      "bad runtime setting",
      { environment: "dev", runtime: { batching: { batchSize: 0 } } },
      /^runtime\.batching\.batchSize: .*got 0/,
    ],
    [
      "bad per-service runtime override",
      { environment: "dev", services: [{ name: "a", port: 3001, runtime: { ws: { heartbeatInterval: "30s" } } }] },
      /^services\[0\]\.runtime\.ws\.heartbeatInterval: expected number, got "30s"/,
    ],
    [
      "invalid service name",
      { environment: "dev", services: [{ name: "Agent_1", port: 3001 }] },
      /^services\[0\]\.name: expected a DNS-1123 label/,
    ],
    [
      "public API endpoint without CIDRs",
      { environment: "dev", cluster: { endpointPublicAccess: true } },
      /^cluster\.publicAccessCidrs: expected the CIDRs that run `pulumi up`/,
    ],
    [
      "API endpoint open to the internet",
      { environment: "dev", cluster: { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] } },
      /^cluster\.publicAccessCidrs\[0\]: the whole internet may not reach the Kubernetes API/,
    ],
    [
      "CDN TTLs out of order",
      { environment: "dev", cdn: { apiTtl: { min: 10, default: 5, max: 60 } } },
      /^cdn\.apiTtl: expected min <= default <= max/,
    ],
  ])("%s", (_kind, raw, expected) => {
    const err = errorOf(raw);
    expect(err.code).toBe("UAIP_PROFILE_INVALID");
    expect(err.message).toMatch(expected);
  });

  it("reports every bad key at once, not only the first", () => {
    const err = errorOf({
      environment: "dev",
      services: [
        { name: "a", port: 3001 },
        { name: "a", port: 3001 },
      ],
    });
    expect(err.issues.map((i) => i.path)).toEqual(["services[1].name", "services[1].port"]);
  });
});
