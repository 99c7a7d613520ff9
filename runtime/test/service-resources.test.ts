/**
 * The example service on createRuntime with the memory monitor, pressure gate, compression and the
 * admin profile trigger wired from env settings (no Redis: the runtime runs in-process only).
 */
import { rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { getHeapStatistics } from "node:v8";
import { gunzipSync } from "node:zlib";
import { createRuntime, loadRuntimeConfig, type UaipRuntime } from "@uaip/runtime";
import { METRIC } from "@uaip/runtime/metrics";
import { PROFILE_ADMIN_PATH } from "@uaip/runtime/profiler";
import type { UaipService } from "../../examples/service";
import { serveOnLoopback } from "./helpers/service";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const TOKEN = "0123456789abcdef-admin-token";

async function startService(env: Record<string, string>): Promise<{
  runtime: UaipRuntime;
  service: UaipService;
  close(): Promise<void>;
  call: (path: string, init?: { method?: string; headers?: Record<string, string> }) => Promise<Reply>;
}> {
  // The monitor measures against min(configured, enforced) heap: this jest worker is not a 384 MiB
  // pod, and its heap (shared with the other test files it ran) can be past 384 MiB, which is pressure.
  const workerHeapMiB = String(Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20));
  const runtime = createRuntime(
    loadRuntimeConfig({
      UAIP_SERVICE_NAME: "svc",
      UAIP_MEMORY_MONITOR_INTERVAL_MS: "50",
      UAIP_MEMORY_HEAP_LIMIT_MB: workerHeapMiB,
      ...env,
    }),
  );
  const { service, port, close } = await serveOnLoopback(runtime);
  const call = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: init.headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  return { runtime, service, close, call };
}

const stop = (s: { close(): Promise<void> }) => s.close();

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("timed out");
}

describe("example service: healthy", () => {
  let s: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    s = await startService({ UAIP_COMPRESSION_THRESHOLD_BYTES: "0", UAIP_ADMIN_TOKEN: TOKEN });
  });
  afterAll(() => stop(s));

  it("compresses reads for clients that accept it, with Vary", async () => {
    const r = await s.call("/svc/items/1", { headers: { "Accept-Encoding": "gzip" } });
    expect(r.status).toBe(200);
    expect(r.headers["content-encoding"]).toBe("gzip");
    expect(r.headers.vary).toBe("Accept-Encoding");
    expect(JSON.parse(gunzipSync(r.body).toString())).toMatchObject({ id: "1" });
  });

  it("is ready and live, and exports the memory monitor series with the service label", async () => {
    expect((await s.call("/healthz")).status).toBe(200);
    const ready = await s.call("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body.toString())).toMatchObject({ status: "ready", pressure: [] });
    const scrape = (await s.call("/metrics")).body.toString();
    expect(scrape).toMatch(
      new RegExp(`^${METRIC.memoryHeapLimitBytes}\\{service="svc"\\} ${s.runtime.memoryMonitor.heapLimitBytes}$`, "m"),
    );
    expect(scrape).toMatch(new RegExp(`^${METRIC.memoryPressure}\\{resource="heap",service="svc"\\} 0$`, "m"));
  });

  it("takes a CPU profile on the admin path with the Secret's token only", async () => {
    expect((await s.call(`${PROFILE_ADMIN_PATH}?seconds=0.1`, { method: "POST" })).status).toBe(401);
    const r = await s.call(`${PROFILE_ADMIN_PATH}?seconds=0.2`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual(
      expect.objectContaining({ nodes: expect.any(Array), startTime: expect.any(Number), endTime: expect.any(Number) }),
    );
    const file = /filename="([^"]+)"/.exec(String(r.headers["content-disposition"]))![1];
    rmSync(join(s.runtime.profiler.directory, file));
  });
});

describe("example service: without an admin token", () => {
  it("has no admin path (404)", async () => {
    const s = await startService({});
    try {
      expect(
        (await s.call(`${PROFILE_ADMIN_PATH}?seconds=0.1`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}` } }))
          .status,
      ).toBe(404);
    } finally {
      await stop(s);
    }
  });
});

describe("example service: under memory pressure", () => {
  it("fails readiness, stays live, sheds reads with 503 + Retry-After, keeps /metrics", async () => {
    // A threshold far below what any process uses: the first sample is pressure.
    const s = await startService({ UAIP_MEMORY_MONITOR_THRESHOLD: "0.0001" });
    try {
      await until(async () => (await s.call("/readyz")).status === 503);
      expect(JSON.parse((await s.call("/readyz")).body.toString())).toMatchObject({
        status: "under_pressure",
        pressure: ["heap"],
      });
      expect((await s.call("/healthz")).status).toBe(200);
      const shed = await s.call("/svc/items/1");
      expect(shed.status).toBe(503);
      expect(Number(shed.headers["retry-after"])).toBeGreaterThanOrEqual(5);
      expect((await s.call("/metrics")).body.toString()).toMatch(/^uaip_pressure_rejected_requests_total\{service="svc"\} 1$/m);
    } finally {
      await stop(s);
    }
  });
});
