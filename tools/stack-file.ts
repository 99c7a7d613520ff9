import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { isMap, isScalar, isSeq, parse, parseDocument, type Node } from "yaml";
import { closestName } from "@uaip/runtime/config";
import { SECRET_KEYS } from "../config";
import { StackError } from "../profile/errors";

/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program:
 * `namespace:key` -> string (structured values as JSON text). `secure:` values cannot be
 * decrypted without the CLI, so they become the placeholder "[secret]", marked secret.
 */
export const SECRET_PLACEHOLDER = "[secret]";

export interface StackConfig {
  project: string;
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
}

interface ProjectConfigDeclaration {
  type?: string;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
}

interface ProjectFile {
  name: string;
  config: Record<string, ProjectConfigDeclaration | string | number | boolean>;
}

function readProject(dir: string): ProjectFile {
  const project = parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as Partial<ProjectFile> | null;
  if (!project?.name) throw new StackError("UAIP_STACK_FILE_INVALID", `${join(dir, "Pulumi.yaml")}: missing "name"`);
  return { name: project.name, config: project.config ?? {} };
}

export function projectName(dir: string): string {
  return readProject(dir).name;
}

/**
 * What the Pulumi CLI does with Pulumi.yaml's config block before a program runs: a declared
 * key missing from the stack takes its default (or value), a key with neither is an error, and
 * a key declared secret must be set with --secret.
 */
function applyProjectConfig(project: ProjectFile, stack: string, config: Record<string, string>, secretKeys: string[]): void {
  const missing: string[] = [];
  for (const [rawKey, decl] of Object.entries(project.config)) {
    const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
    const declaration: ProjectConfigDeclaration = typeof decl === "object" && decl !== null ? decl : { value: decl };
    if (key in config) {
      if (declaration.secret && !secretKeys.includes(key))
        throw new StackError(
          "UAIP_STACK_FILE_INVALID",
          `Stack '${stack}' with configuration key '${rawKey}' must be encrypted as it's secret`,
        );
      continue;
    }
    const fallback = declaration.value ?? declaration.default;
    if (fallback === undefined) {
      if (key.startsWith(`${project.name}:`)) missing.push(rawKey);
      continue;
    }
    config[key] = typeof fallback === "string" ? fallback : JSON.stringify(fallback);
  }
  if (missing.length)
    throw new StackError(
      "UAIP_STACK_FILE_INVALID",
      `Stack '${stack}' is missing configuration value(s) ${missing.map((k) => `'${k}'`).join(", ")}`,
    );
}

/** Stack names that have a Pulumi.<stack>.yaml in `dir`, sorted. */
export function listStacks(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

function isSecure(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value
  );
}

/** True if any `secure:` value is nested anywhere inside (then the whole key is secret). */
function containsSecure(value: unknown): boolean {
  if (isSecure(value)) return true;
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecure);
  return false;
}

function replaceSecure(value: unknown): unknown {
  if (isSecure(value)) return SECRET_PLACEHOLDER;
  if (Array.isArray(value)) return value.map(replaceSecure);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecure(v)]));
  return value;
}

/** Top-level keys of a stack file (Pulumi's ProjectStack). */
const STACK_FILE_KEYS = ["config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"];

/**
 * The config keys a provider takes, read from its installed SDK (`@pulumi/<namespace>/config/vars.js`
 * defines one getter per key), so the list is the version the program runs with. Undefined when the
 * namespace is not an installed provider.
 */
