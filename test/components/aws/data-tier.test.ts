import type { PlatformMocks } from "../../../tools/mocks";
import { redactSecrets } from "../../../tools/mocks";
import { SECRET_PLACEHOLDER } from "../../../tools/stack-file";
import { promiseOf, resourcesOfType, settle, setupMocks } from "../../helpers/pulumi";
import { clusterModePlan, serverlessPlan } from "../../../components/aws/redis";
import { readReplicaCount } from "../../../components/aws/database";
import { proxySecretsPolicy, validateProxyPool } from "../../../components/aws/database-proxy";
import limits from "../../../vendor/aws/data-tier-limits.json";

/** The data tier's scale-out components: pure rules at their bounds, then what they create (mocks). */

describe("pure rules at AWS's bounds", () => {
  it.each([
    [1, 0, false, true],
    [500, 0, false, true],
    [0, 0, false, false],
    [501, 0, false, false],
    [3, 5, true, true],
    [3, 6, true, false],
    [250, 1, true, true], // 500 nodes
    [167, 2, true, false], // 501 nodes
    [3, 0, true, false], // multi-AZ without a replica per shard
  ])("clusterModePlan(shards %i, replicasPerShard %i, multiAz %s) ok=%s", (shards, replicas, multiAz, ok) => {
    const run = () => clusterModePlan(shards, replicas, multiAz);
    if (ok)
      expect(run()).toMatchObject({
        numNodeGroups: shards,
        replicasPerNodeGroup: replicas,
        automaticFailoverEnabled: true,
        nodes: shards * (1 + replicas),
      });
    else expect(run).toThrow(expect.objectContaining({ code: "UAIP_COMPONENT_ARGS_INVALID" }));
  });

  it.each([
    ["redis", "7.1", "7"],
    ["valkey", "7.2", "7"],
    ["valkey", "8.0", "8"],
  ] as const)("serverless %s %s -> major %s", (engine, version, major) => {
    expect(serverlessPlan(engine, version, { dataStorageGb: { maximum: 1 }, ecpuPerSecond: { maximum: 1000 } })).toEqual({
      majorEngineVersion: major,
    });
  });

  it.each([
    ["redis", "6.2"],
    ["redis", "8.0"],
    ["valkey", "6.2"],
  ] as const)("serverless refuses %s %s naming engineVersion", (engine, version) => {
    expect(() => serverlessPlan(engine, version, { dataStorageGb: { maximum: 1 }, ecpuPerSecond: { maximum: 1000 } })).toThrow(
      expect.objectContaining({ key: "RedisArgs.engineVersion" }),
    );
  });

  it("serverless limits one past each bound are refused, naming the limit", () => {
    const { dataStorageGb, ecpuPerSecond } = limits.elasticache.serverless;
    const at = (d: number, e: number) => () =>
      serverlessPlan("valkey", "8.0", { dataStorageGb: { maximum: d }, ecpuPerSecond: { maximum: e } });
    expect(at(dataStorageGb.max, ecpuPerSecond.max)).not.toThrow();
    expect(at(dataStorageGb.min, ecpuPerSecond.min)).not.toThrow();
    expect(at(dataStorageGb.max + 1, ecpuPerSecond.max)).toThrow(
      expect.objectContaining({ key: "RedisArgs.serverless.dataStorageGb.maximum" }),
    );
    expect(at(dataStorageGb.max, ecpuPerSecond.min - 1)).toThrow(
      expect.objectContaining({ key: "RedisArgs.serverless.ecpuPerSecond.maximum" }),
    );
  });

  it("RDS Proxy pool settings within the API's ranges; idle percent never above the max percent", () => {
    const pool = { maxConnectionsPercent: 100, maxIdleConnectionsPercent: 100, connectionBorrowTimeout: 3600 };
    expect(validateProxyPool(pool, 28_800)).toEqual(pool);
    expect(() => validateProxyPool({ ...pool, maxConnectionsPercent: 0 }, 1800)).toThrow(
      expect.objectContaining({ key: "DatabaseProxyArgs.maxConnectionsPercent" }),
    );
    expect(() => validateProxyPool({ ...pool, maxConnectionsPercent: 60, maxIdleConnectionsPercent: 61 }, 1800)).toThrow(
      expect.objectContaining({ key: "DatabaseProxyArgs.maxIdleConnectionsPercent" }),
    );
    expect(() => validateProxyPool({ ...pool, connectionBorrowTimeout: 3601 }, 1800)).toThrow(
      expect.objectContaining({ key: "DatabaseProxyArgs.connectionBorrowTimeout" }),
    );
    expect(() => validateProxyPool(pool, 28_801)).toThrow(
      expect.objectContaining({ key: "DatabaseProxyArgs.idleClientTimeout" }),
    );
    expect(() => validateProxyPool(pool, 0)).toThrow(expect.objectContaining({ key: "DatabaseProxyArgs.idleClientTimeout" }));
  });

  it("read replicas: 0..15, and only from a source with backups", () => {
    expect(readReplicaCount(15, 1)).toBe(15);
    expect(readReplicaCount(0, 0)).toBe(0);
    expect(() => readReplicaCount(16, 7)).toThrow(expect.objectContaining({ key: "DatabaseArgs.readReplicas" }));
    expect(() => readReplicaCount(1, 0)).toThrow(expect.objectContaining({ key: "DatabaseArgs.backupRetentionDays" }));
  });

  it("the proxy's role reads exactly its own secrets", () => {
    expect(proxySecretsPolicy(["arn:a", "arn:b"]).Statement).toEqual([
      { Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["arn:a", "arn:b"] },
    ]);
  });
});

