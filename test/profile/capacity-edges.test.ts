/**
 * The capacity checks' and node fit's edges that the mutation run of profile/capacity-checks.ts and node-fit.ts
 * found untested (issue #22): what the node-group check prints on each side of a dimension's limit, DaemonSets
 * that fill a node by themselves, a pod that requests only CPU, the capacity file's own warnings, the suggested
 * fix for a pod limited below one core, and capacitySummary (the plan diff's numbers). Expectations are sums
 * written out here from the vendored allocatable table.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import ec2Capacity from "../../vendor/aws/ec2-instance-capacity.json";
import { capacityFileSchema, type CapacityFile } from "../../profile/capacity-file";
import { capacityChecks, capacitySummary, type CapacityInputs } from "../../profile/capacity-checks";
import { nodeFit, type NodeFit } from "../../profile/node-fit";
import { parseConfig } from "../../profile/parse";
import { cpuToCores, memoryToMiB } from "../../profile/quantity";
import { awsSystemPods, type SystemPod } from "../../profile/system-pods";

type Alloc = { allocatableCpuMillicores: number; allocatableMemoryMiB: number; maxPods: number };
const table = ec2Capacity.instanceTypes as Record<string, Alloc>;
/** The fixture: 200 req/s per core, 4 ms of CPU per request, 10 ms p95 holding a connection. */
const FIXTURE: CapacityFile = capacityFileSchema.parse(
  JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "capacity", "agent-intelligence.json"), "utf8")),
);
/** hpa.max + Kubernetes's 25 % surge, rounded up. */
const pods = (hpaMax: number) => hpaMax + Math.ceil(hpaMax / 4);

const profileWith = (services: Record<string, unknown>[], nodesMax = 2, instanceType = "m6i.large") =>
  parseConfig({
    environment: "dev",
    services: services.map((s, i) => ({ name: `s${i}`, port: 3001 + i, pool: { min: 1, max: 1 }, ...s })),
    cluster: { instanceTypes: [instanceType], nodes: { min: 1, desired: 1, max: nodesMax } },
  });
const nodeCheck = (services: Record<string, unknown>[], nodesMax = 2) =>
  capacityChecks(profileWith(services, nodesMax), new Map()).find((c) => c.name === "node-group-fit")!;

