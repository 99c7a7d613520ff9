/**
 * `npm run mutate` mutates the whole core (stryker.config.mjs); `npm run mutate -- <file or folder>...` only
 * the given paths (a folder means every .ts file under it), e.g. the files a change touched. Incremental:
 * mutants whose code and covering tests did not change since the last run keep their result. Options that
 * start with `--` go to Stryker as written, one token each (e.g. `--concurrency=1`, `--force` to ignore the
 * incremental file).
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");

/**
 * Splits the command line into the paths to mutate (as Stryker globs, relative to the repository root) and the
 * options Stryker gets as written. Paths are relative to `cwd`: where the developer ran `npm run` (INIT_CWD).
 */
export function strykerArgs(
  argv: readonly string[],
  cwd = process.cwd(),
): { mutate: string[]; passThrough: string[]; missing: string[] } {
  const mutate: string[] = [];
  const passThrough: string[] = [];
  const missing: string[] = [];
  for (const arg of argv) {
    // Options go to Stryker one token each: `--concurrency=1`, `--force`.
    if (arg.startsWith("--")) {
      passThrough.push(arg);
      continue;
    }
    const abs = resolve(cwd, arg);
    if (!existsSync(abs)) {
      missing.push(arg);
      continue;
    }
    const rel = relative(ROOT, abs).split("\\").join("/");
    mutate.push(statSync(abs).isDirectory() ? `${rel}/**/*.ts` : rel);
  }
  return { mutate, passThrough, missing };
}

/** A report name from the mutated paths: `policy/rules` -> `policy-rules`, several paths -> `selection`. */
export function reportName(mutate: readonly string[]): string {
  if (mutate.length !== 1) return mutate.length === 0 ? "mutation" : "selection";
  return mutate[0]
    .replace(/\/\*\*\/\*\.ts$/, "")
    .replace(/\.ts$/, "")
    .replace(/[^\w-]+/g, "-");
}

if (require.main === module) {
  const { mutate, passThrough, missing } = strykerArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
  if (missing.length > 0) {
    console.error(`mutate: no such file or folder: ${missing.join(", ")} (paths are relative to the directory you ran npm in)`);
    process.exit(2);
  }
  const args = ["run", "stryker.config.mjs", ...(mutate.length > 0 ? ["--mutate", mutate.join(",")] : []), ...passThrough];
  console.log(`stryker ${args.join(" ")}`);
  const bin = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "stryker.cmd" : "stryker");
  const run = spawnSync(bin, args, {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, STRYKER_REPORT_NAME: reportName(mutate) },
  });
  process.exit(run.status ?? 1);
}
