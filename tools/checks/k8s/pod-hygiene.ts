import type { Check } from "../../../profile/checks";
import { EKS_UNSCRAPEABLE_COMPONENTS } from "../../../components/k8s/monitoring-values";
import { POD_READINESS_GATE_LABEL } from "../../../components/k8s/namespace";
import { VPC_CNI_ADDON } from "../../../components/aws/vpc-cni";
import { EKS_ADDON, HELM_RELEASE, kubernetesKind, type PlanResource } from "./plan-resource";

/** Rules for the pods, namespaces and NetworkPolicies the plan creates itself (not those inside Helm charts). */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POD_TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"]);

interface Workload {
  r: PlanResource;
  namespace: string;
  podLabels: Record<string, string>;
  podSpec: Obj;
}

function workloads(resources: PlanResource[]): Workload[] {
  return resources.flatMap((r) => {
    const k = kubernetesKind(r);
    if (!k) return [];
    const i = r.inputs as Obj;
    if (k.kind === "Pod")
      return [{ r, namespace: i.metadata?.namespace ?? "default", podLabels: i.metadata?.labels ?? {}, podSpec: i.spec ?? {} }];
    if (k.kind === "CronJob")
      return [
        {
          r,
          namespace: i.metadata?.namespace ?? "default",
          podLabels: i.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {},
          podSpec: i.spec?.jobTemplate?.spec?.template?.spec ?? {},
        },
      ];
    if (!POD_TEMPLATE_KINDS.has(k.kind)) return [];
    return [
      {
        r,
        namespace: i.metadata?.namespace ?? "default",
        podLabels: i.spec?.template?.metadata?.labels ?? {},
        podSpec: i.spec?.template?.spec ?? {},
      },
    ];
  });
}

const ofKind = (resources: PlanResource[], kind: string) => resources.filter((r) => kubernetesKind(r)?.kind === kind);
const selects = (selector: Obj | undefined, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && !(selector?.matchExpressions?.length > 0);

/**
 * `enableServiceLinks: false` on every pod spec: otherwise Kubernetes injects <SERVICE>_HOST/_PORT
 * variables for every Service of the namespace, and a Service named uaip-gateway would inject
 * UAIP_GATEWAY_* into the runtime's env contract, which `loadRuntimeConfig` rejects (crash loop).
 */
export function checkServiceLinks(resources: PlanResource[]): Check {
  const name = "pods:no-service-links";
  const all = workloads(resources);
  const bad = all.filter((w) => w.podSpec.enableServiceLinks !== false);
  if (bad.length)
    return {
      name,
      ok: false,
      detail: bad
        .map(
          (w) =>
            `${w.r.type} "${w.r.name}": set enableServiceLinks: false in its pod spec (Service env vars would collide with the runtime's UAIP_* contract)`,
        )
        .join("; "),
    };
  return { name, ok: true, detail: `${all.length} pod specs set enableServiceLinks: false` };
}

/** Namespaces whose pods are ALB targets (a TargetGroupBinding lives there) carry the readiness-gate label. */
export function checkReadinessGates(resources: PlanResource[]): Check {
  const name = "namespaces:pod-readiness-gate";
  const [key, value] = Object.entries(POD_READINESS_GATE_LABEL)[0];
  const targetNamespaces = new Set(
    ofKind(resources, "TargetGroupBinding").map((r) => String((r.inputs as Obj).metadata?.namespace ?? "default")),
  );
  const namespaces = new Map(ofKind(resources, "Namespace").map((r) => [String((r.inputs as Obj).metadata?.name), r]));
  const problems = [...targetNamespaces].flatMap((ns) => {
    const r = namespaces.get(ns);
    if (!r) return [`namespace ${ns} holds TargetGroupBindings but is not created by the plan, so nothing sets its ${key} label`];
    return (r.inputs as Obj).metadata?.labels?.[key] === value
      ? []
      : [
          `namespace ${ns} holds TargetGroupBindings: label it ${key}: ${value}, or rolling updates drop requests (pods count as Ready before the ALB sends them traffic)`,
        ];
  });
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: targetNamespaces.size ? `${[...targetNamespaces].join(", ")}: ${key}=${value}` : "no TargetGroupBinding in this plan",
  };
}

/**
 * Every namespace with workloads of the plan has a default-deny NetworkPolicy, every workload is
 * selected by a policy that lets in its container port and lets out DNS, and on EKS the vpc-cni
 * add-on enforces them (`enableNetworkPolicy`), since EKS otherwise ignores NetworkPolicies.
 */
