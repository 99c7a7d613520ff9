import { z } from "zod";
import { RuntimeConfigError } from "../errors";
import { RUNTIME_ENV, RUNTIME_ENV_NAMES, type EnvVarSpec, type RuntimeEnvName } from "./contract";
import { durationMs } from "./duration";
import { currentPodLimits, heapIssues, type PodLimits } from "./heap";
import { closestName } from "./near-miss";
import { runtimeSettingsSchema, type RuntimeSettings } from "./settings";

/** Everything a service reads at start-up: its identity, its runtime settings and its connections. */
export const runtimeConfigSchema = runtimeSettingsSchema.extend({
  serviceName: z.string().min(1).default("uaip-service"),
  port: z.number().int().min(1).max(65535).default(3000),
  environment: z.string().default("local"),
  /**
   * How many replicas the service may run (the HPA max). The limiter's in-memory fallback divides the
   * limit by it, so a Redis outage cannot multiply the limit by the replica count. @default 1
   */
  replicasMax: z.number().int().min(1).max(100_000).default(1),
  redisAuthToken: z.string().optional(),
  /** Bearer token of the admin endpoints (from the service's Secret); unset keeps them off. */
  adminToken: z
    .string()
    .min(16, { message: "expected at least 16 characters (generate it, e.g. openssl rand -hex 32)" })
    .optional(),
  database: z
    .strictObject({
      host: z.string().default(""),
      /**
       * A read replica for read-only queries (`pool.read`); reads there may lag the writer by the
       * replica lag. @default "" (no reader pool: reads go to `host`)
       */
      readHost: z.string().default(""),
      /**
       * The writer itself when `host` is RDS Proxy: session-level work (the migrations' and the stats
       * refresher's advisory locks) goes here, since it would pin a proxied session. @default "" (`host`)
       */
      directHost: z.string().default(""),
      port: z.number().int().min(1).max(65535).default(5432),
      name: z.string().default("uaip"),
      user: z.string().default("uaip"),
      ssl: z.boolean().default(false),
      /** PEM CA bundle; with `ssl` the server certificate and host name are verified against it (verify-full). @default "" (Node's CAs) */
      sslCaFile: z.string().default(""),
      /** Refresh the operation_stats view this often, ms; 0 turns the job off. @default 0 */
      statsRefreshIntervalMs: durationMs(0).default(0),
      password: z.string().optional(),
    })
    .prefault({}),
});

/** The validated settings of one service: the runtime settings plus its name, port, environment and database. */
export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;

const ENV_PREFIX = "UAIP_";
const pathToEnv = new Map<string, RuntimeEnvName>(RUNTIME_ENV_NAMES.map((n) => [RUNTIME_ENV[n].path, n]));
const CONTRACT = RUNTIME_ENV as Record<string, EnvVarSpec>;

/** One bad variable: its name, its value as written (a secret's length only) and what to do. */
export interface RuntimeEnvIssue {
  /** The variable, e.g. "UAIP_POOL_MAX". */
  key: string;
  /** The value as written in the environment; a secret shows as its length only; undefined when unset. */
  value: string | undefined;
  /** What was expected, without the key. */
  message: string;
  /** How to fix it, when the message does not already say. */
  fix?: string;
}

/** Every bad `UAIP_*` variable at once; `key` is the first one (RuntimeConfigError's contract). */
export class RuntimeEnvError extends RuntimeConfigError {
  constructor(
    readonly issues: RuntimeEnvIssue[],
    options?: { cause?: unknown },
  ) {
    super(issues[0]!.key, issues.map(formatRuntimeEnvIssue).join("\n"), options);
  }
}

/** `KEY: expected ..., got "value"; fix`: the one line format of an issue. */
export function formatRuntimeEnvIssue(issue: RuntimeEnvIssue): string {
  const shown = issue.value === undefined ? "nothing" : CONTRACT[issue.key]?.secret ? issue.value : JSON.stringify(issue.value);
  return `${issue.key}: ${issue.message}, got ${shown}${issue.fix ? `; ${issue.fix}` : ""}`;
}

