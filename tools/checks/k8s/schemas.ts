import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import type { Check } from "../../../profile/checks";
import { SECRET_PLACEHOLDER } from "../../stack-file";
import { kubernetesKind, type PlanResource } from "./plan-resource";

/**
 * Every Kubernetes object of the plan against its API schema:
 * - built-in kinds with `kubernetes-models` (the Kubernetes OpenAPI schemas);
 * - ServiceMonitor/PrometheusRule with `@kubernetes-models/prometheus-operator`;
 * - TargetGroupBinding with ajv against the CRD vendored from the pinned aws-load-balancer-controller
 *   chart. The API server prunes unknown fields of custom resources without an error, so the
 *   CRD's objects are closed here (additionalProperties: false) and a misspelt field fails.
 * A kind with no schema fails too: nothing is waved through.
 */

const VENDOR = join(__dirname, "..", "..", "..", "vendor");
/** CRDs vendored from the charts the stack pins (see vendor/README.md). */
export const VENDORED_CRDS = [join(VENDOR, "k8s", "aws-load-balancer-controller-1.13.3", "crds.yaml")];

interface Model {
  new (data: unknown): { validate(): void };
}
type Validator = (object: Record<string, unknown>) => string | undefined;

type Schema = Record<string, unknown>;
/** Closes every object schema that lists its properties, unless it says it keeps unknown fields. */
export function closeObjects(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (out.properties && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true)
    out.additionalProperties = false;
  if (out.properties)
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, Schema>).map(([k, v]) => [k, closeObjects(v)]),
    );
  if (out.items && typeof out.items === "object") out.items = closeObjects(out.items as Schema);
  if (typeof out.additionalProperties === "object") out.additionalProperties = closeObjects(out.additionalProperties as Schema);
  return out;
}

let crdValidators: Map<string, ValidateFunction> | undefined;
function crdValidator(apiVersion: string, kind: string): ValidateFunction | undefined {
  if (!crdValidators) {
    crdValidators = new Map();
    // strict: false: CRD schemas carry x-kubernetes-* keywords ajv does not know; their formats
    // (int32, int64) are OpenAPI's, which ajv does not define: the types still hold.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    for (const file of VENDORED_CRDS) {
      for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
        const crd = doc.toJS() as {
          kind?: string;
          spec?: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema: Schema } }[] };
        };
        if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
        for (const v of crd.spec.versions) {
          if (v.schema)
            crdValidators.set(
              `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`,
              ajv.compile(closeObjects(v.schema.openAPIV3Schema)),
            );
        }
      }
    }
  }
  return crdValidators.get(`${apiVersion}/${kind}`);
}

function modelFor(apiVersion: string, kind: string): Model | undefined {
  const modules = apiVersion.includes("monitoring.coreos.com")
    ? [`@kubernetes-models/prometheus-operator/${apiVersion}`]
    : [`kubernetes-models/${apiVersion}`];
  for (const mod of modules) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const model = (require(mod) as Record<string, Model | undefined>)[kind];
      if (model) return model;
    } catch {
      // no such group/version in the package
    }
  }
  return undefined;
}

export function validatorFor(apiVersion: string, kind: string): Validator | undefined {
  const model = modelFor(apiVersion, kind);
  if (model) {
    return (object) => {
      try {
        new model(object).validate();
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    };
  }
  const crd = crdValidator(apiVersion, kind);
  if (crd)
    return (object) =>
      crd(object)
        ? undefined
        : (crd.errors ?? [])
            .map(
              (e) =>
                `${e.instancePath || "/"} ${e.message}${e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : ""}`,
            )
            .join(", ");
  return undefined;
}

/**
 * @pulumi/kubernetes marks a Secret's whole `data`/`stringData` secret, so the plan shows the
 * marker instead of the map; validate the rest of the Secret with an empty map in its place.
 */
function withoutRedactedSecretData(kind: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (kind !== "Secret") return inputs;
  const out = { ...inputs };
  for (const key of ["data", "stringData"]) if (out[key] === SECRET_PLACEHOLDER) out[key] = {};
  return out;
}

export function checkKubernetesSchemas(resources: PlanResource[]): Check {
  const name = "kubernetes-schemas";
  const problems: string[] = [];
  const kinds = new Set<string>();
  let checked = 0;
  for (const r of resources) {
    const k = kubernetesKind(r);
    if (!k) continue;
    const validate = validatorFor(k.apiVersion, k.kind);
    if (!validate) {
      problems.push(
        `${r.type} "${r.name}": no schema for ${k.apiVersion} ${k.kind}; vendor its CRD and list it in VENDORED_CRDS (tools/checks/k8s/schemas.ts)`,
      );
      continue;
    }
    checked++;
    kinds.add(k.kind);
    const error = validate(withoutRedactedSecretData(k.kind, r.inputs));
    if (error) problems.push(`${r.type} "${r.name}": ${error}`);
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return { name, ok: true, detail: `${checked} Kubernetes objects (${[...kinds].sort().join(", ")}) match their API schemas` };
}
