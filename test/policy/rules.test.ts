import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlannedResource, Rule, Violation } from "../../policy/rules";
import { RULES, runRules } from "../../policy/rules";
import { connectionBudget, poolUsers } from "../../policy/rules/connection-budget";
import { imageTag } from "../../policy/rules/images";
import { canonicalType } from "../../policy/rules/match";
import { toPolicy } from "../../policy/policies";

const tags = (environment = "dev") => ({ project: "uaip", environment, "managed-by": "pulumi", team: "platform" });
const r = (type: string, name: string, props: Record<string, any>): PlannedResource => ({
  type,
  name,
  urn: `urn:pulumi:t::uaip::${type}::${name}`,
  props,
});
const rule = (name: string): Rule => RULES.find((x) => x.name === name)!;
const run = (name: string, resources: PlannedResource[]): Violation[] => runRules(resources, [rule(name)]);

// Kubernetes objects for the budget and HPA rules: one service reading its pool size from a ConfigMap.
const configMap = (poolMax: string) =>
  r("kubernetes:core/v1:ConfigMap", "svc-runtime", {
    metadata: { name: "svc-runtime", namespace: "uaip" },
    data: { UAIP_POOL_MAX: poolMax },
  });
const deployment = (spec: Record<string, any> = {}, image = "ghcr.io/uaip/svc:1.2.3") =>
  r("kubernetes:apps/v1:Deployment", "svc-deployment", {
    metadata: { name: "svc", namespace: "uaip" },
    spec: {
      ...spec,
      template: { spec: { containers: [{ name: "svc", image, envFrom: [{ configMapRef: { name: "svc-runtime" } }] }] } },
    },
  });
const hpa = (maxReplicas: number) =>
  r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "svc-hpa", {
    metadata: { name: "svc", namespace: "uaip" },
    spec: { maxReplicas, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "svc" } },
  });
/** The same Deployment under another name, which no HPA targets. */
const unscaled = (d: PlannedResource): PlannedResource => ({
  ...d,
  name: "other",
  props: { ...d.props, metadata: { name: "other", namespace: "uaip" } },
});
const database = (maxConnections?: string) => [
  r("aws:rds/parameterGroup:ParameterGroup", "db-params", {
    name: "db-pg16",
    parameters: [
      ...(maxConnections ? [{ name: "max_connections", value: maxConnections }] : []),
      { name: "rds.force_ssl", value: "1" },
    ],
    tags: tags(),
  }),
  r("aws:rds/instance:Instance", "db", {
    engine: "postgres",
    parameterGroupName: "db-pg16",
    storageEncrypted: true,
    tags: tags(),
  }),
];

const proxy = (props: Record<string, any>) =>
  r("aws:rds/proxy:Proxy", "px", {
    engineFamily: "POSTGRESQL",
    requireTls: true,
    debugLogging: false,
    auths: [{ authScheme: "SECRETS", clientPasswordAuthType: "POSTGRES_SCRAM_SHA_256" }],
    ...props,
  });

