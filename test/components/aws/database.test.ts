import type { PlatformMocks } from "../../../tools/mocks";
import { isSecretValue } from "../../../tools/mocks";
import { promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import { postgresFamily, postgresParameters } from "../../../components/aws/database";
import { familyScopedName } from "../../../profile/naming";

describe("database pure decisions", () => {
  it.each([
    ["16.4", "postgres16"],
    ["17", "postgres17"],
    ["15.10", "postgres15"],
  ])("engine %s -> family %s", (v, family) => expect(postgresFamily(v)).toBe(family));

  it.each(["sixteen", "16.4.1", ""])("rejects engine version %j naming the arg", (v) => {
    expect(() => postgresFamily(v)).toThrow(expect.objectContaining({ key: "DatabaseArgs.engineVersion" }));
  });

  it.each([
    ["uaip-db", "postgres16", "uaip-db-postgres16"],
    ["uaip-db", "postgres17", "uaip-db-postgres17"],
    ["uaip-cache", "redis6.x", "uaip-cache-redis6-x"],
    ["9lives", "valkey8", "g-9lives-valkey8"],
    ["Prod_Cache", "valkey8", "prod-cache-valkey8"],
  ])("familyScopedName(%s, %s) = %s (differs per family, valid AWS name)", (base, family, expected) => {
    expect(familyScopedName(base, family)).toBe(expected);
    expect(expected).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  it("never exceeds the max length and keeps the family", () => {
    const n = familyScopedName("x".repeat(300), "postgres16", 63);
    expect(n.length).toBeLessThanOrEqual(63);
    expect(n.endsWith("-postgres16")).toBe(true);
  });

  it.each([
    [55, "55"],
    [450, "450"],
    [5000, "5000"],
  ])("max_connections=%i is set explicitly, applied on reboot", (maxConnections, value) => {
    const p = postgresParameters({ maxConnections, logMinDurationStatementMs: 500 });
    expect(p.find((x) => x.name === "max_connections")).toEqual({
      name: "max_connections",
      value,
      applyMethod: "pending-reboot",
    });
  });

  it.each([
    [{ maxConnections: 9, logMinDurationStatementMs: 500 }, "DatabaseArgs.maxConnections"],
    [{ maxConnections: 262144, logMinDurationStatementMs: 500 }, "DatabaseArgs.maxConnections"],
    [{ maxConnections: 100.5, logMinDurationStatementMs: 500 }, "DatabaseArgs.maxConnections"],
    [{ maxConnections: 100, logMinDurationStatementMs: -2 }, "DatabaseArgs.logMinDurationStatementMs"],
  ])("rejects %j naming %s", (input, key) => {
    expect(() => postgresParameters(input)).toThrow(expect.objectContaining({ key }));
  });

  it("forces TLS, logs slow statements and tunes autovacuum", () => {
    const p = Object.fromEntries(
      postgresParameters({ maxConnections: 100, logMinDurationStatementMs: 250 }).map((x) => [x.name, x.value]),
    );
    expect(p).toMatchObject({
      "rds.force_ssl": "1",
      log_min_duration_statement: "250",
      autovacuum_vacuum_scale_factor: "0.05",
      autovacuum_analyze_scale_factor: "0.02",
    });
  });
});

describe("Database component (mocks)", () => {
  let mocks: PlatformMocks;
  let mod: typeof import("../../../components/aws/database");
  let dev: InstanceType<typeof mod.Database>;
  let prod: InstanceType<typeof mod.Database>;
  let fixed: InstanceType<typeof mod.Database>;

  beforeAll(async () => {
    mocks = setupMocks();
    mod = await import("../../../components/aws/database");
    const common = { subnetIds: ["subnet-a", "subnet-b"], securityGroupId: "sg-db" };
    dev = new mod.Database("dev-db", {
      ...common,
      maxConnections: 55,
      instanceClass: "db.t4g.micro",
      backupRetentionDays: 1,
      finalSnapshot: false,
    });
    prod = new mod.Database("prod-db", {
      ...common,
      maxConnections: 620,
      instanceClass: "db.r7g.large",
      engineVersion: "17.2",
      allocatedStorage: 100,
      maxAllocatedStorage: 1000,
      multiAz: true,
      deletionProtection: true,
      backupRetentionDays: 14,
      masterPassword: "from-config-secret",
    });
    fixed = new mod.Database("fixed-db", {
      ...common,
      maxConnections: 40,
      allocatedStorage: 20,
      maxAllocatedStorage: 20,
      performanceInsights: false,
    });
    await Promise.all([
      promiseOf(dev.endpoint),
      promiseOf(prod.endpoint),
      promiseOf(fixed.endpoint),
      promiseOf(dev.masterUserSecretArn),
    ]);
  });

  const instance = (n: string) =>
    resourcesOfType(mocks, "aws:rds/instance:Instance").find((r) => r.name === `${n}-instance`)!.inputs;
  const params = (n: string) =>
    resourcesOfType(mocks, "aws:rds/parameterGroup:ParameterGroup").find((r) => r.name === `${n}-params`)!.inputs;

  it.each([
    ["dev-db", 55],
    ["prod-db", 620],
  ])("%s: the parameter group sets max_connections = the maxConnections arg (%i)", async (n, expected) => {
    const p = (params(n).parameters as { name: string; value: string }[]).find((x) => x.name === "max_connections");
    expect(p?.value).toBe(String(expected));
    expect((n === "dev-db" ? dev : prod).maxConnections).toBe(expected);
  });

  it.each([
    ["dev-db", false, false, 1, true],
    ["prod-db", true, true, 14, false],
  ])(
    "%s: multiAz=%s deletionProtection=%s backups=%i days skipFinalSnapshot=%s",
    (n, multiAz, deletionProtection, backups, skip) => {
      expect(instance(n)).toMatchObject({ multiAz, deletionProtection, backupRetentionPeriod: backups, skipFinalSnapshot: skip });
    },
  );

  it.each(["dev-db", "prod-db"])("%s: encrypted gp3 with autoscaling, private, Performance Insights, TLS CA", (n) => {
    const i = instance(n);
    expect(i).toMatchObject({
      storageEncrypted: true,
      storageType: "gp3",
      publiclyAccessible: false,
      performanceInsightsEnabled: true,
      engine: "postgres",
      caCertIdentifier: "rds-ca-rsa2048-g1",
    });
    expect(i.maxAllocatedStorage as number).toBeGreaterThan(i.allocatedStorage as number);
    expect(i.vpcSecurityGroupIds).toEqual(["sg-db"]);
    expect(i.parameterGroupName).toBe(params(n).name);
    const subnets = resourcesOfType(mocks, "aws:rds/subnetGroup:SubnetGroup").find((r) => r.name === `${n}-subnets`)!;
    expect(subnets.inputs.subnetIds).toEqual(["subnet-a", "subnet-b"]);
  });

  it("turns storage autoscaling off with equal bounds and Performance Insights off when asked", () => {
    expect(instance("fixed-db")).toMatchObject({
      allocatedStorage: 20,
      maxAllocatedStorage: 0,
      performanceInsightsEnabled: false,
      storageEncrypted: true,
    });
    expect(instance("fixed-db").performanceInsightsRetentionPeriod).toBeUndefined();
    expect(instance("prod-db")).toMatchObject({
      allocatedStorage: 100,
      maxAllocatedStorage: 1000,
      performanceInsightsRetentionPeriod: 7,
    });
  });

  it("names the parameter group after its family, so a major upgrade does not collide", () => {
    expect(params("dev-db")).toMatchObject({ family: "postgres16", name: "dev-db-postgres16" });
    expect(params("prod-db")).toMatchObject({ family: "postgres17", name: "prod-db-postgres17" });
  });

  it("uses an AWS-managed master secret by default and a Pulumi secret when a password is given", async () => {
    expect(instance("dev-db")).toMatchObject({ manageMasterUserPassword: true });
    expect(instance("dev-db").password).toBeUndefined();
    expect(await promiseOf(dev.masterUserSecretArn)).toMatch(/^arn:aws:secretsmanager:/);
    const raw = mocks.resources.find((r) => r.name === "prod-db-instance")!.inputs;
    expect(isSecretValue(raw.password)).toBe(true);
    expect(instance("prod-db").manageMasterUserPassword).toBeUndefined();
    expect(await promiseOf(prod.masterUserSecretArn)).toBeUndefined();
  });

  it.each([
    [{ allocatedStorage: 10 }, "DatabaseArgs.allocatedStorage"],
    [{ allocatedStorage: 100, maxAllocatedStorage: 50 }, "DatabaseArgs.maxAllocatedStorage"],
    [{ backupRetentionDays: 36 }, "DatabaseArgs.backupRetentionDays"],
    [{ maxConnections: 5 }, "DatabaseArgs.maxConnections"],
  ])("rejects %j naming %s", (bad, key) => {
    expect(() => new mod.Database(`bad-${key}`, { subnetIds: [], securityGroupId: "sg", maxConnections: 100, ...bad })).toThrow(
      expect.objectContaining({ key }),
    );
  });

  it("names every child prod-db-<role> and parents it to the component", () => {
    const children = mocks.resources.filter((r) => r.custom && r.name.startsWith("prod-db-"));
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const c of children) expect(c.parent.endsWith("uaip:aws:Database::prod-db")).toBe(true);
  });
});
