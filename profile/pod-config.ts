import {
  checkRuntimeEnv,
  RUNTIME_ENV,
  runtimeSettingsSchema,
  type RuntimeEnvIssue,
  type RuntimeEnvName,
} from "@uaip/runtime/config";
import { valueAt } from "./value-at";
import type { Check } from "./checks";
import { formatPath } from "./format-path";
import type { ProfileIssue } from "./errors";
import { isPlainObject } from "./presets";
import type { Profile } from "./schema";
import { redisClientMode } from "./data-tier";
import { serviceEnv, type PlatformEndpoints, type ServicePlan, type ServiceSettings } from "./service-settings";

/**
 * What each pod will load, judged at plan time by the runtime's own validator (`checkRuntimeEnv`,
 * the one `loadRuntimeConfig` runs in the pod) over the service's ConfigMap data as `serviceEnv`
 * builds it for the components, with the heap the pod will have (its NODE_OPTIONS). A value the pod
 * would refuse, crash on or ignore fails the plan, named by the profile key that wrote it.
 */

const MAX_OLD_SPACE = /--max-old-space-size=(\d+)/;

/**
 * The endpoints before the platform exists: stand-in host names (the platform's outputs; no profile
 * key writes them), the profile's own numbers where it has them.
 */
export function planEndpoints(p: Profile): PlatformEndpoints {
  const aws = p.platform === "aws";
  return {
    redisHost: "redis.plan.invalid",
    redisPort: 6379,
    redisTls: aws,
    redisMode: redisClientMode(p),
    dbHost: p.database.proxy ? "postgres-proxy.plan.invalid" : "postgres.plan.invalid",
    ...(p.database.proxy ? { dbDirectHost: "postgres.plan.invalid" } : {}),
    ...(p.database.readReplicas > 0 ? { dbReadHost: "postgres-replica.plan.invalid" } : {}),
    dbPort: 5432,
    dbName: p.database.name,
    dbUser: p.database.username,
    dbSsl: aws,
    dbSslCaFile: aws ? "/etc/uaip/rds-ca/global-bundle.pem" : "",
    dbStatsRefreshIntervalMs: p.database.statsRefreshInterval,
    cdnDistributionId: aws && p.cdn.enabled ? "EPLANSTANDIN" : "",
    ...(aws ? { awsRegion: "us-east-1" } : {}),
  };
}

/** Variables the platform or another profile key writes, whatever the service's runtime settings say. */
const WRITTEN_ELSEWHERE: Partial<Record<string, (i: number) => string>> = {
  "pool.minConnections": (i) => `services[${i}].pool.min`,
  "pool.maxConnections": (i) => `services[${i}].pool.max`,
  "database.statsRefreshIntervalMs": () => "database.statsRefreshInterval",
  serviceName: (i) => `services[${i}].name`,
  port: (i) => `services[${i}].port`,
  "cache.redis.host": () => "the platform (its Redis endpoint)",
  "cache.redis.port": () => "the platform (its Redis endpoint)",
  "cache.redis.tls": () => "the platform (TLS on AWS, none locally)",
  "cache.redis.mode": () => "redis.mode / redis.serverless",
  "database.readHost": () => "the platform (its read replicas, database.readReplicas)",
  "database.directHost": () => "the platform (the instance behind database.proxy)",
  "cache.cdn.distributionId": () => "the platform (its CloudFront distribution)",
};

/** The profile key that writes a settings path for service `i`: its own override, else the shared one. */
export function profileKeyFor(p: Profile, i: number, settingsPath: string): string {
  const elsewhere = WRITTEN_ELSEWHERE[settingsPath];
  if (elsewhere && !elsewhere(i).startsWith("the platform")) return elsewhere(i);
  if (valueAt(p.services[i]!.runtime ?? {}, settingsPath) !== undefined) return `services[${i}].runtime.${settingsPath}`;
  return `runtime.${settingsPath}`;
}

function heapMiBOf(settings: ServiceSettings): number {
  return Number(MAX_OLD_SPACE.exec(settings.nodeOptions)?.[1] ?? settings.runtime.memory.heapSizeLimit);
}

