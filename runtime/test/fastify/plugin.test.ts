/**
 * Issue #24, "what peers offer": a tested Fastify integration. A real Fastify 5 server listening on a
 * loopback port, real HTTP requests: metrics with Fastify's route templates (declared as routes are
 * registered, so scanners cannot crowd them out), the pressure gate, the rate limit with skip, and
 * @fastify/compress with the runtime's compression settings.
 */
import Fastify, { type FastifyInstance } from "fastify";
import fastifyCompress from "@fastify/compress";
import { gunzipSync } from "node:zlib";
import { get } from "node:http";
import { createMetrics } from "../../src/metrics/http-metrics";
import { METRIC } from "../../src/metrics/names";
import { RateLimiter } from "../../src/ratelimit/limiter";
import { MemoryMonitor } from "../../src/resources/memory-monitor";
import { PressureGate } from "../../src/resources/pressure-gate";
import { ResponseCompressor } from "../../src/compression/response-compressor";
import { fastifyCompressOptions, FastifyPluginOptionsError, uaipFastify } from "../../src/fastify";

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function start(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return app.listen({ port: 0, host: "127.0.0.1" });
}

/** GET with Accept-Encoding: gzip, the body's bytes as sent (node:http does not decode). */
function rawGet(url: string): Promise<{ encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { "accept-encoding": "gzip" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

const countOf = (body: string, route: string, status: number) => {
  const m = new RegExp(
    `^${METRIC.httpRequestsTotal}\\{method="GET",route="${route.replace(/[/:]/g, (c) => `\\${c}`)}",status_code="${status}"[^}]*\\} (\\d+)$`,
    "m",
  ).exec(body);
  return m ? Number(m[1]) : 0;
};

describe("uaipFastify", () => {
  it("metrics: Fastify's route templates label every request (404s under the cap), served at /metrics; scanners never crowd a route out", async () => {
    const metrics = createMetrics({ serviceName: "svc", collectDefault: false, maxRoutes: 5 });
    const app = Fastify();
    await app.register(uaipFastify, { metrics });
    app.get("/users/:id", async (req) => ({ id: (req.params as { id: string }).id }));
    const url = await start(app);
    for (let i = 0; i < 20; i++) expect((await fetch(`${url}/scan-${String.fromCharCode(97 + i)}`)).status).toBe(404);
    for (const id of ["1", "abc", "42"]) expect(await (await fetch(`${url}/users/${id}`)).json()).toEqual({ id });
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toBe(metrics.registry.contentType);
    const body = await res.text();
    expect(countOf(body, "/users/:id", 200)).toBe(3); // "abc" too: the template comes from Fastify's router
    expect(countOf(body, "__other__", 404)).toBe(15); // 20 scanners, 5 kept their label
    metrics.close();
  });

  it("rate limit: RateLimit headers, 429 with the middleware's body, skip bypasses counting", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 2, keyGenerator: () => "one-client" });
    const app = Fastify();
    await app.register(uaipFastify, { limiter, skip: (req) => req.url === "/health" });
    app.get("/", async () => "ok");
    app.get("/health", async () => "up");
    const url = await start(app);
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/health`)).headers.get("ratelimit")).toBeNull();
    const answers = [await fetch(url), await fetch(url), await fetch(url)];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(answers[0].headers.get("ratelimit")).toMatch(/^"default";r=1;t=\d+$/);
    expect(answers[2].headers.get("retry-after")).not.toBeNull();
    expect(await answers[2].json()).toMatchObject({ error: { code: "UAIP_RATE_LIMITED" } });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await limiter.close();
  });

  it("a throwing keyGenerator or skip is Fastify's 500, and the server keeps serving", async () => {
    const limiter = new RateLimiter({
      windowMs: 60_000,
      maxRequests: 100,
      keyGenerator: (req) => {
        if (req.url === "/bad-key") throw new Error("no key");
        return "k";
      },
    });
    const app = Fastify();
    await app.register(uaipFastify, {
      limiter,
      skip: (req) => {
        if (req.url === "/bad-skip") throw new Error("skip bug");
        return false;
      },
    });
    app.get("/*", async () => "ok");
    const url = await start(app);
    expect((await fetch(`${url}/bad-key`)).status).toBe(500);
    expect((await fetch(`${url}/bad-skip`)).status).toBe(500);
    expect((await fetch(`${url}/fine`)).status).toBe(200);
    await limiter.close();
  });

  it("pressure gate: 503 + Retry-After under pressure (counted by the metrics), exempt paths pass", async () => {
    const monitor = new MemoryMonitor({ memoryMonitoring: { threshold: 0.85 } }, { heapLimitBytes: 1024 * 1024 });
    monitor.monitor();
    expect(monitor.underPressure).toBe(true);
    const metrics = createMetrics({ serviceName: "svc", collectDefault: false });
    const app = Fastify();
    await app.register(uaipFastify, { metrics, gate: new PressureGate(monitor) });
    app.get("/work", async () => "done");
    const url = await start(app);
    const shed = await fetch(`${url}/work`);
    expect(shed.status).toBe(503);
    expect(Number(shed.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await shed.json()).toMatchObject({ error: { code: "UAIP_OVERLOADED" } });
    const scrape = await fetch(`${url}/metrics`); // exempt by default
    expect(scrape.status).toBe(200);
    expect(countOf(await scrape.text(), "/work", 503)).toBe(1);
    monitor.close();
    metrics.close();
  });

  it("@fastify/compress with the runtime's compression settings: above the threshold gzip, below it identity", async () => {
    const compressor = new ResponseCompressor({ threshold: 2_048, level: 6 });
    const app = Fastify();
    await app.register(fastifyCompress, fastifyCompressOptions(compressor));
    const big = "x".repeat(4_096);
    app.get("/big", async (_req, reply) => reply.type("text/plain").send(big));
    app.get("/small", async (_req, reply) => reply.type("text/plain").send("x".repeat(2_047)));
    const url = await start(app);
    const res = await fetch(`${url}/big`, { headers: { "accept-encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const raw = await rawGet(`${url}/big`);
    expect(raw.encoding).toBe("gzip");
    expect(gunzipSync(raw.body).toString()).toBe(big);
    const small = await rawGet(`${url}/small`);
    expect(small.encoding).toBeUndefined();
    expect(small.body.length).toBe(2_047);
  });

  it("refuses unknown or inconsistent options by name", async () => {
    for (const [options, key] of [
      [{ limitr: {} }, "limitr"],
      [{ skip: () => true }, "skip"],
      [{ metricsPath: "/m" }, "metricsPath"],
      [{ metrics: createMetrics({ serviceName: "s", collectDefault: false }), metricsPath: "metrics" }, "metricsPath"],
    ] as const) {
      const app = Fastify();
      apps.push(app);
      await expect(app.register(uaipFastify, options as never).ready()).rejects.toMatchObject({
        code: FastifyPluginOptionsError.CODE,
        key,
      });
    }
  });
});
