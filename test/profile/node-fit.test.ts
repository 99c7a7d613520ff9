/**
 * profile/node-fit.ts called directly (issue #22): several instance types, the smallest nodes.max that fits,
 * a pod exactly one node's size, and how the terms name each group. Allocatable numbers come from the
 * vendored table, read here; sums are written out in the test.
 */
import fc from "fast-check";
import ec2Capacity from "../../vendor/aws/ec2-instance-capacity.json";
import { nodeFit, type NodeFit } from "../../profile/node-fit";
import { parseConfig } from "../../profile/parse";
import type { SystemPod } from "../../profile/system-pods";
import { podShapes, type PodShape } from "../helpers/pod-shapes";

type Alloc = { vcpu: number; memoryMiB: number; allocatableCpuMillicores: number; allocatableMemoryMiB: number; maxPods: number };
const table = ec2Capacity.instanceTypes as Record<string, Alloc>;

const profile = (services: { cpu: string; memory: string; hpaMax: number }[], nodesMax: number, instanceTypes: string[]) =>
  parseConfig({
    environment: "dev",
    services: services.map((s, i) => ({
      name: `s${i}`,
      port: 3001 + i,
      pool: { min: 1, max: 1 },
      hpa: { min: 1, max: s.hpaMax },
      resources: { requests: { cpu: s.cpu, memory: s.memory }, limits: { cpu: "4", memory: "16Gi" } },
    })),
    cluster: { instanceTypes, nodes: { min: 1, desired: 1, max: nodesMax } },
  });

const fitOf = (r: ReturnType<typeof nodeFit>): NodeFit => {
  if ("unknownType" in r) throw new Error(`unknown type ${r.unknownType}`);
  return r;
};

/** hpa.max + Kubernetes's 25 % surge, rounded up. */
const rolloutPods = (hpaMax: number) => hpaMax + Math.ceil(hpaMax / 4);

describe("several instance types: the least allocatable of each dimension, whichever type has it", () => {
  it("memory from one type, pod slots from another; named as the least of both", () => {
    const fit = fitOf(nodeFit(profile([{ cpu: "100m", memory: "100Mi", hpaMax: 1 }], 2, ["c6i.large", "t3.medium"]), []));
    expect(fit.instanceType).toBe("least of c6i.large, t3.medium");
    const [a, b] = [table["c6i.large"], table["t3.medium"]];
    expect(fit.perNode).toEqual({
      vcpu: Math.min(a.vcpu, b.vcpu),
      memoryMiB: Math.min(a.memoryMiB, b.memoryMiB),
      allocatableCpuMillicores: Math.min(a.allocatableCpuMillicores, b.allocatableCpuMillicores),
      allocatableMemoryMiB: a.allocatableMemoryMiB, // c6i.large's is the smaller
      maxPods: b.maxPods, // t3.medium's is the smaller
    });
    expect(a.allocatableMemoryMiB).toBeLessThan(b.allocatableMemoryMiB);
    expect(b.maxPods).toBeLessThan(a.maxPods);
    expect(fit.dimensions.map((d) => [d.name, d.capacity])).toEqual([
      ["CPU", 2 * 1930],
      ["memory", 2 * a.allocatableMemoryMiB],
      ["pods", 2 * b.maxPods],
    ]);
  });

  it("one type is named as itself; any unknown type among known ones makes the fit unknown, named", () => {
    const svc = [{ cpu: "100m", memory: "100Mi", hpaMax: 1 }];
    expect(fitOf(nodeFit(profile(svc, 2, ["m6i.large"]), [])).instanceType).toBe("m6i.large");
    expect(nodeFit(profile(svc, 2, ["m6i.large", "f1.2xlarge"]), [])).toEqual({ unknownType: "f1.2xlarge" });
  });
});

describe("the pods counted, and how the terms name them", () => {
  const system: SystemPod[] = [
    { name: "agent", kind: "DaemonSet", replicas: 1, requests: { cpu: "50m", memory: "64Mi" } },
    { name: "idle", kind: "Deployment", replicas: 3, requests: { cpu: "0", memory: "0" } },
  ];

  it("a DaemonSet runs once per node of nodes.max, a Deployment its replicas; a pod without requests still takes a slot", () => {
    const fit = fitOf(nodeFit(profile([{ cpu: "200m", memory: "256Mi", hpaMax: 4 }], 3, ["m6i.large"]), system));
    // s0: 4 + ⌈1⌉ = 5 pods; agent: 3 nodes; idle: 3.
    expect(fit.dimensions.map((d) => [d.name, d.demand])).toEqual([
      ["CPU", 5 * 200 + 3 * 50],
      ["memory", 5 * 256 + 3 * 64],
      ["pods", 5 + 3 + 3],
    ]);
    expect(fit.terms).toEqual([
      "s0 5 pods (hpa.max 4 + surge) × (200m, 256 MiB)",
      "agent × 3 nodes × (50m, 64 MiB)",
      "idle × 3 × (no requests)",
    ]);
  });

  it("CPU rounds to whole millicores, memory up to whole MiB", () => {
    const fit = fitOf(nodeFit(profile([{ cpu: "0.0005", memory: "1000k", hpaMax: 1 }], 1, ["m6i.large"]), []));
    // 0.5 m rounds up to 1 m; 1000 kB = 0.95 MiB rounds up to 1 MiB. 2 pods (1 + ⌈0.25⌉).
    expect(fit.dimensions.map((d) => d.demand)).toEqual([2, 2, 2]);
  });

  it("CPU under half a millicore still takes 1 m per pod, as the scheduler counts it (Math.round made it 0)", () => {
    const fit = fitOf(nodeFit(profile([{ cpu: "0.0004", memory: "1Mi", hpaMax: 4 }], 1, ["m6i.large"]), []));
    expect(fit.dimensions[0]).toMatchObject({ name: "CPU", demand: 5 }); // 5 pods (4 + ⌈1⌉) × 1 m
    expect(fit.terms[0]).toContain("(1m, 1 MiB)");
  });
});

