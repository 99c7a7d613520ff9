import { formatPath, parseConfig } from "../../profile/parse";
import { isPlainObject, serviceDefaultsFor, presetFor } from "../../profile/presets";
import type { Environment } from "../../profile/schema";
import { profileInput } from "../../config";
import { listStacks, readStackConfig } from "../../tools/stack-file";
import { ROOT } from "../helpers/plan";
import { planProblems } from "../helpers/profile-issues";

/**
 * Every committed stack file, mutated one key at a time with values that are wrong for that key's
 * kind, through the plan's pure part (stack file -> profileInput -> parseConfig -> cross-layer
 * checks, what index.ts runs before any resource): each mutation must be refused by a message that
 * names the key. The keys are generated from the effective profile, so a new key is covered the day
 * it is added.
 */

type Path = (string | number)[];

/** Leaves and objects of a value, with their paths; records whose keys are free (tags) are leaves for the unknown-key mutation. */
function walk(value: unknown, path: Path, out: { path: Path; value: unknown }[]): void {
  out.push({ path, value });
  if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k], out);
}

const DURATION_KEY = /(Ms|Millis|Interval|Timeout|ttl|Delay|statsRefreshInterval)$/;

/** Values that break a rule of the key's kind (CIDR, path, port, size, window, hops), besides its type. */
const RULE_BREAKERS: Record<string, unknown[]> = {
  trustedProxyCidrs: ["999.999.999.999/99", "0.0.0.0/0", "10.0.0.0/33", "10.0.0.0"],
  staticPaths: [["/agent-intelligence/*"], ["/agent-intelligence/"]],
  port: [0, 65536, 5432.5],
  maxSize: [50_000_000],
  scrapeInterval: ["5m", "0s"],
  retention: ["2h"],
  trustedProxyHops: [7],
  publicAccessCidrs: [["0.0.0.0/0"], ["300.0.0.1/32"]],
};

/** Values no key of this kind accepts. */
function badValuesFor(path: Path, value: unknown): unknown[] {
  const last = String(path[path.length - 1]);
  const rules = RULE_BREAKERS[last] ?? [];
  if (typeof value === "number") {
    // Seconds-valued keys (loadBalancer.idleTimeout, ...) have their own smaller maxima; 2^31 breaks them too.
    return ["x", true, ...rules, ...(DURATION_KEY.test(last) || /Seconds$|idleTimeout|Delay$/.test(last) ? [2 ** 31] : [])];
  }
  if (typeof value === "string") return [123, true, ...rules];
  if (typeof value === "boolean") return ["yes", 1];
  if (Array.isArray(value)) return ["x", 7, ...rules];
  if (isPlainObject(value)) return [5, "x"];
  return [];
}

function setAt(target: Record<string, unknown>, path: Path, value: unknown): void {
  let node: Record<string | number, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node[key] = isPlainObject(next) || Array.isArray(next) ? next : {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

describe.each(listStacks(ROOT))("every key of the committed stack %s, mutated one at a time, fails the plan by name", (stack) => {
  const { config } = readStackConfig(ROOT, stack);
  const raw = profileInput(config, stack);
  const environment = raw.environment as Environment;

  it("the stack file as committed passes", () => {
    expect(planProblems(raw)).toEqual([]);
  });

  it("type, range and unknown-key mutations of every key are refused, each naming the key", () => {
    const profile = parseConfig(structuredClone(raw));
    const { services: _s, ...rest } = profile;
    const nodes: { path: Path; value: unknown }[] = [];
    for (const [k, v] of Object.entries(rest)) walk(v, [k], nodes);
    // Service keys through the first service: the stack's own list, or the preset's names and ports.
    const baseServices =
      (raw.services as Record<string, unknown>[] | undefined) ?? (presetFor(environment).services as Record<string, unknown>[]);
    const serviceShape = { ...serviceDefaultsFor(environment), ...baseServices[0] };
    const serviceNodes: { path: Path; value: unknown }[] = [];
    for (const [k, v] of Object.entries(serviceShape)) walk(v, ["services", 0, k], serviceNodes);

    const missed: string[] = [];
    let tried = 0;
    const attempt = (path: Path, bad: unknown) => {
      const mutated = structuredClone(raw);
      if (path[0] === "services") mutated.services = structuredClone(baseServices);
      // images is replaced whole, never merged (parse.ts): mutate the effective one.
      if (path[0] === "images" && mutated.images === undefined) mutated.images = structuredClone(profile.images);
      setAt(mutated, path, bad);
      const key = formatPath(path);
      tried++;
      const problems = planProblems(mutated);
      if (!problems.some((p) => p.startsWith(key) || p.includes(` ${key}`) || p.includes(`${key} `)))
        missed.push(`${key} = ${JSON.stringify(bad)} -> ${problems.length ? problems.join(" | ") : "accepted"}`);
    };
    for (const { path, value } of [...nodes, ...serviceNodes]) {
      if (path[0] === "environment" || path[0] === "platform") continue; // they pick the preset, checked on their own
      for (const bad of badValuesFor(path, value)) attempt(path, bad);
      // An unknown key next to the known ones (a typo); tags take any key by design.
      if (isPlainObject(value) && path[0] !== "tags") attempt([...path, "zzTypo"], 1);
    }
    expect(tried).toBeGreaterThan(150);
    expect(missed).toEqual([]);
  });
});
