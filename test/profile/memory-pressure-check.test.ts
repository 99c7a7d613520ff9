import { checkMemoryPressurePoint, crossLayerChecks } from "../../profile/checks";
import { parseConfig } from "../../profile/parse";

describe("memory-pressure-point check: heapSizeLimit × threshold between gcThreshold and the container limit", () => {
  const profile = (memory: string, heapSizeLimit: number, threshold: number, gcThreshold: number) =>
    parseConfig({
      environment: "dev",
      services: [{ name: "a", port: 3001, resources: { limits: { cpu: "1", memory } } }],
      runtime: { memory: { heapSizeLimit, gcThreshold, memoryMonitoring: { threshold } } },
    });

  it.each([
    // limit, heapSizeLimit, threshold, gcThreshold, ok, detail fragment
    [
      "512Mi",
      384,
      0.85,
      256,
      true,
      "gcThreshold 256 MiB < services[0] memory.heapSizeLimit 384 MiB × memoryMonitoring.threshold 0.85 = 326 MiB <= 384 MiB",
    ],
    ["512Mi", 384, 0.85, 326, false, "lower runtime.memory.gcThreshold below 326"],
    ["1Gi", 768, 1, 512, true, "= 768 MiB <= 768 MiB"],
  ])("limit %s, heap %i MiB × %s, gc %i MiB -> ok=%s", (memory, heapSizeLimit, threshold, gcThreshold, ok, detail) => {
    const [check] = checkMemoryPressurePoint(profile(memory, heapSizeLimit, threshold, gcThreshold));
    expect(check.name).toBe("memory-pressure-point:a");
    expect(check.ok).toBe(ok);
    expect(check.detail).toContain(detail);
  });

  it("fails when the pressure point does not fit the container, with the arithmetic and the fix", () => {
    // 400 × 0.99 = 396 MiB of heap can no longer fit 75 % of 512 MiB.
    const [check] = checkMemoryPressurePoint(profile("512Mi", 400, 0.99, 128));
    expect(check.ok).toBe(false);
    expect(check.detail).toBe(
      "services[0] memory.heapSizeLimit 400 MiB × memoryMonitoring.threshold 0.99 = 396 MiB > 75% of resources.limits.memory 512Mi (384 MiB): the container is killed before the monitor sheds load; lower memoryMonitoring.threshold or heapSizeLimit, or raise the memory limit",
    );
  });

  it("is one of the cross-layer checks and passes every environment's presets", () => {
    for (const environment of ["dev", "staging", "prod", "local"]) {
      const checks = crossLayerChecks(parseConfig({ environment })).filter((c) => c.name.startsWith("memory-pressure-point:"));
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.every((c) => c.ok)).toBe(true);
    }
  });
});
