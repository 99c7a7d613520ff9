import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { costTable } from "../../tools/cost/render";
import { BILLABLE_RULES, FREE_TYPE_REASONS } from "../../tools/cost/resource-prices";
import type { PlanDiff } from "../../tools/diff/diff";
import { COST_END, COST_START } from "../../tools/profile-doc";
import type { PlanJson } from "../../tools/plan";
import { ORIGIN_TLS_YAML, ROOT, committedPlan, runPlan, stackFile, type PlanRun } from "../helpers/plan";

/**
 * `npm run plan -- --stack S --cost` on the committed AWS stacks (issue #29): a table per
 * component, the JSON carrying the same figures, every billed resource priced or named unpriced,
 * and a stack over cost.monthlyBudget failing with its largest items.
 */
jest.setTimeout(600_000);

const STACKS = ["dev", "staging", "prod"] as const;
const runs = new Map<string, PlanRun>();

beforeAll(async () => {
  // One at a time: the machine is shared.
  for (const stack of STACKS) runs.set(stack, await committedPlan(stack));
});

const planOf = (stack: string): PlanJson => runs.get(stack)!.json!;

describe("plan --cost", () => {
  it.each(STACKS)("%s: prints the estimate, and its JSON carries the same totals", (stack) => {
    const run = runs.get(stack)!;
    expect(run.code).toBe(0);
    const cost = planOf(stack).cost!;
    expect(run.stdout).toContain(`Monthly cost estimate (${stack}, us-east-1`);
    expect(run.stdout).toContain(`= $${cost.totals.monthly.toFixed(2)}/month`);
    // Totals are the sum of the lines; each line's resource is a planned resource.
    const sum = cost.lines.reduce((s, l) => s + l.fixedMonthly + l.usageMonthly, 0);
    expect(cost.totals.monthly).toBeCloseTo(sum, 6);
    const names = new Set(planOf(stack).resources.map((r) => r.name));
    for (const l of cost.lines) expect(names.has(l.resource)).toBe(true);
    // Every unpriced item is named in the output.
    for (const u of cost.unpriced) expect(run.stdout).toContain(`${u.resource} (${u.type}): ${u.sku}`);
  });

  it("classifies every AWS resource type the plans bill: priced, or listed as unpriced by name; every free type says why", () => {
    const types = new Set<string>();
    for (const stack of STACKS) {
      const plan = planOf(stack);
      const cost = plan.cost!;
      for (const r of plan.resources.filter((x) => x.type.startsWith("aws:"))) {
        types.add(r.type);
        const classified = r.type in BILLABLE_RULES || r.type in FREE_TYPE_REASONS;
        expect({ stack, type: r.type, classified }).toEqual({ stack, type: r.type, classified: true });
        if (r.type in BILLABLE_RULES) {
          const accounted =
            cost.lines.some((l) => l.resource === r.name && l.type === r.type) ||
            cost.unpriced.some((u) => u.resource === r.name && u.type === r.type);
          expect({ stack, resource: r.name, accounted }).toEqual({ stack, resource: r.name, accounted: true });
        } else {
          expect(cost.free).toContainEqual({ type: r.type, reason: FREE_TYPE_REASONS[r.type] });
        }
      }
    }
    // The billed types of these plans: each one's SKUs are priced (the snapshot covers the committed stacks).
    const billed = [...types].filter((t) => t in BILLABLE_RULES).sort();
    expect(billed.length).toBeGreaterThan(10);
    const unpriced = new Set(STACKS.flatMap((s) => planOf(s).cost!.unpriced.map((u) => u.sku)));
    expect([...unpriced]).toEqual([]);
  });

  it("database.instanceClass db.r7g.large -> db.r7g.xlarge in a candidate prod stack: the diff's monthly delta is (0.478 − 0.239) × 730 × 2 (Multi-AZ)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-cost-diff-"));
    const base = join(dir, "base.json");
    writeFileSync(base, JSON.stringify(planOf("prod")));
    const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");
    expect(planOf("prod").resources.find((r) => r.name === "uaip-db-instance")!.inputs).toMatchObject({
      instanceClass: "db.r7g.large",
      multiAz: true,
    });
    const candidate = stackFile(`${prod.trimEnd()}\n  uaip:database:\n    instanceClass: db.r7g.xlarge\n`);
    const diffFile = join(dir, "diff.json");
    const run = await runPlan(["--stack", "prod", "--stack-file", candidate, "--diff", base, "--diff-json", diffFile]);
    expect(run.code).toBe(0);
    const diff = JSON.parse(readFileSync(diffFile, "utf8")) as PlanDiff;
    const expected = (0.478 - 0.239) * 730 * 2; // the two classes' cited hourly list prices
    expect(diff.cost!.delta).toBeCloseTo(expected, 6);
    expect(diff.cost!.changed).toEqual([
      expect.objectContaining({ resource: "uaip-db-instance", delta: expect.closeTo(expected, 6) as number }),
    ]);
  });

  it("prod > staging > dev, fixed and total", () => {
    const [dev, staging, prod] = STACKS.map((s) => planOf(s).cost!.totals);
    expect(prod.fixedMonthly).toBeGreaterThan(staging.fixedMonthly);
    expect(staging.fixedMonthly).toBeGreaterThan(dev.fixedMonthly);
    expect(prod.monthly).toBeGreaterThan(staging.monthly);
    expect(staging.monthly).toBeGreaterThan(dev.monthly);
  });

  it("README's \"What it costs\" table is the plans' (run `npm run docs` after a change that moves it)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf(COST_START) + COST_START.length, readme.indexOf(COST_END)).trim();
    expect(table).toBe(costTable(STACKS.map((s) => planOf(s).cost!)));
  });

  it("a stack over cost.monthlyBudget fails the plan and names its largest items", async () => {
    // Far below any AWS stack; the boundary (at the budget, a cent over) is unit-tested in test/tools/cost.
    const budget = 10;
    const file = stackFile(`config:\n  uaip:environment: dev\n${ORIGIN_TLS_YAML}  uaip:cost:\n    monthlyBudget: ${budget}\n`);
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(`✗ cost-budget: estimate \\$[\\d.]+/month exceeds cost.monthlyBudget \\$${budget}\\.00`),
    );
    const largest = [...run.json!.cost!.lines].sort(
      (a, b) => b.fixedMonthly + b.usageMonthly - (a.fixedMonthly + a.usageMonthly),
    )[0]!;
    expect(run.stdout).toContain(`largest items: ${largest.resource} ${largest.sku}`);
  });
});
