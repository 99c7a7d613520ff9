import fc from "fast-check";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CapacityFile } from "../../../profile/capacity-file";
import type { CostReport } from "../../../tools/cost/estimate";
import { costOfPlan, instanceVcpus, readCapacityFiles } from "../../../tools/cost/for-profile";
import { podsAtSlo, requestCosts, type ServiceDemand } from "../../../tools/cost/per-request";
import { renderCost } from "../../../tools/cost/render";
import type { CostResource } from "../../../tools/cost/resource-prices";
import { NO_USAGE, testEstimate } from "../../helpers/cost";

/**
 * Dollars per million requests at the SLO: pods from the measured knee, their share of a node by
 * CPU request, the data tier shared by targetRps. Expectations are computed here from the
 * formula's terms; capacity files are fixtures (the real ones come from `npm run capacity`).
 */
const HOURS = 730;

function capacityFixture(service: string, rateRpsPerCore: number): CapacityFile {
  const step = {
    rateRps: rateRpsPerCore,
    achievedRps: rateRpsPerCore,
    p50Ms: 5,
    p95Ms: 40,
    p99Ms: 90,
    errorRate: 0,
    cpuCores: 0.8,
    heapMiB: 80,
    lateSends: 0,
  };
  return {
    service,
    commit: "242bde6",
    measuredAt: "2026-12-06T08:00:00.000Z",
    cpuCores: 1,
    slo: { latencyP99Ms: 500, errorRate: 0.01 },
    knee: {
      rateRpsPerCore,
      cpuMsPerRequest: 1000 / rateRpsPerCore,
      cpuUtilisation: 0.8,
      p50Ms: 5,
      p95Ms: 40,
      p99Ms: 90,
      errorRate: 0,
      heapMiB: 80,
      dbP95Ms: 3,
    },
    steps: [step],
    machine: { cpus: 2, loadAverage: [1, 1, 1], node: "v20.0.0" },
  };
}

const service = (
  name: string,
  targetRps: number | undefined,
  cpu: { request: string; limit: string },
  headroom = 0.3,
): ServiceDemand => ({
  name,
  ...(targetRps !== undefined ? { targetRps } : {}),
  headroom,
  resources: { requests: { cpu: cpu.request, memory: "256Mi" }, limits: { cpu: cpu.limit, memory: "512Mi" } },
});

const PARENT = "urn:pulumi:test::uaip::uaip:aws:Platform::p";
const r = (type: string, name: string, inputs: Record<string, unknown>): CostResource => ({ type, name, parent: PARENT, inputs });
/** A stack: m6i.large nodes (2 vCPUs in vendor/aws/ec2-instance-capacity.json), a Multi-AZ db.r7g.large and a 3-node cache. */
function report(nodeType = "m6i.large", dbClass = "db.r7g.large"): CostReport {
  return testEstimate([
    r("aws:eks/nodeGroup:NodeGroup", "nodes", { instanceTypes: [nodeType], scalingConfig: { minSize: 3, maxSize: 6 } }),
    r("aws:rds/instance:Instance", "db", {
      instanceClass: dbClass,
      multiAz: true,
      allocatedStorage: 100,
      storageType: "gp3",
    }),
    r("aws:elasticache/replicationGroup:ReplicationGroup", "cache", {
      engine: "valkey",
      nodeType: "cache.r7g.large",
      numCacheClusters: 3,
    }),
  ]);
}
const vcpus = instanceVcpus;

describe("pods at the SLO", () => {
  it("ceil(targetRps / (rate per core × min(cpu limit, 1) × (1 − headroom))), on both sides of each boundary", () => {
    // 100 req/s per core, limit 1 core, no headroom: 100 req/s per pod.
    expect(podsAtSlo(300, 100, 1, 0).pods).toBe(3);
    expect(podsAtSlo(300.0001, 100, 1, 0).pods).toBe(4);
    expect(podsAtSlo(299.9999, 100, 1, 0).pods).toBe(3);
    // A limit above one core buys nothing (one event loop); below one core it scales down.
    expect(podsAtSlo(300, 100, 2, 0).perPodRps).toBe(100);
    expect(podsAtSlo(300, 100, 0.5, 0).perPodRps).toBe(50);
    expect(podsAtSlo(300, 100, 0.5, 0).pods).toBe(6);
    // Headroom keeps capacity spare: 30% headroom -> 70 req/s per pod.
    expect(podsAtSlo(700, 100, 1, 0.3).pods).toBe(10);
    expect(podsAtSlo(701, 100, 1, 0.3).pods).toBe(11);
  });

  it("always enough pods, and never one too many", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        fc.double({ min: 1, max: 1e4, noNaN: true }),
        fc.double({ min: 0.05, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        (target, rate, limit, headroom) => {
          const { pods, perPodRps } = podsAtSlo(target, rate, limit, headroom);
          expect(pods * perPodRps).toBeGreaterThanOrEqual(target * (1 - 1e-12));
          expect((pods - 1) * perPodRps).toBeLessThan(target);
        },
      ),
    );
  });
});

