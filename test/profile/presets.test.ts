import fc from "fast-check";
import { crossLayerChecks, HEAP_SHARE_OF_MEMORY_LIMIT } from "../../profile/checks";
import { type DbInstanceClass, maxConnectionsForClass } from "../../profile/instance-classes";
import { parseConfig } from "../../profile/parse";
import { deepMerge, isPlainObject, presetFor, SEED_SERVICES, serviceDefaultsFor } from "../../profile/presets";
import { cpuToMillicores, memoryToMiB } from "../../profile/quantity";
import { ENVIRONMENTS, type Environment } from "../../profile/schema";
import { defaultTags } from "../../profile/tags";

/** The invariants the presets must satisfy, not their numbers: a preset may change as long as these hold. */
type Service = {
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  hpa: { min: number; max: number; cpuTarget: number };
  pool: { min: number; max: number };
};
type Preset = {
  environment: Environment;
  platform: string;
  services: { name: string; port: number; targetRps?: number }[];
  runtime: { memory: { heapSizeLimit: number; gcThreshold: number }; rateLimit: { reserve: number } };
  database: {
    instanceClass: DbInstanceClass;
    reservedConnections: number;
    backupRetentionDays: number;
    deletionProtection: boolean;
  };
  cluster: { nodes: { min: number; desired: number; max: number } };
  monitoring: { retention: string; replicas: number };
};
const preset = (e: Environment) => presetFor(e) as unknown as Preset;
const defaults = (e: Environment) => serviceDefaultsFor(e) as unknown as Service;
const AWS = ["dev", "staging", "prod"] as const;