/** Why a raw value does not have the variable's kind, or the coerced value. */
function coerce(spec: EnvVarSpec, raw: string): { value: unknown } | { problem: string; fix?: string } {
  const value = raw.trim();
  switch (spec.kind) {
    case "string":
    case "enum":
      return { value };
    case "boolean":
      if (/^(true|1|yes)$/i.test(value)) return { value: true };
      if (/^(false|0|no)$/i.test(value)) return { value: false };
      return { problem: "expected true or false" };
    case "int":
    case "number": {
      // Plain decimal only: Number() would also take "0x10", "1e3", "0b11" and "" (0), which no one means in a ConfigMap.
      const pattern = spec.kind === "int" ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
      const n = Number(value);
      if (!pattern.test(value) || !Number.isFinite(n) || (spec.kind === "int" && !Number.isSafeInteger(n))) {
        const [expected, example] = spec.kind === "int" ? ["an integer", "300"] : ["a number", "0.85"];
        return { problem: `expected ${expected}`, fix: `write plain decimal digits, e.g. ${example}` };
      }
      return { value: n };
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

/** Numbers read so far, over the defaults: what the heap rules judge even when another variable is bad. */
function numbersOver<T>(defaults: T, raw: Record<string, unknown>, paths: string[]): T {
  const copy = structuredClone(defaults) as Record<string, unknown>;
  for (const path of paths) {
    const value = valueAt(raw, path);
    if (typeof value === "number") setPath(copy, path, value);
  }
  return copy as T;
}

/**
 * The one validator of what a service loads, used twice: by `loadRuntimeConfig` in the service
 * (with the process's own heap) and by the stack's plan over each ConfigMap (with the heap the pod
 * will have). Returns every bad variable at once:
 * - a value that does not have its variable's kind, range or unit (the settings schema);
 * - an unknown `UAIP_*` name that is a near miss of a known one (see near-miss.ts), with the name it
 *   likely meant; other `UAIP_*` names (`UAIP_STACK` of the k6 scripts) are someone else's and are left alone;
 * - a size that does not fit the heap (heap.ts).
 */
export function checkRuntimeEnv(
  env: Readonly<Record<string, string | undefined>>,
  limits?: PodLimits,
): { config?: RuntimeConfig; issues: RuntimeEnvIssue[] } {
  const raw: Record<string, unknown> = {};
  const issues: RuntimeEnvIssue[] = [];
  const written = (name: string): string | undefined => {
    const value = env[name];
    // A secret's value never goes into a message (it would reach logs); its length is enough to fix it.
    return value !== undefined && CONTRACT[name]?.secret ? `a secret of ${value.length} characters` : value;
  };
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const spec = CONTRACT[name];
    if (!spec) {
      const meant = closestName(name, RUNTIME_ENV_NAMES, ENV_PREFIX);
      if (meant)
        issues.push({
          key: name,
          value,
          message: "unknown runtime variable",
          fix: `did you mean ${meant}? Rename it (as written it is ignored and ${meant} keeps its default)`,
        });
      continue;
    }
    const coerced = coerce(spec, value);
    if ("problem" in coerced) issues.push({ key: name, value: written(name), message: coerced.problem, fix: coerced.fix });
    else setPath(raw, spec.path, coerced.value);
  }
  const parsed = runtimeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.join(".");
      const name = pathToEnv.get(path) ?? path;
      issues.push({ key: name, value: written(name), message: issue.message });
    }
  }
  if (limits) {
    const settings = parsed.success
      ? parsed.data
      : numbersOver(runtimeConfigSchema.parse({}), raw, ["cache.memory.maxSize", "memory.heapSizeLimit"]);
    for (const h of heapIssues(settings, limits)) {
      const name = pathToEnv.get(h.path)!;
      if (!issues.some((i) => i.key === name)) issues.push({ key: name, value: written(name), message: h.message, fix: h.fix });
    }
  }
  if (issues.length || !parsed.success) return { issues };
  // One cache namespace per service unless the stack set a (possibly shared) prefix on purpose.
  parsed.data.cache.redis.keyPrefix ??= defaultKeyPrefix(parsed.data.serviceName);
  return { config: parsed.data, issues };
}

/**
 * Reads the runtime settings from environment variables (see RUNTIME_ENV), applies the
 * documented defaults and validates them against this process's heap (`limits`; by default what
 * V8 enforces). Throws a RuntimeEnvError (a RuntimeConfigError) listing every bad variable, each
 * with its value as written and the fix; see checkRuntimeEnv for the rules.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env, limits: PodLimits = currentPodLimits()): RuntimeConfig {
  const { config, issues } = checkRuntimeEnv(env, limits);
  if (!config) throw new RuntimeEnvError(issues);
  return config;
}

/**
 * The inverse of loadRuntimeConfig for the non-secret variables: what the stack writes into a
 * service's ConfigMap. Values come out as strings, as Kubernetes wants them.
 */
export function runtimeSettingsToEnv(
  settings: RuntimeSettings &
    Partial<Pick<RuntimeConfig, "serviceName" | "port" | "environment" | "replicasMax">> & {
      database?: Partial<RuntimeConfig["database"]>;
    },
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
