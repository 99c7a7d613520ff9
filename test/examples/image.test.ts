import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { MIGRATE_COMMAND } from "../../components/k8s/db-migration";
import { startBackends, type Backends } from "../../load/local-stack";
import { stackProfile } from "../../load/stack-profile";
import { packRuntime, runtimePeerSpecs } from "../helpers/pack-runtime";
import { freePort } from "../helpers/redis";
import { dockerContextFiles, dockerIgnoreMatcher } from "../../components/k8s/docker-context";

/**
 * The reference service's image (examples/Dockerfile). No Docker engine runs here, so this tests
 * what can be tested: the Dockerfile's shape, the build context its .dockerignore sends, and the
 * image's steps replayed on this machine: the packed runtime installed with production
 * dependencies only into an empty directory, the compiled service beside it, then the migrations
 * and the service started from those files with plain `node`, against real Redis and PostgreSQL.
 */
const root = join(__dirname, "..", "..");
const dockerfile = readFileSync(join(root, "examples", "Dockerfile"), "utf8");
const ignore = readFileSync(join(root, ".dockerignore"), "utf8");
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (/^FROM /i.test(line)) acc.push([]);
  acc.at(-1)?.push(line);
  return acc;
}, []);

describe("examples/Dockerfile", () => {
  it("is multi-stage on a Node.js base pinned to an exact version, matching the engines field", () => {
    const version = /^ARG NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(dockerfile)?.[1];
    expect(version).toBeDefined();
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim( AS \w+)?$/);
    const engines = JSON.parse(readFileSync(join(root, "runtime", "package.json"), "utf8")).engines.node as string;
    expect(Number(version!.split(".")[0])).toBeGreaterThanOrEqual(Number(/\d+/.exec(engines)![0]));
  });

  it("runs the final image as the unprivileged node user, from built files, with no npm step", () => {
    const final = stages.at(-1)!;
    expect(final).toContain("USER node");
    expect(final.findIndex((l) => l === "USER node")).toBeLessThan(final.findIndex((l) => l.startsWith("ENTRYPOINT")));
    expect(final).toContain('ENTRYPOINT ["node", "service.js"]');
    expect(final.filter((l) => /^RUN /.test(l))).toEqual([]);
    expect(final).toContain("ENV NODE_ENV=production");
  });

  it("copies only paths that exist and that the .dockerignore sends", () => {
    const excluded = dockerIgnoreMatcher(ignore);
    const sent = dockerContextFiles(root, ignore);
    const sources = instructions
      .filter((l) => /^COPY /.test(l) && !/--from=/.test(l))
      .flatMap((l) =>
        l
          .replace(/^COPY\s+/, "")
          .split(/\s+/)
          .slice(0, -1),
      );
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) {
      const path = src.replace(/\/$/, "");
      expect(readdirSync(join(root, path, ".."))).toContain(path.split("/").pop());
      // A file is sent itself; a directory is sent when files under it are (Docker walks into an
      // excluded directory that has `!` exceptions below it).
      const isDir = statSync(join(root, path)).isDirectory();
      expect({ path, sent: isDir ? sent.some((f) => f.startsWith(`${path}/`)) : !excluded(path) }).toEqual({ path, sent: true });
    }
  });

  it("sends a small context: sources the build needs, never node_modules, stack files, plans or tests", () => {
    const files = dockerContextFiles(root, ignore);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "package-lock.json",
        "runtime/src/index.ts",
        "runtime/migrations/001_operations_audit_logs.sql",
        "examples/service.ts",
      ]),
    );
    expect(
      files.filter((f) => /node_modules|^Pulumi\.|^plan.*\.json$|\.test\.ts$|^test\/|^components\/|^\.git\//.test(f)),
    ).toEqual([]);
    expect(files.length).toBeLessThan(200);
  });
});

describe("the image's steps, replayed with plain node", () => {
  const work = mkdtempSync(join(tmpdir(), "uaip-image-"));
  let backends: Backends;

  beforeAll(async () => {
    backends = await startBackends(stackProfile("local"));
  }, 60_000);

  afterAll(async () => {
    await backends?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("migrates with the packaged CLI and serves the seed's POST /operations from /app", async () => {
    // RUN npm run build -w runtime && npx tsc -p examples/tsconfig.build.json && npm pack -w runtime
    const tarball = packRuntime(work);
    execFileSync(
      process.execPath,
      [
        join(root, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "examples/tsconfig.build.json",
        "--outDir",
        join(work, "build"),
      ],
      { cwd: root },
    );
    // The production tree: an empty directory, the tarball, its production dependencies only.
    const app = join(work, "app");
    cpSync(join(work, "build"), app, { recursive: true });
    writeFileSync(join(app, "package.json"), '{ "name": "uaip-service", "private": true }\n');
    execFileSync(
      "npm",
      // The reference service uses every part: it installs the runtime's optional peers too.
      [
        "install",
        "--omit=dev",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--silent",
        join(work, tarball),
        ...runtimePeerSpecs(),
      ],
      { cwd: app, stdio: "pipe" },
    );
    const installed = readdirSync(join(app, "node_modules"));
    expect(installed).not.toContain("typescript");
    expect(installed).not.toContain("@pulumi");
    expect(installed).not.toContain("tsx");

    const profile = stackProfile("local");
    const env = [...backends.envs].find(([s]) => s.name === "agent-intelligence")![1];
    // The migrations as the stack's Job runs them: from the packaged CLI, idempotent on a migrated database.
    const [node, ...cli] = MIGRATE_COMMAND;
    expect(node).toBe("node");
    const migrate = execFileSync(process.execPath, [...cli, "--url", backends.postgres.url(profile.database.name)], {
      cwd: app,
      encoding: "utf8",
    });
    const shipped = readdirSync(join(root, "runtime", "migrations")).filter((f) => /^\d+_[\w-]+\.sql$/.test(f));
    expect(migrate).toMatch(new RegExp(`applied 0 .*already applied ${shipped.length}\\b`));

    const port = await freePort();
    const child = spawn(process.execPath, ["service.js"], {
      cwd: app,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env, UAIP_PORT: String(port) },
      stdio: "pipe",
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    try {
      const deadline = Date.now() + 20_000;
      while (
        !(await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`service did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const res = await fetch(`http://127.0.0.1:${port}/agent-intelligence/operations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "test", payload: { data: "test" } }),
      });
      expect(res.status).toBe(200);
      const client = new pg.Client({ connectionString: backends.postgres.url(profile.database.name) });
      await client.connect();
      const { rows } = await client.query("SELECT count(*)::int AS n FROM operations WHERE payload->>'type' = 'test'");
      await client.end();
      expect(rows[0].n).toBeGreaterThanOrEqual(1);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }, 240_000);
});
