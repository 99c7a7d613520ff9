import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import type { PlanJson } from "../../../../tools/plan";
import { committedPlan } from "../../../helpers/plan";

/**
 * A stack's real offline plan, made once per test file in beforeAll, and fresh copies of its
 * resources for the mutation tests (each breaks one thing the check under test must catch).
 */
export function planFixture(stack = "dev"): { readonly plan: PlanJson; clone(): PlanResource[] } {
  let plan: PlanJson | undefined;
  beforeAll(async () => {
    const run = await committedPlan(stack);
    expect(run.code).toBe(0);
    plan = run.json!;
  }, 60_000);
  return {
    get plan() {
      if (!plan) throw new Error("the plan is made in beforeAll; read it inside a test");
      return plan;
    },
    clone: () => structuredClone(plan!.resources),
  };
}
