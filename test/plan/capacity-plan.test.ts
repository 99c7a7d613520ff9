import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { plannedResources } from "../../policy/rules";
import { migrationJobs, poolUsers } from "../../policy/rules/connection-budget";
import { ORIGIN_TLS_YAML, ROOT, runPlan, stackFile } from "../helpers/plan";

// Each plan runs in a child process: ~20 s on a loaded machine.
jest.setTimeout(180_000);

const FIXTURES = join(ROOT, "test", "fixtures", "capacity");

/**
 * One service measured at 200 req/s per core (test/fixtures/capacity), limited to one core, pool 5,
 * HPA 1-4: at peak 4 × 200 × (1 − 0.3) = 560 req/s; its pools open 5 × 4 = 20 connections at hpa.max,
 * 5 × 5 = 25 during a rollout (+ the migration Job 1, reservedConnections 10, RDS's 5).
 */
function stackYaml(o: { targetRps: number; maxConnections: number; nodesMax: number; instanceType?: string }): string {
  return (
    `config:\n  uaip:environment: dev\n` +
    `  uaip:services:\n    - name: agent-intelligence\n      port: 3001\n      targetRps: ${o.targetRps}\n` +
    `      resources: { requests: { cpu: 250m, memory: 256Mi }, limits: { cpu: "1", memory: 512Mi } }\n` +
    `      pool: { min: 1, max: 5 }\n      hpa: { min: 1, max: 4, cpuTarget: 60, scaleDownStabilizationSeconds: 300 }\n` +
    `  uaip:database:\n    maxConnections: ${o.maxConnections}\n` +
    `  uaip:cluster:\n    instanceTypes: [${o.instanceType ?? "t3.medium"}]\n    nodes: { min: 1, desired: 1, max: ${o.nodesMax} }\n` +
    ORIGIN_TLS_YAML
  );
}

describe("the plan fails naming the numbers: rollout surge, measured capacity, node group", () => {
  it("a budget that fits without the surge, a targetRps above hpa.max × capacity and a node group too small: all three named at once", async () => {
    // Without the surge 20 + 1 + 10 + 5 = 36 fits 40; with it 25 + 16 = 41 does not. 561 req/s > 560.
    // One t3.medium holds 17 pods; the system pods alone (4 DaemonSets + 15 others) are 19.
    const file = stackFile(stackYaml({ targetRps: 561, maxConnections: 40, nodesMax: 1 }));
    const run = await runPlan(["--stack", "test", "--stack-file", file, "--capacity-dir", FIXTURES]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      "✗ connection-budget: services[0] agent-intelligence: pool.max=5 × 5 pods in a rollout (hpa.max=4 + maxSurge 25% → 1) = 25 + migration Job 1",
    );
    expect(run.stderr).toMatch(/= 41 exceeds max_connections 40/);
    expect(run.stderr).toContain("✗ throughput:agent-intelligence: services[0] hpa.max 4 × capacity per pod 200 req/s (");
    expect(run.stderr).toContain("(1 − headroom 0.3) = 560 req/s < targetRps 561; raise hpa.max to 5");
    expect(run.stderr).toMatch(
      /✗ node-group-fit: cluster\.nodes\.max 1 × t3\.medium allocatable \(1930m CPU, 3246 MiB, 17 pods\)/,
    );
    expect(run.stderr).toMatch(/short: pods \d+ > 17/);
    expect(run.stderr).toMatch(/raise cluster\.nodes\.max to \d+/);
  });

  it("one connection, one request and enough nodes the other side: the plan passes, prints the arithmetic, and warns of a service without a capacity file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-capacity-"));
    copyFileSync(join(FIXTURES, "agent-intelligence.json"), join(dir, "agent-intelligence.json"));
    // capability-registry: 1 × 2 pods during a rollout = 2 more connections than the 41 of the first service.
    const yaml = stackYaml({ targetRps: 560, maxConnections: 43, nodesMax: 2 }).replace(
      "  uaip:database:",
      "    - { name: capability-registry, port: 3003, targetRps: 50, pool: { min: 1, max: 1 }, hpa: { min: 1, max: 1, cpuTarget: 70, scaleDownStabilizationSeconds: 300 } }\n  uaip:database:",
    );
    const run = await runPlan(["--stack", "test", "--stack-file", stackFile(yaml), "--capacity-dir", dir]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("= 43 <= max_connections 43");
    expect(run.stdout).toContain("(1 − headroom 0.3) = 560 req/s >= targetRps 560");
    expect(run.stdout).toMatch(
      /✓ hpa-target-vs-knee:agent-intelligence: services\[0\] hpa\.cpuTarget 60% < the pod's CPU at the knee 320% /,
    );
    expect(run.stdout).toContain(
      "✓ pool-vs-littles-law:agent-intelligence: services[0] pool.max 5 >= 200 req/s per pod × 1 connection checkouts per request (knee.dbHoldsPerRequest not measured: 1 assumed) × knee.dbP95Ms 10 ms / 1000 = 2 connections",
    );
    expect(run.stdout).toMatch(/✓ node-group-fit: cluster\.nodes\.max 2 × t3\.medium/);
    expect(run.stdout).toMatch(
      /⚠ capacity-file:capability-registry: .*capability-registry\.json is missing: targetRps 50 is not checked/,
    );
    expect(run.json!.capacity!.map((c) => [c.service, c.rateRpsPerCore, c.servesRps])).toEqual([
      ["agent-intelligence", 200, 560],
    ]);
    // The policy pack counts the same pods and the same Job from the planned resources alone.
    const resources = plannedResources(run.json!);
    expect(migrationJobs(resources)).toHaveLength(1);
    expect(poolUsers(resources).map((u) => [u.poolMax, u.maxReplicas, u.maxSurge, u.rolloutPods])).toEqual([
      [5, 4, "25%", 5],
      [1, 1, "25%", 2],
    ]);
    expect(run.json!.violations!.filter((v) => v.rule === "connection-budget")).toEqual([]);
  });
});