export function providerConfigKeys(namespace: string): string[] | undefined {
  let file: string;
  try {
    file = join(dirname(require.resolve(`@pulumi/${namespace}/package.json`)), "config", "vars.js");
  } catch {
    return undefined;
  }
  if (!existsSync(file)) return undefined;
  return [...readFileSync(file, "utf8").matchAll(/Object\.defineProperty\(exports, "(\w+)"/g)].map((m) => m[1]!);
}

/** Namespaces with a known key list: the project's (checked by the profile) and the installed providers'. */
const PROVIDER_NAMESPACES = ["aws", "docker", "kubernetes", "random"];

/**
 * Provider keys: a key the provider does not take is silently ignored by it (`aws:regoin` leaves
 * the region at its default), so any unknown key of an installed provider is refused, with the key it
 * likely meant (the near-miss rule of @uaip/runtime); a namespace that is a near miss of a known one
 * (`awss:region`) too. Other namespaces are someone else's and left alone.
 */
function providerKeyIssues(project: string, keys: string[]): string[] {
  const issues: string[] = [];
  const namespaces = [project, "pulumi", ...PROVIDER_NAMESPACES];
  for (const key of keys) {
    const [namespace, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    if (namespace === project || namespace === "pulumi") continue;
    const known = providerConfigKeys(namespace);
    if (!known) {
      const meant = closestName(namespace, namespaces);
      if (meant) issues.push(`${key}: unknown config namespace "${namespace}"; did you mean ${meant}:${name}?`);
      continue;
    }
    if (known.includes(name.split(".")[0]!)) continue;
    const meant = closestName(name, known);
    issues.push(
      `${key}: the ${namespace} provider has no key "${name}" and would ignore it; ${meant ? `did you mean ${namespace}:${meant}?` : `use one of: ${known.join(", ")}`}`,
    );
  }
  return issues;
}

/**
 * Numbers JSON cannot carry as written: the program gets config as JSON text, where `.nan`, `.inf` and
 * `1e400` become null and 9007199254740993 becomes another number. Refused with the source text, so
 * the message shows what the file says.
 */
function unrepresentableNumbers(node: Node | null | undefined, path: string | undefined, issues: string[]): void {
  if (isScalar(node)) {
    const { value } = node;
    const text = (node as { source?: string }).source ?? String(value);
    if (typeof value === "number" && !Number.isFinite(value))
      issues.push(`${path}: expected a finite number, got ${text}; write a number, e.g. 300`);
    else if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) && /^[-+]?\d+$/.test(text))
      issues.push(
        `${path}: ${text} is beyond 2^53 − 1 and would reach the program as ${value}; use a smaller number, or quote it if it is a name`,
      );
  } else if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      unrepresentableNumbers(pair.value as Node, path === undefined ? key : `${path}.${key}`, issues);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => unrepresentableNumbers(item as Node, `${path}[${i}]`, issues));
  }
}

function invalid(file: string, lines: string[]): StackError {
  return new StackError("UAIP_STACK_FILE_INVALID", `${file}:\n${lines.map((l) => `  ${l}`).join("\n")}`);
}

export function readStackConfig(dir: string, stack: string, stackFile?: string): StackConfig {
  const projectFile = readProject(dir);
  const project = projectFile.name;
  const file = stackFile ?? join(dir, `Pulumi.${stack}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new StackError(
      "UAIP_STACK_FILE_INVALID",
      `no stack file ${file}; stacks here: ${listStacks(dir).join(", ") || "none"}`,
    );
  }
  // Merge keys (`<<: *base`) resolve as in the Pulumi CLI, whose YAML reader (gopkg.in/yaml.v3) merges
  // them (`pulumi config get` shows the merged object: pulumi/pulumi#6480).
  const document = parseDocument(text, { merge: true });
  if (document.errors.length)
    throw invalid(
      file,
      document.errors.map((e) => e.message),
    );
  const doc = document.toJS({ maxAliasCount: 100 }) as unknown;
  const top = typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  const rawConfig = top?.config;
  if (typeof rawConfig !== "object" || rawConfig === null || Array.isArray(rawConfig)) {
    const shape =
      doc == null
        ? "empty"
        : Array.isArray(doc)
          ? "a list"
          : top
            ? `a map of ${Object.keys(top).join(", ") || "nothing"}`
            : "a scalar";
    const hints = top
      ? Object.keys(top).flatMap((k) =>
          closestName(k, STACK_FILE_KEYS) === "config" ? [`did you mean config: instead of ${k}:?`] : [],
        )
      : [];
    throw invalid(file, [
      `this file has no config map (it is ${shape}${top && "config" in top ? `, and config is ${JSON.stringify(rawConfig)}` : ""}); a stack file is a map whose config: key holds the stack's settings, e.g. config: { ${project}:environment: dev }${hints.length ? `; ${hints.join(" ")}` : ""}`,
    ]);
  }
  const issues: string[] = [];
  const configNode = (document.contents as { get(key: string, keepScalar: true): unknown } | null)?.get("config", true) as Node;
  unrepresentableNumbers(configNode, undefined, issues);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(rawConfig as Record<string, unknown>)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    if (containsSecure(value)) secretKeys.push(key);
    else if ((SECRET_KEYS as readonly string[]).some((k) => key === `${project}:${k}`) && value !== "" && value != null)
      issues.push(
        `${key}: a secret written in plain text (it would be stored and shown as is); remove the line and run: pulumi config set --secret ${key} <value> -s ${stack}`,
      );
    const plain = replaceSecure(value);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  issues.push(...providerKeyIssues(project, Object.keys(config)));
  if (issues.length) throw invalid(file, issues);
  applyProjectConfig(projectFile, stack, config, secretKeys);
  return { project, stack, config, secretKeys };
}
