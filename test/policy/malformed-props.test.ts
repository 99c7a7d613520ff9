/**
 * No policy rule crashes on props of an unexpected shape, and a rule that does crash still leaves a violation that
 * names it. Props are user data (a stack's inputs, or a plan file passed between CI jobs): a list can be missing,
 * a scalar, or hold null. A rule that threw used to end the whole policy run; eight rules did, on shapes such as
 * `parameters: [null]`, `containers: 1` or `env: {}`.
 *
 * The generator starts from the real prod plan (the one every test of the committed stacks shares) and breaks one
 * value: an existing one anywhere in any resource's props, or a field a rule reads (taken from the rules' own source)
 * placed anywhere. Every rule then runs on the broken resources, directly, not through the guard (guard.test.ts).
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { plannedResources, RULES } from "../../policy/rules";
import type { PlannedResource } from "../../policy/rules";
import { ROOT, committedPlan } from "../helpers/plan";

type Path = (string | number)[];

function pathsIn(value: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(value)) value.forEach((x, i) => out.push(...pathsIn(x, [...path, i])));
  else if (value && typeof value === "object")
    for (const [key, x] of Object.entries(value)) out.push(...pathsIn(x, [...path, key]));
  return out;
}

/** `resource` with the value at `path` (or a new key at its end) set to `bad`; the others are not copied. */
function broken(resource: PlannedResource, path: Path, bad: unknown): PlannedResource {
  const props = structuredClone(resource.props);
  let at: Record<string | number, unknown> = props;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]] = bad;
  return { ...resource, props };
}

/** Every rule, directly (not through the guard), on the resources where the one at `index` is broken. */
function runEveryRule(resources: PlannedResource[], index: number, brokenResource: PlannedResource): void {
  const copy = [...resources];
  copy[index] = brokenResource;
  // A resource rule sees one resource at a time, and the others are unchanged: only the broken one can throw.
  for (const rule of RULES) if (rule.kind === "resource") rule.check(brokenResource);
  for (const rule of RULES) if (rule.kind === "stack") rule.check(copy);
}

/** Values a list or an object of the props could wrongly be. */
const malformed = fc.oneof(
  fc.constantFrom(null, true, 0, 1, -1, "", "x", [], {}, [null], [1], ["x"], [[]], [{}], { 0: null }),
  fc.array(fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }), fc.constant({})), { maxLength: 3 }),
);

/** Every `.field` the rules' source reads, as a key a broken input might carry at any depth. */
const fieldsRead = [
  ...new Set(
    readdirSync(join(ROOT, "policy", "rules"))
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [...readFileSync(join(ROOT, "policy", "rules", f), "utf8").matchAll(/\??\.([a-z][A-Za-z0-9]+)\b/g)])
      .map((m) => m[1]),
  ),
];

let resources: PlannedResource[];

beforeAll(async () => {
  const run = await committedPlan("prod");
  resources = plannedResources(run.json as unknown as Parameters<typeof plannedResources>[0]);
}, 180_000);

describe("every rule on props of an unexpected shape", () => {
  it("the fields the generator draws from are the rules' own (sanity: the regex finds the lists they read)", () => {
    for (const field of ["parameters", "containers", "env", "envFrom", "origins", "defaultActions", "ingress", "cidrBlocks"])
      expect(fieldsRead).toContain(field);
  });

  it("no rule throws on any list of the plan that is a scalar, an object or holds null, nor on any list item that is null", () => {
    // Where the crashes were: a rule iterating a list. Every list and every item of the plan, each way, not a sample.
    let cases = 0;
    resources.forEach((r, index) =>
      pathsIn(r.props).forEach((path) => {
        if (!path.length) return;
        let at: unknown = r.props;
        for (const key of path) at = (at as Record<string | number, unknown>)[key];
        const isItem = typeof path[path.length - 1] === "number";
        const bads = [...(Array.isArray(at) ? [1, {}, [null]] : []), ...(isItem ? [null] : [])];
        for (const bad of bads) {
          cases++;
          runEveryRule(resources, index, broken(r, path, bad));
        }
      }),
    );
    expect(cases).toBeGreaterThan(500);
  });

  it("no rule throws when any existing value of any resource is replaced by a malformed one", () => {
    const sites = resources.flatMap((r, index) => pathsIn(r.props).flatMap((path) => (path.length ? [{ index, path }] : [])));
    expect(sites.length).toBeGreaterThan(1000);
    fc.assert(
      fc.property(fc.constantFrom(...sites), malformed, ({ index, path }, bad) => {
        runEveryRule(resources, index, broken(resources[index], path, bad));
      }),
      { numRuns: 200 },
    );
  });

  it("no rule throws when a field a rule reads is set to a malformed value anywhere in any resource", () => {
    const objects = resources.flatMap((r, index) =>
      pathsIn(r.props).flatMap((path) => {
        let at: unknown = r.props;
        for (const key of path) at = (at as Record<string | number, unknown>)[key];
        return at && typeof at === "object" && !Array.isArray(at) ? [{ index, path }] : [];
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...objects), fc.constantFrom(...fieldsRead), malformed, ({ index, path }, field, bad) => {
        runEveryRule(resources, index, broken(resources[index], [...path, field], bad));
      }),
      { numRuns: 200 },
    );
  });
});
