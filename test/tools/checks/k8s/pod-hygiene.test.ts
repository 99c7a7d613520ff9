import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { defaultDenyPolicy, migrationNetworkPolicy, serviceNetworkPolicy } from "../../../../components/k8s/network-policies";
import { kubePrometheusStackValues } from "../../../../components/k8s/monitoring-values";
import {
  checkEksScrapeTargets,
  checkNetworkPolicies,
  checkReadinessGates,
  checkServiceLinks,
} from "../../../../tools/checks/k8s/pod-hygiene";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import { planFixture } from "./plan-fixture";

const dev = planFixture();
const clone = dev.clone;
const find = (rs: PlanResource[], type: string, name?: string) =>
  rs.find((r) => r.type === type && (name === undefined || r.name === name))! as PlanResource & { inputs: any };

describe("pods: enableServiceLinks", () => {
  it("every Deployment and the migration Job of the plan set it false", () => {
    expect(checkServiceLinks(dev.plan.resources)).toMatchObject({
      ok: true,
      detail: "4 pod specs set enableServiceLinks: false",
    });
  });

  it("catches a pod spec without it (the defect before the fix)", () => {
    const rs = clone();
    delete find(rs, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec.enableServiceLinks;
    expect(checkServiceLinks(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining("set enableServiceLinks: false in its pod spec"),
    });
  });
});

describe("namespaces: pod readiness gate", () => {
  it("catches the uaip namespace without elbv2.k8s.aws/pod-readiness-gate-inject (the defect before the fix)", () => {
    const rs = clone();
    const ns = rs.find((r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs as any).metadata.name === "uaip") as any;
    expect(ns.inputs.metadata.labels["elbv2.k8s.aws/pod-readiness-gate-inject"]).toBe("enabled");
    delete ns.inputs.metadata.labels["elbv2.k8s.aws/pod-readiness-gate-inject"];
    expect(checkReadinessGates(rs)).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        "namespace uaip holds TargetGroupBindings: label it elbv2.k8s.aws/pod-readiness-gate-inject: enabled",
      ),
    });
  });
});

