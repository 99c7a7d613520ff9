import type { z } from "zod";
import { closestName, runtimeSettingsSchema } from "@uaip/runtime/config";
import { ProfileError, type ProfileIssue } from "./errors";
import { formatPath } from "./format-path";
import { LOCAL_PLATFORM_PORTS } from "./local-ports";
import { pathOwnershipIssues } from "./path-ownership";
import { ignoredRuntimeSettings } from "./pod-config";
import { deepMerge, isPlainObject, presetFor, serviceDefaultsFor } from "./presets";
import { dataTierIssues } from "./data-tier";
import { profileRuleIssues } from "./provider-rules";
import { knownKeysAt } from "./schema-keys";
import { ENVIRONMENTS, profileSchema, type Environment, type Profile } from "./schema";
import { servicePlan } from "./service-settings";
import { topologyHops } from "./trusted-hops";
import { valueAt } from "./value-at";

export { formatPath };

/** A value as the stack file wrote it: NaN, Infinity and BigInt stay themselves (JSON would say null or throw). */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

type Issue = z.core.$ZodIssue;

/**
 * A value that matches no shape of a union (`images`: registry + tag, or build) is reported by the
 * shape it came closest to (fewest issues), so the message names the key inside it, not the union.
 */
function closestBranch(issue: Issue): Issue[] {
  if (issue.code !== "invalid_union" || !issue.errors.length) return [issue];
  // Fewest issues; on a tie, the shape that got deepest into the value (its issues' paths are longer).
  const depth = (issues: Issue[]) => issues.reduce((sum, i) => sum + i.path.length, 0);
  const best = issue.errors.reduce((a, b) => (b.length < a.length || (b.length === a.length && depth(b) > depth(a)) ? b : a));
  return best.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue).flatMap(closestBranch);
}

/** Turns zod issues into key-named messages with the bad value and, where clear, the fix; every unknown key is its own issue. */
export function fromZod(
  error: z.ZodError,
  input: unknown,
  schema: z.ZodType,
  prefix: readonly PropertyKey[] = [],
): ProfileIssue[] {
  return error.issues.flatMap(closestBranch).flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const meant = closestName(key, known);
        const fix = meant
          ? `did you mean ${meant}?`
          : known.length
            ? `remove it or use one of: ${known.join(", ")}`
            : "remove it";
        return {
          path: formatPath([...prefix, ...issue.path, key]),
          message: `unknown key, got ${show(valueAt(input, [...issue.path, key]))}; ${fix}`,
        };
      });
    }
    return [
      {
        path: formatPath([...prefix, ...issue.path]),
        message: `${issue.message.replace(/^Invalid input: /, "").replace(/, received \w+$/, "")}, got ${show(valueAt(input, issue.path))}`,
      },
    ];
  });
}

