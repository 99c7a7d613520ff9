import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../helpers/plan";

/**
 * One Node.js major across the places that pick one: `engines` says what the dependencies need
 * (no lower, no higher), the image runs an LTS major that satisfies it, and the GitHub workflows
 * run the same major as the image.
 */
const readJson = (...path: string[]) => JSON.parse(readFileSync(join(ROOT, ...path), "utf8"));

/** The major from which a range stays open (">=22", "^16 || >=20"): the versions a package supports for good. */
function openFrom(range: string): number | undefined {
  const open = range
    .split("||")
    .map((alt) => /^\s*>=\s*v?(\d+)/.exec(alt)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number);
  return open.length ? Math.min(...open) : undefined;
}

function neededBy(pkgDir: string): { major: number; by: string[] } {
  const pkg = readJson(pkgDir, "package.json");
  const needs = Object.keys(pkg.dependencies ?? {}).flatMap((dep) => {
    const range = readJson("node_modules", dep, "package.json").engines?.node as string | undefined;
    const from = range ? openFrom(range) : undefined;
    return from === undefined ? [] : [{ dep, from }];
  });
  const major = Math.max(...needs.map((n) => n.from));
  return { major, by: needs.filter((n) => n.from === major).map((n) => n.dep) };
}

describe("Node.js versions", () => {
  it.each([".", "runtime"])("%s/package.json engines is exactly what its dependencies need", (dir) => {
    const engines = readJson(dir, "package.json").engines.node as string;
    const { major, by } = neededBy(dir);
    expect({ engines, by }).toEqual({ engines: `>=${major}`, by });
  });

  it("the image runs an even (LTS) major that satisfies both engines, and the workflows run the same major", () => {
    const dockerfile = readFileSync(join(ROOT, "examples", "Dockerfile"), "utf8");
    const image = Number(/^ARG NODE_VERSION=(\d+)\.\d+\.\d+$/m.exec(dockerfile)![1]);
    expect(image % 2).toBe(0);
    for (const dir of [".", "runtime"])
      expect(image).toBeGreaterThanOrEqual(openFrom(readJson(dir, "package.json").engines.node)!);
    const dir = join(ROOT, ".github", "workflows");
    for (const file of ["deploy.yml", "pr-plan-comment.yml", "pr-plan.yml", "preview.yml"]) {
      const wf = parse(readFileSync(join(dir, file), "utf8"));
      const versions = Object.values(wf.jobs as Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>)
        .flatMap((j) => j.steps ?? [])
        .filter((s) => s.uses?.startsWith("actions/setup-node"))
        .map((s) => s.with?.["node-version"]);
      expect({ file, versions: [...new Set(versions)] }).toEqual({ file, versions: versions.length ? [image] : [] });
    }
  });
});
