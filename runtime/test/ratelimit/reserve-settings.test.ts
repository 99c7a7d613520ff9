/**
 * rateLimit.reserve from the profile to the running store: the stack writes UAIP_RATE_LIMIT_RESERVE
 * into each ConfigMap, loadRuntimeConfig reads it, createRuntime hands it to its RedisStore.
 */
import { createRuntime, loadRuntimeConfig } from "../../src";
import { parseConfig } from "../../../profile/parse";
import { serviceRuntimeSettings } from "../../../profile/service-settings";
import { scriptCalls, useRedisServer } from "../../../test/helpers/redis";
import { devConfigMapData } from "../dev-configmap";

const fx = useRedisServer();

/** Script calls for 200 checks of one key, one at a time, through a runtime built from `env`. */
async function callsFor(reserve: string): Promise<number> {
  const runtime = createRuntime(
    loadRuntimeConfig({
      UAIP_SERVICE_NAME: `reserve-${reserve}`,
      UAIP_REDIS_HOST: "127.0.0.1",
      UAIP_REDIS_PORT: String(fx.server.port),
      UAIP_REDIS_COMMAND_TIMEOUT_MS: "2000",
      UAIP_RATE_LIMIT_MAX_REQUESTS: "1000000",
      UAIP_RATE_LIMIT_RESERVE: reserve,
    }),
  );
  try {
    expect(await runtime.ready(10_000)).toBe(true);
    const before = await scriptCalls(fx.raw);
    for (let i = 0; i < 200; i++) expect((await runtime.limiter.consume("client")).degraded).toBeUndefined();
    return (await scriptCalls(fx.raw)) - before;
  } finally {
    await runtime.close();
  }
}

describe("rateLimit.reserve, profile -> ConfigMap -> RedisStore", () => {
  it("each preset's value reaches the ConfigMap as UAIP_RATE_LIMIT_RESERVE", () => {
    expect(devConfigMapData(6379).UAIP_RATE_LIMIT_RESERVE).toBe("16");
    const expected = { dev: 16, staging: 16, prod: 8, local: 16 } as const;
    for (const environment of Object.keys(expected) as (keyof typeof expected)[]) {
      const profile = parseConfig({ environment });
      for (const service of profile.services)
        expect([environment, serviceRuntimeSettings(profile, service).rateLimit.reserve]).toEqual([
          environment,
          expected[environment],
        ]);
    }
    // A service can override it like any runtime setting.
    const custom = parseConfig({ environment: "prod", runtime: { rateLimit: { reserve: 1 } } });
    expect(serviceRuntimeSettings(custom, custom.services[0]!).rateLimit.reserve).toBe(1);
  });

  it("createRuntime hands it to its RedisStore: 200 checks of one client cost a few script calls, not 200", async () => {
    expect(await callsFor("1")).toBe(200);
    // Slow start 1, 2, 4, 8, 16, 32 (63 tokens in 6 calls), then 64 a call: 6 + 3 = 9.
    expect(await callsFor("64")).toBeLessThanOrEqual(9);
  });
});
