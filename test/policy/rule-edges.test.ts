/**
 * The policy rules' remaining edges, found by Stryker (issue #22, docs/mutation-scores.md): what each rule
 * looks at and what it leaves alone, defaults on both sides, and the values its messages name.
 */
import fc from "fast-check";
import type { PlannedResource } from "../../policy/rules";
import type { ResourceRule, StackRule } from "../../policy/rules/types";
import { RULES, plannedResources, runRules } from "../../policy/rules";
import { rdsProxyTls } from "../../policy/rules/data-tier";
import {
  ebsEncrypted,
  elasticacheAtRestEncrypted,
  rdsStorageEncrypted,
  s3Encrypted,
} from "../../policy/rules/encryption-at-rest";
import { noReplicasUnderHpa } from "../../policy/rules/hpa-replicas";
import { imageTag, noLatestImages } from "../../policy/rules/images";
import { noWorldOpenIngress } from "../../policy/rules/ingress";
import { isKind, UNKNOWN } from "../../policy/rules/match";
import { prodResilience } from "../../policy/rules/prod-resilience";
import { REQUIRED_TAGS, requiredTags, TAGGABLE_TYPES } from "../../policy/rules/tags";

const r = (type: string, name: string, props: Record<string, unknown>): PlannedResource => ({
  type,
  name,
  urn: `urn:pulumi:t::uaip::${type}::${name}`,
  props,
});

/** Every prop some resource rule refuses, at once: a resource of a type a rule checks would fail it. */
const EVERY_BAD_PROP = {
  storageEncrypted: false,
  atRestEncryptionEnabled: false,
  encrypted: false,
  blockDeviceMappings: [{ ebs: { encrypted: false } }],
  rootBlockDevice: { encrypted: false },
  ebsBlockDevices: [{ encrypted: false }],
  transitEncryptionEnabled: false,
  protocol: "HTTP",
  port: 80,
  defaultActions: [{ type: "forward" }],
  defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" },
  origins: [{ originId: "o", customOriginConfig: { originProtocolPolicy: "http-only" } }],
  requireTls: false,
  debugLogging: true,
  engineFamily: "POSTGRESQL",
  auths: [{ clientPasswordAuthType: "POSTGRES_MD5" }],
  engine: "valkey",
  metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 },
  deletionProtection: false,
  multiAz: false,
  backupRetentionPeriod: 0,
  skipFinalSnapshot: true,
  multiAzEnabled: false,
  automaticFailoverEnabled: false,
  snapshotRetentionLimit: 0,
  enableDeletionProtection: false,
  image: "nginx:latest",
  name: "nginx",
  spec: { containers: [{ name: "c", image: "nginx" }], template: { spec: { containers: [{ name: "c", image: "nginx" }] } } },
  // Present but missing every required key: the tags rule would refuse an AWS resource with these.
  tags: { environment: "prod" },
};

const resourceRules = RULES.filter((x): x is ResourceRule => x.kind === "resource");

describe("each resource rule checks only the types it names", () => {
  it("a resource of a type no rule checks passes every resource rule, however bad its props", () => {
    for (const type of ["custom:index/thing:Thing", "kubernetes:core/v1:Service", "random:index/randomPassword:RandomPassword"])
      for (const rule of resourceRules)
        expect({ rule: rule.name, type, messages: rule.check(r(type, "x", EVERY_BAD_PROP)) }).toEqual({
          rule: rule.name,
          type,
          messages: [],
        });
  });

  it("the same props on a type the rule checks fail it (the resource above would be caught if its type matched)", () => {
    const checked: Record<string, string> = {
      "rds-storage-encrypted": "aws:rds/instance:Instance",
      "elasticache-at-rest-encrypted": "aws:elasticache/replicationGroup:ReplicationGroup",
      "ebs-encrypted": "aws:ebs/volume:Volume",
      "elasticache-in-transit-encrypted": "aws:elasticache/replicationGroup:ReplicationGroup",
      "alb-listener-tls": "aws:lb/listener:Listener",
      "cloudfront-tls": "aws:cloudfront/distribution:Distribution",
      "rds-proxy-tls": "aws:rds/proxy:Proxy",
      "elasticache-valkey-replication-groups": "aws:elasticache/cluster:Cluster",
      "prod-resilience": "aws:rds/instance:Instance",
      "imdsv2-hop-limit-1": "aws:ec2/launchTemplate:LaunchTemplate",
      "required-tags": "aws:ec2/vpc:Vpc",
      "images-not-latest": "kubernetes:core/v1:Pod",
      "log-group-kms": "aws:cloudwatch/logGroup:LogGroup",
    };
    expect(Object.keys(checked).sort()).toEqual(resourceRules.map((x) => x.name).sort());
    for (const rule of resourceRules)
      expect({ rule: rule.name, failed: rule.check(r(checked[rule.name]!, "x", EVERY_BAD_PROP)).length > 0 }).toEqual({
        rule: rule.name,
        failed: true,
      });
  });
});

