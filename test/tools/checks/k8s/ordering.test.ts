import { kubernetesPlanChecks } from "../../../../tools/checks/k8s";
import { checkHpaMetricSources } from "../../../../tools/checks/k8s/hpa-metrics";
import {
  checkCustomResourcesAfterCrds,
  checkObjectsAfterNamespaces,
  checkVolumesAfterStorageClasses,
  checkWaitsForNodes,
} from "../../../../tools/checks/k8s/ordering";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import { planFixture } from "./plan-fixture";

/**
 * The ordering and HPA checks over the real dev plan, and one deliberate mutation per rule that
 * the check must catch. (Every stack's plan passing them is asserted by test/plan/plan.test.ts,
 * which requires every check of every stack to be ok.)
 */
const dev = planFixture();
const clone = dev.clone;
const byName = (rs: PlanResource[], name: string, type = /./) => rs.find((r) => r.name === name && type.test(r.type))!;
const nodeGroupUrn = () => dev.plan.resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup")!.urn;

describe("plan checks: ordering", () => {
  it("the dev plan passes every Kubernetes plan check, and the plan reports them", () => {
    for (const c of kubernetesPlanChecks(dev.plan.resources)) expect(c).toMatchObject({ ok: true });
    expect(dev.plan.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(["ordering:pods-after-nodes", "ordering:custom-resources-after-crds", "hpa-metric-sources"]),
    );
  });

  it("a Service waits for its Deployment (Pulumi awaits its endpoints for 10 minutes)", () => {
    expect(byName(dev.plan.resources, "uaip-services-agent-intelligence-service", /Service$/).dependsOn).toContain(
      byName(dev.plan.resources, "uaip-services-agent-intelligence-deployment").urn,
    );
  });

  it("records dependencies, not parents: the LB controller release waits for the node group directly", () => {
    expect(byName(dev.plan.resources, "uaip-services-lbc-release").dependsOn).toContain(nodeGroupUrn());
    expect(byName(dev.plan.resources, "uaip-storage-ebs-csi").dependsOn).toContain(nodeGroupUrn());
    expect(byName(dev.plan.resources, "uaip-metrics-server").dependsOn).toContain(nodeGroupUrn());
  });

  it.each([
    "uaip-services-lbc-release",
    "uaip-storage-ebs-csi",
    "uaip-metrics-server",
    "uaip-monitoring-stack",
    "uaip-services-agent-intelligence-deployment",
    "uaip-services-agent-intelligence-service",
    "uaip-services-db-job",
    "uaip-cluster-cluster-autoscaler",
  ])("catches %s no longer waiting for the node group", (name) => {
    const rs = clone();
    const r = byName(rs, name, /Release|Addon|Deployment|Job|Service$/);
    // Nothing it waits for may lead to the node group (the others can reach it transitively).
    r.dependsOn = [];
    const check = checkWaitsForNodes(rs);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`"${name}" waits for pods but not for the node group; add the node group to its dependsOn`);
  });

  it("catches a node-level add-on (vpc-cni) that waits for the nodes it must bring up", () => {
    const rs = clone();
    rs.push({
      urn: "urn:test::vpc-cni",
      type: "aws:eks/addon:Addon",
      name: "uaip-vpc-cni",
      parent: "",
      dependsOn: [nodeGroupUrn()],
      inputs: { addonName: "vpc-cni" },
    });
    expect(checkWaitsForNodes(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining("(vpc-cni) waits for the node group, but the nodes need it"),
    });
  });

  it("catches a TargetGroupBinding created without waiting for the LB controller release (the defect before the fix)", () => {
    const rs = clone();
    const tgb = byName(rs, "uaip-services-agent-intelligence-tgb");
    tgb.dependsOn = [];
    expect(checkCustomResourcesAfterCrds(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        '"uaip-services-agent-intelligence-tgb" (TargetGroupBinding) does not wait for the aws-load-balancer-controller release',
      ),
    });
  });

  it("catches a ServiceMonitor when the kube-prometheus-stack release is gone, and an unknown CRD group", () => {
    const rs = clone().filter((r) => r.name !== "uaip-monitoring-stack");
    expect(checkCustomResourcesAfterCrds(rs).detail).toContain(
      "needs the kube-prometheus-stack release, which installs its CRD, but the plan has none",
    );
    const other = clone();
    other.push({
      urn: "urn:test::cert",
      type: "kubernetes:cert-manager.io/v1:Certificate",
      name: "cert",
      parent: "",
      dependsOn: [],
      inputs: {},
    });
    expect(checkCustomResourcesAfterCrds(other).detail).toContain("no known release installs the CRDs of group cert-manager.io");
  });
});