/** One pod-config check per service: the runtime's verdict on its env, each issue under the profile key. */
export function checkPodConfig(p: Profile, plan: ServicePlan): Check[] {
  const endpoints = planEndpoints(p);
  return plan.services.map((settings, i) => {
    const env = serviceEnv(p.environment, settings, endpoints);
    const heapMiB = heapMiBOf(settings);
    const { issues } = checkRuntimeEnv(env, { heapMiB });
    const name = `pod-config:${settings.profile.name}`;
    if (!issues.length)
      return {
        name,
        ok: true,
        detail: `services[${i}]: the runtime loads its ${Object.keys(env).length} variables with a ${heapMiB} MiB heap`,
      };
    return { name, ok: false, detail: issues.map((issue) => describe(p, i, issue, heapMiB)).join("; ") };
  });
}

function describe(p: Profile, i: number, issue: RuntimeEnvIssue, heapMiB: number): string {
  const spec = RUNTIME_ENV[issue.key as RuntimeEnvName];
  const key = spec ? profileKeyFor(p, i, spec.path) : issue.key;
  const fix = issue.fix ? `; ${issue.fix}` : "";
  return `${key} = ${issue.value ?? "nothing"} (${issue.key}, pod heap ${heapMiB} MiB from services[${i}] NODE_OPTIONS): ${issue.message}${fix}`;
}

/** Leaf paths of a plain object: ["cache.memory.ttl", 60000], ... */
function leaves(value: unknown, prefix: string[] = []): [string[], unknown][] {
  if (!isPlainObject(value)) return prefix.length ? [[prefix, value]] : [];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, [...prefix, k]));
}

/**
 * A runtime setting as the settings schema normalises it (the pods receive that form: "512Mi" is
 * written as 512 MiB), so a value in another accepted spelling is not mistaken for one overwritten
 * by another setting. A value the schema refuses on its own is compared as written.
 */
function asThePodsReadIt(path: readonly string[], value: unknown): unknown {
  const parsed = runtimeSettingsSchema.safeParse(path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value));
  return parsed.success ? valueAt(parsed.data, path) : value;
}

/**
 * "No dead parts": every runtime setting written in the stack file reaches the pods unchanged. A
 * setting that another key or the platform overwrites (`runtime.pool.maxConnections` while the pool
 * comes from `services[].pool.max`; `runtime.cache.redis.host` while the platform points at its Redis)
 * would be silently ignored: refused here, naming what writes the variable instead.
 */
export function ignoredRuntimeSettings(p: Profile, plan: ServicePlan, rawRuntime: unknown): ProfileIssue[] {
  const endpoints = planEndpoints(p);
  const issues: ProfileIssue[] = [];
  const seen = new Set<string>();
  plan.services.forEach((settings, i) => {
    const env = serviceEnv(p.environment, settings, endpoints);
    const written: [string, string[], unknown][] = [
      ...leaves(rawRuntime).map(([path, v]): [string, string[], unknown] => [formatPath(["runtime", ...path]), path, v]),
      ...leaves(settings.profile.runtime ?? {}).map(([path, v]): [string, string[], unknown] => [
        formatPath(["services", i, "runtime", ...path]),
        path,
        v,
      ]),
    ];
    for (const [key, path, value] of written) {
      const dotted = path.join(".");
      const name = (Object.keys(RUNTIME_ENV) as RuntimeEnvName[]).find((n) => RUNTIME_ENV[n].path === dotted);
      if (!name || RUNTIME_ENV[name].secret || seen.has(key)) continue;
      // A shared setting a service overrides on purpose is not ignored.
      if (key.startsWith("runtime.") && valueAt(settings.profile.runtime ?? {}, dotted) !== undefined) continue;
      if (env[name] === undefined || env[name] === String(asThePodsReadIt(path, value))) continue;
      seen.add(key);
      const source = WRITTEN_ELSEWHERE[dotted]?.(i) ?? "another setting";
      issues.push({
        path: key,
        message: `${JSON.stringify(value)} never reaches the pods: ${name} is ${JSON.stringify(env[name])} for services[${i}] ${settings.profile.name}, written by ${source}; remove this key${source.startsWith("the platform") ? "" : ` and set ${source}`}`,
      });
    }
  });
  return issues;
}
