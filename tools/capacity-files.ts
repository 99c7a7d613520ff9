/**
 * Reads each service's capacity file (`capacity/<service>.json`, written by `npm run capacity`)
 * through the shared schema (profile/capacity-file.ts) and tells whether it is older than the
 * service's code, for the plan's capacity checks (profile/capacity-checks.ts, which stay pure).
 *
 * "Older than the code": a commit after the file's `commit` changed the reference service or the
 * runtime (CODE_PATHS). When the file's commit is not in this repository's history, its
 * `measuredAt` is compared with the date of the last change instead. Without git, the reader says
 * it cannot tell: a warning, never a silent pass.
 *
 * The directory is `<repository>/capacity`, or UAIP_CAPACITY_DIR (tests, or files measured elsewhere).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { capacityFileSchema, capacityFilePath } from "../profile/capacity-file";
import type { CapacityInput, CapacityInputs } from "../profile/capacity-checks";
import { formatPath } from "../profile/format-path";
import { valueAt } from "../profile/value-at";

/** What the services' code is: the reference service every seed service runs, and the runtime it imports. */
export const CODE_PATHS = ["examples", "runtime/src"] as const;

/** The environment variable that points the reader at another directory of capacity files. */
export const CAPACITY_DIR_ENV = "UAIP_CAPACITY_DIR";

/** The last change to the code, and how many changes came after a given commit. */
export interface CodeHistory {
  /** `unavailable`: git could not answer (not installed, not a repository), and why. */
  lastChange(): { hash: string; date: string } | { unavailable: string };
  /** Commits after `commit` that touched CODE_PATHS; "unknown" when the commit is not in the history. */
  changesSince(commit: string): number | "unknown" | { unavailable: string };
}

function git(root: string, args: string[]): { ok: true; out: string } | { ok: false; error: string; spawnFailed: boolean } {
  const run = spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
  if (run.error) return { ok: false, error: run.error.message, spawnFailed: true };
  if (run.status !== 0) return { ok: false, error: run.stderr.trim() || `git exited ${run.status}`, spawnFailed: false };
  return { ok: true, out: run.stdout.trim() };
}

/**
 * The history of CODE_PATHS in the git repository at `root`, as it is when first asked: each question
 * runs git once per object (a plan asks it for every capacity file, and most share one commit), so a
 * caller that changes the repository makes a new one.
 */
export function gitCodeHistory(root: string): CodeHistory {
  let last: ReturnType<CodeHistory["lastChange"]> | undefined;
  const since = new Map<string, ReturnType<CodeHistory["changesSince"]>>();
  const changesSince = (commit: string): ReturnType<CodeHistory["changesSince"]> => {
    const known = git(root, ["rev-parse", "--verify", "--quiet", `${commit}^{commit}`]);
    if (!known.ok) return known.spawnFailed ? { unavailable: known.error } : "unknown";
    const r = git(root, ["rev-list", "--count", `${commit}..HEAD`, "--", ...CODE_PATHS]);
    return r.ok ? Number(r.out) : { unavailable: r.error };
  };
  return {
    lastChange() {
      if (last) return last;
      const r = git(root, ["log", "-1", "--format=%H %cI", "--", ...CODE_PATHS]);
      if (!r.ok) return (last = { unavailable: r.error });
      const [hash, date] = r.out.split(" ");
      return (last = hash ? { hash, date } : { unavailable: `no commit touches ${CODE_PATHS.join(", ")}` });
    },
    changesSince(commit) {
      if (!since.has(commit)) since.set(commit, changesSince(commit));
      return since.get(commit)!;
    },
  };
}

/** Why a file measured at `commit` / `measuredAt` may not describe the code, or undefined when it does. */
export function staleness(file: { commit: string; measuredAt: string }, history: CodeHistory): string | undefined {
  const code = CODE_PATHS.map((p) => `${p}/`).join(" or ");
  const cannotTell = (why: string) =>
    `git is unavailable (${why}), so whether commit ${file.commit} (measured ${file.measuredAt}) is older than the service's code (${code}) cannot be told`;
  const since = history.changesSince(file.commit);
  if (typeof since === "object") return cannotTell(since.unavailable);
  const last = history.lastChange();
  if ("unavailable" in last) return cannotTell(last.unavailable);
  if (since === "unknown") {
    if (Date.parse(last.date) <= Date.parse(file.measuredAt)) return undefined;
    return `measured ${file.measuredAt} at commit ${file.commit}, which is not in this repository's history, and ${code} changed since (${last.hash.slice(0, 12)}, ${last.date}): it is older than the service's code`;
  }
  if (since === 0) return undefined;
  return `measured at commit ${file.commit} (${file.measuredAt}); ${since} later commit(s) changed ${code} (last ${last.hash.slice(0, 12)}, ${last.date}): it is older than the service's code`;
}

/** Every problem of a file that is not a capacity file of `service`, each with its key and value as written. */
function problemsOf(raw: unknown, service: string): string[] {
  const parsed = capacityFileSchema.safeParse(raw);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const key = formatPath(i.path as PropertyKey[]) || "(the file)";
        const value = valueAt(raw, i.path as PropertyKey[]);
        return `${key}: ${i.message}${value === undefined ? "" : ` (got ${JSON.stringify(value)})`}`;
      });
  const named = (raw as { service?: unknown } | null)?.service;
  if (parsed.success && named !== service)
    problems.push(`service: "${String(named)}" is not the service it is named for ("${service}")`);
  return problems;
}

/** The capacity file of each named service, as found under `dir`. */
export function readCapacityFiles(
  root: string,
  services: readonly string[],
  options: { dir?: string; history?: CodeHistory } = {},
): CapacityInputs {
  const dir = options.dir ?? process.env[CAPACITY_DIR_ENV] ?? join(root, "capacity");
  const history = options.history ?? gitCodeHistory(root);
  const inputs = new Map<string, CapacityInput>();
  for (const service of services) {
    const absolute = resolve(dir, capacityFilePath(service).replace(/^capacity\//, ""));
    const shown = relative(root, absolute);
    const path = shown.startsWith("..") || isAbsolute(shown) ? absolute : shown;
    if (!existsSync(absolute)) {
      inputs.set(service, { path, state: "missing" });
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(absolute, "utf8"));
    } catch (err) {
      inputs.set(service, { path, state: "invalid", problems: [`not JSON: ${(err as Error).message}`] });
      continue;
    }
    const problems = problemsOf(raw, service);
    if (problems.length) {
      inputs.set(service, { path, state: "invalid", problems });
      continue;
    }
    const file = capacityFileSchema.parse(raw);
    const stale = staleness(file, history);
    inputs.set(service, { path, state: "ok", file, ...(stale ? { stale } : {}) });
  }
  return inputs;
}