describe("plan checks: volumes after their StorageClass", () => {
  it("kube-prometheus-stack waits for the gp3 StorageClass its Prometheus volumes use", () => {
    expect(checkVolumesAfterStorageClasses(dev.plan.resources)).toMatchObject({
      ok: true,
      detail: "1 release volume(s) come after the StorageClass the plan creates for them",
    });
  });

  it("catches the release without that dependency (the component-level dependsOn never reached it)", () => {
    const rs = clone();
    const release = byName(rs, "uaip-monitoring-stack");
    release.dependsOn = release.dependsOn.filter((u) => !u.includes(":ClusterStorage$"));
    expect(checkVolumesAfterStorageClasses(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('"uaip-monitoring-stack" uses StorageClass gp3 but does not wait for it'),
    });
  });
});

describe("plan checks: objects after their namespace", () => {
  it("every object of the uaip and monitoring namespaces waits for its Namespace", () => {
    expect(checkObjectsAfterNamespaces(dev.plan.resources)).toMatchObject({ ok: true });
  });

  it("catches a ServiceAccount created before the namespace (the defect before the fix: UaipService's dependsOn never reached its children)", () => {
    const rs = clone();
    const sa = byName(rs, "uaip-services-agent-intelligence-sa");
    sa.dependsOn = [];
    expect(checkObjectsAfterNamespaces(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        '"uaip-services-agent-intelligence-sa" is in namespace uaip but does not wait for kubernetes:core/v1:Namespace "uaip-services-namespace"',
      ),
    });
  });
});

describe("plan checks: HPA metric sources", () => {
  it("catches CPU HPAs without metrics-server (the defect before the fix)", () => {
    const rs = clone().filter((r) => r.name !== "uaip-metrics-server");
    const check = checkHpaMetricSources(rs);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(
      'HPA "uaip-services-agent-intelligence-hpa" spec.metrics[0] (Resource) reads metrics.k8s.io, which nothing in the plan serves; install metrics-server',
    );
  });

  it("catches a CPU-utilization HPA whose pods request no CPU", () => {
    const rs = clone();
    const deployment = byName(rs, "uaip-services-orchestration-pipeline-deployment") as any;
    delete deployment.inputs.spec.template.spec.containers[0].resources.requests.cpu;
    expect(checkHpaMetricSources(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        'HPA "uaip-services-orchestration-pipeline-hpa" spec.metrics[0] targets cpu utilization, but container(s) orchestration-pipeline of its target request no cpu',
      ),
    });
  });

  it("accepts the metrics-server chart instead of the add-on", () => {
    const rs = clone().filter((r) => r.name !== "uaip-metrics-server");
    rs.push({
      urn: "urn:test::ms",
      type: "kubernetes:helm.sh/v3:Release",
      name: "ms",
      parent: "",
      dependsOn: [],
      inputs: { chart: "metrics-server" },
    });
    expect(checkHpaMetricSources(rs).ok).toBe(true);
  });

  it.each([
    ["Pods", "custom.metrics.k8s.io"],
    ["Object", "custom.metrics.k8s.io"],
    ["External", "external.metrics.k8s.io"],
  ])("catches a %s metric with no adapter serving %s", (type, api) => {
    const rs = clone();
    const hpa = byName(rs, "uaip-services-capability-registry-hpa");
    (hpa.inputs.spec as { metrics: unknown[] }).metrics.push({ type });
    const check = checkHpaMetricSources(rs);
    expect(check.detail).toContain(
      `spec.metrics[1] (${type}) reads ${api}, which nothing in the plan serves; install an adapter`,
    );
    rs.push({
      urn: "urn:test::adapter",
      type: "kubernetes:helm.sh/v3:Release",
      name: "adapter",
      parent: "",
      dependsOn: [],
      inputs: { chart: "prometheus-adapter" },
    });
    expect(checkHpaMetricSources(rs).ok).toBe(true);
  });
});