describe("components (mocks)", () => {
  let mocks: PlatformMocks;
  let redisMod: typeof import("../../../components/aws/redis");
  let dbMod: typeof import("../../../components/aws/database");
  let proxyMod: typeof import("../../../components/aws/database-proxy");

  beforeAll(async () => {
    mocks = setupMocks();
    redisMod = await import("../../../components/aws/redis");
    dbMod = await import("../../../components/aws/database");
    proxyMod = await import("../../../components/aws/database-proxy");
    const common = { subnetIds: ["subnet-a", "subnet-b"], securityGroupId: "sg-redis" };
    const cluster = new redisMod.Redis("cl", {
      ...common,
      engine: "valkey",
      engineVersion: "8.0",
      mode: "cluster",
      shards: 4,
      replicas: 1,
      multiAz: true,
    });
    const serverless = new redisMod.Redis("sl", {
      ...common,
      engine: "valkey",
      engineVersion: "8.0",
      mode: "cluster",
      serverless: { dataStorageGb: { maximum: 20 }, ecpuPerSecond: { minimum: 1000, maximum: 50_000 } },
      physicalName: "uaip-test-redis",
    });
    const db = new dbMod.Database("db", {
      subnetIds: ["subnet-a"],
      securityGroupId: "sg-db",
      maxConnections: 200,
      readReplicas: 2,
      backupRetentionDays: 1,
      masterPassword: "x".repeat(20),
      physicalName: "uaip-test-db",
    });
    const proxy = new proxyMod.DatabaseProxy("px", {
      vpcId: "vpc-1",
      subnetIds: ["subnet-a"],
      nodeSecurityGroupId: "sg-nodes",
      databaseSecurityGroupId: "sg-db",
      instanceIdentifier: db.instanceIdentifier,
      roles: ["svc_a", "svc_b"],
      proxyName: "uaip-test-db-proxy",
      pool: { maxConnectionsPercent: 80, maxIdleConnectionsPercent: 40, connectionBorrowTimeout: 60 },
    });
    proxy.attachCredentials({ svc_a: "pw-a-0123456789abcdef", svc_b: "pw-b-0123456789abcdef" });
    await Promise.all([
      promiseOf(cluster.primaryEndpoint),
      promiseOf(serverless.primaryEndpoint),
      promiseOf(proxy.endpoint),
      ...db.readReplicaAddresses.map((a) => promiseOf(a)),
    ]);
    await settle();
    expect(cluster.clientMode).toBe("cluster");
    expect(serverless.clientMode).toBe("cluster");
  });

  const one = (type: string, name: string) => resourcesOfType(mocks, type).find((r) => r.name === name)!.inputs;
  /** The recorded inputs (secrets still marked) hold a secret and never its value in the clear. */
  const hidesSecret = (name: string, clear: string) => {
    const shown = JSON.stringify(redactSecrets(mocks.resources.find((r) => r.name === name)!.inputs));
    return shown.includes(SECRET_PLACEHOLDER) && !shown.includes(clear);
  };

  it("cluster mode: shards and replicas per shard, failover on, the cluster-enabled parameter group, TLS and encryption", () => {
    const g = one("aws:elasticache/replicationGroup:ReplicationGroup", "cl-group");
    expect(g).toMatchObject({
      engine: "valkey",
      numNodeGroups: 4,
      replicasPerNodeGroup: 1,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
    });
    expect(g.numCacheClusters).toBeUndefined();
    const params = one("aws:elasticache/parameterGroup:ParameterGroup", "cl-params");
    expect(params.family).toBe("valkey8");
    expect(params.parameters).toEqual(expect.arrayContaining([{ name: "cluster-enabled", value: "yes" }]));
  });

  it("serverless: usage limits as given, a user group whose default user has the token, no parameter group", () => {
    const c = one("aws:elasticache/serverlessCache:ServerlessCache", "sl-serverless");
    expect(c).toMatchObject({
      engine: "valkey",
      majorEngineVersion: "8",
      cacheUsageLimits: { dataStorage: { unit: "GB", maximum: 20 }, ecpuPerSeconds: [{ minimum: 1000, maximum: 50_000 }] },
      securityGroupIds: ["sg-redis"],
    });
    const user = one("aws:elasticache/user:User", "sl-default-user");
    expect(user).toMatchObject({ userName: "default", engine: "valkey", authenticationMode: { type: "password" } });
    expect(user.accessString).toMatch(/-@dangerous/);
    expect(hidesSecret("sl-default-user", "mock-sl-auth-password")).toBe(true);
    expect(resourcesOfType(mocks, "aws:elasticache/parameterGroup:ParameterGroup").some((r) => r.name === "sl-params")).toBe(
      false,
    );
  });

  it("read replicas: of the instance, private, encrypted, same parameter group and CA, no backups of their own", () => {
    const replicas = resourcesOfType(mocks, "aws:rds/instance:Instance").filter((r) => r.name.startsWith("db-replica-"));
    expect(replicas.map((r) => r.inputs.identifier)).toEqual(["uaip-test-db-replica-1", "uaip-test-db-replica-2"]);
    const source = one("aws:rds/instance:Instance", "db-instance");
    for (const r of replicas)
      expect(r.inputs).toMatchObject({
        replicateSourceDb: source.identifier,
        engine: "postgres",
        engineVersion: "16",
        storageEncrypted: true,
        publiclyAccessible: false,
        parameterGroupName: source.parameterGroupName,
        caCertIdentifier: source.caCertIdentifier,
        backupRetentionPeriod: 0,
      });
  });

  it("RDS Proxy: TLS required, SCRAM with one secret per role, the pool as given, targets the writer only", () => {
    const p = one("aws:rds/proxy:Proxy", "px-proxy");
    expect(p).toMatchObject({ name: "uaip-test-db-proxy", engineFamily: "POSTGRESQL", requireTls: true, debugLogging: false });
    expect(
      (p.auths as { clientPasswordAuthType: string; authScheme: string }[]).map((a) => [a.authScheme, a.clientPasswordAuthType]),
    ).toEqual([
      ["SECRETS", "POSTGRES_SCRAM_SHA_256"],
      ["SECRETS", "POSTGRES_SCRAM_SHA_256"],
    ]);
    expect(one("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "px-target-group").connectionPoolConfig).toEqual({
      maxConnectionsPercent: 80,
      maxIdleConnectionsPercent: 40,
      connectionBorrowTimeout: 60,
    });
    expect(one("aws:rds/proxyTarget:ProxyTarget", "px-target").dbInstanceIdentifier).toBe(
      one("aws:rds/instance:Instance", "db-instance").identifier,
    );
    const values = resourcesOfType(mocks, "aws:secretsmanager/secretVersion:SecretVersion").filter((r) =>
      r.name.startsWith("px-"),
    );
    expect(values).toHaveLength(2);
    for (const v of values) expect(hidesSecret(v.name, "pw-")).toBe(true);
  });

  it("the proxy's network: the nodes in, the database out, and the database admits the proxy, on 5432 only", () => {
    const ingress = resourcesOfType(mocks, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) =>
      r.name.startsWith("px-"),
    );
    const egress = resourcesOfType(mocks, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) =>
      r.name.startsWith("px-"),
    );
    expect(
      [...ingress, ...egress].every((r) => r.inputs.fromPort === 5432 && r.inputs.toPort === 5432 && !r.inputs.cidrIpv4),
    ).toBe(true);
    expect(ingress.map((r) => r.inputs.referencedSecurityGroupId)).toEqual(expect.arrayContaining(["sg-nodes"]));
    expect(ingress.find((r) => r.name === "px-database-from-proxy")!.inputs.securityGroupId).toBe("sg-db");
    expect(egress.map((r) => r.inputs.referencedSecurityGroupId)).toEqual(["sg-db"]);
  });

  it("a missing role password is refused by name", () => {
    const proxy = new proxyMod.DatabaseProxy("px2", {
      vpcId: "vpc-1",
      subnetIds: ["subnet-a"],
      nodeSecurityGroupId: "sg-nodes",
      databaseSecurityGroupId: "sg-db",
      instanceIdentifier: "db",
      roles: ["svc_a", "svc_b"],
      proxyName: "uaip-test-db-proxy-2",
      pool: { maxConnectionsPercent: 80, maxIdleConnectionsPercent: 40, connectionBorrowTimeout: 60 },
    });
    expect(() => proxy.attachCredentials({ svc_a: "x" })).toThrow(/no password for role\(s\) svc_b/);
  });
});
