import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runPlan, stackFile } from "../helpers/plan";
import { ZONES_BY_REGION } from "../../tools/mocks";
import table from "../../vendor/aws/cloudfront-origin-shield-regions.json";
import { originShieldIssue, originShieldRegionFor } from "../../profile/origin-shield";

/**
 * The committed stacks in other Regions: moved as a user would move them (aws:region and every
 * regional ARN of the stack file), they plan there, in a three-AZ Region and in a two-AZ one.
 */
function moved(stack: string, region: string, extra = ""): string {
  const yaml = readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")
    .replace(/aws:region: us-east-1/, `aws:region: ${region}`)
    .replace(/(arn:aws:(?:acm|codeconnections)):us-east-1:/g, `$1:${region}:`);
  return stackFile(yaml + extra);
}
const SHIELD_TYPE = "aws:cloudfront/distribution:Distribution";
const shieldOf = (plan: { resources: { type: string; inputs: Record<string, unknown> }[] }) =>
  plan.resources.find((r) => r.type === SHIELD_TYPE)?.inputs.origins;
const subnetZones = (plan: { resources: { type: string; inputs: Record<string, unknown> }[] }) =>
  [
    ...new Set(plan.resources.filter((r) => r.type === "aws:ec2/subnet:Subnet").map((r) => r.inputs.availabilityZone as string)),
  ].sort();

describe("Origin Shield Region (AWS's table)", () => {
  it("every Region maps to a Region where CloudFront offers Origin Shield; unmapped Regions are refused by name", () => {
    for (const region of table.offeredIn) expect(originShieldRegionFor(region)).toBe(region);
    for (const [region, shield] of Object.entries(table.nearestFor)) {
      expect(table.offeredIn).not.toContain(region);
      expect(table.offeredIn).toContain(shield);
      expect(originShieldRegionFor(region)).toBe(shield);
    }
    expect(originShieldRegionFor("me-central-1")).toBeUndefined();
    expect(originShieldIssue(true, "me-central-1")?.message).toMatch(/no Region for an origin in me-central-1; set it false/);
    expect(originShieldIssue(false, "me-central-1")).toBeUndefined();
    expect(originShieldIssue(true, "eu-west-1")).toBeUndefined();
  });
});

describe("the committed stacks in other Regions", () => {
  it.each(["dev", "staging", "prod"])(
    "%s plans in eu-west-1 with a regional certificate",
    async (stack) => {
      const run = await runPlan(["--stack", stack, "--stack-file", moved(stack, "eu-west-1")]);
      expect({ stack, code: run.code, err: run.code ? run.stderr.slice(-600) : "" }).toEqual({ stack, code: 0, err: "" });
      const zones = subnetZones(run.json!);
      for (const z of zones) expect(ZONES_BY_REGION["eu-west-1"].map((x) => x.name)).toContain(z);
      const lb = run.json!.resources.find((r) => r.type === "aws:lb/listener:Listener" && r.inputs.certificateArn);
      expect(String(lb!.inputs.certificateArn)).toMatch(/^arn:aws:acm:eu-west-1:/);
    },
    60_000,
  );

  it("prod's Origin Shield follows AWS's table: eu-west-1 keeps its own, us-west-1 gets us-west-2", async () => {
    // us-west-1 has two AZs (the next test); eu-west-1's stack file is the one planned above, so its plan is shared.
    for (const [region, shield, extra] of [
      ["eu-west-1", "eu-west-1", ""],
      ["us-west-1", "us-west-2", "  uaip:network:\n    azCount: 2\n"],
    ]) {
      const run = await runPlan(["--stack", "prod", "--stack-file", moved("prod", region, extra)]);
      expect({ region, code: run.code }).toEqual({ region, code: 0 });
      // Only the origin-verify header's value is secret in the plan file; the rest of the origin is readable.
      expect(shieldOf(run.json!)).toEqual([
        expect.objectContaining({ originShield: { enabled: true, originShieldRegion: shield } }),
      ]);
    }
  }, 120_000);

  it("in a two-AZ Region (us-west-1) dev plans; a three-AZ stack fails naming azCount, and plans with azCount 2", async () => {
    const dev = await runPlan(["--stack", "dev", "--stack-file", moved("dev", "us-west-1")]);
    expect(dev.code).toBe(0);
    expect(subnetZones(dev.json!)).toEqual(ZONES_BY_REGION["us-west-1"].map((z) => z.name).sort());
    const staging = await runPlan(["--stack", "staging", "--stack-file", moved("staging", "us-west-1")]);
    expect(staging.code).not.toBe(0);
    expect(staging.stderr + staging.stdout).toMatch(/azCount.*3 AZs requested but the region has only 2 available/);
    const fixed = await runPlan([
      "--stack",
      "staging",
      "--stack-file",
      moved("staging", "us-west-1", "  uaip:network:\n    azCount: 2\n"),
    ]);
    expect(fixed.code).toBe(0);
  }, 120_000);
});
