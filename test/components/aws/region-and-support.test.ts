import type { PlatformMocks } from "../../../tools/mocks";
import { ProfileError } from "../../../profile/errors";
import { parseConfig } from "../../../profile/parse";
import { servicePlan } from "../../../profile/service-settings";
import { promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";

/**
 * AwsPlatform runs the rules that need the stack's region and the day (profile/aws-rules.ts,
 * profile/support-calendar.ts) before creating anything, and sets the EKS upgrade policy to what
 * the profile accepts.
 */
const TODAY = new Date("2026-12-06T12:00:00Z");
const CERT = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/0a1b2c3d-4e5f-4789-abcd-ef0123456789`;

function stack(extra: Record<string, unknown> = {}, region = "us-east-1") {
  return parseConfig({
    environment: "dev",
    loadBalancer: { certificateArn: CERT(region), domainName: "origin.uaip.org" },
    ...extra,
  });
}

describe("AwsPlatform: the region, the certificate's region and the versions' support, before any resource", () => {
  let mocks: PlatformMocks;
  beforeAll(() => {
    mocks = setupMocks("dev");
  });

  async function platform(name: string, p: ReturnType<typeof parseConfig>, region: string) {
    const { AwsPlatform } = await import("../../../components/aws/aws-platform");
    return new AwsPlatform(name, { profile: p, plan: servicePlan(p), region, project: "uaip", stack: "dev", today: TODAY });
  }

  async function build(name: string, p: ReturnType<typeof parseConfig>, region: string): Promise<ProfileError | undefined> {
    try {
      await platform(name, p, region);
    } catch (err) {
      if (err instanceof ProfileError) return err;
      throw err;
    }
    return undefined;
  }

  it("lists every such key at once: an unknown region, and a Kubernetes version past standard support", async () => {
    const err = await build("mars", stack({ cluster: { version: "1.33" } }), "mars-north-1");
    expect(err?.issues).toEqual([
      { path: "aws:region", message: expect.stringMatching(/^"mars-north-1" is not an AWS region/) },
      {
        path: "cluster.version",
        message: expect.stringMatching(
          /^"1\.33" left EKS Kubernetes standard support on 2026-07-29 .*6× the control-plane price/,
        ),
      },
    ]);
    expect(mocks.resources.filter((r) => r.name.startsWith("mars-"))).toEqual([]);
  });

  it("refuses a certificate of another region than the stack's (the ALB's)", async () => {
    const err = await build("elsewhere", stack({}, "us-east-1"), "eu-west-1");
    expect(err?.issues.map((i) => i.path)).toEqual(["loadBalancer.certificateArn"]);
    expect(err?.message).toMatch(/is in us-east-1, but the ALB is in the stack's region eu-west-1/);
  });

  it("plans in a second region with a certificate there (eu-west-1)", async () => {
    expect(await build("euwest", stack({}, "eu-west-1"), "eu-west-1")).toBeUndefined();
  });

  it("sets the EKS upgrade policy from cluster.extendedSupport", async () => {
    const std = await platform("std", stack(), "us-east-1");
    const ext = await platform("ext", stack({ cluster: { version: "1.33", extendedSupport: true } }), "us-east-1");
    // The cluster's name resolves once the mocks have its registration (no fixed sleep: the machine may be loaded).
    await Promise.all([promiseOf(std.clusterName), promiseOf(ext.clusterName)]);
    const policy = (name: string) =>
      (
        resourcesOfType(mocks, "aws:eks/cluster:Cluster").find((r) => r.name.startsWith(`${name}-`))?.inputs as Record<
          string,
          unknown
        >
      )?.upgradePolicy;
    expect(policy("std")).toEqual({ supportType: "STANDARD" });
    expect(policy("ext")).toEqual({ supportType: "EXTENDED" });
  });
});
