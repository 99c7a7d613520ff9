import type { PlatformMocks } from "../../../tools/mocks";
import { isSecretValue } from "../../../tools/mocks";
import { isSecret, promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import { cacheParameterFamily, replicationPlan, validAuthToken } from "../../../components/aws/redis";
import { ComponentArgsError } from "../../../profile/errors";

describe("redis pure decisions", () => {
  it.each([
    ["redis", "7.1", "redis7"],
    ["redis", "6.2", "redis6.x"],
    ["redis", "6.x", "redis6.x"],
    ["valkey", "8.0", "valkey8"],
    ["valkey", "7.2", "valkey7"],
  ] as const)("%s %s -> family %s", (engine, version, family) => expect(cacheParameterFamily(engine, version)).toBe(family));

  it.each([
    ["redis", "5.0.6"],
    ["redis", "latest"],
    ["valkey", "6.2"],
  ] as const)("rejects %s %s naming engineVersion", (engine, version) => {
    expect(() => cacheParameterFamily(engine, version)).toThrow(expect.objectContaining({ key: "RedisArgs.engineVersion" }));
  });

  it.each([
    [0, false, { numCacheClusters: 1, automaticFailoverEnabled: false, multiAzEnabled: false }],
    [1, true, { numCacheClusters: 2, automaticFailoverEnabled: true, multiAzEnabled: true }],
    [2, true, { numCacheClusters: 3, automaticFailoverEnabled: true, multiAzEnabled: true }],
    [2, false, { numCacheClusters: 3, automaticFailoverEnabled: false, multiAzEnabled: false }],
  ])("replicas=%i multiAz=%s -> %j", (replicas, multiAz, plan) => expect(replicationPlan(replicas, multiAz)).toEqual(plan));

  it("multi-AZ without a replica throws an error naming the arg", () => {
    let err: unknown;
    try {
      replicationPlan(0, true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ComponentArgsError);
    expect(err).toMatchObject({ code: "UAIP_COMPONENT_ARGS_INVALID", key: "RedisArgs.replicas" });
    expect((err as Error).message).toMatch(/multiAz=true needs at least 1 replica.*replicas=0/);
  });

  it.each([
    ["0123456789abcdef", true],
    ["a".repeat(128), true],
    ["short", false],
    ["a".repeat(129), false],
    ["has@at-sign-xxxxxx", false],
    ["has space xxxxxxxxx", false],
  ])("auth token %j valid=%s", (t, ok) => expect(validAuthToken(t)).toBe(ok));
});

describe("Redis component (mocks)", () => {
  let mocks: PlatformMocks;
  let mod: typeof import("../../../components/aws/redis");
  let dev: InstanceType<typeof mod.Redis>;
  let prod: InstanceType<typeof mod.Redis>;

  beforeAll(async () => {
    mocks = setupMocks();
    mod = await import("../../../components/aws/redis");
    const common = { subnetIds: ["subnet-a", "subnet-b"], securityGroupId: "sg-redis" };
    dev = new mod.Redis("dev-cache", { ...common });
    prod = new mod.Redis("prod-cache", {
      ...common,
      engine: "valkey",
      engineVersion: "8.0",
      nodeType: "cache.r7g.large",
      replicas: 2,
      multiAz: true,
      slowLogs: true,
      maxmemoryPolicy: "allkeys-lfu",
      authToken: "config-secret-token-0123456789",
    });
    await Promise.all([promiseOf(dev.primaryEndpoint), promiseOf(prod.primaryEndpoint), promiseOf(dev.authToken)]);
  });

  const group = (n: string) =>
    resourcesOfType(mocks, "aws:elasticache/replicationGroup:ReplicationGroup").find((r) => r.name === `${n}-group`)!.inputs;
  const params = (n: string) =>
    resourcesOfType(mocks, "aws:elasticache/parameterGroup:ParameterGroup").find((r) => r.name === `${n}-params`)!.inputs;

  it.each(["dev-cache", "prod-cache"])("%s: encrypted at rest and in transit (required), AUTH, private subnets, node SG", (n) => {
    expect(group(n)).toMatchObject({
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      securityGroupIds: ["sg-redis"],
    });
    expect(typeof group(n).authToken).toBe("string");
    const raw = mocks.resources.find((r) => r.name === `${n}-group`)!.inputs;
    expect(isSecretValue(raw.authToken)).toBe(true);
    expect(
      resourcesOfType(mocks, "aws:elasticache/subnetGroup:SubnetGroup").find((r) => r.name === `${n}-subnets`)!.inputs.subnetIds,
    ).toEqual(["subnet-a", "subnet-b"]);
    expect(group(n).subnetGroupName).toBe(`${n}-subnets-cache`);
  });

  it.each([
    ["dev-cache", "redis", 1, false, "cache.t4g.micro"],
    ["prod-cache", "valkey", 3, true, "cache.r7g.large"],
  ])("%s: engine %s, %i nodes, multi-AZ/failover %s, %s", (n, engine, nodes, multiAz, nodeType) => {
    expect(group(n)).toMatchObject({
      engine,
      numCacheClusters: nodes,
      multiAzEnabled: multiAz,
      automaticFailoverEnabled: multiAz,
      nodeType,
    });
  });

  it.each([
    ["dev-cache", "redis7", "dev-cache-redis7", "allkeys-lru"],
    ["prod-cache", "valkey8", "prod-cache-valkey8", "allkeys-lfu"],
  ])("%s: parameter group %s named %s with maxmemory-policy %s", (n, family, name, policy) => {
    expect(params(n)).toMatchObject({ family, name, parameters: [{ name: "maxmemory-policy", value: policy }] });
    expect(group(n).parameterGroupName).toBe(name);
  });

  it("delivers the slow log to CloudWatch only when asked", () => {
    expect(group("dev-cache").logDeliveryConfigurations).toEqual([]);
    expect(group("prod-cache").logDeliveryConfigurations).toEqual([
      {
        destination: "/uaip/prod-cache/redis-slow-log",
        destinationType: "cloudwatch-logs",
        logFormat: "json",
        logType: "slow-log",
      },
    ]);
  });

  it("uses the given token, or generates one with @pulumi/random (stable in state); the output is secret either way", async () => {
    expect(group("prod-cache").authToken).toBe("config-secret-token-0123456789");
    const generated = resourcesOfType(mocks, "random:index/randomPassword:RandomPassword").find(
      (r) => r.name === "dev-cache-auth",
    )!;
    expect(generated.inputs).toMatchObject({ length: 64, special: false });
    expect(group("dev-cache").authToken).toBe("mock-dev-cache-auth-password");
    expect(await isSecret(dev.authToken)).toBe(true);
    expect(await isSecret(prod.authToken)).toBe(true);
    expect(resourcesOfType(mocks, "random:index/randomPassword:RandomPassword").some((r) => r.name === "prod-cache-auth")).toBe(
      false,
    );
  });

  it("refuses multi-AZ without a replica, naming the arg", () => {
    expect(() => new mod.Redis("bad", { subnetIds: [], securityGroupId: "sg", multiAz: true })).toThrow(
      expect.objectContaining({ key: "RedisArgs.replicas" }),
    );
    expect(() => new mod.Redis("bad2", { subnetIds: [], securityGroupId: "sg", authToken: "short" })).toThrow(
      expect.objectContaining({ key: "RedisArgs.authToken" }),
    );
  });

  it("names every child prod-cache-<role> and parents it to the component", () => {
    const children = mocks.resources.filter((r) => r.custom && r.name.startsWith("prod-cache-"));
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const c of children) expect(c.parent.endsWith("uaip:aws:Redis::prod-cache")).toBe(true);
  });
});