/** [rule, compliant resources, resources with exactly the problem, text the message must contain]. */
const cases: [string, PlannedResource[], PlannedResource[], RegExp][] = [
  [
    "rds-storage-encrypted",
    [r("aws:rds/instance:Instance", "db", { storageEncrypted: true })],
    [r("aws:rds/instance:Instance", "db", {})],
    /storageEncrypted is unset/,
  ],
  [
    "elasticache-at-rest-encrypted",
    [r("aws:elasticache/replicationGroup:ReplicationGroup", "c", { atRestEncryptionEnabled: true })],
    [r("aws:elasticache/replicationGroup:ReplicationGroup", "c", { atRestEncryptionEnabled: false })],
    /atRestEncryptionEnabled is false/,
  ],
  [
    "ebs-encrypted",
    [
      r("aws:ec2/launchTemplate:LaunchTemplate", "lt", { blockDeviceMappings: [{ ebs: { encrypted: "true" } }] }),
      r("aws:ebs/volume:Volume", "v", { encrypted: true }),
    ],
    [r("aws:ec2/launchTemplate:LaunchTemplate", "lt", { blockDeviceMappings: [{ ebs: { encrypted: "false" } }] })],
    /blockDeviceMappings\[0\]\.encrypted is false/,
  ],
  [
    "s3-encrypted",
    [
      r("aws:s3/bucket:Bucket", "logs", {}),
      r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "logs", {
        bucket: "logs-id",
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
      }),
    ],
    [r("aws:s3/bucketV2:BucketV2", "logs", {})],
    /no server-side encryption configuration/,
  ],
  [
    "log-group-kms",
    [r("aws:cloudwatch/logGroup:LogGroup", "lg", { kmsKeyId: "arn:aws:kms:k" })],
    [r("aws:cloudwatch/logGroup:LogGroup", "lg", {})],
    /no kmsKeyId/,
  ],
  [
    "rds-force-ssl",
    database("100"),
    [
      r("aws:rds/parameterGroup:ParameterGroup", "p", { name: "g", parameters: [{ name: "rds.force_ssl", value: "0" }] }),
      r("aws:rds/instance:Instance", "db", { engine: "postgres", parameterGroupName: "g" }),
    ],
    /rds\.force_ssl=0/,
  ],
  [
    "elasticache-in-transit-encrypted",
    [
      r("aws:elasticache/replicationGroup:ReplicationGroup", "c", {
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
      }),
    ],
    [
      r("aws:elasticache/replicationGroup:ReplicationGroup", "c", {
        transitEncryptionEnabled: true,
        transitEncryptionMode: "preferred",
      }),
    ],
    /still accepts plaintext/,
  ],
  [
    "alb-listener-tls",
    [
      r("aws:lb/listener:Listener", "https", { protocol: "HTTPS", port: 443 }),
      r("aws:lb/listener:Listener", "http", {
        protocol: "HTTP",
        port: 80,
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      }),
    ],
    // Written with the alias module: must be caught all the same.
    [r("aws:alb/listener:Listener", "http", { protocol: "HTTP", port: 80, defaultActions: [{ type: "forward" }] })],
    /plain HTTP on port 80 serves traffic/,
  ],
  [
    "cloudfront-tls",
    [
      r("aws:cloudfront/distribution:Distribution", "cdn", {
        defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
        origins: [{ originId: "alb", customOriginConfig: { originProtocolPolicy: "https-only" } }],
      }),
    ],
    [
      r("aws:cloudfront/distribution:Distribution", "cdn", {
        defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
        origins: [{ originId: "alb", customOriginConfig: { originProtocolPolicy: "http-only" } }],
      }),
    ],
    /origin alb uses originProtocolPolicy http-only/,
  ],
  [
    "s3-tls-only",
    [
      r("aws:s3/bucket:Bucket", "logs", {}),
      r("aws:s3/bucketPolicy:BucketPolicy", "logs", {
        bucket: "logs-id",
        policy: JSON.stringify({ Statement: [{ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }),
      }),
    ],
    [
      r("aws:s3/bucket:Bucket", "logs", {}),
      r("aws:s3/bucketPolicy:BucketPolicy", "logs", {
        bucket: "logs-id",
        policy: JSON.stringify({ Statement: [{ Effect: "Allow" }] }),
      }),
    ],
    /denies aws:SecureTransport=false/,
  ],
  [
    "no-world-open-ingress",
    [
      r("aws:lb/loadBalancer:LoadBalancer", "alb", { internal: false, securityGroups: ["sg-alb-id"] }),
      r("aws:lb/listener:Listener", "https", { protocol: "HTTPS", port: 443 }),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "alb-443", {
        securityGroupId: "sg-alb-id",
        cidrIpv4: "0.0.0.0/0",
        fromPort: 443,
        toPort: 443,
        ipProtocol: "tcp",
        tags: tags(),
      }),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cf-443-prod", {
        securityGroupId: "sg-alb-id",
        prefixListId: "pl-3b927c52",
        fromPort: 443,
        toPort: 443,
        ipProtocol: "tcp",
        tags: tags("prod"),
      }),
    ],
    [
      r("aws:lb/loadBalancer:LoadBalancer", "alb", { internal: false, securityGroups: ["sg-alb-id"] }),
      r("aws:lb/listener:Listener", "https", { protocol: "HTTPS", port: 443 }),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "alb-443-db", {
        securityGroupId: "sg-db-id",
        cidrIpv4: "0.0.0.0/0",
        fromPort: 443,
        toPort: 443,
        ipProtocol: "tcp",
        tags: tags(),
      }),
      r("aws:ec2/securityGroup:SecurityGroup", "db", {
        ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }],
        tags: tags(),
      }),
      r("aws:ec2/securityGroupRule:SecurityGroupRule", "all", {
        type: "ingress",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        ipv6CidrBlocks: ["::/0"],
        securityGroupId: "sg-alb-id",
      }),
    ],
    /port 443 open to 0\.0\.0\.0\/0 \(not on a public load balancer's security group\)[^]*port 5432 open to 0\.0\.0\.0\/0 \(no public listener on port 5432\)[^]*ports 0-65535 open to ::\/0/,
  ],
  [
    "prod-resilience",
    [
      r("aws:rds/instance:Instance", "db", {
        deletionProtection: true,
        multiAz: true,
        backupRetentionPeriod: 14,
        tags: tags("prod"),
      }),
      r("aws:rds/instance:Instance", "dev-db", {
        deletionProtection: false,
        multiAz: false,
        backupRetentionPeriod: 0,
        tags: tags("dev"),
      }),
    ],
    [
      r("aws:rds/instance:Instance", "db", {
        deletionProtection: true,
        multiAz: false,
        backupRetentionPeriod: 14,
        tags: tags("prod"),
      }),
    ],
    /prod: multiAz is not true/,
  ],
  [
    "imdsv2-hop-limit-1",
    [
      r("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      }),
    ],
    [
      r("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      }),
    ],
    /httpPutResponseHopLimit is 2; set 1/,
  ],
  [
    "required-tags",
    [r("aws:ec2/vpc:Vpc", "vpc", { tags: tags() }), r("aws:ec2/route:Route", "rt", {})],
    [r("aws:ec2/vpc:Vpc", "vpc", { tags: { project: "uaip" } })],
    /missing tag\(s\) environment, managed-by, team/,
  ],
  [
    "images-not-latest",
    [
      deployment({}, "ghcr.io/uaip/svc:1.2.3"),
      deployment({}, "localhost:5000/svc@sha256:abc"),
      r("docker:index/remoteImage:RemoteImage", "redis", { name: "redis:7.4-alpine" }),
    ],
    [
      deployment({}, "localhost:5000/uaip/svc"),
      r("docker:index/container:Container", "grafana", { image: "grafana/grafana:latest" }),
    ],
    /container svc uses localhost:5000\/uaip\/svc \(no tag = latest\)[^]*uses grafana\/grafana:latest/,
  ],
  [
    "no-replicas-under-hpa",
    [deployment(), hpa(10), unscaled(deployment({ replicas: 2 }))],
    [deployment({ replicas: 3 }), hpa(10)],
    /spec\.replicas=3 while HPA svc owns the replica count/,
  ],
  [
    "connection-budget",
    // No strategy: Kubernetes's 25% maxSurge. 7 replicas -> 9 pods in a rollout (90 connections), 8 -> 10 (100).
    [...database("100"), configMap("10"), deployment(), hpa(7)],
    [...database("100"), configMap("10"), deployment(), hpa(8)],
    /pools need 100 connections .*10 pods in a rollout \(8 \(HPA svc maxReplicas\) \+ maxSurge 25%\).* > 95 available \(max_connections 100 − superuser_reserved_connections 3 − rds\.rds_superuser_reserved_connections 2\)/,
  ],
  [
    "rds-proxy-tls",
    [proxy({})],
    [proxy({ requireTls: false, debugLogging: true, auths: [{ clientPasswordAuthType: "POSTGRES_MD5" }] })],
    /requireTls is false[^]*debugLogging is true[^]*clientPasswordAuthType POSTGRES_MD5/,
  ],
  [
    "elasticache-valkey-replication-groups",
    [
      r("aws:elasticache/replicationGroup:ReplicationGroup", "g", { engine: "valkey" }),
      r("aws:elasticache/cluster:Cluster", "c", { engine: "redis" }),
    ],
    [r("aws:elasticache/cluster:Cluster", "c", { engine: "valkey" })],
    /engine "valkey" on aws.elasticache.Cluster fails at create time/,
  ],
];

describe("policy rules: each passes a compliant resource and catches a bad one", () => {
  it("covers every rule of the pack", () => {
    expect(cases.map((c) => c[0]).sort()).toEqual(RULES.map((x) => x.name).sort());
  });

  it.each(cases)("%s", (name, good, bad, message) => {
    expect(run(name, good)).toEqual([]);
    const violations = run(name, bad);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.map((v) => v.message).join("\n")).toMatch(message);
    for (const v of violations) expect(v).toMatchObject({ rule: name, enforcementLevel: rule(name).enforcementLevel });
  });
});

