import { comparePlans } from "../../tools/compare-plans";
import type { PlanJson } from "../../tools/plan";

const STACK = "urn:pulumi:dev::uaip::pulumi:pulumi:Stack::uaip-dev";

/** A two-resource plan: a component under the stack and a bucket under the component. */
function plan(token: string, bucketInputs: unknown = { bucket: "logs" }): PlanJson {
  const component = `urn:pulumi:dev::uaip::pulumi:pulumi:Stack$${token}::uaip`;
  return {
    stack: "dev",
    resources: [
      { urn: STACK, type: "pulumi:pulumi:Stack", name: "uaip-dev", parent: "", inputs: {} },
      { urn: component, type: token, name: "uaip", parent: STACK, inputs: {} },
      {
        urn: `urn:pulumi:dev::uaip::${token}$aws:s3/bucketV2:BucketV2::uaip-logs`,
        type: "aws:s3/bucketV2:BucketV2",
        name: "uaip-logs",
        parent: component,
        inputs: bucketInputs,
      },
    ],
    outputs: { parent: component },
    checks: [{ name: "connection-budget", ok: true, detail: "fits" }],
  };
}

describe("comparePlans", () => {
  it("treats a component moved to another module (type token and URNs) as no change", () => {
    expect(comparePlans(plan("uaip:platform:AwsPlatform"), plan("uaip:aws:AwsPlatform"))).toEqual([]);
  });

  it("reports a renamed class, a changed input, and added/removed resources, outputs and checks", () => {
    expect(
      comparePlans(plan("uaip:aws:AwsPlatform"), plan("uaip:aws:Platform"))
        .map((d) => d.change)
        .sort(),
    ).toEqual(["added", "changed", "removed"]);
    expect(comparePlans(plan("uaip:aws:AwsPlatform"), plan("uaip:aws:AwsPlatform", { bucket: "other" }))).toEqual([
      { what: "resource aws:s3/bucketV2:BucketV2 uaip-dev/uaip/uaip-logs", change: "changed" },
    ]);
    const after = plan("uaip:aws:AwsPlatform");
    after.checks = [{ name: "connection-budget", ok: false, detail: "too many" }];
    after.outputs = {};
    expect(comparePlans(plan("uaip:aws:AwsPlatform"), after)).toEqual([
      { what: "output parent", change: "removed" },
      { what: "check connection-budget", change: "changed" },
    ]);
  });

  it("counts a resource that appears twice under one key", () => {
    const after = plan("uaip:aws:AwsPlatform");
    after.resources.push(after.resources[2]!);
    expect(comparePlans(plan("uaip:aws:AwsPlatform"), after)).toEqual([
      { what: "resource aws:s3/bucketV2:BucketV2 uaip-dev/uaip/uaip-logs", change: "changed" },
    ]);
  });
});