describe("a pod larger than one node", () => {
  const alloc = table["m6i.large"];
  const one = (cpu: number, memory: number) =>
    fitOf(nodeFit(profile([{ cpu: `${cpu}m`, memory: `${memory}Mi`, hpaMax: 1 }], 50, ["m6i.large"]), []));

  it("exactly one node's allocatable CPU or memory fits; one more millicore or MiB does not", () => {
    expect(one(alloc.allocatableCpuMillicores, 64).tooLarge).toEqual([]);
    expect(one(64, alloc.allocatableMemoryMiB).tooLarge).toEqual([]);
    expect(one(alloc.allocatableCpuMillicores + 1, 64).tooLarge).toEqual([
      `s0 2 pods (hpa.max 1 + surge) requests ${alloc.allocatableCpuMillicores + 1}m, 64 MiB each`,
    ]);
    expect(one(64, alloc.allocatableMemoryMiB + 1).tooLarge).toHaveLength(1);
    expect(one(64, alloc.allocatableMemoryMiB + 1).ok).toBe(false);
    expect(one(alloc.allocatableCpuMillicores, 64).ok).toBe(true);
  });
});

describe("nodesNeeded: the smallest nodes.max whose sums fit", () => {
  const system: SystemPod[] = [
    { name: "per-node", kind: "DaemonSet", replicas: 1, requests: { cpu: "100m", memory: "128Mi" } },
    { name: "dns", kind: "Deployment", replicas: 2, requests: { cpu: "100m", memory: "70Mi" } },
  ];
  const types = ["t3.medium", "m6i.large", "m6i.xlarge"];

  /** Do the sums fit n nodes? Written out: DaemonSet pods once per node. */
  function sumsFit(shapes: PodShape[], n: number, a: Alloc): boolean {
    const pods = shapes.reduce((s, x) => s + rolloutPods(x.hpaMax), 0) + n + 2;
    const cpu = shapes.reduce((s, x) => s + rolloutPods(x.hpaMax) * x.cpu, 0) + n * 100 + 2 * 100;
    const memory = shapes.reduce((s, x) => s + rolloutPods(x.hpaMax) * x.memory, 0) + n * 128 + 2 * 70;
    return cpu <= n * a.allocatableCpuMillicores && memory <= n * a.allocatableMemoryMiB && pods <= n * a.maxPods;
  }

  it("property: the sums fit at nodesNeeded and not one node below it (at least 1)", () => {
    fc.assert(
      fc.property(podShapes(20), fc.integer({ min: 1, max: 40 }), fc.constantFrom(...types), (shapes, nodesMax, type) => {
        const services = shapes.map((s) => ({ cpu: `${s.cpu}m`, memory: `${s.memory}Mi`, hpaMax: s.hpaMax }));
        const fit = fitOf(nodeFit(profile(services, nodesMax, [type]), system));
        const a = table[type];
        expect(fit.nodesNeeded).toBeGreaterThanOrEqual(1);
        expect(sumsFit(shapes, fit.nodesNeeded, a)).toBe(true);
        if (fit.nodesNeeded > 1) expect(sumsFit(shapes, fit.nodesNeeded - 1, a)).toBe(false);
        // And ok is the sums at nodes.max (every pod here fits one node).
        expect(fit.ok).toBe(sumsFit(shapes, nodesMax, a));
      }),
      { numRuns: 80 },
    );
  });

  it("a DaemonSet that fills a node's pod slots by itself can never fit: Infinity, not a number that fails", () => {
    const full: SystemPod[] = Array.from({ length: table["t3.medium"].maxPods }, (_, i) => ({
      name: `d${i}`,
      kind: "DaemonSet",
      replicas: 1,
      requests: { cpu: "0", memory: "0" },
    }));
    const fit = fitOf(nodeFit(profile([{ cpu: "1m", memory: "1Mi", hpaMax: 1 }], 3, ["t3.medium"]), full));
    expect(fit.nodesNeeded).toBe(Infinity);
    expect(fit.ok).toBe(false);
  });
});