describe("policy details", () => {
  it("normalizes every alias spelling of a type", () => {
    expect(canonicalType("aws:alb/loadBalancer:LoadBalancer")).toBe("aws:lb/loadBalancer:LoadBalancer");
    expect(canonicalType("aws:elasticloadbalancingv2/listener:Listener")).toBe("aws:lb/listener:Listener");
    expect(canonicalType("aws:applicationloadbalancing/targetGroup:TargetGroup")).toBe("aws:lb/targetGroup:TargetGroup");
    expect(canonicalType("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")).toBe(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
  });

  it.each([
    ["nginx", undefined, false],
    ["nginx:1.27", "1.27", false],
    ["registry:5000/team/app", undefined, false],
    ["registry:5000/team/app:2", "2", false],
    ["app@sha256:0123", undefined, true],
  ])("imageTag(%s)", (image, tag, digest) => {
    expect(imageTag(image)).toEqual(digest ? { digest: true } : { tag, digest: false });
  });

  it('ElastiCache transit encryption counts only when enabled: unset, false or "false" is refused even in required mode', () => {
    const group = (enabled: unknown) =>
      r("aws:elasticache/replicationGroup:ReplicationGroup", "c", {
        ...(enabled === undefined ? {} : { transitEncryptionEnabled: enabled }),
        transitEncryptionMode: "required",
      });
    for (const enabled of [undefined, false, "false", null, 0])
      expect({ enabled, messages: run("elasticache-in-transit-encrypted", [group(enabled)]).map((v) => v.message) }).toEqual({
        enabled,
        messages: [expect.stringMatching(/^transitEncryptionEnabled is .*; set it to true$/)],
      });
    expect(run("elasticache-in-transit-encrypted", [group(undefined)])[0].message).toMatch(/is unset/);
    for (const enabled of [true, "true"]) expect(run("elasticache-in-transit-encrypted", [group(enabled)])).toEqual([]);
  });

  it("prod world-open ingress is refused even on the public listener; CloudFront's prefix list passes", () => {
    const lb = [
      r("aws:lb/loadBalancer:LoadBalancer", "alb", { securityGroups: ["sg-alb-id"] }),
      r("aws:lb/listener:Listener", "http", { protocol: "HTTP", port: 80 }),
    ];
    const open = r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in-80", {
      securityGroupId: "sg-alb-id",
      cidrIpv6: "::/0",
      fromPort: 80,
      toPort: 80,
      ipProtocol: "tcp",
      tags: tags("prod"),
    });
    expect(run("no-world-open-ingress", [...lb, open]).map((v) => v.message)).toEqual([
      expect.stringMatching(/port 80 open to ::\/0 in prod; the ALB must admit only CloudFront/),
    ]);
    expect(run("no-world-open-ingress", [...lb, { ...open, props: { ...open.props, tags: tags("dev") } }])).toEqual([]);
  });

  it("the budget uses the parameter group's own reservations, and the Deployment's replicas without an HPA", () => {
    const group = r("aws:rds/parameterGroup:ParameterGroup", "db-params", {
      name: "db-pg16",
      parameters: [
        { name: "max_connections", value: "50" },
        { name: "superuser_reserved_connections", value: "10" },
      ],
    });
    const users = poolUsers([configMap("10"), deployment({ replicas: 4 })]);
    expect(users.map((u) => [u.poolMax, u.maxReplicas, u.replicasFrom, u.rolloutPods])).toEqual([[10, 4, "replicas", 5]]);
    const findings = connectionBudget.check([group, database()[1], configMap("10"), deployment({ replicas: 4 })]);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringContaining(
        "pools need 50 connections (svc: UAIP_POOL_MAX=10 (svc-runtime) × 5 pods in a rollout (4 (replicas) + maxSurge 25%) = 50) > 38 available",
      ),
    ]);
  });

  // One service, pool 10, HPA max 8, against max_connections m: what the rule must count, written out here.
  const withStrategy = (strategy: Record<string, unknown>, m: string, extra: PlannedResource[] = []) =>
    connectionBudget.check([...database(m), configMap("10"), deployment({ strategy }), hpa(8), ...extra]);
  const migrationJob = r("kubernetes:batch/v1:Job", "svc-db-migrate", {
    metadata: { name: "svc-db-migrate", namespace: "uaip", labels: { "app.kubernetes.io/component": "db-migration" } },
  });
  it.each([
    // [strategy, pods during a rollout at 8 replicas]
    [{ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } }, 10],
    [{ type: "RollingUpdate", rollingUpdate: { maxSurge: "10%" } }, 9],
    [{ type: "RollingUpdate", rollingUpdate: { maxSurge: 3 } }, 11],
    [{ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, 8],
    [{ type: "Recreate" }, 8],
  ])("the budget counts the Deployment's own surge (%j): %i pods, boundary one connection either side", (strategy, pods) => {
    const fits = 10 * pods + 5; // + RDS's 3 + 2
    expect(withStrategy(strategy, String(fits))).toEqual([]);
    expect(withStrategy(strategy, String(fits - 1)).map((f) => f.message)).toEqual([
      expect.stringContaining(`pools need ${10 * pods} connections`),
    ]);
    // The migration Job's one client counts too.
    expect(withStrategy(strategy, String(fits), [migrationJob]).map((f) => f.message)).toEqual([
      expect.stringContaining(
        `> ${fits - 5 - 1} available (max_connections ${fits} − superuser_reserved_connections 3 − rds.rds_superuser_reserved_connections 2 − Job svc-db-migrate 1)`,
      ),
    ]);
  });

  it("a maxSurge Kubernetes would refuse is named, not counted as 0", () => {
    const findings = withStrategy({ type: "RollingUpdate", rollingUpdate: { maxSurge: "1.5" } }, "1000");
    expect(findings.map((f) => f.message)).toEqual([expect.stringContaining('maxSurge "1.5" is neither a whole number')]);
  });

  it("a parameter group without max_connections is reported: the budget would depend on instance memory", () => {
    const findings = connectionBudget.check([...database(), configMap("10"), deployment(), hpa(2)]);
    expect(findings.map((f) => f.message)).toEqual([expect.stringContaining("does not set max_connections")]);
  });

  it("runs as @pulumi/policy validators: resource and stack policies report through reportViolation", () => {
    const reported: [string, string | undefined][] = [];
    const report = (message: string, urn?: string) => reported.push([message, urn]);
    const imds = toPolicy(rule("imdsv2-hop-limit-1")) as unknown as { validateResource: (args: any, report: any) => void };
    const lt = r("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
      metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 },
    });
    imds.validateResource({ type: lt.type, name: lt.name, urn: lt.urn, props: lt.props }, report);
    const budget = toPolicy(rule("connection-budget")) as unknown as { validateStack: (args: any, report: any) => void };
    const resources = [...database("100"), configMap("10"), deployment(), hpa(8)];
    budget.validateStack({ resources }, report);
    expect(reported).toEqual([
      [expect.stringContaining('httpTokens is optional; set "required"'), undefined],
      [expect.stringContaining("pools need 100 connections"), resources[0].urn],
    ]);
  });
});

