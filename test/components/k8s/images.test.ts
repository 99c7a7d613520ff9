import { parseConfig } from "../../../profile/parse";
import { imagePlatformFor } from "../../../components/k8s/image-platform";
import { listStacks } from "../../../tools/stack-file";
import { ROOT, committedPlan } from "../../helpers/plan";

/**
 * Item 12 of issue #11: the old default `ghcr.io/uaip/<svc>:0.1.0` does not exist (pods sat in
 * ImagePullBackOff). The default now builds the reference service (examples/Dockerfile) once per
 * stack into that stack's ECR repository, and every service runs it by digest.
 */
describe("service images", () => {
  it("by default every service builds from examples/Dockerfile; a registry+tag choice replaces the build", () => {
    const p = parseConfig({ environment: "dev" });
    for (const s of p.services)
      expect([s.image, s.build]).toEqual([undefined, { context: ".", dockerfile: "examples/Dockerfile" }]);
    const prebuilt = parseConfig({
      environment: "dev",
      images: { registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com/uaip", tag: "1.2.3" },
    });
    expect(prebuilt.services.map((s) => [s.image, s.build])).toEqual(
      prebuilt.services.map((s) => [`123456789012.dkr.ecr.us-east-1.amazonaws.com/uaip/${s.name}:1.2.3`, undefined]),
    );
    expect(() => parseConfig({ environment: "dev", images: { registry: "ghcr.io/uaip", tag: "latest" } })).toThrow(/images/);
  });

  it("builds for the nodes' architecture", () => {
    expect(imagePlatformFor(["m6i.large"])).toBe("linux/amd64");
    expect(imagePlatformFor(["m7g.large", "c7g.large"])).toBe("linux/arm64");
  });

  it.each(listStacks(ROOT).filter((s) => s !== "local"))(
    "%s: one ECR repository and one build per stack; every Deployment runs its digest, none a ghcr.io default",
    async (stack) => {
      const run = await committedPlan(stack);
      expect(run.code).toBe(0);
      const rs = run.json!.resources as { type: string; name: string; inputs: any }[];
      const repos = rs.filter((r) => r.type === "aws:ecr/repository:Repository");
      const builds = rs.filter((r) => r.type === "docker:index/image:Image");
      expect(repos).toHaveLength(1);
      expect(builds).toHaveLength(1);
      expect(builds[0].inputs.build).toEqual({ context: ".", dockerfile: "examples/Dockerfile", platform: "linux/amd64" });
      const images = rs
        .filter((r) => r.type === "kubernetes:apps/v1:Deployment")
        .map((d) => d.inputs.spec.template.spec.containers[0].image as string);
      expect(images).toHaveLength(3);
      for (const image of images)
        expect(image).toMatch(
          new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${repos[0].name}@sha256:[0-9a-f]{64}$`),
        );
      expect(JSON.stringify(rs)).not.toContain("ghcr.io");
    },
    60_000,
  );
});
