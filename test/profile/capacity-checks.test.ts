import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import ec2Capacity from "../../vendor/aws/ec2-instance-capacity.json";
import { capacityFileSchema, type CapacityFile } from "../../profile/capacity-file";
import { capacityChecks, type CapacityInputs } from "../../profile/capacity-checks";
import { crossLayerChecks } from "../../profile/checks";
import { parseConfig } from "../../profile/parse";
import { awsSystemPods } from "../../profile/system-pods";
import { cpuToCores, memoryToMiB } from "../../profile/quantity";
import { podShapes } from "../helpers/pod-shapes";

const FIXTURES = join(__dirname, "..", "fixtures", "capacity");
/** The fixture: 200 req/s per core, 4 ms of CPU per request, 10 ms p95 holding a connection. */
const FIXTURE: CapacityFile = capacityFileSchema.parse(
  JSON.parse(readFileSync(join(FIXTURES, "agent-intelligence.json"), "utf8")),
);

/** One service "a" with these fields over the dev preset, and its capacity file (the fixture unless given). */
function oneService(
  service: Record<string, unknown>,
  knee: Partial<CapacityFile["knee"]> = {},
  extra: Record<string, unknown> = {},
) {
  const p = parseConfig({ environment: "dev", services: [{ name: "a", port: 3001, ...service }], ...extra });
  const file = { ...FIXTURE, service: "a", knee: { ...FIXTURE.knee, ...knee } };
  const inputs: CapacityInputs = new Map([["a", { path: "capacity/a.json", state: "ok", file }]]);
  return { p, checks: capacityChecks(p, inputs) };
}
const named = <T extends { name: string }>(checks: T[], prefix: string): T => checks.find((c) => c.name.startsWith(prefix))!;
const resources = (cpuLimit: string, cpuRequest = "100m") => ({
  requests: { cpu: cpuRequest, memory: "256Mi" },
  limits: { cpu: cpuLimit, memory: "512Mi" },
});