/** Rules that span fields: zod checks each field, these check how fields relate. */
function crossFieldIssues(p: Profile, raw: Record<string, unknown>): ProfileIssue[] {
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
  // Who may reach the API endpoint matters only where there is a public one: elsewhere the list is inert.
  if (!(p.platform === "aws" && p.cluster.endpointPublicAccess) && p.cluster.publicAccessCidrs.length > 0)
    add(
      "cluster.publicAccessCidrs",
      p.platform === "aws"
        ? `${show(p.cluster.publicAccessCidrs)} has no effect while cluster.endpointPublicAccess is false (the endpoint is private); remove them, or set endpointPublicAccess true to open the endpoint to exactly these CIDRs`
        : `${show(p.cluster.publicAccessCidrs)} has no effect on the ${p.platform} platform (there is no Kubernetes API endpoint to open); remove them`,
    );
  if (p.platform === "docker") {
    const taken = new Map<number, string>(Object.entries(LOCAL_PLATFORM_PORTS).map(([server, port]) => [port, server]));
    const used = new Set([...taken.keys(), ...p.services.map((s) => s.port)]);
    let free = 3001;
    p.services.forEach((s, i) => {
      const server = taken.get(s.port);
      if (!server) return;
      while (used.has(free)) free++;
      used.add(free);
      add(
        `services[${i}].port`,
        `${s.port} is the local platform's ${server} port (published on the host too); pick another, e.g. ${free}`,
      );
    });
  }
  const topology = topologyHops(p);
  const hopsAt: [string, unknown][] = [
    ["runtime.http.trustedProxyHops", valueAt(raw, ["runtime", "http", "trustedProxyHops"])],
    ...p.services.map((s, i): [string, unknown] => [
      `services[${i}].runtime.http.trustedProxyHops`,
      valueAt(s.runtime, ["http", "trustedProxyHops"]),
    ]),
  ];
  for (const [key, hops] of hopsAt)
    if (typeof hops === "number" && hops !== topology.hops)
      add(
        key,
        `expected ${topology.hops} (the proxies in front: ${topology.proxies}), got ${hops}: ${hops > topology.hops ? "a client could choose its own rate-limit key with a forged X-Forwarded-For" : "every client behind a proxy would share one rate-limit bucket"}; remove it (the plan derives it from the topology)`,
      );
  issues.push(...pathOwnershipIssues(p));
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
  const issues: ProfileIssue[] = [];
  // Unset means the preset's services; an explicit null is a mistake, never a silent fallback.
  if (rawServices === null)
    issues.push({
      path: "services",
      message: `expected a list of services, got null; remove the key to use the preset's (${preset.services && (preset.services as { name: string }[]).map((s) => s.name).join(", ")}) or list yours`,
    });
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
  if (!parsed.success) {
    issues.push(...fromZod(parsed.error, merged, profileSchema));
    // A type error must not hide a rule between other fields: run them over what was written, keeping
    // only findings on keys that are not already reported (a rule that trips over a bad value is skipped).
    try {
      const bad = new Set(issues.map((i) => i.path));
      for (const issue of crossFieldIssues(merged as unknown as Profile, raw))
        if (![...bad].some((b) => issue.path === b || issue.path.startsWith(`${b}.`) || issue.path.startsWith(`${b}[`)))
          issues.push(issue);
    } catch {
      // Some field a rule reads has the wrong shape; zod has named it.
    }
    throw new ProfileError(issues);
  }
  const profile = parsed.data;

  issues.push(...crossFieldIssues(profile, raw));
  // What AWS, Kubernetes or the runtime would refuse later (provider-rules.ts).
  const cdnPurge = (i: number) =>
    (deepMerge(profile.runtime, profile.services[i]!.runtime ?? {}) as { cache?: { cdn?: { enabled?: boolean } } }).cache?.cdn
      ?.enabled === true;
  for (const issue of [...profileRuleIssues(profile, cdnPurge), ...dataTierIssues(profile)])
    if (!issues.some((i) => i.path === issue.path && i.message === issue.message)) issues.push(issue);
  profile.services.forEach((s, i) => {
    const result = runtimeSettingsSchema.safeParse(deepMerge(profile.runtime, s.runtime ?? {}));
    if (!result.success) issues.push(...fromZod(result.error, s.runtime, runtimeSettingsSchema, ["services", i, "runtime"]));
  });
  if (issues.length) throw new ProfileError(issues);

  applyDerivedDefaults(profile, raw);
  // Every runtime setting written must reach the pods (pod-config.ts); checked on the final settings.
  const ignored = ignoredRuntimeSettings(profile, servicePlan(profile), raw.runtime);
  if (ignored.length) throw new ProfileError(ignored);
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
    profile.runtime.http.trustedProxyHops = topologyHops(profile).hops;
  }
  // With a CDN in front, invalidations must purge it too.
  if (rawRuntime.cache?.cdn?.enabled === undefined) profile.runtime.cache.cdn.enabled = profile.cdn.enabled;
}