export function checkNetworkPolicies(resources: PlanResource[]): Check {
  const name = "network-policies";
  const policies = ofKind(resources, "NetworkPolicy").map((r) => ({
    r,
    ns: String((r.inputs as Obj).metadata?.namespace ?? "default"),
    spec: ((r.inputs as Obj).spec ?? {}) as Obj,
  }));
  const all = workloads(resources);
  const problems: string[] = [];
  for (const ns of new Set(all.map((w) => w.namespace))) {
    const denyAll = policies.some(
      (p) =>
        p.ns === ns &&
        Object.keys(p.spec.podSelector?.matchLabels ?? {}).length === 0 &&
        !p.spec.podSelector?.matchExpressions?.length &&
        ["Ingress", "Egress"].every((t) => p.spec.policyTypes?.includes(t)) &&
        !p.spec.ingress?.length &&
        !p.spec.egress?.length,
    );
    if (!denyAll)
      problems.push(
        `namespace ${ns} has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`,
      );
  }
  for (const w of all) {
    const mine = policies.filter(
      (p) =>
        p.ns === w.namespace &&
        Object.keys(p.spec.podSelector?.matchLabels ?? {}).length > 0 &&
        selects(p.spec.podSelector, w.podLabels),
    );
    const ports = ((w.podSpec.containers ?? []) as Obj[]).flatMap((c) =>
      ((c.ports ?? []) as Obj[]).map((p) => p.containerPort as number),
    );
    const ingressPorts = new Set(
      mine.flatMap((p) => ((p.spec.ingress ?? []) as Obj[]).flatMap((rule) => ((rule.ports ?? []) as Obj[]).map((x) => x.port))),
    );
    const dns = mine.some((p) =>
      ((p.spec.egress ?? []) as Obj[]).some((rule) =>
        ((rule.ports ?? []) as Obj[]).some((x) => x.port === 53 && x.protocol === "UDP"),
      ),
    );
    if (mine.length === 0)
      problems.push(
        `${w.r.type} "${w.r.name}": no NetworkPolicy selects its pods, so default-deny cuts it off; add one for what it needs`,
      );
    else {
      for (const port of ports)
        if (!ingressPorts.has(port))
          problems.push(
            `${w.r.type} "${w.r.name}": no NetworkPolicy lets traffic in on its container port ${port} (ALB, Prometheus)`,
          );
      if (!dns)
        problems.push(`${w.r.type} "${w.r.name}": no NetworkPolicy lets it reach DNS (UDP 53); every hostname lookup would fail`);
    }
  }
  const onEks = resources.some((r) => r.type === "aws:eks/cluster:Cluster");
  if (onEks && policies.length) {
    const cni = resources.find((r) => r.type === EKS_ADDON && r.inputs.addonName === VPC_CNI_ADDON);
    let enforced: boolean;
    try {
      enforced = JSON.parse(String(cni?.inputs.configurationValues ?? "{}")).enableNetworkPolicy === "true";
    } catch {
      enforced = false;
    }
    if (!enforced)
      problems.push(
        `the plan has ${policies.length} NetworkPolicies but no vpc-cni add-on with configurationValues {"enableNetworkPolicy":"true"}: EKS would accept and silently ignore them`,
      );
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: all.length
      ? `${policies.length} NetworkPolicies: default-deny in ${[...new Set(all.map((w) => w.namespace))].join(", ")}, each of ${all.length} workloads allowed its port and DNS${onEks ? "; enforced by vpc-cni" : ""}`
      : "no workloads in this plan",
  };
}

/** On EKS, kube-prometheus-stack must not scrape what EKS does not expose (its *Down alerts would fire forever). */
export function checkEksScrapeTargets(resources: PlanResource[]): Check {
  const name = "monitoring:eks-scrape-targets";
  if (!resources.some((r) => r.type === "aws:eks/cluster:Cluster")) return { name, ok: true, detail: "not on EKS" };
  const releases = resources.filter((r) => r.type === HELM_RELEASE && r.inputs.chart === "kube-prometheus-stack");
  const problems = releases.flatMap((r) => {
    const values = (r.inputs.values ?? {}) as Obj;
    return EKS_UNSCRAPEABLE_COMPONENTS.filter((c) => values[c]?.enabled !== false).map(
      (c) =>
        `release "${r.name}": set values.${c}.enabled false (EKS does not expose it to scraping; its Down alert would fire forever)`,
    );
  });
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: releases.length
      ? `${EKS_UNSCRAPEABLE_COMPONENTS.join(", ")} disabled in ${releases.length} kube-prometheus-stack release(s)`
      : "no kube-prometheus-stack release",
  };
}
