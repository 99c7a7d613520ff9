/**
 * Issue #24: memory sizes carry their unit from the stack file to the pod. A stack file may write
 * `heapSizeLimit: "512Mi"` or `"1Gi"`; the ConfigMap and NODE_OPTIONS get the same MiB either way,
 * and a byte count where MiB are expected is refused by the plan, naming the key and the fix.
 */
import { loadRuntimeConfig } from "@uaip/runtime/config";
import { parseConfig } from "../../profile/parse";
import { nodeOptions, serviceRuntimeSettings } from "../../profile/service-settings";
import { runtimeSettingsToEnv } from "@uaip/runtime/config";

const stack = (memory: Record<string, unknown>) =>
  parseConfig({
    environment: "dev",
    services: [{ name: "a", port: 3001, resources: { limits: { cpu: "1", memory: "2Gi" } } }],
    runtime: { memory },
  });

describe("runtime.memory sizes in a stack file", () => {
  it.each([
    [{ heapSizeLimit: 512, gcThreshold: 256 }, 512, 256],
    [{ heapSizeLimit: "512Mi", gcThreshold: "256Mi" }, 512, 256],
    [{ heapSizeLimit: "1Gi", gcThreshold: "262144Ki" }, 1024, 256],
  ])("%j -> --max-old-space-size=%i, the same MiB in the ConfigMap", (memory, heapMiB, gcMiB) => {
    const profile = stack(memory);
    const settings = serviceRuntimeSettings(profile, profile.services[0]);
    expect(nodeOptions(settings)).toBe(`--max-old-space-size=${heapMiB}`);
    const env = runtimeSettingsToEnv({ ...settings, serviceName: "a", port: 3001 });
    expect(env.UAIP_MEMORY_HEAP_LIMIT_MB).toBe(String(heapMiB));
    expect(loadRuntimeConfig(env as NodeJS.ProcessEnv).memory).toMatchObject({ heapSizeLimit: heapMiB, gcThreshold: gcMiB });
  });

  it.each([
    [{ heapSizeLimit: 512 * 1024 * 1024 }, "runtime.memory.heapSizeLimit", "not bytes; write 512"],
    [{ heapSizeLimit: "512MB" }, "runtime.memory.heapSizeLimit", '"384Mi"'],
    [{ gcThreshold: "1536Ki" }, "runtime.memory.gcThreshold", "whole number of MiB"],
  ])("%j is refused at %s", (memory, key, fix) => {
    expect(() => stack(memory)).toThrow(key);
    expect(() => stack(memory)).toThrow(fix);
  });
});