describe("the node-group check prints both sums, and 'short' only for a dimension over its limit", () => {
  /** The system pods' demand on n nodes, summed here (DaemonSets once per node). */
  function systemDemand(nodes: number) {
    const sys = awsSystemPods(1);
    const count = (s: SystemPod) => (s.kind === "DaemonSet" ? nodes : s.replicas);
    return {
      cpu: sys.reduce((n, s) => n + count(s) * Math.round(cpuToCores(s.requests.cpu)! * 1000), 0),
      memory: sys.reduce((n, s) => n + count(s) * Math.ceil(memoryToMiB(s.requests.memory)!), 0),
      pods: sys.reduce((n, s) => n + count(s), 0),
    };
  }
  const a = table["m6i.large"];
  const svc = (cpu: number) => ({
    resources: { requests: { cpu: `${cpu}m`, memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    hpa: { min: 1, max: 4 },
  });

  it("exactly at the CPU limit: passes, prints capacity and demand, nothing short; one millicore more: CPU is short, named with the fix", () => {
    const sys = systemDemand(2);
    const perPod = (2 * a.allocatableCpuMillicores - sys.cpu) / 5; // 5 pods: hpa.max 4 + surge
    expect(Number.isInteger(perPod)).toBe(true);
    const at = nodeCheck([svc(perPod)]);
    expect(at.ok).toBe(true);
    const capacity = `CPU ${2 * a.allocatableCpuMillicores}m, memory ${2 * a.allocatableMemoryMiB} MiB, pods ${2 * a.maxPods}`;
    const demand = (cpu: number) => `CPU ${sys.cpu + 5 * cpu}m, memory ${sys.memory + 5 * 64} MiB, pods ${sys.pods + 5}`;
    expect(at.detail).toContain(
      `cluster.nodes.max 2 × m6i.large allocatable (${a.allocatableCpuMillicores}m CPU, ${a.allocatableMemoryMiB} MiB, ${a.maxPods} pods) = ${capacity} >= requests at hpa.max with every rollout's surge and the system pods: ${demand(perPod)} (s0 5 pods (hpa.max 4 + surge) × (${perPod}m, 64 MiB); `,
    );
    expect(at.detail).not.toContain("short");
    expect(at.detail).not.toContain("larger than one node");
    const over = nodeCheck([svc(perPod + 1)]);
    expect(over.ok).toBe(false);
    expect(over.detail).toContain(
      `= ${capacity} vs requests at hpa.max with every rollout's surge and the system pods: ${demand(perPod + 1)} (`,
    );
    expect(over.detail).toContain(
      `; short: CPU ${sys.cpu + 5 * (perPod + 1)}m > ${2 * a.allocatableCpuMillicores}m; raise cluster.nodes.max to 3`,
    );
    expect(over.detail).not.toContain("larger than one node");
  });

  it("a pod larger than one node: named after the sums, and the fix is a larger type, not more nodes", () => {
    const big = {
      resources: {
        requests: { cpu: `${a.allocatableCpuMillicores + 1}m`, memory: "64Mi" },
        limits: { cpu: "4", memory: "512Mi" },
      },
      hpa: { min: 1, max: 1 },
    };
    const c = nodeCheck([big], 12);
    expect(c.ok).toBe(false);
    expect(c.detail).not.toContain("short");
    expect(c.detail).toMatch(
      new RegExp(
        `\\); larger than one node: s0 2 pods \\(hpa\\.max 1 \\+ surge\\) requests ${a.allocatableCpuMillicores + 1}m, 64 MiB each; pick a larger cluster\\.instanceTypes or lower those requests$`,
      ),
    );
  });
});

describe("several dimensions short and several pods too large: each listed", () => {
  it("CPU and memory both over nodes.max × allocatable, two services each larger than a node", () => {
    const a = table["m6i.large"];
    const huge = {
      resources: {
        requests: { cpu: `${a.allocatableCpuMillicores + 1}m`, memory: `${a.allocatableMemoryMiB + 1}Mi` },
        limits: { cpu: "4", memory: "16Gi" },
      },
      hpa: { min: 1, max: 1 },
    };
    const c = nodeCheck([huge, huge], 1);
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/; short: CPU \d+m > \d+m, memory \d+ MiB > \d+ MiB; larger than one node: /);
    expect(c.detail).toContain(
      `larger than one node: s0 2 pods (hpa.max 1 + surge) requests ${a.allocatableCpuMillicores + 1}m, ${a.allocatableMemoryMiB + 1} MiB each, s1 2 pods`,
    );
  });
});

describe("node fit with DaemonSets that fill a node by themselves", () => {
  const fitOf = (r: ReturnType<typeof nodeFit>): NodeFit => {
    if ("unknownType" in r) throw new Error(`unknown type ${r.unknownType}`);
    return r;
  };
  const a = table["t3.medium"];
  const p = (cpu: string) =>
    profileWith(
      [{ resources: { requests: { cpu, memory: "1Mi" }, limits: { cpu: "1", memory: "512Mi" } }, hpa: { min: 1, max: 1 } }],
      3,
      "t3.medium",
    );
  const daemon = (name: string, cpu: number, memory = 0): SystemPod => ({
    name,
    kind: "DaemonSet",
    replicas: 1,
    requests: { cpu: `${cpu}m`, memory: `${memory}Mi` },
  });

  it("DaemonSets taking more than a node's CPU: no node count fits a pod that requests CPU (Infinity)", () => {
    const fit = fitOf(nodeFit(p("1m"), [daemon("d0", a.allocatableCpuMillicores), daemon("d1", 1)]));
    expect(fit.nodesNeeded).toBe(Infinity);
  });

  it("property: pod slots with several DaemonSets: the sums fit at nodesNeeded and not one node below", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 40 }), (daemons, hpaMax) => {
        const system = Array.from({ length: daemons }, (_, i) => daemon(`d${i}`, 0));
        const profile = profileWith(
          [
            {
              resources: { requests: { cpu: "1m", memory: "1Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              hpa: { min: 1, max: hpaMax },
            },
          ],
          3,
          "t3.medium",
        );
        const fit = fitOf(nodeFit(profile, system));
        // Pod slots decide: n nodes hold n × maxPods, of which n × daemons are the DaemonSets'.
        const slotsFit = (n: number) => pods(hpaMax) + n * daemons <= n * a.maxPods;
        const cpuFit = (n: number) => pods(hpaMax) <= n * a.allocatableCpuMillicores;
        const fits = (n: number) => slotsFit(n) && cpuFit(n) && pods(hpaMax) <= n * a.allocatableMemoryMiB;
        expect(fits(fit.nodesNeeded)).toBe(true);
        if (fit.nodesNeeded > 1) expect(fits(fit.nodesNeeded - 1)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it("a pod that requests only CPU or only memory is named with both numbers; one with neither says so", () => {
    const fit = fitOf(
      nodeFit(p("1m"), [
        { name: "cpu-only", kind: "Deployment", replicas: 1, requests: { cpu: "50m", memory: "0" } },
        { name: "memory-only", kind: "Deployment", replicas: 1, requests: { cpu: "0", memory: "64Mi" } },
        { name: "none", kind: "Deployment", replicas: 1, requests: { cpu: "0", memory: "0" } },
      ]),
    );
    expect(fit.terms.slice(1)).toEqual([
      "cpu-only × 1 × (50m, 0 MiB)",
      "memory-only × 1 × (0m, 64 MiB)",
      "none × 1 × (no requests)",
    ]);
    expect(fit.dimensions.map((d) => d.unit)).toEqual(["m", " MiB", ""]);
  });
});

describe("the capacity file's own checks and the per-service numbers", () => {
  const service = (extra: Record<string, unknown> = {}) => ({
    name: "a",
    port: 3001,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    hpa: { min: 1, max: 4 },
    headroom: 0,
    ...extra,
  });
  const p = (extra: Record<string, unknown> = {}) => parseConfig({ environment: "dev", services: [service(extra)] });
  const ok = (file: CapacityFile = { ...FIXTURE, service: "a" }, stale?: string): CapacityInputs =>
    new Map([["a", { path: "capacity/a.json", state: "ok", file, ...(stale ? { stale } : {}) }]]);
  const named = (checks: { name: string }[]) => checks.map((c) => c.name).filter((n) => n.endsWith(":a"));

  it("no input at all with a targetRps: a warning naming the default path and the command to measure", () => {
    const c = capacityChecks(p({ targetRps: 100 }), new Map()).find((x) => x.name === "capacity-file:a")!;
    expect(c).toEqual({
      name: "capacity-file:a",
      ok: true,
      warning: true,
      detail:
        "capacity/a.json is missing: targetRps 100 is not checked against a measured capacity; run npm run capacity -- --service a and commit the file",
    });
  });

  it("a fresh file: no capacity-file entry; without a targetRps no throughput check, with one there is", () => {
    expect(named(capacityChecks(p(), ok()))).toEqual(["hpa-target-vs-knee:a", "pool-vs-littles-law:a"]);
    expect(named(capacityChecks(p({ targetRps: 100 }), ok()))).toEqual([
      "throughput:a",
      "hpa-target-vs-knee:a",
      "pool-vs-littles-law:a",
    ]);
    const stale = capacityChecks(p(), ok(undefined, "older than the code")).find((x) => x.name === "capacity-file:a")!;
    expect(stale.detail).toBe("capacity/a.json: older than the code; run npm run capacity -- --service a and commit the file");
  });

  it.each([
    ["500m", true],
    ["999m", true],
    ["1", false],
    ["2", false],
  ])("a failed throughput check with limits.cpu %s suggests raising the limit toward one core: %s", (limit, suggests) => {
    const q = parseConfig({
      environment: "dev",
      services: [
        service({
          targetRps: 100_000,
          resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: limit, memory: "512Mi" } },
        }),
      ],
    });
    const c = capacityChecks(q, ok()).find((x) => x.name === "throughput:a")!;
    expect(c.ok).toBe(false);
    expect(c.detail.includes(", raise resources.limits.cpu toward 1 core, or lower headroom")).toBe(suggests);
    // Without it, the suggested hpa.max is followed directly by the other fixes.
    expect(c.detail.includes("(the smallest that serves targetRps), or lower headroom or targetRps")).toBe(!suggests);
  });

  it.each([
    [2, ">="], // 200 req/s × 10 ms = 2 busy
    [1, "<"],
  ])("Little's law with pool.max %i prints %s between the pool and the busy connections", (max, sign) => {
    const c = capacityChecks(p({ pool: { min: 1, max } }), ok()).find((x) => x.name === "pool-vs-littles-law:a")!;
    expect(c.detail).toContain(`services[0] pool.max ${max} ${sign} 200 req/s per pod × 1 connection checkouts per request`);
  });

  it("capacitySummary: each service with a usable file, its numbers from the file and the profile; targetRps only when set", () => {
    const two = parseConfig({
      environment: "dev",
      services: [service({ targetRps: 300 }), { ...service(), name: "b", port: 3002 }, { ...service(), name: "c", port: 3003 }],
    });
    const inputs: CapacityInputs = new Map([
      ["a", { path: "capacity/a.json", state: "ok", file: { ...FIXTURE, service: "a" } }],
      ["b", { path: "capacity/b.json", state: "ok", file: { ...FIXTURE, service: "b" } }],
      ["c", { path: "capacity/c.json", state: "missing" }],
    ]);
    const summary = capacitySummary(two, inputs);
    expect(summary.map((s) => s.service)).toEqual(["a", "b"]);
    const [a, b] = summary;
    // 200 req/s per core × min(1 core limit, 1 event loop); 4 pods × 200 × (1 − 0); 200 × 4 ms = 0.8 core of a 100m request.
    expect(a).toMatchObject({ path: "capacity/a.json", commit: FIXTURE.commit, perPodRps: 200, servesRps: 800, targetRps: 300 });
    expect(a!.cpuAtKneePercentOfRequest).toBeCloseTo(800, 9);
    expect("targetRps" in b!).toBe(false);
    expect(capacitySummary(two, new Map())).toEqual([]);
  });
});
