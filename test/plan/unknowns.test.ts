import { plannedResources, runRules } from "../../policy/rules";
import { committedPlan } from "../helpers/plan";

/**
 * The plan JSON shows inputs as the SDK sent them (so a Helm release's values stay readable
 * around a secret field). The SDK sends a value that is not known before `up` as a sentinel
 * string; recorded raw, the policy pack read the local stack's pulled images as images
 * "without a tag" (4 false images-not-latest violations). It must record them as unknown.
 */
describe("unknown values in the plan JSON", () => {
  it("local: the containers' pulled images are unknown, not the SDK's sentinel, and pass images-not-latest", async () => {
    const run = await committedPlan("local");
    expect(run.code).toBe(0);
    const json = JSON.stringify(run.json);
    expect(json).not.toContain("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    const prometheus = run.json!.resources.find(
      (r) => r.type === "docker:index/container:Container" && r.name === "uaip-prometheus",
    )!;
    expect(prometheus.inputs.image).toEqual({ __pulumiUnknown: true });
    expect(runRules(plannedResources(run.json!)).filter((v) => v.rule === "images-not-latest")).toEqual([]);
  }, 90_000);
});
