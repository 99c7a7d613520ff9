import { z } from "zod";
import { RuntimeConfigError } from "../errors";
import { RUNTIME_ENV, RUNTIME_ENV_NAMES, type EnvVarSpec, type RuntimeEnvName } from "./contract";
import { runtimeSettingsSchema, type RuntimeSettings } from "./settings";

/** Everything a service reads at start-up: its identity, its runtime settings and its connections. */
export const runtimeConfigSchema = runtimeSettingsSchema.extend({
  serviceName: z.string().min(1).default("uaip-service"),
  port: z.number().int().min(1).max(65535).default(3000),
  environment: z.string().default("local"),
  redisAuthToken: z.string().optional(),
  /** Bearer token of the admin endpoints (from the service's Secret); unset keeps them off. */
  adminToken: z
    .string()
    .min(16, { message: "expected at least 16 characters (generate it, e.g. openssl rand -hex 32)" })
    .optional(),
  database: z
    .strictObject({
      host: z.string().default(""),
      port: z.number().int().min(1).max(65535).default(5432),
      name: z.string().default("uaip"),
      user: z.string().default("uaip"),
      ssl: z.boolean().default(false),
      /** PEM CA bundle; with `ssl` the server certificate and host name are verified against it (verify-full). @default "" (Node's CAs) */
      sslCaFile: z.string().default(""),
      /** Refresh the operation_stats view this often, ms; 0 turns the job off. @default 0 */
      statsRefreshIntervalMs: z.number().int().nonnegative().default(0),
      password: z.string().optional(),
    })
    .prefault({}),
});

/** The validated settings of one service: the runtime settings plus its name, port, environment and database. */
export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;

const ENV_PREFIX = "UAIP_";
const pathToEnv = new Map<string, RuntimeEnvName>(RUNTIME_ENV_NAMES.map((n) => [RUNTIME_ENV[n].path, n]));

function coerce(name: string, spec: EnvVarSpec, raw: string): unknown {
  const value = raw.trim();
  switch (spec.kind) {
    case "string":
    case "enum":
      return value;
    case "boolean":
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      throw new RuntimeConfigError(name, `${name}: expected true or false, got "${raw}"`);
    case "int":
    case "number": {
      // Plain decimal only: Number() would also take "0x10", "1e3", "0b11" and "" (0), which no one means in a ConfigMap.
      const pattern = spec.kind === "int" ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
      const n = Number(value);
      if (!pattern.test(value) || !Number.isFinite(n) || (spec.kind === "int" && !Number.isSafeInteger(n))) {
        const [expected, example] = spec.kind === "int" ? ["an integer", "300"] : ["a number", "0.85"];
        throw new RuntimeConfigError(
          name,
          `${name}: expected ${expected}, got "${raw}"; write plain decimal digits, e.g. ${example}`,
        );
      }
      return n;
    }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
}

/** The value at a dotted path ("cache.redis.ttl") or a key list (["services", 0, "name"]); undefined when absent. */
export function valueAt(source: unknown, path: string | readonly PropertyKey[]): unknown {
  const parts: readonly PropertyKey[] = typeof path === "string" ? path.split(".") : path;
  return parts.reduce<unknown>((node, part) => (node == null ? undefined : (node as Record<PropertyKey, unknown>)[part]), source);
}

/** The Redis namespace a service gets unless its settings name one: `uaip:<serviceName>:`. */
export function defaultKeyPrefix(serviceName: string): string {
  return `uaip:${serviceName}:`;
}

/**
 * Reads the runtime settings from environment variables (see RUNTIME_ENV), applies the
 * documented defaults and validates them. Any bad or unknown `UAIP_*` variable throws a
 * RuntimeConfigError that names the variable, the value and what was expected.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const spec = (RUNTIME_ENV as Record<string, EnvVarSpec>)[name];
    if (!spec) {
      throw new RuntimeConfigError(
        name,
        `${name}: unknown runtime variable; known ones are listed in RUNTIME_ENV (@uaip/runtime)`,
      );
    }
    setPath(raw, spec.path, coerce(name, spec, value));
  }
  const parsed = runtimeConfigSchema.safeParse(raw);
  if (parsed.success) {
    // One cache namespace per service unless the stack set a (possibly shared) prefix on purpose.
    parsed.data.cache.redis.keyPrefix ??= defaultKeyPrefix(parsed.data.serviceName);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const path = issue.path.join(".");
  const name = pathToEnv.get(path) ?? path;
  const value = valueAt(raw, path);
  // A secret's value never goes into a message (it would reach logs); its length is enough to fix it.
  const shown = (RUNTIME_ENV as Record<string, EnvVarSpec>)[name]?.secret
    ? `a secret of ${String(value).length} characters`
    : JSON.stringify(value);
  throw new RuntimeConfigError(name, `${name}: ${issue.message}, got ${shown}`, { cause: parsed.error });
}

/**
 * The inverse of loadRuntimeConfig for the non-secret variables: what the stack writes into a
 * service's ConfigMap. Values come out as strings, as Kubernetes wants them.
 */
export function runtimeSettingsToEnv(
  settings: RuntimeSettings &
    Partial<Pick<RuntimeConfig, "serviceName" | "port" | "environment">> & { database?: Partial<RuntimeConfig["database"]> },
): Partial<Record<RuntimeEnvName, string>> {
  const env: Partial<Record<RuntimeEnvName, string>> = {};
  for (const name of RUNTIME_ENV_NAMES) {
    const spec = RUNTIME_ENV[name];
    if (spec.secret) continue;
    const value = valueAt(settings, spec.path);
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}
