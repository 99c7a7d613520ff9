import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
/** What the package is built and packed from (its `files` plus the build inputs). */
const PACKAGE_INPUTS = ["package.json", "tsconfig.build.json", "scripts", "src", "migrations", "README.md"];

/**
 * `npm pack` of @uaip/runtime into `destination`; returns the tarball's file name.
 *
 * It packs a private copy of the package, made inside runtime/ so that the build still resolves
 * the workspace's node_modules: `npm pack -w runtime` would run `prepack` (rm -rf dist && tsc) on
 * the shared runtime/dist while other tests, and the offline plan under the Pulumi CLI's loader,
 * load it.
 */
export function packRuntime(destination: string): string {
  const copy = mkdtempSync(join(ROOT, "runtime", ".pack-"));
  try {
    for (const entry of PACKAGE_INPUTS) cpSync(join(ROOT, "runtime", entry), join(copy, entry), { recursive: true });
    execFileSync("npm", ["pack", copy, "--pack-destination", destination, "--silent"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const tarball = readdirSync(destination).find((f) => /^uaip-runtime-.*\.tgz$/.test(f));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${destination}`);
  return tarball;
}
