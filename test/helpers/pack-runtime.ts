import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");
/** The system's temporary directory, not the jest run's own (jest.config.js): packs and installs outlive a run. */
const SHARED_TMP = process.env.UAIP_SHARED_TMPDIR ?? tmpdir();
/** What the package is built and packed from (its `files` plus the build inputs). */
const PACKAGE_INPUTS = ["package.json", "tsconfig.build.json", "scripts", "src", "migrations", "README.md"];

/**
 * `npm pack` of @uaip/runtime into `destination`.
 *
 * It packs a private copy of the package, made inside runtime/ so that the build still resolves
 * the workspace's node_modules: `npm pack -w runtime` would run `prepack` (rm -rf dist && tsc) on
 * the shared runtime/dist while other tests, and the offline plan under the Pulumi CLI's loader,
 * load it.
 */
function npmPack(destination: string): void {
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
}

/**
 * The tarball of @uaip/runtime (`npm pack`), copied into `destination`; returns its file name. Packed once
 * per version of the package's inputs and shared by the test files and reruns that ask for it: each pack
 * builds the runtime (`prepack`), about 8 s of CPU.
 */
export function packRuntime(destination: string): string {
  const packed = sharedDirectory(join(SHARED_TMP, `uaip-runtime-pack-${inputsHash()}`), npmPack);
  const tarball = readdirSync(packed).find((f) => /^uaip-runtime-.*\.tgz$/.test(f));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${packed}`);
  copyFileSync(join(packed, tarball), join(destination, tarball));
  return tarball;
}

/** Blocks this thread for `ms` (the pack and install helpers are synchronous, as their callers are). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The pid a lock file holds; NaN while it is being written or once it is gone. */
function lockOwner(lock: string): number {
  try {
    return Number(readFileSync(lock, "utf8"));
  } catch {
    return NaN;
  }
}

/** Whether process `pid` still runs; an unreadable pid (a lock being written) counts as running. */
function running(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * `dir`, made once by `build` in a staging directory then renamed into place. A test file on the other
 * worker that asks for the same `dir` meanwhile waits for it instead of building it twice: `<dir>.lock`
 * holds the builder's pid, and a lock whose process is gone (a run killed mid-build) is taken over.
 */
function sharedDirectory(dir: string, build: (staging: string) => void): string {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 300_000;
  while (!existsSync(dir)) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
    } catch {
      if (running(lockOwner(lock)) && Date.now() < deadline) sleepSync(200);
      else rmSync(lock, { force: true });
      continue;
    }
    try {
      if (!existsSync(dir)) {
        const staging = mkdtempSync(`${dir}-`);
        try {
          build(staging);
          renameSync(staging, dir);
        } catch (error) {
          rmSync(staging, { recursive: true, force: true });
          throw error;
        }
      }
    } finally {
      rmSync(lock, { force: true });
    }
  }
  return dir;
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
  const dir = join(SHARED_TMP, `uaip-runtime-install-${key}`);
  if (!existsSync(dir)) pruneStaleInstalls();
  sharedDirectory(dir, (staging) => {
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
  });
  return { dir, tarball: readFileSync(join(dir, ".installed"), "utf8") };
}

/** Packs and installs of older sources, unused for a day: each source change leaves one behind. */
function pruneStaleInstalls(): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const entry of readdirSync(SHARED_TMP).filter((e) => /^uaip-runtime-(install|pack)-/.test(e))) {
    const path = join(SHARED_TMP, entry);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

/** A fresh directory of the caller's own inside the consumer project (node_modules resolves from the parent). */
export function consumerWorkDir(install: RuntimeInstall, name: string): string {
  return mkdtempSync(join(install.dir, `${name}-`));
}