describe("no-replicas-under-hpa: namespaces", () => {
  const hpa = (metadata: Record<string, unknown> | undefined) =>
    r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "h", {
      ...(metadata ? { metadata } : {}),
      spec: { maxReplicas: 3, scaleTargetRef: { kind: "Deployment", name: "svc" } },
    });
  const deployment = (metadata: Record<string, unknown> | undefined) =>
    r("kubernetes:apps/v1:Deployment", "svc", { ...(metadata ? { metadata } : {}), spec: { replicas: 2 } });

  it('an object without a namespace is in "default": it meets one that names "default", not one elsewhere', () => {
    expect(noReplicasUnderHpa.check([deployment({ name: "svc", namespace: "default" }), hpa({ name: "h" })])).toHaveLength(1);
    expect(noReplicasUnderHpa.check([deployment({ name: "svc" }), hpa({ name: "h", namespace: "default" })])).toHaveLength(1);
    expect(noReplicasUnderHpa.check([deployment({ name: "svc" }), hpa({ name: "h", namespace: "uaip" })])).toEqual([]);
  });

  it("an object without metadata is named by its resource name, in the default namespace, and the message names the HPA", () => {
    expect(runRules([deployment(undefined), hpa(undefined)], [noReplicasUnderHpa]).map((v) => v.message)).toEqual([
      "spec.replicas=2 while HPA h owns the replica count; remove replicas",
    ]);
  });
});

describe("no-replicas-under-hpa: only HorizontalPodAutoscalers own the replica count", () => {
  it("another object with a spec.scaleTargetRef naming the Deployment does not", () => {
    const deployment = r("kubernetes:apps/v1:Deployment", "svc", { metadata: { name: "svc" }, spec: { replicas: 2 } });
    const lookalike = (type: string) =>
      r(type, "s", { metadata: { name: "s" }, spec: { scaleTargetRef: { kind: "Deployment", name: "svc" } } });
    expect(noReplicasUnderHpa.check([deployment, lookalike("kubernetes:example.com/v1:Scaler")])).toEqual([]);
    expect(noReplicasUnderHpa.check([deployment, lookalike("kubernetes:autoscaling/v1:HorizontalPodAutoscaler")])).toHaveLength(
      1,
    );
  });

  it("an HPA without a spec or a target owns nothing (and does not stop the rule)", () => {
    const deployment = r("kubernetes:apps/v1:Deployment", "svc", { metadata: { name: "svc" }, spec: { replicas: 2 } });
    const hpa = (spec?: Record<string, unknown>) =>
      r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "h", { metadata: { name: "h" }, ...(spec ? { spec } : {}) });
    expect(noReplicasUnderHpa.check([deployment, hpa()])).toEqual([]);
    expect(noReplicasUnderHpa.check([deployment, hpa({ maxReplicas: 3 })])).toEqual([]);
  });
});

