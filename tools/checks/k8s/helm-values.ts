import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { Check } from "../../../profile/checks";
import { HELM_RELEASE, type PlanResource } from "./plan-resource";

/**
 * Helm values against the pinned chart's own values.yaml. Helm ignores a key the chart doesn't
 * read, so a misspelt or moved key (say `kubeScheduler.enable`) silently does nothing; here it fails.
 *
 * A key is known when the chart's values.yaml has it. Below a key whose default is an empty map or
 * null (annotations, nodeSelector, storageSpec, ...) anything goes: the chart passes that map
 * through. FREE_FORM lists the few non-empty defaults the chart also passes through whole.
 * Subcharts (kube-prometheus-stack's grafana) are checked against their own values.yaml, with the
 * parent's overrides for that subchart merged in.
 */

const CHARTS_DIR = join(__dirname, "..", "..", "..", "vendor", "charts");

interface ChartValues {
  /** vendor/charts/<dir>/values.yaml */
  dir: string;
  /** Subchart key -> its vendored chart folder (at the version the parent's Chart.yaml pins). */
  subcharts?: Record<string, string>;
  /** Dotted paths whose content the chart passes through unread (beyond empty-map defaults), with why. */
  freeForm?: Record<string, string>;
  /** Keys values.yaml documents only as a comment (so YAML has no such key) that the templates read, with where. */
  commented?: Record<string, string>;
}

/** Vendored values.yaml per `<chart>@<version>` the stack pins (see vendor/README.md). */
export const CHART_VALUES: Record<string, ChartValues> = {
  "kube-prometheus-stack@79.10.0": {
    dir: "kube-prometheus-stack-79.10.0",
    subcharts: { grafana: "grafana-10.3.0" },
    commented: {
      "grafana.adminPassword":
        "grafana-10.3.0 values.yaml line 492 `# adminPassword: strongpassword`; templates/_config.tpl reads .Values.adminPassword",
    },
    freeForm: {
      "alertmanager.config":
        "Alertmanager's own configuration file, rendered as is (its schema is Alertmanager's, not the chart's)",
    },
  },
  "aws-load-balancer-controller@1.13.3": { dir: "aws-load-balancer-controller-1.13.3" },
  "cluster-autoscaler@9.47.0": {
    dir: "cluster-autoscaler-9.47.0",
    freeForm: { extraArgs: "every entry becomes a --key=value flag of cluster-autoscaler" },
  },
};

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const cache = new Map<string, Obj>();
function chartDefaults(dir: string): Obj {
  if (!cache.has(dir)) cache.set(dir, (parse(readFileSync(join(CHARTS_DIR, dir, "values.yaml"), "utf8")) ?? {}) as Obj);
  return cache.get(dir)!;
}

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

/** Dotted paths of `values` that the chart's defaults don't know. */
export function unknownKeys(values: Obj, defaults: Obj, freeForm: Record<string, string> = {}, prefix = ""): string[] {
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!(key in defaults)) {
      unknown.push(path);
      continue;
    }
    const d = defaults[key];
    // Empty map or null default: the chart passes the map through; a free-form path likewise.
    if (path in freeForm || d === null || (isMap(d) && Object.keys(d).length === 0)) continue;
    if (isMap(value) && isMap(d)) unknown.push(...unknownKeys(value, d, freeForm, path));
  }
  return unknown;
}

/** Unknown keys of one release's values, subcharts included. */
export function unknownReleaseValues(chart: ChartValues, values: Obj): string[] {
  const defaults = chartDefaults(chart.dir);
  const unknown: string[] = [];
  const own: Obj = {};
  for (const [key, value] of Object.entries(values)) {
    const sub = chart.subcharts?.[key];
    if (sub && isMap(value)) {
      const subDefaults = deepMerge(chartDefaults(sub), isMap(defaults[key]) ? (defaults[key] as Obj) : {});
      unknown.push(...unknownKeys(value, subDefaults, {}, key));
    } else own[key] = value;
  }
  return [...unknownKeys(own, defaults, chart.freeForm), ...unknown];
}

export function checkHelmValues(resources: PlanResource[]): Check {
  const name = "helm-values";
  const problems: string[] = [];
  const checked: string[] = [];
  for (const r of resources.filter((x) => x.type === HELM_RELEASE)) {
    const id = `${String(r.inputs.chart)}@${String(r.inputs.version)}`;
    const chart = CHART_VALUES[id];
    if (!chart) {
      problems.push(
        `release "${r.name}": no vendored values.yaml for ${id}; fetch the chart at that version into vendor/charts/ and add it to CHART_VALUES (tools/checks/k8s/helm-values.ts)`,
      );
      continue;
    }
    const values = r.inputs.values;
    if (values !== undefined && !isMap(values)) {
      problems.push(
        `release "${r.name}": values are ${JSON.stringify(values)}, not a map the plan can review; mark only the secret fields secret`,
      );
      continue;
    }
    const unknown = unknownReleaseValues(chart, (values ?? {}) as Obj).filter((k) => !chart.commented?.[k]);
    if (unknown.length)
      problems.push(
        `release "${r.name}" (${id}): ${unknown.map((k) => `values.${k}`).join(", ")} not in the chart's values.yaml, so Helm ignores ${unknown.length > 1 ? "them" : "it"}; fix the key or remove it`,
      );
    else checked.push(id);
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: checked.length
      ? `every values key of ${checked.join(", ")} is one the pinned chart reads`
      : "no Helm release in this plan",
  };
}
