/**
 * `cost.monthlyBudget`: the plan fails when its monthly estimate exceeds the budget, naming the
 * largest items, so the PR that crosses it says what to cut.
 */
import type { Check } from "../../profile/checks";
import type { CostReport } from "./estimate";

/** How many of the largest items the failure names. */
export const LARGEST_ITEMS = 5;

export function budgetCheck(report: CostReport, monthlyBudget: number | undefined): Check | undefined {
  if (monthlyBudget === undefined) return undefined;
  const total = report.totals.monthly;
  const name = "cost-budget";
  if (total <= monthlyBudget)
    return { name, ok: true, detail: `estimate $${usd(total)}/month is within cost.monthlyBudget $${usd(monthlyBudget)}` };
  const largest = [...report.lines]
    .map((l) => ({ item: `${l.resource} ${l.sku}`, monthly: l.fixedMonthly + l.usageMonthly }))
    .sort((a, b) => b.monthly - a.monthly)
    .slice(0, LARGEST_ITEMS)
    .map((l) => `${l.item} $${usd(l.monthly)}`);
  return {
    name,
    ok: false,
    detail: `estimate $${usd(total)}/month exceeds cost.monthlyBudget $${usd(monthlyBudget)} by $${usd(total - monthlyBudget)}; largest items: ${largest.join(", ")}; shrink them or raise the budget (npm run plan -- --cost shows every item)`,
  };
}

export function usd(n: number): string {
  return n.toFixed(2);
}
