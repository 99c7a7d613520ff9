import {
  ELB_NAME_MAX,
  loadBalancerName,
  MAX_SERVICE_NAME_FOR_TARGET_GROUP,
  stackScope,
  targetGroupName,
} from "../../profile/stack-names";
import { SEED_SERVICES } from "../../profile/presets";

describe("stack-scoped physical names", () => {
  it("scope is <project>-<stack>, lowercased and dash-separated", () => {
    expect(stackScope("uaip", "dev")).toBe("uaip-dev");
    expect(stackScope("UAIP", "Team_A.staging")).toBe("uaip-team-a-staging");
  });

  it.each(SEED_SERVICES.map((s) => [s.name, s.port] as const))(
    "the seed service %s gets a target group name within 32 characters",
    (service, port) => {
      const name = targetGroupName("uaip-staging", service, port);
      expect(name).toMatch(new RegExp(`^${service}-[0-9a-f]{6}$`));
      expect(name.length).toBeLessThanOrEqual(ELB_NAME_MAX);
    },
  );

  it("target group names differ per stack and per port (a port change replaces the group: create-before-delete needs a new name)", () => {
    const base = targetGroupName("uaip-dev", "agent-intelligence", 3001);
    expect(targetGroupName("uaip-dev", "agent-intelligence", 3001)).toBe(base);
    expect(targetGroupName("uaip-staging", "agent-intelligence", 3001)).not.toBe(base);
    expect(targetGroupName("uaip-dev", "agent-intelligence", 3005)).not.toBe(base);
  });

  it("the longest service name that fits is 25; one more is refused naming the key and the limit", () => {
    expect(targetGroupName("uaip-dev", "a".repeat(MAX_SERVICE_NAME_FOR_TARGET_GROUP), 3001)).toHaveLength(ELB_NAME_MAX);
    expect(() => targetGroupName("uaip-dev", "a".repeat(26), 3001)).toThrow(
      expect.objectContaining({ key: "services[].name", message: expect.stringContaining("use at most 25") }),
    );
  });

  it("the ALB is named after the stack; a stack name too long for 32 characters is refused with the longest that fits", () => {
    expect(loadBalancerName("uaip", "prod")).toBe("uaip-prod");
    expect(loadBalancerName("uaip", "x".repeat(27))).toHaveLength(32);
    expect(() => loadBalancerName("uaip", "x".repeat(28))).toThrow(
      expect.objectContaining({ key: "stack", message: expect.stringContaining("at most 27 characters") }),
    );
  });
});

describe("stack names at their edges (issue #22: Stryker's survivors in profile/stack-names.ts)", () => {
  it("the scope drops separators at either end and folds runs of them into one hyphen", () => {
    expect(stackScope("-UAIP-", "__dev__")).toBe("uaip-dev");
    expect(stackScope("my  project", "team..a")).toBe("my-project-team-a");
  });

  it("the longest stack name that fits depends on the project name: 32 - project - 1", () => {
    const project = "my-project"; // 10 characters: 21 left for the stack
    expect(loadBalancerName(project, "s".repeat(21))).toHaveLength(ELB_NAME_MAX);
    expect(() => loadBalancerName(project, "s".repeat(22))).toThrow(
      expect.objectContaining({
        key: "stack",
        message: expect.stringMatching(
          new RegExp(
            `^stack: the load balancer is named after the stack \\("my-project-s{22}", 33 characters\\) and AWS allows 32; use a stack name of at most 21 characters$`,
          ),
        ),
      }),
    );
  });

  it("a service name too long for its target group is refused naming the name, its length and the longest that fits", () => {
    const service = "s".repeat(MAX_SERVICE_NAME_FOR_TARGET_GROUP + 1);
    expect(() => targetGroupName("uaip-dev", service, 3001)).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          new RegExp(
            `^services\\[\\]\\.name: "${service}" \\(26 characters\\) is too long .*AWS allows 32.*use at most 25 characters$`,
          ),
        ),
      }),
    );
  });
});
