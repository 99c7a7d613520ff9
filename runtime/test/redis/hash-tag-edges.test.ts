/**
 * Hash tags and cluster error reasons (issue #22), with expectations from outside the code under test: the
 * slot of a key is computed by cluster-key-slot (the library ioredis routes with, which implements the
 * cluster specification's CRC16 and tag rule), and the error reasons from the replies' documented prefixes.
 */
import { createRequire } from "node:module";
import fc from "fast-check";
import { Registry } from "prom-client";
import { CLUSTER_ERROR_REASONS, ClusterErrorReporter, clusterErrorReason } from "../../src/redis/cluster-errors";
import { groupBySlot, hashTag, slotKey } from "../../src/redis/hash-tag";
import { LABEL, METRIC } from "../../src/metrics/names";

// ioredis's slot function (the cluster specification's CRC16 and hash-tag rule); it ships no type declarations.
const calculateSlot = createRequire(__filename)("cluster-key-slot") as (key: string) => number;

const keyText = fc.array(fc.constantFrom("{", "}", "a", "b", ":", "é"), { maxLength: 8 }).map((a) => a.join(""));

describe("hashTag", () => {
  it("hashes to the key's own slot (property; oracle: cluster-key-slot)", () => {
    fc.assert(
      fc.property(keyText, (key) => {
        expect(calculateSlot(hashTag(key))).toBe(calculateSlot(key));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ["{a}b", "a"],
    ["x{a}b{c}", "a"],
    ["{}a", "{}a"],
    ["{}{a}", "{}{a}"],
    ["{{a}}", "{a"],
    ["a{b", "a{b"],
    ["a}b{c}", "c"],
    ["plain", "plain"],
    ["{", "{"],
  ])("%j -> %j", (key, tag) => {
    expect(hashTag(key)).toBe(tag);
  });

  it("slotKey puts a client's key and every key suffixed from it in the slot of prefix + key (property)", () => {
    const prefix = fc.string({ minLength: 1, maxLength: 6 }).filter((x) => !/[{}]/.test(x));
    const key = fc.string({ maxLength: 6 }).filter((x) => !x.includes("}"));
    fc.assert(
      fc.property(prefix, key, fc.string({ maxLength: 4 }), (p, k, suffix) => {
        expect(calculateSlot(`${slotKey(p, k)}${suffix}`)).toBe(calculateSlot(`${p}${k}`));
      }),
    );
    expect(slotKey("svc:", "u1")).toBe("{svc:u1}");
  });
});

describe("groupBySlot", () => {
  it("cluster: each part in one slot, parts in different hash tags, every item once, order kept (property)", () => {
    fc.assert(
      fc.property(fc.array(keyText, { maxLength: 12 }), (keys) => {
        const parts = groupBySlot(true, keys, (k) => k);
        expect(parts.flat().sort()).toEqual([...keys].sort());
        for (const part of parts) {
          expect(new Set(part.map((k) => calculateSlot(k))).size).toBe(1);
          expect(part).toEqual(keys.filter((k) => part.includes(k) && hashTag(k) === hashTag(part[0])));
        }
        expect(new Set(parts.map((p) => hashTag(p[0]))).size).toBe(parts.length);
        expect(parts.every((p) => p.length > 0)).toBe(true);
      }),
    );
  });

  it("standalone: one part with everything in order; no part at all for no items", () => {
    expect(groupBySlot(false, ["{a}1", "b", "{a}2"], (k) => k)).toEqual([["{a}1", "b", "{a}2"]]);
    expect(groupBySlot(false, [], (k: string) => k)).toEqual([]);
    expect(groupBySlot(true, [], (k: string) => k)).toEqual([]);
  });
});

describe("clusterErrorReason", () => {
  it.each([
    ["CROSSSLOT Keys in request don't hash to the same slot", "CROSSSLOT"],
    ["MOVED 3999 127.0.0.1:6381", "MOVED"],
    ["ASK 3999 127.0.0.1:6381", "ASK"],
    ["CLUSTERDOWN The cluster is down", "CLUSTERDOWN"],
    ["TRYAGAIN Multiple keys request during rehashing of slot", "TRYAGAIN"],
    ["Too many Cluster redirections. Last error: MOVED 1 x", "REDIRECTIONS"],
    ["MOVEDX 1", undefined],
    [" MOVED 1", undefined],
    ["ERR unknown command", undefined],
    ["Command timed out", undefined],
  ])("%j -> %s", (message, reason) => {
    expect(clusterErrorReason(new Error(message))).toBe(reason);
  });

  it("looks through causes, up to 5 errors deep, and never throws on odd values", () => {
    const chain = (depth: number): unknown => {
      let e: unknown = new Error("MOVED 1 x");
      for (let i = 1; i < depth; i++) e = new Error("wrapped", { cause: e });
      return e;
    };
    expect(clusterErrorReason(chain(5))).toBe("MOVED");
    expect(clusterErrorReason(chain(6))).toBeUndefined();
    for (const odd of [undefined, null, 42, "MOVED 1 x", { message: 5 }, { cause: null }]) {
      expect(clusterErrorReason(odd)).toBeUndefined();
    }
    expect(clusterErrorReason({ message: "x", cause: { message: "CLUSTERDOWN" } })).toBe("CLUSTERDOWN");
  });
});

describe("ClusterErrorReporter", () => {
  afterEach(() => jest.restoreAllMocks());

  it("counts every cluster error by reason and operation, logs at most once per 10 s per pair, and ignores the rest", async () => {
    let now = 1_000_000;
    jest.spyOn(Date, "now").mockImplementation(() => now);
    const registry = new Registry();
    const warnings: string[] = [];
    const r = new ClusterErrorReporter(registry, (m) => warnings.push(m));
    expect(r.report(new Error("MOVED 1 x"), "get")).toBe("MOVED");
    now += 9_999;
    expect(r.report(new Error("MOVED 1 x"), "get")).toBe("MOVED");
    expect(warnings).toHaveLength(1);
    r.report(new Error("MOVED 1 x"), "set"); // another operation: its own line
    r.report(new Error("ASK 1 x"), "get"); // another reason: its own line
    expect(warnings).toHaveLength(3);
    now += 1;
    r.report(new Error("MOVED 1 x"), "get");
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toContain("MOVED");
    expect(warnings[0]).toContain("get");
    expect(r.report(new Error("ECONNREFUSED"), "get")).toBeUndefined();
    expect(warnings).toHaveLength(4);
    const values = (await registry.getSingleMetric(METRIC.redisClusterErrorsTotal)!.get()).values;
    const count = (reason: string, operation: string) =>
      values.find((v) => v.labels[LABEL.reason] === reason && v.labels[LABEL.operation] === operation)?.value;
    expect([count("MOVED", "get"), count("MOVED", "set"), count("ASK", "get")]).toEqual([3, 1, 1]);
    expect(values.reduce((n, v) => n + v.value, 0)).toBe(5);
    // A second reporter on the registry shares the counter.
    new ClusterErrorReporter(registry, () => undefined).report(new Error("TRYAGAIN x"), "get");
    expect(CLUSTER_ERROR_REASONS).toContain("TRYAGAIN");
    const after = (await registry.getSingleMetric(METRIC.redisClusterErrorsTotal)!.get()).values;
    expect(after.find((v) => v.labels[LABEL.reason] === "TRYAGAIN")?.value).toBe(1);
  });

  it("without a registry it still logs, and by default as a process warning with its code", () => {
    const emitted: unknown[] = [];
    jest.spyOn(process, "emitWarning").mockImplementation((...args: unknown[]) => void emitted.push(args));
    new ClusterErrorReporter().report(new Error("CLUSTERDOWN x"), "ratelimit");
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toEqual([expect.stringContaining("CLUSTERDOWN"), { code: "UAIP_REDIS_CLUSTER_ERROR" }]);
  });
});
