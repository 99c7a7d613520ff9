import type { Check } from "../../../profile/checks";
import { EKS_ADDON, HELM_RELEASE, kubernetesKind, type PlanResource } from "./plan-resource";

/**
 * Every HPA metric needs an API that serves it, or the HPA reports `FailedGetResourceMetric` and
 * never scales:
 * - Resource / ContainerResource (cpu, memory) come from `metrics.k8s.io`, served by
 *   metrics-server (EKS add-on or chart). kube-prometheus-stack does NOT serve it.
 * - Pods / Object come from `custom.metrics.k8s.io`, External from `external.metrics.k8s.io`:
 *   they need an adapter (prometheus-adapter, KEDA).
 * - A Resource metric with a Utilization target is a share of the pods' requests: every
 *   container of the target must request that resource, or the HPA reports "missing request for cpu".
 */

/** metrics.k8s.io providers: EKS add-on names and chart names. */
export const RESOURCE_METRICS_PROVIDERS = { addons: ["metrics-server"], charts: ["metrics-server"] } as const;
/** custom.metrics.k8s.io / external.metrics.k8s.io providers (chart names). */
export const CUSTOM_METRICS_CHARTS = ["prometheus-adapter", "keda"] as const;

type MetricApi = "metrics.k8s.io" | "custom.metrics.k8s.io" | "external.metrics.k8s.io";

const API_OF_METRIC_TYPE: Record<string, MetricApi> = {
  Resource: "metrics.k8s.io",
  ContainerResource: "metrics.k8s.io",
  Pods: "custom.metrics.k8s.io",
  Object: "custom.metrics.k8s.io",
  External: "external.metrics.k8s.io",
};

function servedApis(resources: PlanResource[]): Map<MetricApi, string> {
  const served = new Map<MetricApi, string>();
  for (const r of resources) {
    const addon = r.type === EKS_ADDON ? String(r.inputs.addonName) : undefined;
    const chart = r.type === HELM_RELEASE ? String(r.inputs.chart) : undefined;
    if (
      (addon && (RESOURCE_METRICS_PROVIDERS.addons as readonly string[]).includes(addon)) ||
      (chart && (RESOURCE_METRICS_PROVIDERS.charts as readonly string[]).includes(chart))
    ) {
      served.set("metrics.k8s.io", addon ? `EKS add-on ${addon}` : `chart ${chart}`);
    }
    if (chart && (CUSTOM_METRICS_CHARTS as readonly string[]).includes(chart)) {
      served.set("custom.metrics.k8s.io", `chart ${chart}`);
      served.set("external.metrics.k8s.io", `chart ${chart}`);
    }
  }
  return served;
}

function metricTypes(r: PlanResource, apiVersion: string): string[] {
  const spec = (r.inputs.spec ?? {}) as Record<string, unknown>;
  // autoscaling/v1 only knows CPU utilisation.
  if (apiVersion === "autoscaling/v1") return ["Resource"];
  const metrics = (spec.metrics ?? []) as { type?: string }[];
  // autoscaling/v2 with no metrics defaults to 80% CPU.
  return metrics.length ? metrics.map((m) => String(m.type)) : ["Resource"];
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Containers of the workload an HPA scales, when the plan creates it. */
function targetContainers(resources: PlanResource[], hpa: PlanResource): Obj[] | undefined {
  const i = hpa.inputs as Obj;
  const ref = i.spec?.scaleTargetRef ?? {};
  const ns = i.metadata?.namespace ?? "default";
  const target = resources.find((r) => {
    const k = kubernetesKind(r);
    const m = (r.inputs as Obj).metadata ?? {};
    return k?.kind === ref.kind && k?.apiVersion === ref.apiVersion && m.name === ref.name && (m.namespace ?? "default") === ns;
  });
  return target ? (((target.inputs as Obj).spec?.template?.spec?.containers ?? []) as Obj[]) : undefined;
}

export function checkHpaMetricSources(resources: PlanResource[]): Check {
  const name = "hpa-metric-sources";
  const served = servedApis(resources);
  const problems: string[] = [];
  let hpas = 0;
  for (const r of resources) {
    const k = kubernetesKind(r);
    if (k?.kind !== "HorizontalPodAutoscaler") continue;
    hpas++;
    const metrics = (((r.inputs as Obj).spec ?? {}).metrics ?? []) as Obj[];
    const containers = targetContainers(resources, r);
    metrics.forEach((m, i) => {
      if (m.type !== "Resource" || m.resource?.target?.type !== "Utilization" || !containers) return;
      const missing = containers.filter((c) => c.resources?.requests?.[m.resource.name] === undefined).map((c) => c.name);
      if (missing.length)
        problems.push(
          `HPA "${r.name}" spec.metrics[${i}] targets ${m.resource.name} utilization, but container(s) ${missing.join(", ")} of its target request no ${m.resource.name}; set resources.requests.${m.resource.name}`,
        );
    });
    metricTypes(r, k.apiVersion).forEach((type, i) => {
      const api = API_OF_METRIC_TYPE[type];
      if (!api)
        problems.push(
          `HPA "${r.name}" spec.metrics[${i}].type ${type} is not a metric type (Resource, ContainerResource, Pods, Object, External)`,
        );
      else if (!served.has(api)) {
        const fix =
          api === "metrics.k8s.io"
            ? "install metrics-server (the EKS add-on metrics-server)"
            : `install an adapter that serves ${api} (${CUSTOM_METRICS_CHARTS.join(" or ")})`;
        problems.push(`HPA "${r.name}" spec.metrics[${i}] (${type}) reads ${api}, which nothing in the plan serves; ${fix}`);
      }
    });
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  if (hpas === 0) return { name, ok: true, detail: "no HPA in this plan" };
  return {
    name,
    ok: true,
    detail: `${hpas} HPAs; their metrics are served by ${[...served].map(([api, by]) => `${api} (${by})`).join(", ")}`,
  };
}
