import type { PlatformMocks } from "../../../tools/mocks";
import { awsArgIssues, profileKeyOf } from "../../../components/aws/arg-issues";
import { ComponentArgsError, ProfileError, StackError } from "../../../profile/errors";
import { parseConfig } from "../../../profile/parse";
import { servicePlan } from "../../../profile/service-settings";
import { setupMocks } from "../../helpers/pulumi";
import { UaipError } from "@uaip/runtime";

/**
 * Two keys that pass parsing but that the components refuse. (A bad network.cidr no longer gets
 * this far: the schema and profile/provider-rules.ts refuse it at parse time.)
 */
const TWO_WRONG = {
  environment: "dev",
  cluster: { instanceTypes: ["m6g.large", "m6i.large"] },
  // (A Redis version ElastiCache does not have no longer gets this far either: profile/support-calendar.ts refuses it at parse time.)
  database: { maxConnections: 300_000 },
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
    const p = parseConfig(TWO_WRONG);
    expect(awsArgIssues(p, servicePlan(p))).toEqual([
      { path: "cluster.instanceTypes", message: expect.stringContaining("mixes Graviton (m6g.large) and x86 types") },
      { path: "database.maxConnections", message: expect.stringContaining("300000 must be an integer from 10 to 262143") },
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

  it("throws one ProfileError naming every key (arg issues and prod's missing certificate) before creating any resource", async () => {
    const { AwsPlatform } = await import("../../../components/aws/aws-platform");
    const p = parseConfig({ ...TWO_WRONG, environment: "prod" });
    let error: unknown;
    try {
      new AwsPlatform("bad", { profile: p, plan: servicePlan(p), region: "us-east-1", project: "uaip", stack: "dev" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProfileError);
    expect(error).toBeInstanceOf(StackError);
    expect(error).toBeInstanceOf(UaipError);
    expect((error as ProfileError).code).toBe("UAIP_PROFILE_INVALID");
    expect((error as ProfileError).issues.map((i) => i.path)).toEqual([
      "cluster.instanceTypes",
      "database.maxConnections",
      "loadBalancer.certificateArn",
    ]);
    expect((error as Error).message).toMatch(
      /^cluster\.instanceTypes: .*\ndatabase\.maxConnections: .*\nloadBalancer\.certificateArn: every AWS stack \(here prod\) needs HTTPS/,
    );
    expect(mocks.resources.filter((r) => r.name.startsWith("bad-"))).toEqual([]);
  });
});

describe("the stack files' example certificate", () => {
  let mocks: PlatformMocks;
  beforeAll(() => {
    mocks = setupMocks("dev");
  });
  const EXAMPLE = {
    environment: "dev",
    loadBalancer: {
      certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000",
      domainName: "origin.dev.uaip.example.com",
    },
  };

  it("stops a real preview or up before any resource exists, naming both keys with their values", async () => {
    const { AwsPlatform } = await import("../../../components/aws/aws-platform");
    const p = parseConfig(EXAMPLE);
    const build = () =>
      new AwsPlatform("example", { profile: p, plan: servicePlan(p), region: "us-east-1", project: "uaip", stack: "dev" });
    expect(build).toThrow(ProfileError);
    try {
      build();
    } catch (err) {
      expect((err as ProfileError).issues.map((i) => i.path)).toEqual(["loadBalancer.certificateArn", "loadBalancer.domainName"]);
      expect((err as Error).message).toContain("111122223333");
      expect((err as Error).message).toContain("origin.dev.uaip.example.com");
    }
    expect(mocks.resources.filter((r) => r.name.startsWith("example-"))).toEqual([]);
  });

  it("only warns in the offline plan, which builds the stack as cloned", async () => {
    const { AwsPlatform } = await import("../../../components/aws/aws-platform");
    const p = parseConfig(EXAMPLE);
    expect(
      () =>
        new AwsPlatform("offline", {
          profile: p,
          plan: servicePlan(p),
          region: "us-east-1",
          project: "uaip",
          stack: "dev",
          exampleCertificate: "warn",
        }),
    ).not.toThrow();
  });

  it("underMocks() tells the mocks (what index.ts uses to choose) from the real engine", async () => {
    const { underMocks } = await import("../../../components/engine");
    expect(underMocks()).toBe(true);
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
