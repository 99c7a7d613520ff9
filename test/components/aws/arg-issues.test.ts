import type { PlatformMocks } from "../../../tools/mocks";
import { awsArgIssues, profileKeyOf } from "../../../components/aws/arg-issues";
import { ComponentArgsError, ProfileError, StackError } from "../../../profile/errors";
import { parseConfig } from "../../../profile/parse";
import { servicePlan } from "../../../profile/service-settings";
import { setupMocks } from "../../helpers/pulumi";
import { UaipError } from "@uaip/runtime";

/** Three keys that pass the schema but that the components refuse. */
const THREE_WRONG = {
  environment: "dev",
  network: { cidr: "10.0.0.1/16" },
  cluster: { instanceTypes: ["m6g.large", "m6i.large"] },
  redis: { engineVersion: "5.0" },
};

describe("component arg errors name the profile key", () => {
  it.each([
    ["NetworkArgs.cidrBlock", "network.cidr"],
    ["NetworkArgs.azCount", "network.azCount"],
    ["DatabaseArgs.logMinDurationStatementMs", "database.logMinDurationMs"],
    ["LoadBalancerArgs.services[2].name", "services[2].name"],
    ["LoadBalancerArgs.idleTimeoutSeconds", "loadBalancer.idleTimeout"],
    ["MonitoringArgs.slo.errorRate", "monitoring.slo.errorRate"],
    ["MonitoringArgs.heapThreshold", "runtime.memory.memoryMonitoring.threshold"],
    ["CdnArgs.apiTtl", "cdn.apiTtl"],
    ["CdnArgs.viewerCertificateArn", "CdnArgs.viewerCertificateArn"],
  ])("%s -> %s", (arg, key) => expect(profileKeyOf(arg)).toBe(key));

  it("lists every wrong key of a profile, not just the first", () => {
    const p = parseConfig(THREE_WRONG);
    expect(awsArgIssues(p, servicePlan(p))).toEqual([
      { path: "network.cidr", message: '"10.0.0.1/16" has host bits set; use "10.0.0.0/16"' },
      { path: "cluster.instanceTypes", message: expect.stringContaining("mixes Graviton (m6g.large) and x86 types") },
      { path: "redis.engineVersion", message: expect.stringContaining('"5.0" is not a supported redis version') },
    ]);
  });

  it("finds nothing wrong in the presets", () => {
    for (const environment of ["dev", "staging", "prod"]) {
      const p = parseConfig({ environment });
      expect(awsArgIssues(p, servicePlan(p))).toEqual([]);
    }
  });
});

describe("AwsPlatform with wrong args", () => {
  let mocks: PlatformMocks;
  beforeAll(() => {
    mocks = setupMocks("dev");
  });

  it("throws one ProfileError naming every key before creating any resource", async () => {
    const { AwsPlatform } = await import("../../../components/aws/aws-platform");
    const p = parseConfig(THREE_WRONG);
    let error: unknown;
    try {
      new AwsPlatform("bad", { profile: p, plan: servicePlan(p), region: "us-east-1" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProfileError);
    expect(error).toBeInstanceOf(StackError);
    expect(error).toBeInstanceOf(UaipError);
    expect((error as ProfileError).code).toBe("UAIP_PROFILE_INVALID");
    expect((error as ProfileError).issues.map((i) => i.path)).toEqual([
      "network.cidr",
      "cluster.instanceTypes",
      "redis.engineVersion",
    ]);
    expect((error as Error).message).toMatch(/^network\.cidr: .*\ncluster\.instanceTypes: .*\nredis\.engineVersion: /);
    expect(mocks.resources.filter((r) => r.name.startsWith("bad-"))).toEqual([]);
  });
});

describe("the stack's error family", () => {
  it("every error carries a stable code and, when given, its cause", () => {
    const cause = new Error("ENOENT");
    const err = new ComponentArgsError("build.context", '"./x" does not exist', { cause });
    expect(err).toBeInstanceOf(StackError);
    expect([err.code, err.key, err.detail, err.message, err.cause]).toEqual([
      "UAIP_COMPONENT_ARGS_INVALID",
      "build.context",
      '"./x" does not exist',
      'build.context: "./x" does not exist',
      cause,
    ]);
    expect(err.name).toBe("ComponentArgsError");
    expect(new ProfileError([{ path: "a", message: "b" }]).name).toBe("ProfileError");
  });
});
