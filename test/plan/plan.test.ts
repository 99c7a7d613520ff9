import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlanJson } from "../../tools/plan";
import { DOC_STACKS, RESOURCES_END, RESOURCES_START, resourceTable } from "../../tools/profile-doc";
import { listStacks } from "../../tools/stack-file";
import { ORIGIN_TLS_YAML, ROOT, committedPlan, runPlan, stackFile } from "../helpers/plan";

const STACKS = listStacks(ROOT);
// Each test plans in a child process: ~8 s alone, several times that on a loaded machine.
jest.setTimeout(120_000);
const planned = new Map<string, PlanJson>();

describe("offline plan", () => {
  it("finds the dev, staging and prod stack files", () => {
    expect(STACKS).toEqual(expect.arrayContaining(["dev", "staging", "prod"]));
  });

  it.each(STACKS)("plans %s and writes the documented JSON shape", async (stack) => {
    const run = await committedPlan(stack);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const plan = run.json!;
    planned.set(stack, plan);
    // An AWS stack's plan carries its cost estimate (tools/cost/); the local Docker stack has none.
    const cost = stack === "local" ? [] : ["cost"];
    expect(Object.keys(plan).sort()).toEqual(["capacity", "checks", ...cost, "outputs", "resources", "stack", "violations"]);
    expect(plan.stack).toBe(stack);
    expect(plan.resources[0]).toMatchObject({ type: "pulumi:pulumi:Stack", name: `uaip-${stack}`, parent: "" });
    for (const r of plan.resources) {
      // protect and retainOnDelete appear only when set (true): what a destroy would refuse or leave.
      const { protect, retainOnDelete, ...rest } = r as typeof r & { protect?: unknown; retainOnDelete?: unknown };
      expect(Object.keys(rest).sort()).toEqual(["dependsOn", "inputs", "name", "parent", "type", "urn"]);
      for (const option of [protect, retainOnDelete]) expect([undefined, true]).toContain(option);
      expect(r.urn).toMatch(new RegExp(`^urn:pulumi:${stack}::uaip::`));
      if (r.type !== "pulumi:pulumi:Stack") expect(plan.resources.some((p) => p.urn === r.parent)).toBe(true);
    }
    expect(plan.checks.length).toBeGreaterThan(5);
    // A warning (a capacity file older than the code) passes too, marked as such.
    for (const c of plan.checks)
      expect(c).toEqual({
        name: expect.any(String),
        ok: true,
        detail: expect.any(String),
        ...(c.warning ? { warning: true } : {}),
      });
    expect(plan.outputs.environment).toBe(stack);
    expect(plan.outputs.maxConnections).toBe(Number(/max_connections (\d+)/.exec(plan.checks[0].detail)![1]));
    expect(run.stdout).toContain(`Previewing update (${stack})`);
    expect(run.stdout).toContain("✓ connection-budget");
  });

  it("the README's resource table matches the plans (run `npm run docs` after changing components)", () => {
    expect([...planned.keys()].sort()).toEqual([...DOC_STACKS].sort());
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf(RESOURCES_START) + RESOURCES_START.length, readme.indexOf(RESOURCES_END)).trim();
    expect(table).toBe(resourceTable(DOC_STACKS.map((s) => planned.get(s)!)));
  });

  it("prod differs from dev exactly as the presets say", () => {
    const dev = planned.get("dev")!;
    const prod = planned.get("prod")!;
    const inputsOf = (plan: PlanJson, type: string) =>
      plan.resources.filter((r) => r.type === type).map((r) => r.inputs as Record<string, any>);
    const count = (plan: PlanJson, type: string) => inputsOf(plan, type).length;
    const maxConnections = (plan: PlanJson) =>
      inputsOf(plan, "aws:rds/parameterGroup:ParameterGroup")[0].parameters.find(
        (p: { name: string }) => p.name === "max_connections",
      ).value;
    const [devDb, prodDb] = [dev, prod].map((p) => inputsOf(p, "aws:rds/instance:Instance")[0]);
    const [devRedis, prodRedis] = [dev, prod].map((p) => inputsOf(p, "aws:elasticache/replicationGroup:ReplicationGroup")[0]);
    const [devAlb, prodAlb] = [dev, prod].map((p) => inputsOf(p, "aws:lb/loadBalancer:LoadBalancer")[0]);
    expect({
      natGateways: [count(dev, "aws:ec2/natGateway:NatGateway"), count(prod, "aws:ec2/natGateway:NatGateway")],
      privateSubnets: [count(dev, "aws:ec2/subnet:Subnet") / 2, count(prod, "aws:ec2/subnet:Subnet") / 2],
      flowLogs: [count(dev, "aws:ec2/flowLog:FlowLog"), count(prod, "aws:ec2/flowLog:FlowLog")],
      dbMultiAz: [devDb.multiAz, prodDb.multiAz],
      dbDeletionProtection: [devDb.deletionProtection, prodDb.deletionProtection],
      dbClass: [devDb.instanceClass, prodDb.instanceClass],
      maxConnections: [maxConnections(dev), maxConnections(prod)],
      redisNodes: [devRedis.numCacheClusters, prodRedis.numCacheClusters],
      redisFailover: [devRedis.automaticFailoverEnabled, prodRedis.automaticFailoverEnabled],
      albDeletionProtection: [devAlb.enableDeletionProtection, prodAlb.enableDeletionProtection],
      albAccessLogs: [devAlb.accessLogs?.enabled ?? false, prodAlb.accessLogs?.enabled ?? false],
    }).toEqual({
      natGateways: [1, 3],
      privateSubnets: [2, 3],
      flowLogs: [0, 1],
      dbMultiAz: [false, true],
      dbDeletionProtection: [false, true],
      dbClass: ["db.t4g.micro", "db.r7g.large"],
      // Σ pool.max × pods in a rollout (hpa.max + 25% rounded up) + the migration Job + reservedConnections
      // + RDS's own superuser reservations (3 + 2): dev 3 × 8 × (3 + 1), prod 3 × 15 × (10 + 3).
      maxConnections: [String(3 * 8 * 4 + 1 + 10 + 5), String(3 * 15 * 13 + 1 + 20 + 5)],
      redisNodes: [1, 3],
      redisFailover: [false, true],
      albDeletionProtection: [false, true],
      albAccessLogs: [false, true],
    });
    // Encryption does not depend on the environment.
    for (const db of [devDb, prodDb]) expect(db.storageEncrypted).toBe(true);
    for (const r of [devRedis, prodRedis]) expect([r.atRestEncryptionEnabled, r.transitEncryptionEnabled]).toEqual([true, true]);
  });

  it("fails with the key's name when a stack file has a bad value", async () => {
    const file = stackFile(
      `config:\n  uaip:environment: dev\n  uaip:services:\n    - name: a\n      port: 3001\n      hpa: { min: 4, max: 2 }\n`,
    );
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
    // 10 replicas roll with 25% more (⌈2.5⌉ = 3): 13 pods hold a pool at once.
    expect(run.stderr).toContain(
      "services[0] agent-intelligence: pool.max=40 × 13 pods in a rollout (hpa.max=10 + maxSurge 25% → 3) = 520",
    );
    expect(run.stderr).toContain("max_connections 100");
  });

  it("never prints secure: values; they show as [secret]", async () => {
    const cipher = "v1:c2VjcmV0LWNpcGhlcnRleHQ=";
    const file = stackFile(
      `config:\n  uaip:environment: dev\n  uaip:grafanaAdminPassword:\n    secure: ${cipher}\n${ORIGIN_TLS_YAML}`,
    );
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).toBe(0);
    const everything = run.stdout + run.stderr + JSON.stringify(run.json);
    expect(everything).not.toContain(cipher);
    // The password reaches Grafana through the Helm values, which the plan shows only as [secret].
    const release = run.json!.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name.includes("monitoring"))!;
    expect(JSON.stringify(release.inputs)).toContain("[secret]");
  });

  it("a stack file without uaip:environment starts from the preset named like the stack", async () => {
    const file = stackFile(`config:\n  aws:region: eu-west-1\n${ORIGIN_TLS_YAML.replace("us-east-1", "eu-west-1")}`);
    const run = await runPlan(["--stack", "staging", "--stack-file", file]);
    expect(run.code).toBe(0);
    expect(run.json!.outputs.environment).toBe("staging");
  });

  it("runs unchanged under the Pulumi CLI's TypeScript host (vendored ts-node, type-checked)", () => {
    const run = spawnSync(
      process.execPath,
      [join(ROOT, "test", "helpers", "pulumi-ts-node.js"), join(ROOT, "tools", "plan.ts"), "--stack", "prod"],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("✓ connection-budget");
    expect(run.stdout).toContain("kubeconfig: [secret]");
  }, 120_000);

  it("rejects unknown arguments with the usage line", async () => {
    const run = await runPlan(["--stak", "dev"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown argument "--stak"; usage: npm run plan/);
  });
});