describe("rds-storage-encrypted: read replicas", () => {
  it("a replica inherits its source's encryption and may not set storageEncrypted; a primary must", () => {
    const db = (props: Record<string, unknown>) => r("aws:rds/instance:Instance", "db", { engine: "postgres", ...props });
    expect(rdsStorageEncrypted.check(db({ replicateSourceDb: "db1" }))).toEqual([]);
    expect(rdsStorageEncrypted.check(db({}))).toEqual(["storageEncrypted is unset; set storageEncrypted: true"]);
    expect(rdsStorageEncrypted.check(db({ replicateSourceDb: "" }))).toHaveLength(1);
    // An Aurora cluster stores data too.
    expect(rdsStorageEncrypted.check(r("aws:rds/cluster:Cluster", "c", { engine: "aurora-postgresql" }))).toEqual([
      "storageEncrypted is unset; set storageEncrypted: true",
    ]);
    expect(rdsStorageEncrypted.check(r("aws:rds/cluster:Cluster", "c", { storageEncrypted: true }))).toEqual([]);
  });
});

describe("no-world-open-ingress: protocol all", () => {
  const group = (protocol: unknown) =>
    r("aws:ec2/securityGroup:SecurityGroup", "sg", {
      ingress: [{ protocol, fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
  it.each(["-1", -1, "all"])("protocol %j opens every port, whatever fromPort and toPort say", (protocol) => {
    expect(noWorldOpenIngress.check([group(protocol)]).map((f) => f.message)).toEqual([
      expect.stringMatching(/^ports 0-65535 open to 0\.0\.0\.0\/0 /),
    ]);
  });
  it("another protocol opens the ports it names", () => {
    expect(noWorldOpenIngress.check([group("tcp")]).map((f) => f.message)).toEqual([expect.stringMatching(/^port 0 open to /)]);
  });
});

describe("required-tags: taggable types must carry tags, others only when they carry any", () => {
  const all = { project: "uaip", environment: "dev", "managed-by": "pulumi", team: "platform" };
  it("a taggable type without tags misses every required tag", () => {
    for (const type of TAGGABLE_TYPES)
      expect(requiredTags.check(r(type, "x", {}))).toEqual([`missing tag(s) ${REQUIRED_TAGS.join(", ")}`]);
  });
  it("a type not in the list is checked when it carries tags, skipped when it has none", () => {
    const route = (props: Record<string, unknown>) => r("aws:ec2/route:Route", "rt", props);
    expect(TAGGABLE_TYPES.has("aws:ec2/route:Route")).toBe(false);
    expect(requiredTags.check(route({}))).toEqual([]);
    expect(requiredTags.check(route({ tags: { project: "uaip" } }))).toEqual(["missing tag(s) environment, managed-by, team"]);
    expect(requiredTags.check(route({ tags: all }))).toEqual([]);
  });
  it("an empty or non-string value is missing", () => {
    expect(requiredTags.check(r("aws:ec2/vpc:Vpc", "v", { tags: { ...all, team: "", project: 1 } }))).toEqual([
      "missing tag(s) project, team",
    ]);
  });
});

describe("rds-proxy-tls: the value as written", () => {
  it("an unset requireTls is named unset, a false one false", () => {
    const proxy = (props: Record<string, unknown>) => r("aws:rds/proxy:Proxy", "px", { engineFamily: "POSTGRESQL", ...props });
    expect(rdsProxyTls.check(proxy({}))).toEqual(["requireTls is unset; set it to true"]);
    expect(rdsProxyTls.check(proxy({ requireTls: false }))).toEqual(["requireTls is false; set it to true"]);
    expect(rdsProxyTls.check(proxy({ requireTls: "true" }))).toEqual([]);
  });

  it("SCRAM is required of PostgreSQL proxies only (any case of the family); MySQL's auth types are its own", () => {
    const proxy = (engineFamily: unknown) =>
      r("aws:rds/proxy:Proxy", "px", {
        requireTls: true,
        ...(engineFamily === undefined ? {} : { engineFamily }),
        auths: [{ clientPasswordAuthType: "MYSQL_NATIVE_PASSWORD" }],
      });
    const refused = ['an auth entry has clientPasswordAuthType MYSQL_NATIVE_PASSWORD; set "POSTGRES_SCRAM_SHA_256"'];
    expect(rdsProxyTls.check(proxy("POSTGRESQL"))).toEqual(refused);
    expect(rdsProxyTls.check(proxy("postgresql"))).toEqual(refused);
    expect(rdsProxyTls.check(proxy("MYSQL"))).toEqual([]);
    expect(rdsProxyTls.check(proxy(undefined))).toEqual([]);
  });

  it("an auth entry without a clientPasswordAuthType is named unset", () => {
    expect(
      rdsProxyTls.check(r("aws:rds/proxy:Proxy", "px", { requireTls: true, engineFamily: "POSTGRESQL", auths: [{}] })),
    ).toEqual(['an auth entry has clientPasswordAuthType unset; set "POSTGRES_SCRAM_SHA_256"']);
  });
});

describe("elasticache-at-rest-encrypted: the value as written", () => {
  it('unset is named unset, false false; true and "true" pass', () => {
    const group = (props: Record<string, unknown>) => r("aws:elasticache/replicationGroup:ReplicationGroup", "g", props);
    expect(elasticacheAtRestEncrypted.check(group({}))).toEqual(["atRestEncryptionEnabled is unset; set it to true"]);
    expect(elasticacheAtRestEncrypted.check(group({ atRestEncryptionEnabled: false }))).toEqual([
      "atRestEncryptionEnabled is false; set it to true",
    ]);
    for (const v of [true, "true"]) expect(elasticacheAtRestEncrypted.check(group({ atRestEncryptionEnabled: v }))).toEqual([]);
  });
});

describe("images-not-latest: where each workload kind keeps its pod spec", () => {
  const podSpec = { initContainers: [{ name: "init", image: "busybox" }], containers: [{ name: "app", image: "app:latest" }] };
  const expected = [
    "container init uses busybox (no tag = latest); pin a version tag or a digest",
    "container app uses app:latest; pin a version tag or a digest",
  ];
  it.each([
    ["kubernetes:core/v1:Pod", { spec: podSpec }],
    ["kubernetes:batch/v1:CronJob", { spec: { jobTemplate: { spec: { template: { spec: podSpec } } } } }],
    ["kubernetes:batch/v1:Job", { spec: { template: { spec: podSpec } } }],
    ["kubernetes:apps/v1:DaemonSet", { spec: { template: { spec: podSpec } } }],
  ])("%s", (type, props) => {
    expect(noLatestImages.check(r(type, "w", props))).toEqual(expected);
  });

  it("an image unknown during preview (built by the stack) cannot be judged: it passes", () => {
    const pod = (image: unknown) => r("kubernetes:core/v1:Pod", "p", { spec: { containers: [{ name: "app", image }] } });
    expect(noLatestImages.check(pod(UNKNOWN))).toEqual([]);
    expect(noLatestImages.check(pod(undefined))).toEqual([]);
    expect(noLatestImages.check(pod("app"))).toHaveLength(1);
  });

  it("a container without a name is named ?", () => {
    expect(noLatestImages.check(r("kubernetes:core/v1:Pod", "p", { spec: { containers: [{ image: "app" }] } }))).toEqual([
      "container ? uses app (no tag = latest); pin a version tag or a digest",
    ]);
  });

  it("Docker: a container's image and a pulled image's name are both checked", () => {
    expect(noLatestImages.check(r("docker:index/remoteImage:RemoteImage", "img", { name: "redis:latest" }))).toEqual([
      "uses redis:latest; pin a version tag or a digest",
    ]);
    expect(noLatestImages.check(r("docker:index/container:Container", "c", { image: "redis" }))).toEqual([
      "uses redis (no tag = latest); pin a version tag or a digest",
    ]);
    expect(noLatestImages.check(r("docker:index/remoteImage:RemoteImage", "img", { name: "redis:7.4" }))).toEqual([]);
  });

  it("a workload without a spec or a template has no containers to check (and does not stop the rule)", () => {
    expect(noLatestImages.check(r("kubernetes:apps/v1:Deployment", "d", {}))).toEqual([]);
    expect(noLatestImages.check(r("kubernetes:apps/v1:Deployment", "d", { spec: { replicas: 1 } }))).toEqual([]);
    expect(noLatestImages.check(r("kubernetes:batch/v1:CronJob", "c", { spec: {} }))).toEqual([]);
    expect(noLatestImages.check(r("kubernetes:batch/v1:CronJob", "c", {}))).toEqual([]);
    for (const spec of [{ jobTemplate: {} }, { jobTemplate: { spec: {} } }])
      expect(noLatestImages.check(r("kubernetes:batch/v1:CronJob", "c", { spec }))).toEqual([]);
    expect(noLatestImages.check(r("kubernetes:core/v1:Pod", "p", {}))).toEqual([]);
  });
});

describe("imageTag", () => {
  const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,11}$/);
  it("property: the tag is what follows the last segment's colon, however short the name; a registry port is not a tag", () => {
    fc.assert(
      fc.property(
        fc.option(fc.tuple(segment, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })), { nil: undefined }),
        fc.array(segment, { maxLength: 2 }),
        fc.oneof(segment, fc.constant("")),
        fc.option(segment, { nil: undefined }),
        (registry, path, name, tag) => {
          const host = registry ? `${registry[0]}${registry[1] === undefined ? "" : `:${registry[1]}`}/` : "";
          const image = `${host}${[...path, name].join("/")}${tag === undefined ? "" : `:${tag}`}`;
          expect(imageTag(image)).toEqual({ tag, digest: false });
        },
      ),
    );
  });
});

