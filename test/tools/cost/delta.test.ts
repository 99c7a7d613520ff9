import fc from "fast-check";
import { costDelta } from "../../../tools/cost/delta";
import { loadSnapshot } from "../../../tools/cost/prices";
import { diffPlans, type PlanLike } from "../../../tools/diff/diff";
import { renderMarkdown } from "../../../tools/diff/markdown";
import { testEstimate } from "../../helpers/cost";

/**
 * The cost of a change in `plan --diff`: changing database.instanceClass moves the month by the
 * classes' hourly difference × 730 (× 2 with Multi-AZ), per resource and in total; an unpriced
 * class is named, never given a delta.
 */
const SNAPSHOT = loadSnapshot();
const HOURS = 730;
const RDS = SNAPSHOT.prices.filter((p) => p.sku.startsWith("rds.postgres.") && p.region === "us-east-1");
const URN = "urn:pulumi:test::uaip::uaip:aws:Database$aws:rds/instance:Instance::uaip-db-instance";

function planWith(instanceClass: string, multiAz: boolean): PlanLike {
  const resources = [
    {
      urn: URN,
      type: "aws:rds/instance:Instance",
      name: "uaip-db-instance",
      parent: "urn:pulumi:test::uaip::uaip:aws:Database::uaip-db",
      inputs: { instanceClass, multiAz, allocatedStorage: 100, storageType: "gp3" },
    },
  ];
  return { stack: "test", resources, outputs: {}, checks: [], cost: testEstimate(resources) };
}

describe("plan --diff: monthly cost of a change", () => {
  it("an instance-class change shows the hourly difference × 730 (× 2 Multi-AZ), per resource and in total", () => {
    fc.assert(
      fc.property(fc.constantFrom(...RDS), fc.constantFrom(...RDS), fc.boolean(), (a, b, multiAz) => {
        fc.pre(a.sku !== b.sku);
        const cls = (p: typeof a) => p.sku.replace("rds.postgres.", "");
        const diff = diffPlans(planWith(cls(a), multiAz), planWith(cls(b), multiAz));
        const expected = (b.usd - a.usd) * HOURS * (multiAz ? 2 : 1);
        expect(diff.cost!.delta).toBeCloseTo(expected, 6);
        expect(diff.cost!.changed).toHaveLength(1);
        expect(diff.cost!.changed[0]!.delta).toBeCloseTo(expected, 6);
        const md = renderMarkdown(diff);
        const sign = expected < 0 ? "−" : "+";
        expect(md).toContain(`(${sign}$${Math.abs(expected).toFixed(2)} a month)`);
        expect(md).toContain("<code>uaip-db-instance</code>");
      }),
    );
  });

  it("db.r7g.large -> db.r7g.xlarge: the hourly difference of the cited list prices ($0.239, $0.478) × 730, × 2 with Multi-AZ", () => {
    for (const multiAz of [false, true]) {
      const diff = diffPlans(planWith("db.r7g.large", multiAz), planWith("db.r7g.xlarge", multiAz));
      const expected = (0.478 - 0.239) * 730 * (multiAz ? 2 : 1);
      expect(diff.cost!.delta).toBeCloseTo(expected, 6);
      expect(diff.cost!.unpricedAdded).toEqual([]);
      expect(renderMarkdown(diff)).toContain(`(+$${expected.toFixed(2)} a month)`);
    }
  });

  it("a class the snapshot cannot price is named in the diff, never given a delta", () => {
    const diff = diffPlans(planWith("db.r7g.xlarge", true), planWith("db.r7g.4xlarge", true));
    expect(diff.cost!.unpricedAdded).toEqual(["uaip-db-instance rds.postgres.db.r7g.4xlarge"]);
    // Only the instance hours of the old class leave the estimate; nothing is invented for the new one.
    expect(diff.cost!.delta).toBeCloseTo(-0.478 * 730 * 2, 6);
    expect(renderMarkdown(diff)).toContain(
      "Unpriced at head (not in the estimate): <code>uaip-db-instance rds.postgres.db.r7g.4xlarge</code>",
    );
  });

  it("no cost section when the bill does not move, or when a plan has no estimate", () => {
    const same = diffPlans(planWith("db.t4g.micro", false), planWith("db.t4g.micro", false));
    expect(renderMarkdown(same)).not.toContain("Monthly cost");
    const { cost: _omit, ...old } = planWith("db.t4g.micro", false);
    expect(diffPlans(old, planWith("db.t4g.medium", false)).cost).toBeUndefined();
    expect(costDelta(undefined, planWith("db.t4g.medium", false).cost)).toBeUndefined();
  });
});
