/**
 * Issue #10, "options are silently ignored": every public constructor and factory honours an
 * option or refuses it by name, with a typed error and a hint; `__proto__` included.
 */
import { Redis } from "ioredis";
import {
  CacheInvalidator,
  CacheManager,
  createMetrics,
  createRuntime,
  loadRuntimeConfig,
  RateLimiter,
  UaipError,
} from "@uaip/runtime";
import { CloudFrontPurger } from "@uaip/runtime/cache";
import { MemoryStore, RedisStore } from "@uaip/runtime/ratelimit";
import { RedisServer } from "../../test/helpers/redis";

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

function refusal(build: () => unknown): UaipError & { key: string } {
  try {
    const made = build() as { close?: () => unknown };
    void made?.close?.();
  } catch (err) {
    expect(err).toBeInstanceOf(UaipError);
    return err as UaipError & { key: string };
  }
  throw new Error("expected the constructor to refuse its options");
}

describe("the seed's CacheConfig passed directly: new CacheManager({ memory, redis, cdn })", () => {
  it("honours all three keys: L1 size/TTL, L2 on the given Redis, CDN settings for the invalidator", async () => {
    const cacheConfig = {
      memory: { maxSize: 2, ttl: 60_000 },
      redis: { host: "127.0.0.1", port: redis.port, maxConnections: 4, commandTimeoutMs: 1_000 },
      cdn: { enabled: true, provider: "cloudfront" as const, distributionId: "E1" },
    };
    const a = new CacheManager(cacheConfig);
    const b = new CacheManager(cacheConfig);
    expect(await a.ready()).toBe(true);
    expect(a.l2State).toBe("closed");
    await a.set("price:1", 10);
    expect(await b.get("price:1")).toBe(10); // shared through Redis: the redis key was honoured
    await a.set("x", 1);
    await a.set("y", 2);
    expect(a.l1Size).toBe(2); // memory.maxSize honoured
    expect(a.settings.cdn).toMatchObject({ enabled: true, distributionId: "E1" });
    const raw = new Redis(redis.url);
    expect(await raw.get("uaip:c:price:1")).toBe("10");
    raw.disconnect();
    await Promise.all([a.close(), b.close()]);
  });

  it("refuses the seed's keys next to config, and unknown keys, by name with a hint", () => {
    expect(refusal(() => new CacheManager({ config: {}, redis: { host: "h" } }))).toMatchObject({
      code: "UAIP_CACHE_INVALID_OPTIONS",
      key: "redis",
    });
    const typo = refusal(() => new CacheManager({ memroy: { maxSize: 1 } } as never));
    expect(typo).toMatchObject({ code: "UAIP_CACHE_INVALID_OPTIONS", key: "memroy" });
    expect(typo.message).toMatch(/unknown option "memroy" \(did you mean "memory"\?\); known options are config, client, url/);
    expect(refusal(() => new CacheManager({ cdnPaths: () => "/" } as never)).message).toMatch(/CacheInvalidator/);
    expect(refusal(() => new CacheManager({ redis: { hots: "h" } } as never))).toMatchObject({ key: "config.redis.hots" });
  });
});

describe("__proto__ is never a way around the check", () => {
  const withOwnProto = (base: object) => {
    const json = JSON.stringify(base);
    return JSON.parse(`{"__proto__":{"redis":"redis://x"}${json === "{}" ? "}" : `,${json.slice(1)}`}`) as object;
  };
  const withLiteralProto = (base: object) => Object.assign(Object.create({ redis: "redis://x" }) as object, base);
  it.each([
    ["CacheManager", {}, (o: object) => new CacheManager(o as never)],
    ["RateLimiter", { windowMs: 1_000, maxRequests: 1 }, (o: object) => new RateLimiter(o as never)],
    ["MemoryStore", {}, (o: object) => new MemoryStore(o as never)],
    ["createMetrics", { serviceName: "s" }, (o: object) => createMetrics(o as never)],
    ["CacheInvalidator", {}, (o: object) => new CacheInvalidator(o as never)],
  ])("%s refuses __proto__ as an own key (JSON.parse) and as a replaced prototype (literal)", (_name, base, build) => {
    expect(refusal(() => build(withOwnProto(base)))).toMatchObject({ key: "__proto__" });
    expect(refusal(() => build(withLiteralProto(base)))).toMatchObject({ key: "__proto__" });
  });
});