describe("throughput: hpa.max × knee per core × min(limits.cpu, 1 core) × (1 − headroom) ≥ targetRps", () => {
  // 4 pods × 200 req/s × (1 − 0.25) = 600 req/s, by hand.
  it.each([
    [600, true],
    [601, false],
  ])("targetRps %i against 600 req/s -> ok=%s, naming every term and the fix", (targetRps, ok) => {
    const { checks } = oneService({ resources: resources("1"), hpa: { min: 1, max: 4 }, headroom: 0.25, targetRps });
    const c = named(checks, "throughput:a");
    expect(c.ok).toBe(ok);
    expect(c.detail).toContain(
      `services[0] hpa.max 4 × capacity per pod 200 req/s (capacity/a.json: knee 200 req/s per core × min(resources.limits.cpu 1, 1 core per event loop)) × (1 − headroom 0.25) = 600 req/s ${ok ? ">=" : "<"} targetRps ${targetRps}`,
    );
    if (!ok) expect(c.detail).toContain("raise hpa.max to 5 (the smallest that serves targetRps)");
  });

  it.each([
    ["500m", 100], // a pod limited to half a core serves half the knee
    ["1", 200],
    ["2", 200], // one event loop: a second core does not double it
  ])("limits.cpu %s -> %i req/s per pod", (limit, perPod) => {
    const { checks } = oneService({ resources: resources(limit), hpa: { min: 1, max: 1 }, headroom: 0, targetRps: perPod });
    expect(named(checks, "throughput:a").ok).toBe(true);
    const over = oneService({ resources: resources(limit), hpa: { min: 1, max: 1 }, headroom: 0, targetRps: perPod + 1 });
    expect(named(over.checks, "throughput:a").ok).toBe(false);
  });

  it("property: ok exactly when hpa.max × rate × min(limit, 1) × (1 − headroom) ≥ targetRps; the suggested hpa.max passes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 100, max: 4000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 18 }),
        fc.integer({ min: 1, max: 100_000 }),
        (rate, limitMillicores, hpaMax, headroomTwentieths, targetRps) => {
          const headroom = headroomTwentieths / 20;
          const service = {
            resources: resources(`${limitMillicores}m`, "100m"),
            hpa: { min: 1, max: hpaMax },
            headroom,
            targetRps,
          };
          const c = named(oneService(service, { rateRpsPerCore: rate }).checks, "throughput:a");
          const serves = hpaMax * rate * (Math.min(limitMillicores, 1000) / 1000) * (1 - headroom);
          expect(c.ok).toBe(serves >= targetRps);
          const suggested = /raise hpa\.max to (\d+)/.exec(c.detail)?.[1];
          if (suggested) {
            const fixed = oneService({ ...service, hpa: { min: 1, max: Number(suggested) } }, { rateRpsPerCore: rate });
            expect(named(fixed.checks, "throughput:a").ok).toBe(true);
            const one = Number(suggested) - 1;
            if (one >= 1)
              expect(
                named(oneService({ ...service, hpa: { min: 1, max: one } }, { rateRpsPerCore: rate }).checks, "throughput:a").ok,
              ).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("the HPA's CPU target triggers before the knee", () => {
  // At the knee a 1-core pod serves 200 req/s × 4 ms = 0.8 core: 80% of a 1-core request, 100% of 800m.
  it.each([
    ["1", 79, true],
    ["1", 80, false],
    ["800m", 99, true],
    ["800m", 100, false],
  ])("requests.cpu %s, cpuTarget %i -> ok=%s", (request, cpuTarget, ok) => {
    const { checks } = oneService({ resources: resources("1", request), hpa: { min: 1, max: 3, cpuTarget } });
    const c = named(checks, "hpa-target-vs-knee:a");
    expect(c.ok).toBe(ok);
    const percent = (0.8 / cpuToCores(request)!) * 100;
    expect(c.detail).toContain(`hpa.cpuTarget ${cpuTarget}% ${ok ? "<" : ">="} the pod's CPU at the knee ${percent}%`);
    if (!ok) expect(c.detail).toContain(`lower hpa.cpuTarget below ${percent}`);
  });
});

describe("Little's law: pool.max ≥ rate per pod × knee.dbP95Ms / 1000", () => {
  it.each([
    [10, 2, true], // 200 req/s × 10 ms = 2 connections busy
    [10, 1, false],
    [12.5, 3, true], // 2.5 busy: 3 holds it
    [12.5, 2, false],
  ])("dbP95Ms %d, pool.max %i -> ok=%s", (dbP95Ms, poolMax, ok) => {
    const { checks } = oneService({ resources: resources("1"), pool: { min: 1, max: poolMax } }, { dbP95Ms });
    const c = named(checks, "pool-vs-littles-law:a");
    expect(c.ok).toBe(ok);
    if (!ok) expect(c.detail).toContain(`raise pool.max to ${Math.ceil((200 * dbP95Ms) / 1000)}`);
  });

  // Only requests that take a connection hold one: a mix of 1 write in 5 at 200 req/s and 10 ms keeps
  // 200 × 0.2 × 10 / 1000 = 0.4 busy; on either side of a whole connection the pool size decides.
  it.each([
    [0.2, 10, 1, true], // 0.4 busy
    [0.5, 10, 1, true], // exactly 1 busy: pool.max 1 holds it
    [0.5, 10.1, 1, false], // 1.01 busy
    [1.5, 10, 3, true], // 3 busy (a request that checks out twice)
    [1.5, 10, 2, false],
  ])("dbHoldsPerRequest %d, dbP95Ms %d, pool.max %i -> ok=%s", (dbHoldsPerRequest, dbP95Ms, poolMax, ok) => {
    const { checks } = oneService({ resources: resources("1"), pool: { min: 1, max: poolMax } }, { dbP95Ms, dbHoldsPerRequest });
    const c = named(checks, "pool-vs-littles-law:a");
    expect(c.ok).toBe(ok);
    expect(c.detail).toContain(`× ${dbHoldsPerRequest} connection checkouts per request (knee.dbHoldsPerRequest)`);
    if (!ok) expect(c.detail).toContain(`raise pool.max to ${Math.ceil((200 * dbHoldsPerRequest * dbP95Ms) / 1000)}`);
  });

  it("a file without dbHoldsPerRequest counts every request as holding a connection, and says so", () => {
    const c = named(
      oneService({ resources: resources("1"), pool: { min: 1, max: 2 } }, { dbP95Ms: 10 }).checks,
      "pool-vs-littles-law:a",
    );
    expect(c).toMatchObject({ ok: true, detail: expect.stringContaining("not measured: 1 assumed") });
  });

  it("a route that holds no connection passes, saying so", () => {
    const c = named(oneService({ resources: resources("1") }, { dbP95Ms: null }).checks, "pool-vs-littles-law:a");
    expect(c).toMatchObject({ ok: true, detail: expect.stringContaining("holds no database connection") });
  });
});

describe("capacity files that cannot be used are warnings or failures, never a silent pass", () => {
  const profile = (targetRps?: number) =>
    parseConfig({ environment: "dev", services: [{ name: "a", port: 3001, ...(targetRps ? { targetRps } : {}) }] });
  it("missing with a targetRps: a warning that names the file and the command; without one: nothing to check", () => {
    const missing: CapacityInputs = new Map([["a", { path: "capacity/a.json", state: "missing" }]]);
    expect(capacityChecks(profile(100), missing).find((c) => c.name === "capacity-file:a")).toEqual({
      name: "capacity-file:a",
      ok: true,
      warning: true,
      detail: expect.stringContaining("capacity/a.json is missing: targetRps 100 is not checked"),
    });
    expect(capacityChecks(profile(), missing).filter((c) => c.name.endsWith(":a"))).toEqual([]);
  });

  it("stale: a warning, and the checks still run on its numbers", () => {
    const stale: CapacityInputs = new Map([
      ["a", { path: "capacity/a.json", state: "ok", file: { ...FIXTURE, service: "a" }, stale: "older than the code" }],
    ]);
    const checks = capacityChecks(profile(100), stale);
    expect(checks.find((c) => c.name === "capacity-file:a")).toMatchObject({
      ok: true,
      warning: true,
      detail: expect.stringContaining("older than the code"),
    });
    expect(checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(["throughput:a", "hpa-target-vs-knee:a", "pool-vs-littles-law:a"]),
    );
  });

  it("invalid: a failure listing every problem", () => {
    const invalid: CapacityInputs = new Map([
      ["a", { path: "capacity/a.json", state: "invalid", problems: ["knee.rateRpsPerCore: x", "commit: y"] }],
    ]);
    const c = capacityChecks(profile(), invalid).find((x) => x.name === "capacity-file:a")!;
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("knee.rateRpsPerCore: x; commit: y");
    expect(() => crossLayerChecks(profile(), undefined, invalid)).not.toThrow();
  });
});

describe("node group: nodes.max × allocatable holds every pod at hpa.max with the surge, plus the system pods", () => {
  type Alloc = { allocatableCpuMillicores: number; allocatableMemoryMiB: number; maxPods: number };
  const table = ec2Capacity.instanceTypes as Record<string, Alloc>;
  /** The system pods' demand on n nodes, summed here from the table (DaemonSets once per node). */
  function systemDemand(nodes: number, monitoringReplicas = 1) {
    const pods = awsSystemPods(monitoringReplicas);
    const count = (s: (typeof pods)[number]) => (s.kind === "DaemonSet" ? nodes : s.replicas);
    return {
      cpu: pods.reduce((n, s) => n + count(s) * Math.round(cpuToCores(s.requests.cpu)! * 1000), 0),
      memory: pods.reduce((n, s) => n + count(s) * Math.ceil(memoryToMiB(s.requests.memory)!), 0),
      pods: pods.reduce((n, s) => n + count(s), 0),
    };
  }
  const tiny = { requests: { cpu: "1m", memory: "1Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
  const fit = (services: Record<string, unknown>[], nodesMax: number, instanceType = "m6i.large") => {
    const p = parseConfig({
      environment: "dev",
      services: services.map((s, i) => ({ name: `s${i}`, port: 3001 + i, pool: { min: 1, max: 1 }, ...s })),
      cluster: { instanceTypes: [instanceType], nodes: { min: 1, desired: 1, max: nodesMax } },
    });
    return capacityChecks(p, new Map()).find((c) => c.name === "node-group-fit")!;
  };

  it("one pod either side of the pod slots: 2 × m6i.large (29 pods each)", () => {
    const free = 2 * table["m6i.large"].maxPods - systemDemand(2).pods;
    // hpa.max 26 -> 26 + ⌈6.5⌉ = 33 pods, hpa.max 27 -> 34; the second service adds 1 + 1 = 2.
    expect(free).toBe(35);
    expect(
      fit(
        [
          { resources: tiny, hpa: { min: 1, max: 26 } },
          { resources: tiny, hpa: { min: 1, max: 1 } },
        ],
        2,
      ).ok,
    ).toBe(true);
    const short = fit(
      [
        { resources: tiny, hpa: { min: 1, max: 27 } },
        { resources: tiny, hpa: { min: 1, max: 1 } },
      ],
      2,
    );
    expect(short.ok).toBe(false);
    expect(short.detail).toContain(`short: pods ${systemDemand(2).pods + 36} > 58`);
    expect(short.detail).toContain("raise cluster.nodes.max to 3");
  });

  it("one millicore per pod either side of the CPU: 5 pods (hpa.max 4 + surge) on 2 × m6i.large", () => {
    const free = 2 * table["m6i.large"].allocatableCpuMillicores - systemDemand(2).cpu;
    expect(free % 5).toBe(0);
    const perPod = free / 5;
    const svc = (cpu: number) => ({
      resources: { requests: { cpu: `${cpu}m`, memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      hpa: { min: 1, max: 4 },
    });
    expect(fit([svc(perPod)], 2).ok).toBe(true);
    const over = fit([svc(perPod + 1)], 2);
    expect(over.ok).toBe(false);
    expect(over.detail).toContain(`short: CPU ${systemDemand(2).cpu + 5 * (perPod + 1)}m > ${2 * 1930}m`);
  });

  it("an instance type without allocatable data is a warning naming the table, never a silent pass", () => {
    const c = fit([{ resources: tiny, hpa: { min: 1, max: 1 } }], 2, "f1.2xlarge");
    expect(c).toMatchObject({
      ok: true,
      warning: true,
      detail: expect.stringContaining("cluster.instanceTypes f1.2xlarge: no allocatable CPU, memory and pods known"),
    });
    expect(c.detail).toContain("vendor/aws/ec2-instance-capacity.json");
  });

  it("the docker platform has no node group to check", () => {
    const p = parseConfig({ environment: "local" });
    expect(capacityChecks(p, new Map()).map((c) => c.name)).not.toContain("node-group-fit");
  });

  it("a pod larger than one node is refused even when the sum fits", () => {
    const big = {
      resources: { requests: { cpu: "2", memory: "64Mi" }, limits: { cpu: "2", memory: "512Mi" } },
      hpa: { min: 1, max: 1 },
    };
    const c = fit([big], 12);
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("larger than one node: s0 2 pods (hpa.max 1 + surge) requests 2000m, 64 MiB each");
  });

  it("property: ok exactly when every dimension's Σ fits nodes.max × allocatable (and no pod outgrows a node); the suggested nodes.max fits", () => {
    const types = ["t3.medium", "m6i.large", "m6i.xlarge", "c6i.2xlarge"];
    fc.assert(
      fc.property(podShapes(12), fc.integer({ min: 1, max: 15 }), fc.constantFrom(...types), (shapes, nodesMax, type) => {
        const services = shapes.map((s) => ({
          resources: { requests: { cpu: `${s.cpu}m`, memory: `${s.memory}Mi` }, limits: { cpu: "2", memory: "4Gi" } },
          hpa: { min: 1, max: s.hpaMax },
        }));
        const a = table[type];
        const pods = (h: number) => h + Math.ceil(h / 4);
        const sys = systemDemand(nodesMax);
        const cpu = sys.cpu + shapes.reduce((n, s) => n + pods(s.hpaMax) * s.cpu, 0);
        const memory = sys.memory + shapes.reduce((n, s) => n + pods(s.hpaMax) * s.memory, 0);
        const count = sys.pods + shapes.reduce((n, s) => n + pods(s.hpaMax), 0);
        const fitsOne = shapes.every((s) => s.cpu <= a.allocatableCpuMillicores && s.memory <= a.allocatableMemoryMiB);
        const expected =
          fitsOne &&
          cpu <= nodesMax * a.allocatableCpuMillicores &&
          memory <= nodesMax * a.allocatableMemoryMiB &&
          count <= nodesMax * a.maxPods;
        const c = fit(services, nodesMax, type);
        expect(c.ok).toBe(expected);
        const suggested = /raise cluster\.nodes\.max to (\d+)/.exec(c.detail)?.[1];
        if (suggested && Number(suggested) <= 200) expect(fit(services, Number(suggested), type).ok).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe("the presets' targetRps against the committed capacity files (capacity/<service>.json)", () => {
  const capacityOf = (service: string): CapacityFile =>
    capacityFileSchema.parse(JSON.parse(readFileSync(join(__dirname, "..", "..", "capacity", `${service}.json`), "utf8")));

  it.each(["dev", "staging", "prod"] as const)(
    "%s: every service sets one, it passes the plan's throughput check, and it is a plausible peak (60-70 %% of what hpa.max serves)",
    (environment) => {
      const p = parseConfig({ environment });
      const inputs: CapacityInputs = new Map(
        p.services.map((s) => [s.name, { path: `capacity/${s.name}.json`, state: "ok" as const, file: capacityOf(s.name) }]),
      );
      const checks = capacityChecks(p, inputs);
      for (const s of p.services) {
        expect(s.targetRps).toBeDefined();
        // Written out here, not read from the check: hpa.max × knee × min(limit, 1 core) × (1 − headroom).
        const serves =
          s.hpa.max *
          capacityOf(s.name).knee.rateRpsPerCore *
          Math.min(cpuToCores(s.resources.limits.cpu)!, 1) *
          (1 - s.headroom);
        const share = s.targetRps! / serves;
        expect({ service: s.name, share: share >= 0.6 && share <= 0.7 }).toEqual({ service: s.name, share: true });
        expect(named(checks, `throughput:${s.name}`).ok).toBe(true);
      }
    },
  );

  it("local sets none (no autoscaler, nothing billed)", () => {
    expect(parseConfig({ environment: "local" }).services.map((s) => s.targetRps)).toEqual([undefined, undefined, undefined]);
  });
});