describe("no-replicas-under-hpa: a workload without a spec sets no replicas", () => {
  it("is not reported, and the rule goes on to the next workload", () => {
    const hpa = r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "h", {
      metadata: { name: "h" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "svc" } },
    });
    const bare = r("kubernetes:apps/v1:Deployment", "svc", { metadata: { name: "svc" } });
    expect(noReplicasUnderHpa.check([bare, hpa])).toEqual([]);
  });
});

describe("ebs-encrypted: absent device lists", () => {
  it('an EBS volume names its value as written; true and "true" pass', () => {
    const volume = (props: Record<string, unknown>) => r("aws:ebs/volume:Volume", "v", props);
    expect(ebsEncrypted.check(volume({}))).toEqual(["encrypted is unset; set encrypted: true"]);
    expect(ebsEncrypted.check(volume({ encrypted: false }))).toEqual(["encrypted is false; set encrypted: true"]);
    for (const encrypted of [true, "true"]) expect(ebsEncrypted.check(volume({ encrypted }))).toEqual([]);
  });

  it("an instance's root device: unset and false are named, true passes", () => {
    const instance = (rootBlockDevice: Record<string, unknown>) => r("aws:ec2/instance:Instance", "i", { rootBlockDevice });
    expect(ebsEncrypted.check(instance({}))).toEqual(["rootBlockDevice.encrypted is unset; set encrypted: true"]);
    expect(ebsEncrypted.check(instance({ encrypted: false }))).toEqual([
      "rootBlockDevice.encrypted is false; set encrypted: true",
    ]);
    expect(ebsEncrypted.check(instance({ encrypted: true }))).toEqual([]);
  });

  it("a launch template or an instance without block devices has nothing unencrypted", () => {
    expect(ebsEncrypted.check(r("aws:ec2/launchTemplate:LaunchTemplate", "lt", {}))).toEqual([]);
    expect(ebsEncrypted.check(r("aws:ec2/instance:Instance", "i", {}))).toEqual([]);
    expect(ebsEncrypted.check(r("aws:ec2/instance:Instance", "i", { ebsBlockDevices: [{ encrypted: "false" }] }))).toEqual([
      "ebsBlockDevices[0].encrypted is false; set encrypted: true",
    ]);
    expect(ebsEncrypted.check(r("aws:ec2/launchTemplate:LaunchTemplate", "lt", { blockDeviceMappings: [{ ebs: {} }] }))).toEqual([
      "blockDeviceMappings[0].encrypted is unset; set encrypted: true",
    ]);
  });

  it("a device after an entry that is not one (null, a scalar) is named by its index as written", () => {
    const lt = r("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
      blockDeviceMappings: [null, 1, { ebs: { encrypted: false } }],
    });
    expect(ebsEncrypted.check(lt)).toEqual(["blockDeviceMappings[2].encrypted is false; set encrypted: true"]);
  });
});