describe("network policies", () => {
  const input = {
    namespace: "uaip",
    service: { name: "agent-intelligence", port: 3001 },
    albSourceCidrs: ["10.0.192.0/20", "10.0.208.0/20"],
    redis: { cidrs: ["10.0.0.0/18"], port: 6379 },
    database: { cidrs: ["10.0.0.0/18"], port: 5432 },
    monitoringNamespace: "monitoring",
    awsApis: false,
  };

  it("builds objects the Kubernetes schema accepts", () => {
    expect(() => new NetworkPolicy(defaultDenyPolicy("uaip") as any).validate()).not.toThrow();
    expect(() => new NetworkPolicy(serviceNetworkPolicy({ ...input, awsApis: true }) as any).validate()).not.toThrow();
  });

  it("a service gets exactly: ALB and Prometheus in on its port; DNS, Redis, PostgreSQL out; HTTPS out only when it calls AWS APIs", () => {
    const spec = serviceNetworkPolicy(input).spec as any;
    expect(spec.ingress.map((r: any) => r.ports)).toEqual([[{ protocol: "TCP", port: 3001 }], [{ protocol: "TCP", port: 3001 }]]);
    expect(spec.ingress[0].from).toEqual(input.albSourceCidrs.map((cidr) => ({ ipBlock: { cidr } })));
    expect(spec.ingress[1].from[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "monitoring" });
    expect(spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`))).toEqual([
      "UDP/53",
      "TCP/53",
      "TCP/6379",
      "TCP/5432",
    ]);
    const withAws = serviceNetworkPolicy({ ...input, awsApis: true }).spec as any;
    expect(withAws.egress.at(-1)).toEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] });
  });

  it("the dev plan has default-deny plus one policy per service and one for the migration Job, enforced by vpc-cni", () => {
    expect(checkNetworkPolicies(dev.plan.resources)).toMatchObject({
      ok: true,
      detail: expect.stringContaining("each of 4 workloads"),
    });
  });

  it("the migration Job may reach only DNS and PostgreSQL, nothing may reach it, and it waits for its policy", () => {
    const spec = migrationNetworkPolicy({ namespace: "uaip", database: input.database }).spec as any;
    expect(() =>
      new NetworkPolicy(migrationNetworkPolicy({ namespace: "uaip", database: input.database }) as any).validate(),
    ).not.toThrow();
    expect(spec.ingress).toBeUndefined();
    expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`))).toEqual([
      "UDP/53",
      "TCP/53",
      "TCP/5432",
    ]);
    const job = find(dev.plan.resources, "kubernetes:batch/v1:Job");
    expect(spec.podSelector.matchLabels).toEqual(expect.objectContaining({ "app.kubernetes.io/component": "db-migration" }));
    for (const [k, v] of Object.entries(spec.podSelector.matchLabels))
      expect(job.inputs.spec.template.metadata.labels[k]).toBe(v);
    expect(job.dependsOn).toContain(
      find(dev.plan.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "uaip-services-db-migration-netpol").urn,
    );
  });

  it.each([
    [
      "no default-deny",
      (rs: PlanResource[]) => rs.filter((r) => !r.name.endsWith("-default-deny")),
      "namespace uaip has no default-deny NetworkPolicy",
    ],
    [
      "a service without its policy",
      (rs: PlanResource[]) => rs.filter((r) => r.name !== "uaip-services-agent-intelligence-netpol"),
      '"uaip-services-agent-intelligence-deployment": no NetworkPolicy selects its pods',
    ],
    // default-deny cut off the data tier's migration Job: it could not reach PostgreSQL, so no Deployment ever rolled.
    [
      "the migration Job without its policy",
      (rs: PlanResource[]) => rs.filter((r) => r.name !== "uaip-services-db-migration-netpol"),
      '"uaip-services-db-job": no NetworkPolicy selects its pods',
    ],
    [
      "a policy without the service port",
      (rs: PlanResource[]) => {
        find(
          rs,
          "kubernetes:networking.k8s.io/v1:NetworkPolicy",
          "uaip-services-capability-registry-netpol",
        ).inputs.spec.ingress = [];
        return rs;
      },
      '"uaip-services-capability-registry-deployment": no NetworkPolicy lets traffic in on its container port 3003',
    ],
    [
      "a policy without DNS",
      (rs: PlanResource[]) => {
        find(
          rs,
          "kubernetes:networking.k8s.io/v1:NetworkPolicy",
          "uaip-services-capability-registry-netpol",
        ).inputs.spec.egress.shift();
        return rs;
      },
      "no NetworkPolicy lets it reach DNS (UDP 53)",
    ],
    [
      "vpc-cni without enableNetworkPolicy",
      (rs: PlanResource[]) => rs.filter((r) => r.name !== "uaip-vpc-cni"),
      "EKS would accept and silently ignore them",
    ],
  ])("catches %s", (_label, mutate, message) => {
    const check = checkNetworkPolicies(mutate(clone()));
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(message);
  });
});

describe("kube-prometheus-stack on EKS", () => {
  it("disables scraping kube-scheduler, kube-controller-manager, etcd and kube-proxy", () => {
    const values = kubePrometheusStackValues({
      scrapeInterval: "15s",
      retention: "1d",
      storageSize: "1Gi",
      storageClassName: "gp3",
      retainVolumes: false,
      replicas: 1,
      grafanaAdminPassword: "x",
    });
    for (const c of ["kubeScheduler", "kubeControllerManager", "kubeEtcd", "kubeProxy"])
      expect(values[c]).toEqual({ enabled: false });
    expect(checkEksScrapeTargets(dev.plan.resources).ok).toBe(true);
  });

  it.each(["kubeScheduler", "kubeControllerManager", "kubeEtcd", "kubeProxy"])(
    "catches %s left enabled (the defect before the fix)",
    (component) => {
      const rs = clone();
      delete find(rs, "kubernetes:helm.sh/v3:Release", "uaip-monitoring-stack").inputs.values[component];
      expect(checkEksScrapeTargets(rs)).toMatchObject({
        ok: false,
        detail: expect.stringContaining(`set values.${component}.enabled false`),
      });
    },
  );
});
