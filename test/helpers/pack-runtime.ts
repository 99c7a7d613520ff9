import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

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

/**
 * The runtime's optional peers a full service installs next to the tarball (`pg@^8…`, `ws@^8…`,
 * the AWS SDK), as package specs from runtime/package.json; type packages left out.
 */
export function runtimePeerSpecs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "runtime", "package.json"), "utf8")) as {
    peerDependencies: Record<string, string>;
  };
  return Object.entries(pkg.peerDependencies)
    .filter(([name]) => !name.startsWith("@types/"))
    .map(([name, range]) => `${name}@${range}`);
}

/** Hash of everything the tarball is built from: a changed source file means a new pack. */
function inputsHash(): string {
  const hash = createHash("sha256");
  const walk = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    } else {
      hash.update(relative(ROOT, path)).update("\0").update(readFileSync(path)).update("\0");
    }
  };
  for (const entry of PACKAGE_INPUTS) walk(join(ROOT, "runtime", entry));
  return hash.digest("hex").slice(0, 16);
}

export interface RuntimeInstall {
  /** The consumer directory: package.json, node_modules, and the tarball. */
  dir: string;
  /** The tarball's file name in `dir`. */
  tarball: string;
}

/**
 * An empty consumer project with the packed tarball installed as a consumer installs it
 * (`npm install ./uaip-runtime-x.y.z.tgz`: optional peers are not installed), plus `packages`
 * (e.g. the optional peers a test needs). Cached in the system temp directory by the hash of the
 * package's inputs and `packages`, so test files and reruns share one pack and install. Tests write
 * their own files into a directory of their own under `dir` (see consumerWorkDir), never into `dir`.
 */
export function installedRuntime(packages: readonly string[] = []): RuntimeInstall {
  const key = createHash("sha256")
    .update(inputsHash())
    .update(JSON.stringify([...packages].sort()))
    .digest("hex")
    .slice(0, 16);
  const dir = join(tmpdir(), `uaip-runtime-install-${key}`);
  const done = join(dir, ".installed");
  if (existsSync(done)) return { dir, tarball: readFileSync(done, "utf8") };
  pruneStaleInstalls();

  const staging = mkdtempSync(join(tmpdir(), `uaip-runtime-install-${key}-`));
  try {
    const tarball = packRuntime(staging);
    writeFileSync(join(staging, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    const install = spawnSync(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", `./${tarball}`, ...packages],
      { cwd: staging, encoding: "utf8" },
    );
    if (install.status !== 0)
      throw new Error(`npm install of the tarball failed (needs the npm registry or a warm cache):\n${install.stderr}`);
    writeFileSync(join(staging, ".installed"), tarball);
    try {
      renameSync(staging, dir);
    } catch {
      // Another test file installed the same thing first: use that one.
      rmSync(staging, { recursive: true, force: true });
    }
    return { dir, tarball: readFileSync(done, "utf8") };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Installs of older sources, unused for a day: each source change leaves one behind. */
function pruneStaleInstalls(): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const entry of readdirSync(tmpdir()).filter((e) => e.startsWith("uaip-runtime-install-"))) {
    const path = join(tmpdir(), entry);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

/** A fresh directory of the caller's own inside the consumer project (node_modules resolves from the parent). */
export function consumerWorkDir(install: RuntimeInstall, name: string): string {
  return mkdtempSync(join(install.dir, `${name}-`));
}
