/**
 * Issue #10, "rate limiting has no per-client effect once deployed": with the dev stack's own
 * ConfigMap data (CloudFront + ALB in front: two trusted hops), clients behind the same load
 * balancer address each get their own maxRequests, and the counters live in the service's own
 * namespace, outside any cache invalidation pattern.
 */
import { request } from "node:http";
import { Redis } from "ioredis";
import { createRuntime, loadRuntimeConfig, type UaipRuntime } from "@uaip/runtime";
import { DEV_SERVICE, devConfigMapData } from "./dev-configmap";
import { serveOnLoopback, type LoopbackService } from "./helpers/service";
import { RedisServer } from "../../test/helpers/redis";

const svc = DEV_SERVICE;
const EDGE = "130.176.1.20";

let redis: RedisServer;
let raw: Redis;
let runtime: UaipRuntime;
let served: LoopbackService | undefined;
let base: string;
let data: Record<string, string>;

function get(path: string, xff: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: { "x-forwarded-for": xff }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  redis = await RedisServer.start();
  raw = new Redis(redis.url);
  data = devConfigMapData(redis.port);
  // Loopback: no TLS, no CDN; a generous command timeout for a busy CI machine. The rest is the stack's.
  // No PostgreSQL here: the limiter is what this test is about.
  runtime = createRuntime(
    loadRuntimeConfig({
      ...data,
      UAIP_REDIS_TLS: "false",
      UAIP_CDN_ENABLED: "false",
      UAIP_REDIS_COMMAND_TIMEOUT_MS: "1000",
      UAIP_DB_HOST: "",
    }),
  );
  expect(await runtime.ready(10_000)).toBe(true);
  served = await serveOnLoopback(runtime);
  ({ base } = served);
});

afterAll(async () => {
  await (served ? served.close() : runtime?.close());
  raw?.disconnect();
  await redis?.stop();
});

describe("dev ConfigMap -> per-client rate limits behind CloudFront + ALB", () => {
  it("the stack writes two trusted hops and a per-service namespace", () => {
    expect(data.UAIP_TRUSTED_PROXY_HOPS).toBe("2");
    expect(data.UAIP_REDIS_KEY_PREFIX).toBe(`uaip:${svc.name}:`);
    expect(data.UAIP_CDN_PATH_PREFIX).toBe(`/${svc.name}/`);
  });

  it("two clients with different X-Forwarded-For each get maxRequests (the ALB's address is the same for both)", async () => {
    const statuses = async (viewer: string) => {
      const out: number[] = [];
      for (let i = 0; i < 6; i++) out.push(await get(`/${svc.name}/items/${i}`, `${viewer}, ${EDGE}`));
      return out;
    };
    expect(await statuses("203.0.113.1")).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await statuses("203.0.113.2")).toEqual([200, 200, 200, 200, 200, 429]);
    // A client rotating a spoofed header of its own still lands in its own (full) bucket.
    expect(await get(`/${svc.name}/items/x`, `6.6.6.6, 203.0.113.1, ${EDGE}`)).toBe(429);
    const keys = (await raw.keys("*rl*")).sort();
    expect(keys).toEqual([`{uaip:${svc.name}:rl:203.0.113.1}`, `{uaip:${svc.name}:rl:203.0.113.2}`]);
  });

  it("invalidate('*') clears this service's cache entries and leaves every rate-limit counter alone", async () => {
    const before = await raw.keys(`uaip:${svc.name}:c:*`);
    expect(before.length).toBeGreaterThan(0);
    const result = await runtime.cache.invalidate("*");
    expect(result.complete).toBe(true);
    expect(await raw.keys(`uaip:${svc.name}:c:*`)).toEqual([]);
    expect((await raw.keys("*rl*")).length).toBe(2);
    expect(await get(`/${svc.name}/items/0`, `203.0.113.1, ${EDGE}`)).toBe(429);
  });
});
