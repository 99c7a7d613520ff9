/**
 * The cross-layer contract end to end: the ConfigMap data the stack derives from the profile
 * becomes a running service's environment, and the service built on @uaip/runtime obeys it.
 */
import { request } from "node:http";
import { createRuntime, loadRuntimeConfig, type UaipRuntime } from "@uaip/runtime";
import { METRIC } from "@uaip/runtime/metrics";
import { DEV_PROFILE, DEV_SERVICE, devConfigMapData } from "./dev-configmap";
import type { UaipService } from "../../examples/service";
import { serveOnLoopback, type LoopbackService } from "./helpers/service";
import { RedisServer } from "../../test/helpers/redis";
import { PostgresServer } from "../../test/helpers/postgres";
import { getHeapStatistics } from "node:v8";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let redis: RedisServer;
let postgres: PostgresServer;
let runtime: UaipRuntime;
let service: UaipService;
let served: LoopbackService | undefined;
let base: string;

function get(path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const profile = DEV_PROFILE;
const svc = DEV_SERVICE;

beforeAll(async () => {
  redis = await RedisServer.start();
  postgres = await PostgresServer.start();
  const data = devConfigMapData(redis.port);
  // There is no CDN here. The 50 ms command timeout is raised so a
  // busy CI machine cannot push a check into the in-memory fallback; the rest is the stack's.
  // The loopback PostgreSQL has no TLS and no per-service role: the superuser stands in for it.
  const db = {
    UAIP_DB_PORT: String(postgres.port),
    UAIP_DB_NAME: "postgres",
    UAIP_DB_USER: PostgresServer.USER,
    UAIP_DB_PASSWORD: PostgresServer.PASSWORD,
    UAIP_DB_SSL: "false",
  };
  // The heap limit is this jest worker's own: the pod's 384 MiB is enforced by its --max-old-space-size,
  // and this worker (which has run other test files) may hold more than that without being a pod in trouble.
  const workerHeapMiB = String(Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20));
  const env = {
    ...data,
    ...db,
    UAIP_CDN_ENABLED: "false",
    UAIP_REDIS_COMMAND_TIMEOUT_MS: "1000",
    UAIP_MEMORY_HEAP_LIMIT_MB: workerHeapMiB,
  };
  runtime = createRuntime(loadRuntimeConfig(env));
  expect(await runtime.ready(10_000)).toBe(true);
  served = await serveOnLoopback(runtime);
  ({ service, base } = served);
});

afterAll(async () => {
  await (served ? served.close() : runtime?.close());
  await redis?.stop();
  await postgres?.destroy();
});

describe("stack settings -> running service", () => {
  it("applies the keep-alive the ALB check derived (idle timeout + 5 s), with headersTimeout above it", () => {
    expect(service.server.keepAliveTimeout).toBe((profile.loadBalancer.idleTimeout + 5) * 1000);
    expect(service.server.headersTimeout).toBeGreaterThan(service.server.keepAliveTimeout);
  });

  it("answers the probes the Deployment uses", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(200);
  });

  it("serves reads through the two-tier cache and limits them at the profile's maxRequests", async () => {
    const first = await get(`/${svc.name}/items/42`);
    const second = await get(`/${svc.name}/items/42`);
    expect(first.status).toBe(200);
    expect(JSON.parse(second.body).loadedAt).toBe(JSON.parse(first.body).loadedAt);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(`/${svc.name}/items/${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await get(`/${svc.name}/items/9`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(String(limited.headers["ratelimit-policy"])).toContain("q=5");
  });

  it("exports the metric names the dashboards and alerts are generated from, labelled with the service", async () => {
    const scrape = await get("/metrics");
    expect(scrape.headers["content-type"]).toMatch(/^text\/plain/);
    for (const name of [
      METRIC.httpRequestsTotal,
      METRIC.httpRequestDurationSeconds + "_bucket",
      METRIC.cacheRequestsTotal,
      METRIC.rateLimitRequestsTotal,
    ]) {
      expect([name, new RegExp(`^${name}\\{[^}]*service="${svc.name}"`, "m").test(scrape.body)]).toEqual([name, true]);
    }
  });

  it("builds the PostgreSQL pool from the ConfigMap (UAIP_DB_HOST set): its ceiling is the profile's pool.max", async () => {
    expect(runtime.db).toBeDefined();
    expect((await runtime.db!.query<{ x: number }>("SELECT 1 AS x")).rows[0].x).toBe(1);
    const scrape = await get("/metrics");
    expect(scrape.body).toMatch(
      new RegExp(`^${METRIC.dbPoolMaxConnections}\\{[^}]*service="${svc.name}"[^}]*\\} ${svc.pool.max}$`, "m"),
    );
    expect(scrape.body).toMatch(
      new RegExp(`^${METRIC.dbStatsRefreshIntervalSeconds}\\{[^}]*\\} ${profile.database.statsRefreshInterval / 1000}$`, "m"),
    );
  });

  it("keeps answering while Redis is down, and the limiter falls back to its in-memory count", async () => {
    await redis.stop();
    // The insurance store counts from zero in this process, so the next requests pass again…
    const during: number[] = [];
    for (let i = 0; i < 6; i++) during.push((await get(`/${svc.name}/items/outage-${i}`)).status);
    // …up to this replica's share of maxRequests (the ConfigMap's UAIP_REPLICAS_MAX is the HPA max, so
    // every replica together stays within the limit): degraded, never unlimited and never a 500.
    const share = Math.max(1, Math.floor(DEV_PROFILE.runtime.rateLimit.maxRequests / svc.hpa.max));
    expect(during).toEqual([...Array<number>(share).fill(200), ...Array<number>(6 - share).fill(429)]);
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(200);
    await redis.start();
    // …and both recover by themselves once Redis is back.
    expect(await runtime.ready(10_000)).toBe(true);
    let recovered = await runtime.limiter.consume("after-restart");
    for (let i = 0; i < 50 && recovered.degraded; i++) {
      await new Promise((r) => setTimeout(r, 100));
      recovered = await runtime.limiter.consume("after-restart");
    }
    expect(recovered).toMatchObject({ allowed: true });
    expect(recovered.degraded).toBeUndefined();
  });

  it("fails readiness once draining, so the ALB stops routing before the process exits", async () => {
    service.drain();
    expect((await get("/readyz")).status).toBe(503);
  });
});