describe("presets: each environment on its own", () => {
  it.each(ENVIRONMENTS)(
    "%s: requests <= limits, hpa.min <= max, pool.min <= max, the heap within its share of the limit",
    (e) => {
      const s = defaults(e);
      expect(cpuToMillicores(s.resources.requests.cpu)!).toBeLessThanOrEqual(cpuToMillicores(s.resources.limits.cpu)!);
      expect(memoryToMiB(s.resources.requests.memory)!).toBeLessThanOrEqual(memoryToMiB(s.resources.limits.memory)!);
      expect(s.hpa.min).toBeLessThanOrEqual(s.hpa.max);
      expect(s.hpa.min).toBeGreaterThanOrEqual(1);
      expect(s.pool.min).toBeLessThanOrEqual(s.pool.max);
      const { memory } = preset(e).runtime;
      expect(memory.heapSizeLimit).toBeLessThanOrEqual(memoryToMiB(s.resources.limits.memory)! * HEAP_SHARE_OF_MEMORY_LIMIT);
      expect(memory.gcThreshold).toBeLessThan(memory.heapSizeLimit);
      expect(preset(e).runtime.rateLimit.reserve).toBeGreaterThanOrEqual(1);
    },
  );

  it.each(ENVIRONMENTS)("%s: the pools of every pod at hpa.max fit max_connections less the reserved ones", (e) => {
    const p = preset(e);
    const s = defaults(e);
    const clients = p.services.length * s.pool.max * s.hpa.max;
    expect(clients).toBeLessThanOrEqual(maxConnectionsForClass(p.database.instanceClass)! - p.database.reservedConnections);
  });

  it.each(ENVIRONMENTS)("%s: the parsed preset passes every cross-layer check of the plan", (e) => {
    const failed = crossLayerChecks(parseConfig({ environment: e })).filter((c) => !c.ok);
    expect(failed.map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
  });

  it.each(ENVIRONMENTS)("%s: the seed's services with their ports, each a copy; a peak to size for on AWS only", (e) => {
    const p = preset(e);
    expect(p.environment).toBe(e);
    expect(p.services.map(({ name, port }) => ({ name, port }))).toEqual(SEED_SERVICES.map(({ name, port }) => ({ name, port })));
    p.services.forEach((s, i) => expect(s).not.toBe(SEED_SERVICES[i]));
    for (const s of p.services)
      if (p.platform === "aws") expect(s.targetRps).toBeGreaterThan(0);
      else expect("targetRps" in s).toBe(false);
    expect(p.platform).toBe(e === "local" ? "docker" : "aws");
  });
});

describe("presets: prod >= staging >= dev", () => {
  const pairs = [
    ["dev", "staging"],
    ["staging", "prod"],
  ] as const;

  it.each(pairs)("%s <= %s: CPU and memory, autoscaling range, pools, nodes, peaks, retention, protection", (small, big) => {
    const [a, b] = [defaults(small), defaults(big)];
    for (const kind of ["requests", "limits"] as const) {
      expect(cpuToMillicores(a.resources[kind].cpu)!).toBeLessThanOrEqual(cpuToMillicores(b.resources[kind].cpu)!);
      expect(memoryToMiB(a.resources[kind].memory)!).toBeLessThanOrEqual(memoryToMiB(b.resources[kind].memory)!);
    }
    expect(a.hpa.min).toBeLessThanOrEqual(b.hpa.min);
    expect(a.hpa.max).toBeLessThanOrEqual(b.hpa.max);
    expect(a.pool.max).toBeLessThanOrEqual(b.pool.max);
    const [pa, pb] = [preset(small), preset(big)];
    expect(pa.cluster.nodes.max).toBeLessThanOrEqual(pb.cluster.nodes.max);
    expect(pa.runtime.memory.heapSizeLimit).toBeLessThanOrEqual(pb.runtime.memory.heapSizeLimit);
    expect(pa.database.backupRetentionDays).toBeLessThanOrEqual(pb.database.backupRetentionDays);
    expect(maxConnectionsForClass(pa.database.instanceClass)!).toBeLessThanOrEqual(
      maxConnectionsForClass(pb.database.instanceClass)!,
    );
    pa.services.forEach((s, i) => expect(s.targetRps!).toBeLessThan(pb.services[i]!.targetRps!));
    expect(Number(pa.monitoring.retention.slice(0, -1))).toBeLessThan(Number(pb.monitoring.retention.slice(0, -1)));
    expect(pa.monitoring.replicas).toBeLessThanOrEqual(pb.monitoring.replicas);
  });

  it("only prod protects its database from a destroy", () => {
    expect(AWS.map((e) => preset(e).database.deletionProtection)).toEqual([false, false, true]);
  });
});

describe("presets: the switches, by what each environment is for", () => {
  const at = (e: Environment, path: string): unknown =>
    path.split(".").reduce<unknown>((o, key) => (o as Record<string, unknown>)[key], presetFor(e));
  /** Redundancy, protection and audit: each costs money or stops a destroy. */
  const PROTECTIONS = [
    "network.flowLogs",
    "database.multiAz",
    "database.deletionProtection",
    "redis.multiAz",
    "redis.slowLogs",
    "logs.customerManagedKey",
    "cdn.originShield",
    "loadBalancer.accessLogs",
    "loadBalancer.deletionProtection",
    "monitoring.retainVolumes",
  ];

  it("prod turns every protection on; dev (small and cheap) and local (Docker: none of them exist) none", () => {
    for (const path of PROTECTIONS) expect([path, at("prod", path)]).toEqual([path, true]);
    for (const e of ["dev", "local"] as const)
      for (const path of PROTECTIONS) expect([e, path, at(e, path)]).toEqual([e, path, false]);
  });

  it("staging can be torn down like dev (nothing stops a destroy or outlives it) and fails over like prod", () => {
    for (const path of ["database.deletionProtection", "loadBalancer.deletionProtection", "monitoring.retainVolumes"])
      expect([path, at("staging", path)]).toEqual([path, false]);
    expect(at("staging", "redis.multiAz")).toBe(at("prod", "redis.multiAz"));
    // A protection staging turns on, prod has too.
    for (const path of PROTECTIONS) if (at("staging", path) === true) expect([path, at("prod", path)]).toEqual([path, true]);
  });

  it("every AWS stack serves through the CDN, local has none; secure and opt-in by default everywhere", () => {
    for (const e of ENVIRONMENTS) {
      expect(at(e, "cdn.enabled")).toBe(e !== "local");
      expect(at(e, "cluster.endpointPublicAccess")).toBe(false);
      expect(at(e, "cluster.extendedSupport")).toBe(false);
      expect(at(e, "ci.deploys.enabled")).toBe(false);
      expect(at(e, "tags")).toEqual(defaultTags);
    }
  });
});

describe("deepMerge", () => {
  const leaf = fc.oneof(
    fc.integer(),
    fc.string({ maxLength: 3 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 2 }),
  );
  const tree = fc.letrec((tie) => ({
    node: fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.oneof({ depthSize: "small" }, leaf, tie("node")), { maxKeys: 4 }),
  })).node as fc.Arbitrary<Record<string, unknown>>;

  /** The merge by its definition, read key by key: override's scalars and arrays win, plain objects merge, base keys stay. */
  const check = (base: unknown, override: unknown, merged: unknown): void => {
    if (override === undefined) return expect(merged).toBe(base);
    if (!isPlainObject(base) || !isPlainObject(override)) return expect(merged).toBe(override);
    const out = merged as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual([...new Set([...Object.keys(base), ...Object.keys(override)])].sort());
    for (const key of Object.keys(out)) check(base[key], override[key], out[key]);
  };

  it("override's scalars and arrays replace base's, plain objects merge key by key, base and override unchanged", () => {
    fc.assert(
      fc.property(tree, tree, (base, override) => {
        const [b, o] = [structuredClone(base), structuredClone(override)];
        const merged = deepMerge(base, override);
        check(base, override, merged);
        expect([base, override]).toEqual([b, o]);
        if (Object.keys(override).length > 0 || Object.keys(base).length > 0) expect(merged).not.toBe(base);
      }),
      { numRuns: 60 },
    );
  });

  it("at the edges: undefined keeps base, null and arrays replace, a key set to undefined keeps base's value", () => {
    expect(deepMerge({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(deepMerge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
    expect(deepMerge({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(deepMerge({ a: { b: 1 } }, { a: [3] })).toEqual({ a: [3] });
    expect(deepMerge([1], { a: 1 })).toEqual({ a: 1 });
    expect(deepMerge({ a: 1, b: 2 }, { a: undefined })).toEqual({ a: 1, b: 2 });
    expect(deepMerge({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
  });

  it("isPlainObject: objects yes; arrays, null and scalars no", () => {
    for (const yes of [{}, { a: 1 }, Object.create(null)]) expect(isPlainObject(yes)).toBe(true);
    for (const no of [[], [1], null, undefined, 0, "", "x", true]) expect(isPlainObject(no)).toBe(false);
  });
});
