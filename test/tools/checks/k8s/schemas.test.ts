import { checkKubernetesSchemas, closeObjects, validatorFor } from "../../../../tools/checks/k8s/schemas";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import type { PlanJson } from "../../../../tools/plan";
import { committedPlan } from "../../../helpers/plan";

let plan: PlanJson;
beforeAll(async () => {
  const run = await committedPlan("dev");
  expect(run.code).toBe(0);
  plan = run.json!;
}, 60_000);

const clone = (): PlanResource[] => structuredClone(plan.resources);
const named = (rs: PlanResource[], name: string) => rs.find((r) => r.name === name)! as PlanResource & { inputs: any };

describe("Kubernetes schemas over the plan", () => {
  it("validates every Kubernetes object of the dev plan, built-in, prometheus-operator and TargetGroupBinding alike", () => {
    const check = checkKubernetesSchemas(plan.resources);
    expect(check.ok).toBe(true);
    for (const kind of [
      "Deployment",
      "HorizontalPodAutoscaler",
      "NetworkPolicy",
      "ServiceMonitor",
      "PrometheusRule",
      "TargetGroupBinding",
    ])
      expect(check.detail).toContain(kind);
  });

  it.each([
    [
      "a Deployment field of the wrong type",
      "uaip-services-agent-intelligence-deployment",
      (i: any) => (i.spec.template.spec.terminationGracePeriodSeconds = "45"),
      "terminationGracePeriodSeconds must be integer",
    ],
    [
      "an HPA without maxReplicas",
      "uaip-services-agent-intelligence-hpa",
      (i: any) => delete i.spec.maxReplicas,
      "data/spec must have required property maxReplicas",
    ],
    [
      "a ServiceMonitor endpoint with a bad scheme",
      "uaip-monitoring-servicemonitor-agent-intelligence",
      (i: any) => (i.spec.endpoints[0].scheme = "ftp"),
      "scheme must be equal to one of the allowed values",
    ],
    [
      "a PrometheusRule group without a name",
      "uaip-monitoring-rules",
      (i: any) => delete i.spec.groups[0].name,
      "data/spec/groups/0 must have required property name",
    ],
    [
      "a TargetGroupBinding without serviceRef",
      "uaip-services-agent-intelligence-tgb",
      (i: any) => delete i.spec.serviceRef,
      "/spec must have required property 'serviceRef'",
    ],
    [
      "a TargetGroupBinding with a misspelt field (the API server would prune it silently)",
      "uaip-services-agent-intelligence-tgb",
      (i: any) => (i.spec.targetGroupArn = i.spec.targetGroupARN),
      "must NOT have additional properties (targetGroupArn)",
    ],
    [
      "a TargetGroupBinding with a bad targetType",
      "uaip-services-agent-intelligence-tgb",
      (i: any) => (i.spec.targetType = "pod"),
      "/spec/targetType must be equal to one of the allowed values",
    ],
  ])("catches %s", (_label, name, mutate, message) => {
    const rs = clone();
    const r = named(rs, name);
    expect(r).toBeDefined();
    mutate(r.inputs);
    const check = checkKubernetesSchemas(rs);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`"${name}"`);
    expect(check.detail).toContain(message);
  });

  it("refuses a kind it has no schema for, rather than waving it through", () => {
    const rs = clone();
    rs.push({
      urn: "urn:x",
      type: "kubernetes:cert-manager.io/v1:Certificate",
      name: "cert",
      parent: "",
      dependsOn: [],
      inputs: { apiVersion: "cert-manager.io/v1", kind: "Certificate" },
    });
    expect(checkKubernetesSchemas(rs).detail).toContain('"cert": no schema for cert-manager.io/v1 Certificate; vendor its CRD');
  });

  it("closes CRD objects except where the CRD keeps unknown fields", () => {
    const closed = closeObjects({
      type: "object",
      properties: {
        a: { type: "object", properties: { b: { type: "string" } } },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { c: {} } },
      },
    });
    expect(closed.additionalProperties).toBe(false);
    expect((closed.properties as any).a.additionalProperties).toBe(false);
    expect((closed.properties as any).free.additionalProperties).toBeUndefined();
    expect(validatorFor("elbv2.k8s.aws/v1beta1", "TargetGroupBinding")).toBeDefined();
    expect(validatorFor("elbv2.k8s.aws/v1", "TargetGroupBinding")).toBeUndefined();
  });
});