describe("dollars per million requests", () => {
  const cap = new Map([
    ["api", capacityFixture("api", 200)],
    ["worker", capacityFixture("worker", 50)],
  ]);

  it("compute: the pods' share of nodes by CPU request; data tier: shared by targetRps; per million requests at targetRps all month", () => {
    const rep = report();
    const services = [
      service("api", 300, { request: "500m", limit: "1" }),
      service("worker", 100, { request: "250m", limit: "500m" }, 0),
    ];
    const [api, worker] = requestCosts({ report: rep, services, capacity: cap, vcpus });
    const node = 0.096; // m6i.large $/h (karpenter's table), 2 vCPUs
    const dataTier = 2 * 0.239 * HOURS + 200 * 0.115 + 3 * 0.1752 * HOURS; // Multi-AZ db.r7g.large + gp3 + 3 Valkey r7g.large nodes
    const perMonth = (rps: number) => rps * 3600 * HOURS;

    // api: 200 req/s/core × 1 × 0.7 = 140 req/s per pod -> 3 pods; 0.5 of a 2-vCPU node each.
    expect(api!.pods).toBe(3);
    expect(api!.usdPerMillion.compute).toBeCloseTo(((3 * (0.5 / 2) * node * HOURS) / perMonth(300)) * 1e6, 9);
    expect(api!.usdPerMillion.dataTier).toBeCloseTo(((dataTier * 0.75) / perMonth(300)) * 1e6, 9);
    // worker: 50 × 0.5 × 1 = 25 req/s per pod -> 4 pods of 0.25 CPU.
    expect(worker!.pods).toBe(4);
    expect(worker!.usdPerMillion.compute).toBeCloseTo(((4 * (0.25 / 2) * node * HOURS) / perMonth(100)) * 1e6, 9);
    expect(worker!.dataTierShare! + api!.dataTierShare!).toBeCloseTo(1, 12);
    expect(api!.usdPerMillion.total).toBeCloseTo(api!.usdPerMillion.compute! + api!.usdPerMillion.dataTier!, 12);
    expect(api!.missing).toEqual([]);
  });

  it("names what it cannot price: no capacity file, a node type without vCPUs, an unpriced data tier; a service without targetRps is left out", () => {
    const rep = report("t3.medium", "db.m7g.large");
    const services = [
      service("api", 300, { request: "500m", limit: "1" }),
      service("none", undefined, { request: "1", limit: "1" }),
      service("ghost", 10, { request: "1", limit: "1" }),
    ];
    // A node type the vendored catalog does not know.
    const costs = requestCosts({
      report: rep,
      services,
      capacity: cap,
      vcpus: (t) => (t === "t3.medium" ? undefined : vcpus(t)),
    });
    expect(costs.map((c) => c.service)).toEqual(["api", "ghost"]);
    expect(costs[0]!.usdPerMillion.compute).toBeUndefined();
    expect(costs[0]!.usdPerMillion.total).toBeUndefined();
    expect(costs[0]!.missing.join("\n")).toContain("no vCPU count for t3.medium");
    expect(costs[1]!.missing.join("\n")).toContain("no capacity/ghost.json (run npm run capacity)");
    expect(costs[0]!.missing.join("\n")).toContain("data tier: unpriced, counted as $0: rds.postgres.db.m7g.large");
    // The data tier is still reported.
    expect(costs[0]!.usdPerMillion.dataTier).toBeGreaterThan(0);
  });
});

describe("what cannot be priced is named", () => {
  const cap = new Map([["api", capacityFixture("api", 200)]]);
  it("an unpriced node type, a CPU that is not a quantity", () => {
    const [unpriced] = requestCosts({
      report: report("x2idn.metal"),
      services: [service("api", 300, { request: "500m", limit: "1" })],
      capacity: cap,
      vcpus,
    });
    expect(unpriced!.missing).toContain("compute: the node type is unpriced (ec2.instance.x2idn.metal)");
    expect(unpriced!.pods).toBe(3);
    const [bad] = requestCosts({
      report: report(),
      services: [service("api", 300, { request: "lots", limit: "1" })],
      capacity: cap,
      vcpus,
    });
    expect(bad!.missing).toEqual(["resources.cpu of api is not a CPU quantity"]);
    expect(bad!.pods).toBeUndefined();
  });
});

