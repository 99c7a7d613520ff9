/**
 * Issue #10, "services are not isolated from each other": each service's runtime gets its own
 * namespace and invalidation channel; a shared cache is an explicit setting; an empty prefix is refused.
 */
import { Redis } from "ioredis";
import { createRuntime, loadRuntimeConfig, CacheManager, type UaipRuntime } from "@uaip/runtime";
import { parseConfig } from "../../profile/parse";
import { serviceRuntimeSettings } from "../../profile/service-settings";
import { RedisServer } from "../../test/helpers/redis";

let redis: RedisServer;
let raw: Redis;
const runtimes: UaipRuntime[] = [];

function runtimeFor(serviceName: string, extra: Record<string, string> = {}): UaipRuntime {
  const rt = createRuntime(
    loadRuntimeConfig({
      UAIP_SERVICE_NAME: serviceName,
      UAIP_REDIS_HOST: "127.0.0.1",
      UAIP_REDIS_PORT: String(redis.port),
      UAIP_REDIS_COMMAND_TIMEOUT_MS: "1000",
      ...extra,
    }),
  );
  runtimes.push(rt);
  return rt;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  raw = new Redis(redis.url);
});
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
  await raw.flushall();
});
afterAll(async () => {
  raw.disconnect();
  await redis.stop();
});

describe("one namespace per service", () => {
  it("service B does not read service A's item:1, and A's invalidate('*') touches neither B's entries nor any limiter counter", async () => {
    const a = runtimeFor("agent-intelligence");
    const b = runtimeFor("capability-registry");
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    await a.cache.set("item:1", "from A");
    await b.cache.set("item:2", "from B");
    await a.limiter.consume("203.0.113.1");
    await b.limiter.consume("203.0.113.1");
    expect(await b.cache.get("item:1")).toBeNull();

    const r = await a.invalidator.invalidate("*");
    expect(r).toMatchObject({ complete: true, l2: 1 });
    expect(await b.cache.get("item:2")).toBe("from B");
    expect((await raw.keys("*")).sort()).toEqual([
      // rate-limit keys are hash-tagged {prefix+client} (slotKey); "{" sorts after letters
      "uaip:capability-registry:c:item:2",
      "{uaip:agent-intelligence:rl:203.0.113.1}",
      "{uaip:capability-registry:rl:203.0.113.1}",
    ]);
  });

  it("a shared cache is explicit (the same UAIP_REDIS_KEY_PREFIX), and even then each service keeps its own limiter counters", async () => {
    const a = runtimeFor("agent-intelligence", { UAIP_REDIS_KEY_PREFIX: "uaip:shared:" });
    const b = runtimeFor("capability-registry", { UAIP_REDIS_KEY_PREFIX: "uaip:shared:" });
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    await a.cache.set("item:1", "shared");
    expect(await b.cache.get("item:1")).toBe("shared");
    await b.cache.get("item:1"); // now in B's L1
    await a.invalidator.invalidate("item:*"); // reaches B's L1 over the shared channel
    await new Promise((r) => setTimeout(r, 100));
    expect(await b.cache.get("item:1")).toBeNull();
    await a.limiter.consume("c1");
    await b.limiter.consume("c1");
    expect((await raw.keys("*rl*")).sort()).toEqual(["{uaip:agent-intelligence:rl:c1}", "{uaip:capability-registry:rl:c1}"]);
  });

  it("the stack gives every service its own prefix unless the profile names one", () => {
    const profile = parseConfig({ environment: "dev" });
    const prefixes = profile.services.map((s) => serviceRuntimeSettings(profile, s).cache.redis.keyPrefix);
    expect(prefixes).toEqual(profile.services.map((s) => `uaip:${s.name}:`));
    const shared = parseConfig({ environment: "dev", runtime: { cache: { redis: { keyPrefix: "uaip:catalog:" } } } });
    expect(new Set(shared.services.map((s) => serviceRuntimeSettings(shared, s).cache.redis.keyPrefix))).toEqual(
      new Set(["uaip:catalog:"]),
    );
  });

  it("an empty prefix is refused by the cache, the loader and the profile", () => {
    expect(() => new CacheManager({ config: { redis: { keyPrefix: "" } } })).toThrow(
      expect.objectContaining({ code: "UAIP_CACHE_INVALID_OPTIONS", key: "config.redis.keyPrefix" }),
    );
    expect(() => loadRuntimeConfig({ UAIP_REDIS_KEY_PREFIX: "" })).toThrow(
      expect.objectContaining({ key: "UAIP_REDIS_KEY_PREFIX" }),
    );
    expect(() => parseConfig({ environment: "dev", runtime: { cache: { redis: { keyPrefix: "" } } } })).toThrow(/keyPrefix/);
  });
});