describe("no-world-open-ingress: aws.ec2.SecurityGroupRule", () => {
  const rule = (type: string) =>
    r("aws:ec2/securityGroupRule:SecurityGroupRule", "rule", {
      type,
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrBlocks: ["0.0.0.0/0"],
      securityGroupId: "sg-1",
    });
  it("an egress rule to the world is not ingress; the same rule as ingress is caught", () => {
    expect(noWorldOpenIngress.check([rule("egress")])).toEqual([]);
    expect(noWorldOpenIngress.check([rule("ingress")]).map((f) => f.message)).toEqual([
      expect.stringMatching(/^port 22 open to 0\.0\.0\.0\/0 \(not on a public load balancer's security group\)/),
    ]);
  });
  it("an ingress rule from known CIDRs only (IPv4 or IPv6) is not world-open", () => {
    const known = {
      ...rule("ingress"),
      props: { ...rule("ingress").props, cidrBlocks: ["10.0.0.0/8"], ipv6CidrBlocks: ["fd00::/8"] },
    };
    expect(noWorldOpenIngress.check([known])).toEqual([]);
    const v6 = { ...rule("ingress"), props: { ...rule("ingress").props, cidrBlocks: undefined, ipv6CidrBlocks: ["::/0"] } };
    expect(noWorldOpenIngress.check([v6]).map((f) => f.message)).toEqual([expect.stringMatching(/^port 22 open to ::\/0 /)]);
  });
  it("another resource type with the same props is not read as a security group rule", () => {
    const other = { ...rule("ingress"), type: "aws:ec2/networkAclRule:NetworkAclRule" };
    expect(noWorldOpenIngress.check([other])).toEqual([]);
    // Only a security group's inline ingress is read; a group without one has nothing open.
    const ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }];
    expect(noWorldOpenIngress.check([r("aws:ec2/networkAcl:NetworkAcl", "acl", { ingress })])).toEqual([]);
    expect(noWorldOpenIngress.check([r("aws:ec2/securityGroup:SecurityGroup", "sg", {})])).toEqual([]);
    expect(noWorldOpenIngress.check([r("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress })])).toHaveLength(1);
    const known = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"], ipv6CidrBlocks: ["fd00::/8"] }];
    expect(noWorldOpenIngress.check([r("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: known })])).toEqual([]);
  });
});

describe("no-world-open-ingress: only a public load balancer's listener port may be open", () => {
  const listener = r("aws:lb/listener:Listener", "https", { protocol: "HTTPS", port: 443 });
  const open = (securityGroupId?: string) =>
    r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in-443", {
      ...(securityGroupId ? { securityGroupId } : {}),
      cidrIpv4: "0.0.0.0/0",
      fromPort: 443,
      toPort: 443,
      ipProtocol: "tcp",
    });
  const lb = (internal: boolean) => r("aws:lb/loadBalancer:LoadBalancer", "alb", { internal, securityGroups: ["sg-alb"] });

  it("a listener port with no load balancer at all is not a public entry point", () => {
    expect(noWorldOpenIngress.check([listener, open()]).map((f) => f.message)).toEqual([
      expect.stringContaining("(no public listener on port 443)"),
    ]);
    expect(noWorldOpenIngress.check([lb(false), listener, open()])).toEqual([]);
  });

  it("only a listener's port is a listener port: a target group's port 8080 is not", () => {
    const targetGroup = r("aws:lb/targetGroup:TargetGroup", "tg", { port: 8080, protocol: "HTTP" });
    const open8080 = { ...open("sg-alb"), props: { ...open("sg-alb").props, fromPort: 8080, toPort: 8080 } };
    expect(noWorldOpenIngress.check([lb(false), listener, targetGroup, open8080]).map((f) => f.message)).toEqual([
      expect.stringContaining("(no public listener on port 8080)"),
    ]);
  });

  it("an internal load balancer's group is not a public one", () => {
    expect(noWorldOpenIngress.check([lb(true), listener, open("sg-alb")]).map((f) => f.message)).toEqual([
      expect.stringContaining("(not on a public load balancer's security group)"),
    ]);
    expect(noWorldOpenIngress.check([lb(false), listener, open("sg-alb")])).toEqual([]);
  });
});

describe("prod-resilience: the value as written", () => {
  it("an unset snapshotRetentionLimit is named unset", () => {
    const group = r("aws:elasticache/replicationGroup:ReplicationGroup", "g", {
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      tags: { environment: "prod" },
    });
    expect(prodResilience.check(group)).toEqual(["prod: snapshotRetentionLimit is unset (no backups)"]);
  });
});

describe("runRules and plannedResources", () => {
  it("a stack-wide finding has no URN and is reported as (stack); a resource's finding names it", () => {
    const resource = r("aws:ec2/vpc:Vpc", "vpc", {});
    const stackWide: StackRule = {
      kind: "stack",
      name: "t",
      description: "",
      enforcementLevel: "advisory",
      check: () => [{ message: "whole stack" }, { resource, message: "one resource" }],
    };
    expect(runRules([resource], [stackWide])).toEqual([
      { rule: "t", enforcementLevel: "advisory", urn: "", resource: "(stack)", message: "whole stack" },
      { rule: "t", enforcementLevel: "advisory", urn: resource.urn, resource: "aws:ec2/vpc:Vpc vpc", message: "one resource" },
    ]);
  });

  it("a plan's inputs become props, unknowns (also in arrays) become UNKNOWN, missing inputs {}", () => {
    const plan = {
      resources: [
        {
          urn: "u1",
          type: "t:a",
          name: "a",
          inputs: { x: { __pulumiUnknown: true }, list: [{ __pulumiUnknown: true }, 1], keep: { y: 2 } },
        },
        { urn: "u2", type: "t:b", name: "b", inputs: undefined },
        { urn: "u3", type: "t:c", name: "c", inputs: { flag: { __pulumiUnknown: false } } },
      ],
    };
    expect(plannedResources(plan)).toEqual([
      { urn: "u1", type: "t:a", name: "a", props: { x: UNKNOWN, list: [UNKNOWN, 1], keep: { y: 2 } } },
      { urn: "u2", type: "t:b", name: "b", props: {} },
      { urn: "u3", type: "t:c", name: "c", props: { flag: { __pulumiUnknown: false } } },
    ]);
  });
});

describe("s3-encrypted: which configuration belongs to which bucket", () => {
  const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
  const bucket = (name: string, props: Record<string, unknown>) => r("aws:s3/bucket:Bucket", name, props);
  const config = (name: string, props: Record<string, unknown>) =>
    r(SSE, name, { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }], ...props });
  const unencrypted = (resources: PlannedResource[]) => s3Encrypted.check(resources).map((f) => f.resource!.name);

  it("a configuration matches its bucket by the bucket's name, its id, or the same resource name; not another bucket's", () => {
    expect(unencrypted([bucket("logs", { bucket: "logs-123" }), config("cfg", { bucket: "logs-123" })])).toEqual([]);
    expect(unencrypted([bucket("logs", { id: "logs-id" }), config("cfg", { bucket: "logs-id" })])).toEqual([]);
    expect(unencrypted([bucket("logs", {}), config("logs", {})])).toEqual([]);
    expect(unencrypted([bucket("logs", { bucket: "logs-123" }), config("cfg", { bucket: "other" })])).toEqual(["logs"]);
    // A bucket without a name or id is not matched by a configuration that names nothing.
    expect(unencrypted([bucket("logs", {}), config("cfg", {})])).toEqual(["logs"]);
    expect(unencrypted([bucket("logs", { bucket: 7 }), config("cfg", { bucket: 7 })])).toEqual(["logs"]);
  });

  it("one encrypting rule among others is enough", () => {
    const rules = [
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "none" } },
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ];
    expect(unencrypted([bucket("logs", {}), config("logs", { rules })])).toEqual([]);
  });

  it("a configuration without a known algorithm, or without rules, encrypts nothing; inline configurations count", () => {
    expect(unencrypted([bucket("logs", {}), config("logs", { rules: undefined })])).toEqual(["logs"]);
    expect(
      unencrypted([
        bucket("logs", {}),
        config("logs", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "none" } }] }),
      ]),
    ).toEqual(["logs"]);
    for (const sseAlgorithm of ["AES256", "aws:kms", "aws:kms:dsse"])
      expect(
        unencrypted([
          bucket("logs", {
            serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm } } },
          }),
        ]),
      ).toEqual([]);
    expect(unencrypted([bucket("logs", { serverSideEncryptionConfiguration: { rule: {} } })])).toEqual(["logs"]);
  });
});