describe("the data tier", () => {
  it("is the database, proxy and cache lines (node-based or serverless), and nothing else", () => {
    const rep = testEstimate(
      [
        r("aws:eks/nodeGroup:NodeGroup", "nodes", { instanceTypes: ["m6i.large"], scalingConfig: { minSize: 1, maxSize: 1 } }),
        r("aws:ec2/natGateway:NatGateway", "nat", {}),
        r("aws:rds/instance:Instance", "db", {
          instanceClass: "db.t4g.micro",
          multiAz: false,
          allocatedStorage: 20,
          storageType: "gp3",
        }),
        r("aws:rds/proxy:Proxy", "proxy", {}),
        r("aws:elasticache/replicationGroup:ReplicationGroup", "rg", { nodeType: "cache.t4g.micro" }),
        r("aws:elasticache/serverlessCache:ServerlessCache", "sc", { engine: "valkey" }),
      ],
      { assumptions: { ...NO_USAGE, requestsPerMonth: 1e6, cacheEcpuPerRequest: 1 } },
    );
    const expected = ["db", "proxy", "rg", "sc"]
      .flatMap((n) => rep.lines.filter((l) => l.resource === n))
      .reduce((sum, l) => sum + l.fixedMonthly + l.usageMonthly, 0);
    expect(rep.lines.some((l) => l.resource === "proxy")).toBe(true);
    const [only] = requestCosts({
      report: rep,
      services: [service("api", 10, { request: "1", limit: "1" })],
      capacity: new Map(),
      vcpus,
    });
    expect(only!.dataTierMonthly).toBeCloseTo(expected, 9);
    expect(only!.dataTierShare).toBe(1);
  });
});

describe("capacity files and the plan's --cost output", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "uaip-capacity-"));
    mkdirSync(join(root, "capacity"));
    writeFileSync(join(root, "capacity", "api.json"), JSON.stringify(capacityFixture("api", 200)));
    writeFileSync(
      join(root, "capacity", "bad.json"),
      JSON.stringify({ ...capacityFixture("bad", 10), knee: { rateRpsPerCore: -1 } }),
    );
    writeFileSync(join(root, "capacity", "broken.json"), "{ not json");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("parses through the shared schema, and names a file that does not parse or is not JSON", () => {
    const { files, errors } = readCapacityFiles(["api", "bad", "broken", "absent"], root);
    expect([...files.keys()]).toEqual(["api"]);
    expect(errors.get("bad")).toMatch(/^capacity\/bad.json does not match profile\/capacity-file.ts: .*knee/);
    expect(errors.get("broken")).toMatch(/^capacity\/broken.json is not JSON/);
    expect(errors.has("absent")).toBe(false);
  });

  it("costOfPlan carries the figures (plan --json) and renderCost prints them (plan --cost)", () => {
    const resources = [
      r("aws:eks/nodeGroup:NodeGroup", "nodes", { instanceTypes: ["m6i.large"], scalingConfig: { minSize: 3, maxSize: 6 } }),
      r("aws:rds/instance:Instance", "db", {
        instanceClass: "db.r7g.large",
        multiAz: true,
        allocatedStorage: 100,
        storageType: "gp3",
      }),
    ];
    const profile = {
      cost: { assumptions: NO_USAGE },
      services: [
        { ...service("api", 300, { request: "500m", limit: "1" }) },
        { ...service("bad", 10, { request: "1", limit: "1" }) },
      ],
    } as unknown as Parameters<typeof costOfPlan>[0]["profile"];
    const cost = costOfPlan({ stack: "t", region: "us-east-1", profile, resources, today: "2026-12-06", capacityRoot: root });
    expect(cost.perRequest!.map((c) => c.service)).toEqual(["api", "bad"]);
    const text = renderCost(cost);
    const api = cost.perRequest![0]!;
    expect(text).toContain("dollars per million requests at the SLO");
    expect(text).toContain(
      `api                          300 req/s: 3 pod(s) at 140 req/s each on m6i.large (2 vCPUs); compute $${api.usdPerMillion.compute!.toFixed(4)}`,
    );
    expect(text).toContain("capacity/bad.json does not match profile/capacity-file.ts");
    // No targetRps anywhere: no section.
    const none = costOfPlan({
      stack: "t",
      region: "us-east-1",
      profile: { ...profile, services: [] },
      resources,
      today: "2026-12-06",
      capacityRoot: root,
    });
    expect(none.perRequest).toBeUndefined();
    expect(renderCost(none)).not.toContain("dollars per million");
  });
});
