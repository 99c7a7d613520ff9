/**
 * Issue #24 item 5: examples/from-zero, a plain-JavaScript node:http service, run as a new team
 * would run it: the packed tarball installed in an empty directory (no optional peers), the
 * example's files copied next to it, `node server.js` against a real redis-server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { consumerWorkDir, installedRuntime } from "../helpers/pack-runtime";
import { useRedisServer } from "../helpers/redis";

const EXAMPLE = join(__dirname, "..", "..", "examples", "from-zero");
const MAX_REQUESTS = 6;
const redis = useRedisServer();
let dir: string;
let child: ChildProcess;
let port: number;
let stderr = "";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

const jsonOf = (r: Reply) => JSON.parse((r.headers["content-encoding"] === "gzip" ? gunzipSync(r.body) : r.body).toString());

beforeAll(async () => {
  const install = installedRuntime();
  dir = consumerWorkDir(install, "from-zero");
  cpSync(EXAMPLE, dir, { recursive: true });
  // As `npm start` runs it: the heap flag matches the monitor's heapSizeLimit, so nothing is said on stderr.
  child = spawn(process.execPath, ["--max-old-space-size=384", "server.js"], {
    cwd: dir,
    env: { PATH: process.env.PATH, REDIS_URL: redis.server.url, PORT: "0", RATE_LIMIT_MAX: String(MAX_REQUESTS) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (c: Buffer) => resolve(JSON.parse(c.toString()).listening));
    child.once("exit", (code) => reject(new Error(`server.js exited with ${code}:\n${stderr}`)));
  });
}, 240_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("examples/from-zero on the packed runtime", () => {
  it("runs without pg, ws or the AWS SDK installed, and says nothing on stderr", () => {
    for (const peer of ["pg", "ws", "@aws-sdk/client-cloudfront"])
      expect(existsSync(join(dir, "..", "node_modules", peer))).toBe(false);
    expect(stderr).toBe("");
  });

  it("caches an item in both tiers, compresses it, and invalidates it everywhere", async () => {
    const first = await call("GET", "/items/42", { "Accept-Encoding": "gzip" });
    expect(first.status).toBe(200);
    expect(first.headers["x-cache"]).toBe("miss");
    expect(first.headers["content-encoding"]).toBe("gzip"); // above the 1 KiB threshold
    const item = jsonOf(first);
    expect(item).toMatchObject({ id: "42", name: "item 42" });
    // In Redis, under the service's own prefix.
    expect(JSON.parse((await redis.raw.get("from-zero:c:item:42"))!)).toEqual(item);
    const second = await call("GET", "/items/42");
    expect(second.headers["x-cache"]).toBe("hit");
    expect(jsonOf(second)).toEqual(item);
    const invalidated = await call("POST", "/items/42/invalidate");
    expect(jsonOf(invalidated)).toEqual({ invalidated: "42", complete: true });
    expect(await redis.raw.exists("from-zero:c:item:42")).toBe(0);
    const third = await call("GET", "/items/42");
    expect(third.headers["x-cache"]).toBe("miss");
    expect(jsonOf(third).loadedAt).not.toBe(item.loadedAt);
  });

  it("limits each client to RATE_LIMIT_MAX requests per window (counted in Redis), probes and /metrics exempt", async () => {
    // Four requests so far in this file; the limit is six.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call("GET", "/items/7")).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("GET", "/readyz")).status).toBe(200);
    const metrics = (await call("GET", "/metrics")).body.toString();
    expect(metrics).toMatch(/^uaip_http_requests_total\{.*status_code="429".*\} 2$/m);
    expect(metrics).toMatch(/^uaip_memory_heap_limit_bytes\{service="from-zero"\} /m);
    // L1 hits: the second GET /items/42, and the second GET /items/7 (its first one computed it).
    expect(metrics).toMatch(/^uaip_cache_requests_total\{tier="l1",result="hit".*\} 2$/m);
    expect(metrics).toMatch(/^uaip_memory_heap_limit_mismatch\{service="from-zero"\} 0$/m);
  });
});
