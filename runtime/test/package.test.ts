/**
 * Issue #10, "it cannot be imported by a plain Node.js service": `npm pack -w runtime`, install the
 * tarball into an empty directory (its dependencies from the registry, or the npm cache), then load
 * it with plain `node` (no TypeScript anywhere) from CommonJS and from ESM.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { packRuntime } from "../../test/helpers/pack-runtime";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "uaip-runtime-pack-"));
  // Packs a private copy (prepack builds its own dist/), never rebuilding the shared runtime/dist.
  const tarball = packRuntime(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  const install = spawnSync(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", `./${tarball}`],
    { cwd: dir, encoding: "utf8" },
  );
  if (install.status !== 0)
    throw new Error(`npm install of the tarball failed (needs the npm registry or a warm cache):\n${install.stderr}`);
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function node(args: string[]): string {
  const run = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${run.stderr}`);
  return run.stdout.trim();
}

describe("the packed @uaip/runtime", () => {
  it("ships dist (JS, .d.ts, source maps) and no TypeScript sources", () => {
    const tar = execFileSync(
      "tar",
      [
        "-tzf",
        join(
          dir,
          readdirSync(dir).find((f) => f.endsWith(".tgz"))!,
        ),
      ],
      { encoding: "utf8" },
    ).split("\n");
    expect(tar).toEqual(
      expect.arrayContaining([
        "package/dist/index.js",
        "package/dist/index.mjs",
        "package/dist/index.d.ts",
        "package/dist/index.d.mts",
        "package/dist/index.js.map",
        "package/README.md",
      ]),
    );
    expect(tar.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".d.mts"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(dir, "node_modules/@uaip/runtime/package.json"), "utf8"));
    expect(pkg.exports["."]).toMatchObject({
      require: { types: "./dist/index.d.ts", default: "./dist/index.js" },
      import: { types: "./dist/index.d.mts", default: "./dist/index.mjs" },
    });
  });

  it("loads with require() under plain node and works (a cache and a limiter, no Redis)", () => {
    const out = node([
      "-e",
      `const r = require("@uaip/runtime");
       const c = new r.CacheManager({ memory: { maxSize: 10, ttl: 1000 } });
       const l = new r.RateLimiter({ windowMs: 1000, maxRequests: 1 });
       Promise.all([c.set("k", 1).then(() => c.get("k")), l.consume("a"), l.consume("a")]).then(([v, a, b]) => {
         console.log(JSON.stringify({ v, a: a.allowed, b: b.allowed, metric: r.METRIC.httpRequestsTotal, names: Object.keys(r).length }));
         return Promise.all([c.close(), l.close()]);
       });`,
    ]);
    const res = JSON.parse(out);
    expect(res).toMatchObject({ v: 1, a: true, b: false });
    expect(res.metric).toMatch(/^uaip_/);
  });

  it("loads with import under plain node, sharing one copy of every class with require()", () => {
    writeFileSync(
      join(dir, "check.mjs"),
      `import { createRequire } from "node:module";
       import * as esm from "@uaip/runtime";
       import { UaipError, loadRuntimeConfig } from "@uaip/runtime";
       const cjs = createRequire(import.meta.url)("@uaip/runtime");
       let code = "";
       try { loadRuntimeConfig({ UAIP_PORT: "0x10" }); } catch (e) { code = e instanceof cjs.UaipError && e instanceof UaipError ? e.code : "wrong class"; }
       console.log(JSON.stringify({ same: esm.CacheManager === cjs.CacheManager, keys: Object.keys(esm).length === Object.keys(cjs).length, code }));`,
    );
    expect(JSON.parse(node(["check.mjs"]))).toEqual({ same: true, keys: true, code: "UAIP_RUNTIME_CONFIG_INVALID" });
  });

  it("type-checks for ESM and CommonJS consumers (node16 resolution: the exports' types conditions)", () => {
    writeFileSync(
      join(dir, "consumer.mts"),
      `import { createRuntime, CacheManager, RateLimiter, clientAddressKey, type UaipRuntime } from "@uaip/runtime";
       const rt: UaipRuntime = createRuntime({ keyGenerator: clientAddressKey({ hops: 2 }) });
       const c = new CacheManager({ memory: { maxSize: 1, ttl: 1 } });
       const l = new RateLimiter({ windowMs: 1, maxRequests: 1, redis: { host: "h", port: 1 } });
       void rt; void c; void l;\n`,
    );
    writeFileSync(
      join(dir, "consumer.cts"),
      `import { createRuntime, METRIC } from "@uaip/runtime";\nconst name: string = METRIC.httpRequestsTotal;\nvoid createRuntime; void name;\n`,
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const flags = [
      "--noEmit",
      "--strict",
      "--module",
      "node16",
      "--moduleResolution",
      "node16",
      "--target",
      "es2022",
      "--skipLibCheck",
    ];
    const types = ["--typeRoots", join(ROOT, "node_modules", "@types"), "--types", "node"];
    expect(node([tsc, ...flags, ...types, "consumer.mts", "consumer.cts"])).toBe("");
  }, 60_000);

  it("exports the explicit list only: no internals", () => {
    const names: string[] = JSON.parse(node(["-e", 'console.log(JSON.stringify(Object.keys(require("@uaip/runtime"))))']));
    for (const internal of [
      "SlidingWindow",
      "RouteGuard",
      "readDiskIo",
      "normalizePath",
      "admits",
      "CircuitBreaker",
      "checkOptions",
      "counter",
      "gauge",
      "histogram",
    ]) {
      expect(names).not.toContain(internal);
    }
    for (const stackApi of [
      "METRIC",
      "DEFAULT_METRIC",
      "LABEL",
      "LABEL_VALUE",
      "HTTP_DURATION_BUCKETS",
      "RUNTIME_ENV",
      "runtimeSettingsSchema",
      "runtimeSettingsToEnv",
      "createRuntime",
      "clientAddressKey",
    ]) {
      expect(names).toContain(stackApi);
    }
  });
});
