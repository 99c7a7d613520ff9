import { CHART_VALUES, checkHelmValues, unknownKeys, unknownReleaseValues } from "../../../../tools/checks/k8s/helm-values";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import { planFixture } from "./plan-fixture";

const prod = planFixture("prod");
const clone = prod.clone;
const release = (rs: PlanResource[], name: string) =>
  rs.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === name)! as PlanResource & { inputs: any };

/** Every leaf of a value, as dotted paths with their values. */
function leaves(value: unknown, prefix = ""): [string, unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

describe("reviewable Helm values in the plan JSON", () => {
  it("shows kube-prometheus-stack's values with only the Grafana password redacted (it was the whole values object before)", () => {
    const values = release(prod.plan.resources, "uaip-monitoring-stack").inputs.values;
    expect(typeof values).toBe("object");
    const redacted = leaves(values)
      .filter(([, v]) => v === "[secret]")
      .map(([k]) => k);
    expect(redacted).toEqual(["grafana.adminPassword"]);
    expect(values.prometheus.prometheusSpec.scrapeInterval).toBe("15s");
    expect(values.kubeScheduler).toEqual({ enabled: false });
  });
});

describe("Helm values against the pinned charts' values.yaml", () => {
  it("every release of the prod plan uses only keys its chart reads, and every pinned chart is vendored", () => {
    const check = checkHelmValues(prod.plan.resources);
    expect(check).toMatchObject({ ok: true });
    for (const id of Object.keys(CHART_VALUES)) expect(check.detail).toContain(id);
  });

  it.each([
    ["uaip-monitoring-stack", ["kubeScheduler"], "enable", "values.kubeScheduler.enable"],
    ["uaip-monitoring-stack", ["prometheus", "prometheusSpec"], "retentionn", "values.prometheus.prometheusSpec.retentionn"],
    [
      "uaip-monitoring-stack",
      ["grafana", "sidecar", "dashboards"],
      "labelValuee",
      "values.grafana.sidecar.dashboards.labelValuee",
    ],
    ["uaip-monitoring-stack", ["alertmanager"], "configg", "values.alertmanager.configg"],
    ["uaip-services-lbc-release", [], "vpcID", "values.vpcID"],
    ["uaip-cluster-cluster-autoscaler", ["autoDiscovery"], "clustername", "values.autoDiscovery.clustername"],
  ])("catches %s values key %s.%s (Helm would ignore it)", (name, at, key, reported) => {
    const rs = clone();
    let target = release(rs, name).inputs.values;
    for (const k of at) target = target[k];
    target[key] = true;
    const check = checkHelmValues(rs);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`release "${name}"`);
    expect(check.detail).toContain(`${reported} not in the chart's values.yaml, so Helm ignores it`);
  });

  it("catches a chart version with no vendored values.yaml", () => {
    const rs = clone();
    release(rs, "uaip-services-lbc-release").inputs.version = "1.14.0";
    expect(checkHelmValues(rs).detail).toContain(
      "no vendored values.yaml for aws-load-balancer-controller@1.14.0; fetch the chart at that version",
    );
  });

  it("catches values the plan cannot review (all of them secret)", () => {
    const rs = clone();
    release(rs, "uaip-monitoring-stack").inputs.values = "[secret]";
    expect(checkHelmValues(rs).detail).toContain('values are "[secret]", not a map the plan can review');
  });

  it("lets maps the chart passes through hold anything: empty-map defaults and the listed free-form paths", () => {
    const kps = CHART_VALUES["kube-prometheus-stack@79.10.0"];
    expect(unknownReleaseValues(kps, { prometheus: { prometheusSpec: { storageSpec: { anything: { at: "all" } } } } })).toEqual(
      [],
    );
    expect(unknownReleaseValues(kps, { alertmanager: { config: { time_intervals: [] } } })).toEqual([]);
    expect(
      unknownReleaseValues(CHART_VALUES["cluster-autoscaler@9.47.0"], { extraArgs: { "scale-down-delay-after-add": "5m" } }),
    ).toEqual([]);
    expect(unknownKeys({ a: { b: 1, c: 2 } }, { a: { b: 0 } })).toEqual(["a.c"]);
    expect(unknownKeys({ a: { c: 2 } }, { a: null })).toEqual([]);
  });
});
