import fc from "fast-check";
import { cpuToMillicores, memoryToMiB } from "../../profile/quantity";
import { awsSystemPods, MIGRATION_JOB_RESOURCES } from "../../profile/system-pods";

// The node-fit check adds these pods to the services' (node-fit.test.ts checks the arithmetic).
describe("awsSystemPods", () => {
  // Called in each test, not while jest collects them: Stryker activates a mutant per test.
  let pods: ReturnType<typeof awsSystemPods>;
  beforeEach(() => {
    pods = awsSystemPods(2);
  });

  it("each pod has its own name, a kind the node-fit check counts, and requests that are Kubernetes quantities", () => {
    const names = pods.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of pods) {
      expect(p.name).toMatch(/^[a-z][a-z0-9-]+( Job)?$/);
      expect(["DaemonSet", "Deployment", "StatefulSet", "Job"]).toContain(p.kind);
      expect(cpuToMillicores(p.requests.cpu)).toBeGreaterThanOrEqual(0);
      expect(memoryToMiB(p.requests.memory)).toBeGreaterThanOrEqual(0);
    }
  });

  it("the node agents run on every node (DaemonSets); Prometheus and Alertmanager are the operator's StatefulSets", () => {
    const byKind = (kind: string) => pods.filter((p) => p.kind === kind).map((p) => p.name);
    expect(byKind("DaemonSet").sort()).toEqual(["aws-node", "ebs-csi-node", "kube-proxy", "prometheus-node-exporter"]);
    expect(byKind("StatefulSet").sort()).toEqual(["alertmanager", "prometheus"]);
    expect(byKind("Job")).toEqual(["db-migration Job"]);
    // The rest are Deployments, among them the add-ons and controllers the stack installs.
    expect(byKind("Deployment")).toEqual(expect.arrayContaining(["coredns", "metrics-server", "aws-load-balancer-controller"]));
    expect(pods.length).toBe(15);
  });

  it("only Prometheus and Alertmanager follow monitoring.replicas; the others keep their own count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), (replicas) => {
        const scaled = awsSystemPods(replicas);
        for (const [i, p] of scaled.entries())
          expect(p.replicas).toBe(["prometheus", "alertmanager"].includes(p.name) ? replicas : pods[i]!.replicas);
      }),
      { numRuns: 10 },
    );
  });

  it("the pods with requests request some CPU (the node-fit detail counts the others as pods only)", () => {
    const requesting = pods.filter((p) => cpuToMillicores(p.requests.cpu)! > 0).map((p) => p.name);
    expect(requesting.sort()).toEqual(
      ["aws-node", "coredns", "db-migration Job", "ebs-csi-controller", "ebs-csi-node", "kube-proxy", "metrics-server"].sort(),
    );
  });

  it("the migration Job requests what components/k8s/db-migration.ts gives it, as a copy", () => {
    const job = pods.find((p) => p.kind === "Job")!;
    expect(job.requests).toEqual(MIGRATION_JOB_RESOURCES.requests);
    expect(job.requests).not.toBe(MIGRATION_JOB_RESOURCES.requests);
  });
});