describe("no-world-open-ingress: a listener's default port", () => {
  const lb = r("aws:lb/loadBalancer:LoadBalancer", "alb", { securityGroups: ["sg-alb"] });
  const open = (port: number) =>
    r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", `in-${port}`, {
      securityGroupId: "sg-alb",
      cidrIpv4: "0.0.0.0/0",
      fromPort: port,
      toPort: port,
      ipProtocol: "tcp",
    });
  it("a group unknown during preview is judged by the port alone; a port range is never a listener's port", () => {
    const listener = r("aws:lb/listener:Listener", "l", { protocol: "HTTPS", port: 443 });
    const unknownGroup = { ...open(443), props: { ...open(443).props, securityGroupId: UNKNOWN } };
    expect(noWorldOpenIngress.check([lb, listener, unknownGroup])).toEqual([]);
    const range = { ...open(443), props: { ...open(443).props, toPort: 444 } };
    expect(noWorldOpenIngress.check([lb, listener, range]).map((f) => f.message)).toEqual([
      expect.stringContaining("(no public listener on ports 443-444)"),
    ]);
  });

  it("an HTTPS listener without a port listens on 443, any other on 80", () => {
    const https = r("aws:lb/listener:Listener", "l", { protocol: "HTTPS" });
    const http = r("aws:lb/listener:Listener", "l", { protocol: "HTTP" });
    expect(noWorldOpenIngress.check([lb, https, open(443)])).toEqual([]);
    expect(noWorldOpenIngress.check([lb, https, open(80)])).toHaveLength(1);
    expect(noWorldOpenIngress.check([lb, http, open(80)])).toEqual([]);
    expect(noWorldOpenIngress.check([lb, http, open(443)])).toHaveLength(1);
    expect(
      noWorldOpenIngress.check([lb, r("aws:lb/listener:Listener", "l", { protocol: "HTTPS", port: 8443 }), open(8443)]),
    ).toEqual([]);
  });
});

