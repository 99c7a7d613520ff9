import { RuntimeConfigError } from "../../src/errors";
import { RUNTIME_ENV, RUNTIME_ENV_NAMES, RUNTIME_SECRET_ENV_NAMES } from "../../src/config/contract";
import { loadRuntimeConfig, runtimeSettingsToEnv } from "../../src/config/load";
import { runtimeSettingsSchema } from "../../src/config/settings";
import { RateLimiter } from "../../src/ratelimit/limiter";

function errorOf(env: NodeJS.ProcessEnv): RuntimeConfigError {
  try {
    loadRuntimeConfig(env);
  } catch (err) {
    if (err instanceof RuntimeConfigError) return err;
    throw err;
  }
  throw new Error("expected loadRuntimeConfig to throw");
}

describe("loadRuntimeConfig", () => {
  it("applies the documented defaults and ignores non-UAIP variables", () => {
    const config = loadRuntimeConfig({ PATH: "/usr/bin", HOME: "/root" });
    expect(config.rateLimit).toEqual({ windowMs: 60_000, maxRequests: 100, failurePolicy: "memory", reserve: 1 });
    expect(config.batching).toEqual({ batchSize: 100, flushInterval: 100 });
    expect(config.serviceName).toBe("uaip-service");
    expect(config.cache.redis.commandTimeoutMs).toBe(50);
  });

  it.each([
    [{ UAIP_RATE_LIMIT_MAX_REQUESTS: "lots" }, "UAIP_RATE_LIMIT_MAX_REQUESTS", /expected an integer, got "lots"/],
    [{ UAIP_RATE_LIMIT_WINDOW_MS: "1.5" }, "UAIP_RATE_LIMIT_WINDOW_MS", /integer/],
    [{ UAIP_RATE_LIMIT_WINDOW_MS: "-5" }, "UAIP_RATE_LIMIT_WINDOW_MS", /-5/],
    [{ UAIP_RATE_LIMIT_FAILURE_POLICY: "retry" }, "UAIP_RATE_LIMIT_FAILURE_POLICY", /retry/],
    [{ UAIP_RATE_LIMIT_RESERVE: "0" }, "UAIP_RATE_LIMIT_RESERVE", /0/],
    [{ UAIP_RATE_LIMIT_RESERVE: "2.5" }, "UAIP_RATE_LIMIT_RESERVE", /integer/],
    [{ UAIP_REDIS_TLS: "maybe" }, "UAIP_REDIS_TLS", /expected true or false, got "maybe"/],
    [{ UAIP_REDIS_MODE: "clustered" }, "UAIP_REDIS_MODE", /clustered/],
    [{ UAIP_PORT: "70000" }, "UAIP_PORT", /70000/],
    [{ UAIP_MEMORY_MONITOR_THRESHOLD: "1.5" }, "UAIP_MEMORY_MONITOR_THRESHOLD", /1.5/],
    [{ UAIP_COMPRESSION_LEVEL: "" }, "UAIP_COMPRESSION_LEVEL", /expected an integer/],
  ])("%j: the error names %s", (env, name, message) => {
    const err = errorOf(env);
    expect(err.code).toBe("UAIP_RUNTIME_CONFIG_INVALID");
    expect(err.key).toBe(name);
    expect(err.message.startsWith(`${name}:`)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it("rejects an unknown UAIP_* variable (a typo must not silently fall back to a default)", () => {
    const err = errorOf({ UAIP_RATE_LIMIT_MAX_REQUEST: "10" });
    expect(err.key).toBe("UAIP_RATE_LIMIT_MAX_REQUEST");
    expect(err.message).toMatch(/unknown runtime variable/);
  });

  it("round-trips: runtimeSettingsToEnv -> loadRuntimeConfig gives back the same settings", () => {
    const settings = runtimeSettingsSchema.parse({
      cache: {
        memory: { maxSize: 5_000, ttl: 30_000 },
        redis: { host: "redis.internal", port: 6380, tls: true, keyPrefix: "svc:" },
        cdn: { enabled: true, distributionId: "E123" },
      },
      rateLimit: { windowMs: 1_000, maxRequests: 7, failurePolicy: "deny" },
      memory: { memoryMonitoring: { threshold: 0.7 } },
      ws: { reconnectStrategy: { factor: 1.5 } },
      compression: { level: 0 },
    });
    const env = runtimeSettingsToEnv({ ...settings, serviceName: "capability-registry", port: 3003, replicasMax: 6 });
    for (const value of Object.values(env)) expect(typeof value).toBe("string");
    for (const secret of RUNTIME_SECRET_ENV_NAMES) expect(env).not.toHaveProperty(secret);
    const loaded = loadRuntimeConfig(env);
    const { serviceName, port, replicasMax, environment: _e, redisAuthToken: _r, database: _d, ...rest } = loaded;
    expect(rest).toEqual(settings);
    expect({ serviceName, port, replicasMax }).toEqual({ serviceName: "capability-registry", port: 3003, replicasMax: 6 });
  });

  it("every variable of the contract maps to a distinct path", () => {
    const paths = RUNTIME_ENV_NAMES.map((n) => RUNTIME_ENV[n].path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const n of RUNTIME_ENV_NAMES) expect(n.startsWith("UAIP_")).toBe(true);
  });

  it("the loaded rateLimit settings configure a RateLimiter as they are", async () => {
    const { rateLimit } = loadRuntimeConfig({
      UAIP_RATE_LIMIT_MAX_REQUESTS: "2",
      UAIP_RATE_LIMIT_FAILURE_POLICY: "allow",
      UAIP_RATE_LIMIT_RESERVE: "16",
    });
    // reserve configures the RedisStore (createRuntime passes it there), not the limiter, which refuses it by name.
    const { reserve, ...limits } = rateLimit;
    expect(reserve).toBe(16);
    expect(() => new RateLimiter({ ...rateLimit })).toThrow(expect.objectContaining({ key: "reserve" }));
    const limiter = new RateLimiter({ ...limits });
    expect(limiter.failurePolicy).toBe("allow");
    const answers = [await limiter.consume("k"), await limiter.consume("k"), await limiter.consume("k")].map((r) => r.allowed);
    expect(answers).toEqual([true, true, false]);
    await limiter.close();
  });
});

describe("loadRuntimeConfig: strict numbers and namespaces (issue #10)", () => {
  it.each(["0x10", "1e3", "0b11", "0o7", " ", "+5", "1_000", "Infinity"])(
    "refuses %j for an integer variable, naming it",
    (value) => {
      const err = errorOf({ UAIP_RATE_LIMIT_MAX_REQUESTS: value });
      expect(err).toMatchObject({ code: "UAIP_RUNTIME_CONFIG_INVALID", key: "UAIP_RATE_LIMIT_MAX_REQUESTS" });
      expect(err.message).toContain(JSON.stringify(value));
    },
  );

  it.each(["1e-1", "0x1", ".5"])("refuses %j for a number variable", (value) => {
    expect(errorOf({ UAIP_MEMORY_MONITOR_THRESHOLD: value }).key).toBe("UAIP_MEMORY_MONITOR_THRESHOLD");
  });

  it("still takes plain decimals", () => {
    const c = loadRuntimeConfig({ UAIP_RATE_LIMIT_MAX_REQUESTS: "16", UAIP_MEMORY_MONITOR_THRESHOLD: "0.75" });
    expect([c.rateLimit.maxRequests, c.memory.memoryMonitoring.threshold]).toEqual([16, 0.75]);
  });

  it("refuses an empty key prefix (invalidate('*') would reach every key in the database)", () => {
    const err = errorOf({ UAIP_REDIS_KEY_PREFIX: "" });
    expect(err.key).toBe("UAIP_REDIS_KEY_PREFIX");
    expect(err.message).toMatch(/must not be empty/);
  });

  it("gives each service its own namespace by default: uaip:<service>:", () => {
    expect(loadRuntimeConfig({ UAIP_SERVICE_NAME: "agent-intelligence" }).cache.redis.keyPrefix).toBe("uaip:agent-intelligence:");
    expect(loadRuntimeConfig({ UAIP_SERVICE_NAME: "a", UAIP_REDIS_KEY_PREFIX: "uaip:shared:" }).cache.redis.keyPrefix).toBe(
      "uaip:shared:",
    );
  });

  it("reads the trusted-proxy settings and refuses malformed CIDRs", () => {
    const c = loadRuntimeConfig({ UAIP_TRUSTED_PROXY_HOPS: "2", UAIP_TRUSTED_PROXY_CIDRS: "10.0.0.0/16, fd00::/8" });
    expect(c.http).toMatchObject({ trustedProxyHops: 2, trustedProxyCidrs: "10.0.0.0/16, fd00::/8" });
    expect(loadRuntimeConfig({}).http.trustedProxyHops).toBe(0);
    expect(errorOf({ UAIP_TRUSTED_PROXY_CIDRS: "10.0.0.0" }).key).toBe("UAIP_TRUSTED_PROXY_CIDRS");
    expect(errorOf({ UAIP_TRUSTED_PROXY_HOPS: "-1" }).key).toBe("UAIP_TRUSTED_PROXY_HOPS");
  });

  it("refuses a CDN path prefix that is not a /path/", () => {
    expect(errorOf({ UAIP_CDN_PATH_PREFIX: "svc/" }).key).toBe("UAIP_CDN_PATH_PREFIX");
    expect(errorOf({ UAIP_CDN_PATH_PREFIX: "/svc/*" }).key).toBe("UAIP_CDN_PATH_PREFIX");
    expect(loadRuntimeConfig({ UAIP_CDN_PATH_PREFIX: "/svc/" }).cache.cdn.pathPrefix).toBe("/svc/");
  });
});
