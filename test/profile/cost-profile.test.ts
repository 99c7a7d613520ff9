import fc from "fast-check";
import { parseConfig } from "../../profile/parse";
import { parseIssues } from "../helpers/profile-issues";

describe("cost.* profile keys", () => {
  it("monthlyBudget: optional, positive; 0 and below refused by key", () => {
    expect(parseConfig({ environment: "dev" }).cost.monthlyBudget).toBeUndefined();
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e7, noNaN: true }), (b) => {
        expect(parseConfig({ environment: "dev", cost: { monthlyBudget: b } }).cost.monthlyBudget).toBe(b);
      }),
    );
    for (const bad of [0, -1])
      expect(parseIssues({ environment: "dev", cost: { monthlyBudget: bad } }).map((i) => i.path)).toEqual([
        "cost.monthlyBudget",
      ]);
  });

  it("assumptions: each has a preset default, 0 is allowed, a negative value is refused; every bad key listed at once", () => {
    const a = parseConfig({ environment: "prod" }).cost.assumptions;
    for (const v of Object.values(a)) expect(v).toBeGreaterThanOrEqual(0);
    expect(parseConfig({ environment: "dev", cost: { assumptions: { gbOutPerMonth: 0 } } }).cost.assumptions.gbOutPerMonth).toBe(
      0,
    );
    const paths = parseIssues({
      environment: "dev",
      cost: { assumptions: { gbOutPerMonth: -1, logGbPerMonth: -0.5, requestsPerMonth: 1.5 } },
    }).map((i) => i.path);
    expect(paths.sort()).toEqual([
      "cost.assumptions.gbOutPerMonth",
      "cost.assumptions.logGbPerMonth",
      "cost.assumptions.requestsPerMonth",
    ]);
  });

  it("every assumption key refuses a negative value, all listed at once with their key", () => {
    const keys = Object.keys(parseConfig({ environment: "dev" }).cost.assumptions).sort();
    expect(keys).toContain("cacheEcpuPerRequest");
    const negative = Object.fromEntries(keys.map((k) => [k, -1]));
    const paths = parseIssues({ environment: "dev", cost: { assumptions: negative } }).map((i) => i.path);
    expect(paths.sort()).toEqual(keys.map((k) => `cost.assumptions.${k}`));
  });

  it("refuses a budget on a docker stack, whose resources the estimate cannot price", () => {
    const issues = parseIssues({ environment: "local", cost: { monthlyBudget: 100 } });
    expect(issues.map((i) => i.path)).toEqual(["cost.monthlyBudget"]);
    expect(issues[0]!.message).toMatch(/platform "docker".*remove it/);
  });
});
