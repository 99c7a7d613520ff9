/**
 * Every EKS add-on's `configurationValues` against that add-on's own schema, the one EKS checks
 * them with (`aws eks describe-addon-configuration --addon-name <name> --addon-version <v>`),
 * vendored in vendor/aws/eks-addons/ with its source and version (vendor/README.md). The add-on's
 * schema, not the Helm chart's: it is stricter (amazon-vpc-cni-k8s#2173 and #2272: keys the chart
 * reads, refused by the add-on), and EKS refuses the whole create or update on one unknown key.
 * A value outside the schema fails the plan, naming the add-on, the key and the schema file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import Ajv2019 from "ajv/dist/2019";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json";
import type { Check } from "../../profile/checks";
import { EKS_ADDON, type PlanResource } from "./k8s/plan-resource";

export const ADDON_SCHEMA_DIR = join(__dirname, "..", "..", "vendor", "aws", "eks-addons");

/**
 * EKS's own string formats: every env-style value is a string, and `format` says which strings
 * (`"true"`/`"false"`, or digits). ajv knows neither name; EKS refuses `"yes"` for a boolean.
 */
const EKS_FORMATS = { boolean: /^(true|false)$/, integer: /^-?\d+$/ };

export interface AddonSchema {
  addon: string;
  version: string;
  file: string;
  validate: ValidateFunction;
}

/** The vendored schemas, by add-on name, oldest version first: `<addon>.<version>.schema.json`. */
export function vendoredAddonSchemas(dir = ADDON_SCHEMA_DIR): Map<string, AddonSchema[]> {
  const out = new Map<string, AddonSchema[]>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".schema.json"))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  for (const file of files) {
    const m = /^(.+?)\.(v\d[^/]*)\.schema\.json$/.exec(file);
    if (!m) continue;
    const schema = JSON.parse(readFileSync(join(dir, file), "utf8")) as { $schema?: string };
    // EKS's schemas name draft-06 or 2019-09; allErrors so every bad key is listed at once.
    const ajv = /2019-09/.test(schema.$schema ?? "")
      ? new Ajv2019({ allErrors: true, strict: false, formats: EKS_FORMATS })
      : new Ajv({ allErrors: true, strict: false, formats: EKS_FORMATS }).addMetaSchema(draft06);
    const entry = { addon: m[1]!, version: m[2]!, file: `vendor/aws/eks-addons/${file}`, validate: ajv.compile(schema) };
    out.set(entry.addon, [...(out.get(entry.addon) ?? []), entry]);
  }
  return out;
}

const VENDOR_COMMAND = (addon: string, version: string) =>
  `aws eks describe-addon-configuration --addon-name ${addon} --addon-version ${version} --query configurationSchema --output text > vendor/aws/eks-addons/${addon}.${version}.schema.json`;

/**
 * The schema EKS will check an add-on's values with: the pinned version's, or, when the stack
 * pins none (EKS then installs its default, which moves), the newest vendored one. A pinned
 * version without its schema here is a problem, not a silent fallback: another version's schema
 * can allow keys this one refuses.
 */
export function schemaFor(
  schemas: Map<string, AddonSchema[]>,
  addon: string,
  pinned: string | undefined,
): { schema?: AddonSchema; problem?: string } {
  const vendored = schemas.get(addon);
  if (!vendored?.length) return {};
  if (!pinned) return { schema: vendored[vendored.length - 1] };
  const schema = vendored.find((s) => s.version === pinned);
  if (schema) return { schema };
  return {
    problem: `${addon} pins addonVersion ${pinned}, whose add-on schema is not vendored (vendored: ${vendored.map((s) => s.version).join(", ")}); vendor it (${VENDOR_COMMAND(addon, pinned)}) or pin a vendored version`,
  };
}

/** Problems of one add-on's configurationValues (a JSON string), each with the key and the fix. */
export function addonConfigProblems(addon: string, configurationValues: string, schema: AddonSchema): string[] {
  let values: unknown;
  try {
    values = JSON.parse(configurationValues);
  } catch (err) {
    return [`${addon}: configurationValues is not JSON (${(err as Error).message})`];
  }
  if (schema.validate(values)) return [];
  return (schema.validate.errors ?? []).map((e) => {
    const key = e.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(root)";
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    const at = extra ? `${key === "(root)" ? "" : `${key}.`}${extra}` : key;
    return `${addon} configurationValues ${at}: ${e.message}${extra ? " (EKS refuses keys its add-on schema does not define)" : ""}; fix it against ${schema.file} (${addon} ${schema.version})`;
  });
}

export function checkEksAddonConfigurations(resources: PlanResource[], schemas = vendoredAddonSchemas()): Check {
  const name = "eks-addon-configuration";
  const problems: string[] = [];
  const validated: string[] = [];
  const unvalidated: string[] = [];
  for (const r of resources.filter((x) => x.type === EKS_ADDON)) {
    const addon = String(r.inputs.addonName);
    const values = r.inputs.configurationValues;
    if (typeof values !== "string" || values === "") continue;
    const pinned = typeof r.inputs.addonVersion === "string" && r.inputs.addonVersion !== "" ? r.inputs.addonVersion : undefined;
    const { schema, problem } = schemaFor(schemas, addon, pinned);
    if (problem) {
      problems.push(problem);
      continue;
    }
    if (!schema) {
      unvalidated.push(addon);
      continue;
    }
    const p = addonConfigProblems(addon, values, schema);
    problems.push(...p);
    if (!p.length)
      validated.push(
        `${addon} (${schema.version} schema${pinned ? ", the pinned version" : "; version not pinned, EKS installs its default"})`,
      );
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  const notYet = unvalidated.length
    ? `; NOT validated, no add-on schema vendored: ${unvalidated.join(", ")} (vendor it: ${VENDOR_COMMAND("<name>", "<version>")})`
    : "";
  return {
    name,
    ok: true,
    detail: `${validated.length ? `configurationValues within the add-on's own schema: ${validated.join(", ")}` : "no add-on configuration validated"}${notYet}`,
  };
}