describe("rule edges: each condition on its own, on both sides of its bound", () => {
  const messages = (name: string, resources: PlannedResource[]) => run(name, resources).map((v) => v.message);
  const prodDb = (props: Record<string, any>) =>
    r("aws:rds/instance:Instance", "db", {
      deletionProtection: true,
      multiAz: true,
      backupRetentionPeriod: 7,
      tags: tags("prod"),
      ...props,
    });

  it("prod RDS: 7 backup days pass and 6 fail; each of deletion protection, multi-AZ and the final snapshot alone fails", () => {
    expect(messages("prod-resilience", [prodDb({})])).toEqual([]);
    expect(messages("prod-resilience", [prodDb({ backupRetentionPeriod: 6 })])).toEqual([
      "prod: backupRetentionPeriod is 6 (< 7 days)",
    ]);
    expect(messages("prod-resilience", [prodDb({ backupRetentionPeriod: undefined })])).toEqual([
      "prod: backupRetentionPeriod is unset (< 7 days)",
    ]);
    expect(messages("prod-resilience", [prodDb({ deletionProtection: "true" })])).toEqual([
      "prod: deletionProtection is not true",
    ]);
    expect(messages("prod-resilience", [prodDb({ multiAz: undefined })])).toEqual(["prod: multiAz is not true"]);
    expect(messages("prod-resilience", [prodDb({ skipFinalSnapshot: true })])).toEqual(["prod: skipFinalSnapshot is true"]);
    expect(messages("prod-resilience", [prodDb({ skipFinalSnapshot: false })])).toEqual([]);
    // An Aurora cluster has no multiAz flag of its own; "production" counts as prod too.
    const cluster = r("aws:rds/cluster:Cluster", "c", {
      deletionProtection: true,
      backupRetentionPeriod: 7,
      tags: tags("production"),
    });
    expect(messages("prod-resilience", [cluster])).toEqual([]);
    expect(messages("prod-resilience", [{ ...cluster, props: { ...cluster.props, deletionProtection: false } }])).toEqual([
      "prod: deletionProtection is not true",
    ]);
    // Outside prod nothing is required.
    expect(messages("prod-resilience", [prodDb({ multiAz: false, backupRetentionPeriod: 0, tags: tags("staging") })])).toEqual(
      [],
    );
  });

  it("prod ElastiCache: multi-AZ, failover and at least 1 snapshot day, each alone; prod load balancers need deletion protection", () => {
    const group = (props: Record<string, any>) =>
      r("aws:elasticache/replicationGroup:ReplicationGroup", "g", {
        multiAzEnabled: true,
        automaticFailoverEnabled: "true",
        snapshotRetentionLimit: 1,
        tags: tags("prod"),
        ...props,
      });
    expect(messages("prod-resilience", [group({})])).toEqual([]);
    expect(messages("prod-resilience", [group({ snapshotRetentionLimit: 0 })])).toEqual([
      "prod: snapshotRetentionLimit is 0 (no backups)",
    ]);
    expect(messages("prod-resilience", [group({ multiAzEnabled: false })])).toEqual(["prod: multiAzEnabled is not true"]);
    expect(messages("prod-resilience", [group({ automaticFailoverEnabled: undefined })])).toEqual([
      "prod: automaticFailoverEnabled is not true",
    ]);
    const lb = (enableDeletionProtection?: boolean) =>
      r("aws:lb/loadBalancer:LoadBalancer", "alb", { enableDeletionProtection, tags: tags("prod") });
    expect(messages("prod-resilience", [lb(true)])).toEqual([]);
    expect(messages("prod-resilience", [lb(undefined)])).toEqual(["prod: enableDeletionProtection is not true"]);
  });

  it("IMDS: tokens and hop limit are each required; a disabled endpoint needs neither; instances count like launch templates", () => {
    const lt = (metadataOptions?: Record<string, unknown>) =>
      r("aws:ec2/launchTemplate:LaunchTemplate", "lt", metadataOptions ? { metadataOptions } : {});
    expect(messages("imdsv2-hop-limit-1", [lt({ httpTokens: "required", httpPutResponseHopLimit: "1" })])).toEqual([]);
    expect(messages("imdsv2-hop-limit-1", [lt({ httpTokens: "optional", httpPutResponseHopLimit: 1 })])).toEqual([
      'metadataOptions.httpTokens is optional; set "required"',
    ]);
    expect(messages("imdsv2-hop-limit-1", [lt()])).toEqual([
      'metadataOptions.httpTokens is unset (IMDSv1 allowed); set "required"',
      "metadataOptions.httpPutResponseHopLimit is unset; set 1 so pods cannot reach the node's credentials",
    ]);
    expect(messages("imdsv2-hop-limit-1", [lt({ httpEndpoint: "disabled" })])).toEqual([]);
    expect(messages("imdsv2-hop-limit-1", [lt({ httpEndpoint: "enabled" })])).toHaveLength(2);
    const instance = r("aws:ec2/instance:Instance", "i", {
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 0 },
    });
    expect(messages("imdsv2-hop-limit-1", [instance])).toEqual([
      "metadataOptions.httpPutResponseHopLimit is 0; set 1 so pods cannot reach the node's credentials",
    ]);
  });

  it("replicas under an HPA: StatefulSets count, an HPA in another namespace or of another kind does not, replicas 0 is set", () => {
    const statefulSet = (replicas: number | undefined, namespace = "uaip") =>
      r("kubernetes:apps/v1:StatefulSet", "ss", { metadata: { name: "svc", namespace }, spec: { replicas } });
    const hpaFor = (kind: string | undefined, namespace = "uaip") =>
      r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "h", {
        metadata: { name: "h", namespace },
        spec: { maxReplicas: 3, scaleTargetRef: { kind, name: "svc" } },
      });
    expect(messages("no-replicas-under-hpa", [statefulSet(0), hpaFor("StatefulSet")])).toEqual([
      "spec.replicas=0 while HPA h owns the replica count; remove replicas",
    ]);
    expect(messages("no-replicas-under-hpa", [statefulSet(undefined), hpaFor("StatefulSet")])).toEqual([]);
    expect(messages("no-replicas-under-hpa", [statefulSet(2), hpaFor("StatefulSet", "other")])).toEqual([]);
    // An HPA without a kind targets a Deployment.
    expect(messages("no-replicas-under-hpa", [statefulSet(2), hpaFor(undefined)])).toEqual([]);
    expect(messages("no-replicas-under-hpa", [deployment({ replicas: 2 }), hpaFor(undefined)])).toHaveLength(1);
  });
});

