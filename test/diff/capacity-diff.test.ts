import { join } from "node:path";
import { capacitySummary } from "../../profile/capacity-checks";
import { parseConfig } from "../../profile/parse";
import { readCapacityFiles, type CodeHistory } from "../../tools/capacity-files";
import { diffCapacity, diffPlans, type PlanLike } from "../../tools/diff/diff";
import { renderMarkdown } from "../../tools/diff/markdown";

const FIXTURES = join(__dirname, "..", "fixtures");
const fresh: CodeHistory = { lastChange: () => ({ hash: "f".repeat(40), date: "2000-01-01T00:00:00Z" }), changesSince: () => 0 };

/** A dev profile whose first service must serve 420 req/s: 3 pods × 200 req/s × (1 − 0.3) exactly, with the fixture. */
const profile = parseConfig({
  environment: "dev",
  services: [
    {
      name: "agent-intelligence",
      port: 3001,
      targetRps: 420,
      resources: { requests: { cpu: "1", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    },
    { name: "orchestration-pipeline", port: 3002 },
  ],
});
const names = profile.services.map((s) => s.name);
const planWith = (dir: string): PlanLike => ({
  stack: "dev",
  resources: [],
  outputs: {},
  checks: [],
  capacity: capacitySummary(profile, readCapacityFiles(FIXTURES, names, { dir: join(FIXTURES, dir), history: fresh })),
});

describe("the plan diff shows a capacity file's change and what it does to the throughput check", () => {
  it("200 -> 150 req/s per core: 420 -> 315 req/s against targetRps 420, ✓ -> ✗, per service", () => {
    const diff = diffPlans(planWith("capacity"), planWith("capacity-slower"));
    expect(diff.noChanges).toBe(false);
    expect(diff.capacity!.map((c) => [c.service, c.before!.rateRpsPerCore, c.after!.rateRpsPerCore])).toEqual([
      ["agent-intelligence", 200, 150],
      ["orchestration-pipeline", 200, 150],
    ]);
    // Computed here: 3 pods × rate × min(limit, 1 core) × 0.7; dev's 500m limit halves the second service's pods.
    expect(diff.capacity![0].after!.servesRps).toBeCloseTo(3 * 150 * 0.7, 10);
    expect(diff.capacity![1].after!.perPodRps).toBe(150 * 0.5);
    const md = renderMarkdown(diff);
    expect(md).toContain("**Capacity**");
    expect(md).toContain(
      "| <code>agent-intelligence</code> | <code>0123456789ab</code> → <code>89abcdef0123</code> | 200 → 150 | 200 → 150 | 3 | 420 → 315 | 420 | ✓ → ✗ |",
    );
    expect(md).toContain(
      "| <code>orchestration-pipeline</code> | <code>0123456789ab</code> → <code>89abcdef0123</code> | 200 → 150 | 100 → 75 | 3 | 210 → 157.5 | — | — → — |",
    );
  });

  it("a file added or removed shows on its side only; identical plans show no capacity section", () => {
    const base = planWith("capacity");
    const without: PlanLike = { ...base, capacity: [] };
    expect(diffCapacity(without.capacity, base.capacity).map((c) => [c.service, "before" in c, "after" in c])).toEqual([
      ["agent-intelligence", false, true],
      ["orchestration-pipeline", false, true],
    ]);
    expect(renderMarkdown(diffPlans(base, without))).toContain("| 200 → — |");
    const same = diffPlans(base, planWith("capacity"));
    expect(same.capacity).toBeUndefined();
    expect(same.noChanges).toBe(true);
    // Plans written before the capacity section: nothing to compare.
    expect(diffCapacity(undefined, undefined)).toEqual([]);
  });
});
