/**
 * The packed @uaip/runtime as a consumer gets it (issues #10 and #24): `npm pack`, then
 * `npm install ./uaip-runtime-x.y.z.tgz` in an empty directory (optional peers are not installed),
 * used from plain `node` (no TypeScript anywhere) through its entry points, from CommonJS and ESM,
 * and type-checked by a consumer project with `skipLibCheck: false`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { consumerWorkDir, installedRuntime, type RuntimeInstall } from "../../test/helpers/pack-runtime";

const ROOT = join(__dirname, "..", "..");
const AREAS = ["cache", "ratelimit", "db", "realtime", "resources", "profiler", "compression", "metrics", "config", "fastify"];
const HEAVY_PEERS = ["pg", "ws", "@aws-sdk/client-cloudfront", "fastify"];
const TYPE_PEERS = ["pg", "ws", "@types/pg", "@types/ws"];
const MiB = 1024 * 1024;
// Complete settings (the seed's shorter forms are #24 item 1's, tested where they are built).
const POOL_SETTINGS = {
  pool: { minConnections: 1, maxConnections: 2, idleTimeoutMillis: 1000, connectionTimeoutMillis: 1000 },
  database: {
    host: "127.0.0.1",
    port: 5432,
    name: "x",
    user: "u",
    password: "p",
    ssl: false,
    sslCaFile: "",
    statsRefreshIntervalMs: 0,
  },
};
const WS_SETTINGS = {
  maxConnections: 1,
  heartbeatInterval: 1000,
  reconnectStrategy: { initialDelay: 1, maxDelay: 2, factor: 2 },
};

let light: RuntimeInstall;
let work: string;

beforeAll(() => {
  light = installedRuntime();
  work = consumerWorkDir(light, "package-test");
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function node(args: string[], cwd = work): string {
  const run = spawnSync(process.execPath, args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${run.stderr}`);
  return run.stdout.trim();
}

function tsc(cwd: string, files: string[], resolution: "node16" | "node10" = "node16"): string {
  const bin = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const module = resolution === "node16" ? ["--module", "node16"] : ["--module", "commonjs", "--esModuleInterop"];
  const flags = ["--noEmit", "--strict", ...module, "--moduleResolution", resolution, "--target", "es2022"];
  // skipLibCheck stays false: the package's .d.ts files (and what they import) are checked too.
  const types = ["--skipLibCheck", "false", "--typeRoots", join(ROOT, "node_modules", "@types"), "--types", "node"];
  const run = spawnSync(process.execPath, [bin, ...flags, ...types, ...files], { cwd, encoding: "utf8" });
  return `${run.stdout}${run.stderr}`.trim();
}

describe("the packed @uaip/runtime", () => {
  it("ships dist (JS, ESM wrapper, .d.ts, source maps) for the root and every entry point, and no TypeScript sources", () => {
    const tar = execFileSync("tar", ["-tzf", join(light.dir, light.tarball)], { encoding: "utf8" }).split("\n");
    const expected = ["", ...AREAS.map((a) => `${a}/`)].flatMap((d) =>
      ["index.js", "index.mjs", "index.d.ts", "index.d.mts", "index.js.map"].map((f) => `package/dist/${d}${f}`),
    );
    expect(tar).toEqual(expect.arrayContaining([...expected, "package/README.md"]));
    expect(tar.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".d.mts"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(light.dir, "node_modules/@uaip/runtime/package.json"), "utf8"));
    expect(Object.keys(pkg.exports).sort()).toEqual([".", "./package.json", ...AREAS.map((a) => `./${a}`)].sort());
    for (const [subpath, dir] of [[".", "dist"], ...AREAS.map((a) => [`./${a}`, `dist/${a}`])])
      expect(pkg.exports[subpath]).toEqual({
        require: { types: `./${dir}/index.d.ts`, default: `./${dir}/index.js` },
        import: { types: `./${dir}/index.d.mts`, default: `./${dir}/index.mjs` },
      });
  });

  it("declares pg, ws and the AWS SDK as optional peers, and a consumer's install has none of them", () => {
    const pkg = JSON.parse(readFileSync(join(light.dir, "node_modules/@uaip/runtime/package.json"), "utf8"));
    for (const peer of HEAVY_PEERS) {
      expect(pkg.dependencies[peer]).toBeUndefined();
      expect(pkg.peerDependencies[peer]).toBeDefined();
      expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true });
      expect(existsSync(join(light.dir, "node_modules", peer))).toBe(false);
    }
  });

  it("@uaip/runtime/cache and /ratelimit load and work under plain node without pg, ws or the AWS SDK", () => {
    const out = node([
      "-e",
      `const { CacheManager } = require("@uaip/runtime/cache");
       const { RateLimiter } = require("@uaip/runtime/ratelimit");
       const c = new CacheManager({ memory: { maxSize: 10, ttl: 1000 } });
       const l = new RateLimiter({ windowMs: 1000, maxRequests: 1 });
       Promise.all([c.set("k", 1).then(() => c.get("k")), l.consume("a"), l.consume("a")]).then(([v, a, b]) => {
         const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](pg|ws|@aws-sdk)[\\\\/]/.test(f));
         console.log(JSON.stringify({ v, a: a.allowed, b: b.allowed, loaded }));
         return Promise.all([c.close(), l.close()]);
       });`,
    ]);
    expect(JSON.parse(out)).toEqual({ v: 1, a: true, b: false, loaded: [] });
  });

  it("every entry point loads without the optional peers; the part that needs one throws PeerDependencyMissingError naming it", () => {
    const out = node([
      "-e",
      `const http = require("node:http");
       const loaded = {};
       for (const a of ["", ...${JSON.stringify(AREAS)}.map((a) => "/" + a)]) loaded[a || "."] = Object.keys(require("@uaip/runtime" + a)).length > 0;
       const { createPool, PeerDependencyMissingError } = require("@uaip/runtime/db");
       const { WebSocketManager } = require("@uaip/runtime/realtime");
       const { CloudFrontPurger } = require("@uaip/runtime/cache");
       const caught = (f) => f().then(() => "no error", (e) => ({ cls: e instanceof PeerDependencyMissingError, code: e.code, pkg: e.packageName, msg: e.message }));
       Promise.all([
         caught(async () => createPool(${JSON.stringify(POOL_SETTINGS)})),
         caught(async () => new WebSocketManager(${JSON.stringify(WS_SETTINGS)}).attach(http.createServer())),
         caught(() => new CloudFrontPurger({ distributionId: "E1" }).purge(["/a"])),
       ]).then((errors) => console.log(JSON.stringify({ loaded, errors })));`,
    ]);
    const { loaded, errors } = JSON.parse(out);
    expect(Object.values(loaded).every(Boolean)).toBe(true);
    expect(Object.keys(loaded)).toHaveLength(AREAS.length + 1);
    expect(errors.map((e: { pkg: string }) => e.pkg)).toEqual(["pg", "ws", "@aws-sdk/client-cloudfront"]);
    for (const e of errors) {
      expect(e).toMatchObject({ cls: true, code: "UAIP_PEER_DEPENDENCY_MISSING" });
      expect(e.msg).toContain(`npm install ${e.pkg}`);
    }
  });

  it("loads with import under plain node (named and default imports), sharing one copy of every class with require()", () => {
    writeFileSync(
      join(work, "check.mjs"),
      `import { createRequire } from "node:module";
       import * as esm from "@uaip/runtime";
       import rt, { UaipError, loadRuntimeConfig } from "@uaip/runtime";
       import { CacheManager } from "@uaip/runtime/cache";
       import * as config from "@uaip/runtime/config";
       const require = createRequire(import.meta.url);
       const cjs = require("@uaip/runtime");
       let code = "";
       try { loadRuntimeConfig({ UAIP_PORT: "0x10" }); } catch (e) { code = e instanceof cjs.UaipError && e instanceof UaipError ? e.code : "wrong class"; }
       console.log(JSON.stringify({
         same: esm.CacheManager === cjs.CacheManager && CacheManager === cjs.CacheManager && rt.CacheManager === CacheManager,
         subpathSame: config.loadRuntimeConfig === require("@uaip/runtime/config").loadRuntimeConfig,
         keys: Object.keys(esm).filter((k) => k !== "default").length === Object.keys(cjs).length,
         code,
       }));`,
    );
    expect(JSON.parse(node(["check.mjs"]))).toEqual({
      same: true,
      subpathSame: true,
      keys: true,
      code: "UAIP_RUNTIME_CONFIG_INVALID",
    });
  });

  it("a small root: createRuntime and the main classes; internals in no entry point", () => {
    const names: Record<string, string[]> = JSON.parse(
      node([
        "-e",
        `const out = {}; for (const a of [".", ...${JSON.stringify(AREAS)}]) out[a] = Object.keys(require(a === "." ? "@uaip/runtime" : "@uaip/runtime/" + a)); console.log(JSON.stringify(out));`,
      ]),
    );
    const everything = new Set(Object.values(names).flat());
    for (const internal of [
      "valueAt",
      "scramSha256Verifier",
      "patternToPath",
      "HysteresisSwitch",
      "maxOldSpaceSizeMiB",
      "SlidingWindow",
      "RouteGuard",
      "readDiskIo",
      "normalizePath",
      "admits",
      "CircuitBreaker",
      "checkOptions",
      "loadPeer",
      "counter",
      "gauge",
      "histogram",
    ])
      expect([internal, everything.has(internal)]).toEqual([internal, false]);
    expect(names["."]).toEqual(
      expect.arrayContaining(["createRuntime", "CacheManager", "RateLimiter", "MemoryMonitor", "UaipError"]),
    );
    // Smaller than any two areas together: the root is the entry, not the catalogue.
    expect(names["."].length).toBeLessThan(names.cache.length + names.ratelimit.length);
    // What the stack shares with the services lives in its area.
    expect(names.metrics).toEqual(
      expect.arrayContaining(["METRIC", "DEFAULT_METRIC", "LABEL", "LABEL_VALUE", "HTTP_DURATION_BUCKETS"]),
    );
    expect(names.config).toEqual(
      expect.arrayContaining(["RUNTIME_ENV", "runtimeSettingsSchema", "runtimeSettingsToEnv", "loadRuntimeConfig"]),
    );
  });

  it("every bin answers --help (exit 0, its usage), without pg installed; an unknown option points to --help", () => {
    const pkg = JSON.parse(readFileSync(join(light.dir, "node_modules/@uaip/runtime/package.json"), "utf8"));
    expect(Object.keys(pkg.bin).length).toBeGreaterThan(0);
    for (const bin of Object.keys(pkg.bin)) {
      const path = join(light.dir, "node_modules", ".bin", bin);
      for (const flag of ["--help", "-h"]) expect(node([path, flag]).split("\n")[0]).toMatch(new RegExp(`^Usage: ${bin} `));
      const bad = spawnSync(process.execPath, [path, "--no-such-option"], { cwd: work, encoding: "utf8" });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain(`see ${bin} --help`);
    }
  });

  it("a 64 MiB heapSizeLimit with a heap above it (no --max-old-space-size): pressure, and the gate answers 503", () => {
    const out = JSON.parse(
      node([
        "-e",
        `const http = require("node:http");
         const v8 = require("node:v8");
         const { MemoryMonitor, PressureGate } = require("@uaip/runtime/resources");
         const warnings = [];
         const monitor = new MemoryMonitor({ heapSizeLimit: 64 }, { warn: (m) => warnings.push(m) });
         const held = [];
         // Doubles in plain arrays live on the V8 heap: 1 MiB per array, until 92 MiB are used.
         while (process.memoryUsage().heapUsed < 92 * ${MiB}) held.push(new Array(131072).fill(1.5));
         const sample = monitor.monitor();
         const gate = new PressureGate(monitor);
         const server = http.createServer(gate.wrap((req, res) => res.end("ok"))).listen(0, "127.0.0.1", () => {
           http.get({ host: "127.0.0.1", port: server.address().port, path: "/work" }, (res) => {
             res.resume();
             console.log(JSON.stringify({ status: res.statusCode, pressure: sample.pressure, limit: sample.heapLimit, used: sample.heapUsed, v8: v8.getHeapStatistics().heap_size_limit, warnings, held: held.length > 0 }));
             server.close();
             monitor.close();
           });
         });`,
      ]),
    );
    expect(out.v8).toBeGreaterThan(92 * MiB); // V8 itself would let the heap grow much further
    expect(out.used).toBeGreaterThan(64 * MiB);
    expect(out.limit).toBe(64 * MiB);
    expect(out.pressure).toEqual(["heap"]);
    expect(out.status).toBe(503);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toContain("--max-old-space-size=64");
  });

  it("types: a consumer of the light entry points compiles with skipLibCheck false, without pg, ws or their types", () => {
    writeFileSync(
      join(work, "light.mts"),
      `import { CacheManager, CloudFrontPurger, type CacheManagerOptions } from "@uaip/runtime/cache";
       import { RateLimiter, clientAddressKey } from "@uaip/runtime/ratelimit";
       import { createMetrics, METRIC } from "@uaip/runtime/metrics";
       import { MemoryMonitor, PressureGate } from "@uaip/runtime/resources";
       import { ResponseCompressor } from "@uaip/runtime/compression";
       import { CPUProfiler } from "@uaip/runtime/profiler";
       import { loadRuntimeConfig, type RuntimeConfig } from "@uaip/runtime/config";
       const options: CacheManagerOptions = { memory: { maxSize: 1, ttl: 1 } };
       const c = new CacheManager(options);
       const p = new CloudFrontPurger({ distributionId: "E1", clientConfig: { region: "us-east-1" } });
       const l = new RateLimiter({ windowMs: 1, maxRequests: 1, keyGenerator: clientAddressKey({ hops: 2 }) });
       const m = createMetrics({ serviceName: "svc" });
       const mon = new MemoryMonitor({ heapSizeLimit: "384Mi" });
       const config: RuntimeConfig = loadRuntimeConfig({});
       const name: string = METRIC.httpRequestsTotal;
       void [c, p, l, m, new PressureGate(mon), ResponseCompressor, CPUProfiler, config, name];\n`,
    );
    writeFileSync(
      join(work, "light.cts"),
      `import { CacheManager } from "@uaip/runtime/cache";\nimport { RateLimiter } from "@uaip/runtime/ratelimit";\nvoid [CacheManager, RateLimiter];\n`,
    );
    expect(tsc(work, ["light.mts", "light.cts"])).toBe("");
    // A consumer still on node10 resolution (no `exports` support) finds the subpaths' types through typesVersions.
    writeFileSync(
      join(work, "node10.ts"),
      `import { CacheManager } from "@uaip/runtime/cache";\nimport { METRIC } from "@uaip/runtime/metrics";\nimport { loadRuntimeConfig } from "@uaip/runtime/config";\nvoid [CacheManager, METRIC, loadRuntimeConfig];\n`,
    );
    expect(tsc(work, ["node10.ts"], "node10")).toBe("");
  }, 120_000);

  it("types: root, /db and /realtime compile with skipLibCheck false once pg, ws and their types are installed; query rows keep their type", () => {
    const full = installedRuntime(TYPE_PEERS);
    const dir = consumerWorkDir(full, "types-full");
    try {
      writeFileSync(
        join(dir, "full.mts"),
        `import rt, { createRuntime, type UaipRuntime } from "@uaip/runtime";
         import { createPool, type ManagedPool } from "@uaip/runtime/db";
         import { WebSocketManager, MessageBatcher } from "@uaip/runtime/realtime";
         const runtime: UaipRuntime = createRuntime();
         async function rows(pool: ManagedPool): Promise<number> {
           const r = await pool.query<{ id: number }>("select 1 as id");
           const id: number = r.rows[0].id;
           // @ts-expect-error rows are typed, not any
           const wrong: string = r.rows[0].id;
           return id + wrong.length;
         }
         void [rt.createRuntime, runtime, rows, createPool, WebSocketManager, MessageBatcher];\n`,
      );
      expect(tsc(dir, ["full.mts"])).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