describe("README policy table", () => {
  it("lists every rule with its enforcement level, in the pack's order", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| (mandatory|advisory) \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(RULES.map((x) => [x.name, x.enforcementLevel]));
  });
});

describe("connection-budget through RDS Proxy and on read replicas (from the resources alone)", () => {
  const identified = (resources: PlannedResource[], identifier: string) =>
    resources.map((x) => (x.type === "aws:rds/instance:Instance" ? { ...x, props: { ...x.props, identifier } } : x));
  const target = (pct: number) => [
    r("aws:rds/proxyTarget:ProxyTarget", "t", { dbProxyName: "px", dbInstanceIdentifier: "db1" }),
    r("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "tg", {
      dbProxyName: "px",
      connectionPoolConfig: { maxConnectionsPercent: pct },
    }),
  ];

  it("a proxied instance counts the proxy's share, not the pools: floor(max_connections × pct) against what is left", () => {
    // Pools of 10 × 20 = 200 would not fit 100; through the proxy, 95 % of 100 = 95 <= 95 fits, 96 % does not.
    const pools = [configMap("10"), deployment(), hpa(20)];
    expect(run("connection-budget", [...identified(database("100"), "db1"), ...target(95), ...pools])).toEqual([]);
    const over = run("connection-budget", [...identified(database("100"), "db1"), ...target(96), ...pools]);
    expect(over.map((v) => v.message).join()).toMatch(
      /its proxy may open 96 connections .*MaxConnectionsPercent 96 %\) = 96\) > 95 available.*lower the proxy target group.s MaxConnectionsPercent/,
    );
  });

  it("a read replica counts the reader pools that name it (by the RDS host name's identifier)", () => {
    const replica = r("aws:rds/instance:Instance", "replica", {
      engine: "postgres",
      identifier: "db1-replica-1",
      replicateSourceDb: "db1",
      parameterGroupName: "db-pg16",
      storageEncrypted: true,
    });
    const reader = (host: string, poolMax: string) =>
      r("kubernetes:core/v1:ConfigMap", "svc-runtime", {
        metadata: { name: "svc-runtime", namespace: "uaip" },
        data: { UAIP_POOL_MAX: poolMax, UAIP_DB_READ_HOST: host },
      });
    const budgetFindings = (host: string, poolMax: string, maxReplicas: number) =>
      run("connection-budget", [
        ...identified(database("100"), "db1"),
        ...target(50),
        replica,
        reader(host, poolMax),
        deployment(),
        hpa(maxReplicas),
      ]);
    // 10 × 9 pods (7 + maxSurge 25%) = 90 <= 95 on the replica it names; 10 × 10 pods (8 + 2) = 100 > 95.
    expect(budgetFindings("db1-replica-1.abc.us-east-1.rds.amazonaws.com", "10", 7)).toEqual([]);
    expect(
      budgetFindings("db1-replica-1.abc.us-east-1.rds.amazonaws.com", "10", 8)
        .map((v) => v.message)
        .join(),
    ).toMatch(/database replica: pools need 100 connections \(svc: UAIP_POOL_MAX=10 \(svc-runtime, UAIP_DB_READ_HOST\)/);
    // A pool that reads from another replica does not count here.
    expect(budgetFindings("db1-replica-2.abc.us-east-1.rds.amazonaws.com", "10", 10)).toEqual([]);
  });
});