describe("alb-listener-tls: a redirect counts only to HTTPS", () => {
  it("plain HTTP redirecting to HTTP still serves plain HTTP", () => {
    const listener = (protocol: string) =>
      r("aws:lb/listener:Listener", "http", {
        protocol: "HTTP",
        port: 80,
        defaultActions: [{ type: "redirect", redirect: { protocol } }],
      });
    expect(RULES.find((x) => x.name === "alb-listener-tls")!.kind).toBe("resource");
    const rule = RULES.find((x) => x.name === "alb-listener-tls") as ResourceRule;
    expect(rule.check(listener("HTTPS"))).toEqual([]);
    expect(rule.check(listener("HTTP"))).toHaveLength(1);
    // Only a redirect action redirects: a forward action with a stray redirect block forwards plain HTTP.
    const forward = r("aws:lb/listener:Listener", "http", {
      protocol: "HTTP",
      defaultActions: [{ type: "forward", redirect: { protocol: "HTTPS" } }],
    });
    expect(rule.check(forward)).toHaveLength(1);
  });
});

describe("isKind: the whole token", () => {
  it("a provider whose name only ends in kubernetes is not Kubernetes", () => {
    const of = (type: string) => isKind({ type }, "apps:Deployment");
    expect(of("kubernetes:apps/v1:Deployment")).toBe(true);
    expect(of("my-kubernetes:apps/v1:Deployment")).toBe(false);
  });
});