describe("every constructor and factory refuses unknown options by name", () => {
  it.each([
    [
      "RateLimiter",
      () => new RateLimiter({ windowMs: 1_000, maxRequests: 1, keyPrefix: "x" } as never),
      "UAIP_RATELIMIT_OPTIONS_INVALID",
      "keyPrefix",
    ],
    [
      "RedisStore",
      () => new RedisStore({ url: "redis://127.0.0.1:1", lazyConnect: true } as never),
      "UAIP_RATELIMIT_OPTIONS_INVALID",
      "lazyConnect",
    ],
    [
      "RedisStore client + url",
      () => new RedisStore({ client: new Redis({ lazyConnect: true }), url: "redis://x" }),
      "UAIP_RATELIMIT_OPTIONS_INVALID",
      "client",
    ],
    ["MemoryStore", () => new MemoryStore({ max: 1 } as never), "UAIP_RATELIMIT_OPTIONS_INVALID", "max"],
    ["createMetrics", () => createMetrics({ serviceName: "s", prefix: "x" } as never), "UAIP_METRICS_OPTIONS_INVALID", "prefix"],
    [
      "CacheInvalidator",
      () => new CacheInvalidator({ cache: new CacheManager(), paths: [] } as never),
      "UAIP_CACHE_INVALID_OPTIONS",
      "paths",
    ],
    [
      "CloudFrontPurger",
      () => new CloudFrontPurger({ distributionId: "E", region: "us-east-1" } as never),
      "UAIP_CACHE_INVALID_OPTIONS",
      "region",
    ],
    [
      "CacheManager breaker",
      () => new CacheManager({ breaker: { threshold: 3 } } as never),
      "UAIP_CACHE_INVALID_OPTIONS",
      "breaker.threshold",
    ],
    [
      "RedisStore breaker",
      () => new RedisStore({ url: "redis://127.0.0.1:1", breaker: { cooldown: 1 } } as never),
      "UAIP_RATELIMIT_OPTIONS_INVALID",
      "breaker.cooldown",
    ],
    [
      "createRuntime",
      () => createRuntime({ config: loadRuntimeConfig({}), redis: "redis://x" } as never),
      "UAIP_RUNTIME_CONFIG_INVALID",
      "redis",
    ],
    [
      "createRuntime (config, options)",
      () => createRuntime(loadRuntimeConfig({}), { keyGen: () => "" } as never),
      "UAIP_RUNTIME_CONFIG_INVALID",
      "keyGen",
    ],
  ])("%s", (_name, build, code, key) => {
    const err = refusal(build);
    expect(err).toMatchObject({ code, key });
    expect(err.message).toContain(key.split(".").pop());
  });
});

describe("createRuntime honours its options", () => {
  it("keyGenerator and cdnPaths reach the limiter and the invalidator", async () => {
    const purged: string[][] = [];
    const rt = createRuntime({
      config: loadRuntimeConfig({ UAIP_SERVICE_NAME: "svc", UAIP_CDN_ENABLED: "true", UAIP_CDN_DISTRIBUTION_ID: "E1" }),
      keyGenerator: (req) => String(req.headers["x-api-key"]),
      cdnPaths: (k) => `/svc/items/${k.slice("item:".length)}`,
      purger: { purge: async (paths) => (purged.push([...paths]), { paths: [...paths], invalidationIds: ["I1"], requests: 1 }) },
    });
    expect(rt.limiter.keyGenerator({ headers: { "x-api-key": "k1" } } as never)).toBe("k1");
    const report = await rt.invalidator.invalidate("item:*");
    expect(report.cdn).toMatchObject({ ok: true, invalidationIds: ["I1"] });
    expect(purged).toEqual([["/svc/items/*"]]);
    await rt.close();
  });
});
