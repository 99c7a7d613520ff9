import type { z } from "zod";
import { runtimeSettingsSchema } from "@uaip/runtime/config";
import { ProfileError, type ProfileIssue } from "./errors";
import { deepMerge, isPlainObject, presetFor, serviceDefaultsFor } from "./presets";
import { profileRuleIssues } from "./provider-rules";
import { ENVIRONMENTS, profileSchema, type Environment, type Profile } from "./schema";

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    "",
  );
}

/** The value at `path` in `source` (undefined where the path leaves it): what a zod issue points at. */
function valueAt(source: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, part) => (node == null ? undefined : (node as Record<PropertyKey, unknown>)[part]), source);
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** Turns zod issues into key-named messages with the bad value and, where clear, the fix. */
function fromZod(error: z.ZodError, input: unknown, prefix: readonly PropertyKey[] = []): ProfileIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const parent = valueAt(input, issue.path);
      return {
        path: formatPath([...prefix, ...issue.path, issue.keys[0]]),
        message: `unknown key; remove it or use one of: ${Object.keys(isPlainObject(parent) ? parent : {})
          .filter((k) => !issue.keys.includes(k))
          .join(", ")}`,
      };
    }
    return {
      path: formatPath([...prefix, ...issue.path]),
      message: `${issue.message.replace(/^Invalid input: /, "").replace(/, received \w+$/, "")}, got ${show(valueAt(input, issue.path))}`,
    };
  });
}

/** Rules that span fields: zod checks each field, these check how fields relate. */
function crossFieldIssues(p: Profile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const seenNames = new Map<string, number>();
  const seenPorts = new Map<number, number>();
  p.services.forEach((s, i) => {
    const at = `services[${i}]`;
    if (s.hpa.max < s.hpa.min)
      add(`${at}.hpa.max`, `expected integer >= hpa.min (${s.hpa.min}), got ${s.hpa.max}; raise hpa.max or lower hpa.min`);
    if (s.pool.max < s.pool.min)
      add(`${at}.pool.max`, `expected integer >= pool.min (${s.pool.min}), got ${s.pool.max}; raise pool.max or lower pool.min`);
    if (s.image && s.build) add(`${at}.image`, "set either image or build, not both");
    if (seenNames.has(s.name))
      add(`${at}.name`, `duplicate service name "${s.name}" (also services[${seenNames.get(s.name)}]); names must be unique`);
    if (seenPorts.has(s.port))
      add(`${at}.port`, `duplicate port ${s.port} (also services[${seenPorts.get(s.port)}]); give each service its own port`);
    seenNames.set(s.name, i);
    seenPorts.set(s.port, i);
  });
  if (p.platform === "aws" && p.cluster.endpointPublicAccess && p.cluster.publicAccessCidrs.length === 0) {
    add(
      "cluster.publicAccessCidrs",
      "expected the CIDRs that run `pulumi up`/kubectl (CI or VPN egress) when cluster.endpointPublicAccess is true, got []; list them or set endpointPublicAccess false",
    );
  }
  // The estimate prices AWS resources only (tools/cost/): a docker stack's budget would never be checked.
  if (p.platform !== "aws" && p.cost.monthlyBudget !== undefined)
    add(
      "cost.monthlyBudget",
      `expected no budget on platform "${p.platform}" (the plan's cost estimate prices AWS resources only), got ${p.cost.monthlyBudget}; remove it`,
    );
  const n = p.cluster.nodes;
  if (n.min > n.desired || n.desired > n.max)
    add("cluster.nodes", `expected min <= desired <= max, got ${n.min}/${n.desired}/${n.max}`);
  if (p.database.maxAllocatedStorage < p.database.allocatedStorage) {
    add(
      "database.maxAllocatedStorage",
      `expected >= allocatedStorage (${p.database.allocatedStorage}), got ${p.database.maxAllocatedStorage}`,
    );
  }
  if (p.redis.multiAz && p.redis.replicas < 1)
    add(
      "redis.replicas",
      "expected >= 1 when redis.multiAz is true (failover needs a replica), got 0; add a replica or set multiAz false",
    );
  if (p.loadBalancer.certificateArn && p.cdn.enabled && !p.loadBalancer.domainName) {
    add(
      "loadBalancer.domainName",
      "expected the DNS name the certificate covers (CloudFront reaches the ALB over HTTPS by that name), got nothing; set it or clear loadBalancer.certificateArn",
    );
  }
  for (const key of ["apiTtl", "staticTtl"] as const) {
    const t = p.cdn[key];
    if (!(t.min <= t.default && t.default <= t.max))
      add(`cdn.${key}`, `expected min <= default <= max, got ${t.min}/${t.default}/${t.max}`);
  }
  return issues;
}

