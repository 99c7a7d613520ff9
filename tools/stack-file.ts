import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
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
  const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    if (containsSecure(value)) secretKeys.push(key);
    const plain = replaceSecure(value);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  applyProjectConfig(projectFile, stack, config, secretKeys);
  return { project, stack, config, secretKeys };
}
