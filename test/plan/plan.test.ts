import { listStacks } from "../../tools/stack-file";
import { ROOT, runPlan, stackFile } from "../helpers/plan";

const STACKS = listStacks(ROOT);

describe("offline plan", () => {
  it("finds the dev, staging and prod stack files", () => {
    expect(STACKS).toEqual(expect.arrayContaining(["dev", "staging", "prod"]));
  });

  it.each(STACKS)("plans %s and writes the documented JSON shape", async (stack) => {
    const run = await runPlan(["--stack", stack]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const plan = run.json!;
    expect(Object.keys(plan).sort()).toEqual(["checks", "outputs", "resources", "stack"]);
    expect(plan.stack).toBe(stack);
    expect(plan.resources[0]).toMatchObject({ type: "pulumi:pulumi:Stack", name: `uaip-${stack}`, parent: "" });
    for (const r of plan.resources) {
      expect(Object.keys(r).sort()).toEqual(["inputs", "name", "parent", "type", "urn"]);
      expect(r.urn).toMatch(new RegExp(`^urn:pulumi:${stack}::uaip::`));
      if (r.type !== "pulumi:pulumi:Stack") expect(plan.resources.some((p) => p.urn === r.parent)).toBe(true);
    }
    expect(plan.checks.length).toBeGreaterThan(5);
    for (const c of plan.checks) expect(c).toEqual({ name: expect.any(String), ok: true, detail: expect.any(String) });
    expect(plan.outputs.environment).toBe(stack);
    expect(plan.outputs.maxConnections).toBe(Number(/max_connections (\d+)/.exec(plan.checks[0].detail)![1]));
    expect(run.stdout).toContain(`Previewing update (${stack})`);
    expect(run.stdout).toContain("✓ connection-budget");
  });

  it("fails with the key's name when a stack file has a bad value", async () => {
    const file = stackFile(`config:\n  uaip:environment: dev\n  uaip:services:\n    - name: a\n      port: 3001\n      hpa: { min: 4, max: 2 }\n`);
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("services[0].hpa.max: expected integer >= hpa.min (4), got 2");
    expect(run.json).toBeUndefined();
  });

  it("fails when pools exceed the connection budget, naming the service, pool size, replicas and max_connections", async () => {
    const file = stackFile(
      `config:\n  uaip:environment: dev\n  uaip:services:\n    - { name: agent-intelligence, port: 3001, pool: { min: 1, max: 40 }, hpa: { min: 1, max: 10 } }\n  uaip:database:\n    maxConnections: 100\n`,
    );
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("services[0] agent-intelligence: pool.max=40 × hpa.max=10 = 400");
    expect(run.stderr).toContain("max_connections 100");
  });

  it("never prints secure: values; they show as [secret]", async () => {
    const cipher = "v1:c2VjcmV0LWNpcGhlcnRleHQ=";
    const file = stackFile(`config:\n  uaip:environment: dev\n  uaip:grafanaAdminPassword:\n    secure: ${cipher}\n`);
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).toBe(0);
    const everything = run.stdout + run.stderr + JSON.stringify(run.json);
    expect(everything).not.toContain(cipher);
    // The password reaches Grafana through the Helm values, which the plan shows only as [secret].
    const release = run.json!.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name.includes("monitoring"))!;
    expect(JSON.stringify(release.inputs)).toContain("[secret]");
  });

  it("rejects unknown arguments with the usage line", async () => {
    const run = await runPlan(["--stak", "dev"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown argument "--stak"; usage: npm run plan/);
  });
});