/**
 * Parses a stack's raw configuration (the `uaip:` keys, without the prefix) into a Profile:
 * the environment's preset, overridden by whatever the stack file sets. Pure; throws a
 * ProfileError naming every bad key.
 */
export function parseConfig(raw: unknown): Profile {
  if (!isPlainObject(raw))
    throw new ProfileError([{ path: "(root)", message: `expected an object of uaip: keys, got ${show(raw)}` }]);
  const environment = raw.environment as Environment;
  if (!ENVIRONMENTS.includes(environment)) {
    throw new ProfileError([
      {
        path: "environment",
        message: `expected one of ${ENVIRONMENTS.join(", ")}, got ${show(raw.environment)}; set uaip:environment in the stack file`,
      },
    ]);
  }
  const preset = presetFor(environment);
  const { services: rawServices, ...rest } = raw;
  const serviceList = rawServices ?? preset.services;
  const services = Array.isArray(serviceList)
    ? serviceList.map((s) => deepMerge(serviceDefaultsFor(environment), s))
    : serviceList;
  // images is one of two shapes (registry+tag, or build): a stack's choice replaces the preset's, never merges into it.
  const merged = {
    ...(deepMerge(preset, rest) as Record<string, unknown>),
    ...(rest.images !== undefined ? { images: rest.images } : {}),
    services,
  };

  const parsed = profileSchema.safeParse(merged);
  if (!parsed.success) throw new ProfileError(fromZod(parsed.error, merged));
  const profile = parsed.data;

  const issues = crossFieldIssues(profile);
  // What AWS, Kubernetes or the runtime would refuse later (provider-rules.ts).
  const cdnPurge = (i: number) =>
    (deepMerge(profile.runtime, profile.services[i]!.runtime ?? {}) as { cache?: { cdn?: { enabled?: boolean } } }).cache?.cdn
      ?.enabled === true;
  for (const issue of profileRuleIssues(profile, cdnPurge))
    if (!issues.some((i) => i.path === issue.path && i.message === issue.message)) issues.push(issue);
  profile.services.forEach((s, i) => {
    const result = runtimeSettingsSchema.safeParse(deepMerge(profile.runtime, s.runtime ?? {}));
    if (!result.success) issues.push(...fromZod(result.error, s.runtime, ["services", i, "runtime"]));
  });
  if (issues.length) throw new ProfileError(issues);

  applyDerivedDefaults(profile, raw);
  return profile;
}

/**
 * Runtime settings whose right default depends on another layer: derived here unless the stack
 * file sets them, so the defaults agree by construction and the checks guard explicit values.
 */
function applyDerivedDefaults(profile: Profile, raw: Record<string, unknown>): void {
  const rawRuntime = (raw.runtime ?? {}) as { http?: { keepAliveTimeout?: unknown }; cache?: { cdn?: { enabled?: unknown } } };
  // The services' keep-alive must outlive the ALB's idle timeout (else the ALB reuses closed sockets: 502s).
  if (rawRuntime.http?.keepAliveTimeout === undefined)
    profile.runtime.http.keepAliveTimeout = (profile.loadBalancer.idleTimeout + 5) * 1000;
  const images = profile.images;
  for (const s of profile.services)
    if (!s.image && !s.build)
      Object.assign(
        s,
        "build" in images ? { build: { ...images.build } } : { image: `${images.registry}/${s.name}:${images.tag}` },
      );
  // Proxies appending to X-Forwarded-For in front of the pods: CloudFront + ALB, the ALB alone, or none (local).
  if ((raw.runtime as { http?: { trustedProxyHops?: unknown } } | undefined)?.http?.trustedProxyHops === undefined) {
    profile.runtime.http.trustedProxyHops = profile.platform === "aws" ? (profile.cdn.enabled ? 2 : 1) : 0;
  }
  // With a CDN in front, invalidations must purge it too.
  if (rawRuntime.cache?.cdn?.enabled === undefined) profile.runtime.cache.cdn.enabled = profile.cdn.enabled;
}
