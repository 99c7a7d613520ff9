import { RUNTIME_ENV, RUNTIME_SECRET_ENV_NAMES } from "../../src/config/contract";
import { loadRuntimeConfig, runtimeSettingsToEnv } from "../../src/config/load";
import { runtimeSettingsSchema } from "../../src/config/settings";

describe("monitor and admin settings in the env contract", () => {
  it("reads the event-loop limits (off by default) and round-trips them through the ConfigMap", () => {
    expect(loadRuntimeConfig({}).memory.memoryMonitoring).toMatchObject({ eventLoopDelayLimit: 0, eventLoopUtilizationLimit: 0 });
    const loaded = loadRuntimeConfig({
      UAIP_MEMORY_EVENT_LOOP_DELAY_LIMIT_MS: "200",
      UAIP_MEMORY_EVENT_LOOP_UTILIZATION_LIMIT: "0.95",
    });
    expect(loaded.memory.memoryMonitoring).toMatchObject({ eventLoopDelayLimit: 200, eventLoopUtilizationLimit: 0.95 });
    const env = runtimeSettingsToEnv(runtimeSettingsSchema.parse({ memory: { memoryMonitoring: { eventLoopDelayLimit: 150 } } }));
    expect(env.UAIP_MEMORY_EVENT_LOOP_DELAY_LIMIT_MS).toBe("150");
  });

  it("names a bad event-loop limit", () => {
    expect(() => loadRuntimeConfig({ UAIP_MEMORY_EVENT_LOOP_UTILIZATION_LIMIT: "1.5" })).toThrow(
      /^UAIP_MEMORY_EVENT_LOOP_UTILIZATION_LIMIT: .*1\.5/,
    );
  });

  it("UAIP_ADMIN_TOKEN is a Secret variable, optional, never written to the ConfigMap", () => {
    expect(RUNTIME_ENV.UAIP_ADMIN_TOKEN.secret).toBe(true);
    expect(RUNTIME_SECRET_ENV_NAMES).toContain("UAIP_ADMIN_TOKEN");
    expect(loadRuntimeConfig({}).adminToken).toBeUndefined();
    const token = "0123456789abcdef0123";
    expect(loadRuntimeConfig({ UAIP_ADMIN_TOKEN: token }).adminToken).toBe(token);
  });

  it("refuses a short admin token by name without printing it", () => {
    let message = "";
    try {
      loadRuntimeConfig({ UAIP_ADMIN_TOKEN: "hunter2" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^UAIP_ADMIN_TOKEN: expected at least 16 characters/);
    expect(message).toContain("a secret of 7 characters");
    expect(message).not.toContain("hunter2");
  });
});
