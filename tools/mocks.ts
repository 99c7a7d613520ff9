import * as pulumi from "@pulumi/pulumi";
import { unknownValue as WIRE_UNKNOWN } from "@pulumi/pulumi/runtime/rpc";
import { SECRET_PLACEHOLDER } from "./stack-file";
import { StackError } from "../profile/errors";

/**
 * Cloud stand-ins for the offline plan and the component tests. Only the cloud is mocked:
 * every resource is recorded with its real inputs, and the outputs a real provider would
 * compute (ARNs, endpoints, DNS names) get plausible, deterministic values.
 */

export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";
/**
 * us-east-1 as an account sees it, including what a stack must not use: a Local Zone (opt-in
 * required) and use1-az3, where EKS refuses control-plane subnets. getAvailabilityZones applies
 * the call's own filters to this list, as AWS does.
 */
export const REGION_ZONES = [
  { name: "us-east-1a", zoneId: "use1-az1", optInStatus: "opt-in-not-required", zoneType: "availability-zone" },
  { name: "us-east-1b", zoneId: "use1-az2", optInStatus: "opt-in-not-required", zoneType: "availability-zone" },
  { name: "us-east-1-bos-1a", zoneId: "use1-bos1-az1", optInStatus: "opted-in", zoneType: "local-zone" },
  { name: "us-east-1c", zoneId: "use1-az3", optInStatus: "opt-in-not-required", zoneType: "availability-zone" },
  { name: "us-east-1d", zoneId: "use1-az4", optInStatus: "opt-in-not-required", zoneType: "availability-zone" },
  { name: "us-east-1e", zoneId: "use1-az6", optInStatus: "opt-in-not-required", zoneType: "availability-zone" },
];
/** The zones a correctly filtered query returns. */
export const AVAILABILITY_ZONES = ["us-east-1a", "us-east-1b", "us-east-1d", "us-east-1e"];

type Zone = (typeof REGION_ZONES)[number];
const az = (region: string, letter: string, zoneId: string): Zone => ({
  name: `${region}${letter}`,
  zoneId,
  optInStatus: "opt-in-not-required",
  zoneType: "availability-zone",
});
/**
 * The zones of each Region the plan can run in, as an account sees them: us-east-1 (above), a
 * three-AZ Region (eu-west-1) and us-west-1, where an account sees two AZs. A stack in another
 * Region stops at getAvailabilityZones, naming this table.
 */
export const ZONES_BY_REGION: Readonly<Record<string, readonly Zone[]>> = {
  "us-east-1": REGION_ZONES,
  "eu-west-1": [az("eu-west-1", "a", "euw1-az3"), az("eu-west-1", "b", "euw1-az1"), az("eu-west-1", "c", "euw1-az2")],
  "us-west-1": [az("us-west-1", "a", "usw1-az3"), az("us-west-1", "c", "usw1-az1")],
};

/** getAvailabilityZones: `excludeZoneIds`, `excludeNames` and the `opt-in-status`/`zone-type` filters, like EC2. */
function availabilityZones(inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  const regionZones = ZONES_BY_REGION[region];
  if (!regionZones)
    throw new StackError(
      "UAIP_PLAN_NO_MOCK",
      `offline plan: no availability zones mocked for region ${region}; add them to ZONES_BY_REGION in tools/mocks.ts`,
    );
  const filters = (inputs.filters ?? []) as { name: string; values: string[] }[];
  const field: Record<string, keyof (typeof REGION_ZONES)[number]> = {
    "opt-in-status": "optInStatus",
    "zone-type": "zoneType",
    "zone-name": "name",
    "zone-id": "zoneId",
  };
  const zones = regionZones.filter(
    (z) =>
      !((inputs.excludeZoneIds ?? []) as string[]).includes(z.zoneId) &&
      !((inputs.excludeNames ?? []) as string[]).includes(z.name) &&
      filters.every((f) => {
        if (!field[f.name])
          throw new StackError(
            "UAIP_PLAN_NO_MOCK",
            `offline plan: getAvailabilityZones filter "${f.name}" is not mocked; add it to tools/mocks.ts`,
          );
        return f.values.includes(z[field[f.name]!]);
      }),
  );
  return { names: zones.map((z) => z.name), zoneIds: zones.map((z) => z.zoneId), state: "available" };
}

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent resource, or "" for the stack itself. */
  parent: string;
  custom: boolean;
  inputs: Record<string, unknown>;
  /**
   * The inputs as the SDK sent them, before the mock monitor pushed nested secretness up to the
   * top-level property: a Helm release's values keep their non-secret fields visible here.
   */
  wireInputs?: Record<string, unknown>;
  /** URNs this resource waits for: explicit `dependsOn` (components expanded) and the resources its inputs come from. */
  dependsOn: string[];
  /** Resource options that decide what `pulumi destroy` does to it: refuses (protect) or leaves it in the cloud (retainOnDelete). */
  protect?: boolean;
  retainOnDelete?: boolean;
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True for a value Pulumi marked secret (as the mock monitor sees it). */
export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Replaces every secret in a value by the marker SECRET_PLACEHOLDER ("[secret]"), recursively. */
export function redactSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return SECRET_PLACEHOLDER;
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}

/**
 * How the plan JSON records a value not known until the cloud creates it (an ECR repository
 * URL, a pulled image's id): the form the policy pack reads as unknown (policy/rules/index.ts).
 */
export const PLAN_UNKNOWN = { __pulumiUnknown: true } as const;

/** Wire inputs carry unknowns as the SDK's sentinel string; a policy would read it as a value (an image "without a tag"). */
export function markWireUnknowns(value: unknown): unknown {
  if (value === WIRE_UNKNOWN) return { ...PLAN_UNKNOWN };
  if (Array.isArray(value)) return value.map(markWireUnknowns);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markWireUnknowns(v)]));
  return value;
}

/** Removes the secret wrappers, keeping the values: for assertions in tests only. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

function arn(service: string, resource: string, region: string): string {
  return `arn:aws:${service}:${region}:${ACCOUNT_ID}:${resource}`;
}

/** Outputs the real provider computes, keyed by resource type. */
function computedOutputs(type: string, name: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  const REGION = region;
  const service = type.split(":")[1]?.split("/")[0] ?? "unknown";
  const base: Record<string, unknown> = type.startsWith("aws:") ? { arn: arn(service, name, region) } : {};
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        ...base,
        dnsName: `${name}-1234567890.${REGION}.elb.amazonaws.com`,
        zoneId: "Z35SXDOTRQ7X7K",
        arnSuffix: `app/${name}/50dc6c495c0c9188`,
      };
    case "aws:lb/targetGroup:TargetGroup":
      return { ...base, arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067` };
    case "aws:cloudfront/distribution:Distribution":
      return { ...base, domainName: "d111111abcdef8.cloudfront.net", hostedZoneId: "Z2FDTNDATAQYW2" };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return {
        ...base,
        primaryEndpointAddress: `master.${name}.abc123.use1.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${name}.abc123.use1.cache.amazonaws.com`,
        // Cluster mode (numNodeGroups): clients discover the shards from the configuration endpoint.
        ...(inputs.numNodeGroups !== undefined
          ? { configurationEndpointAddress: `clustercfg.${name}.abc123.use1.cache.amazonaws.com` }
          : {}),
        port: inputs.port ?? 6379,
      };
    case "aws:elasticache/serverlessCache:ServerlessCache":
      return {
        ...base,
        endpoints: [{ address: `${inputs.name ?? name}-abc123.serverless.use1.cache.amazonaws.com`, port: 6379 }],
        readerEndpoints: [{ address: `${inputs.name ?? name}-abc123.serverless.use1.cache.amazonaws.com`, port: 6380 }],
      };
    case "aws:elasticache/user:User":
      return { ...base, userId: inputs.userId };
    case "aws:elasticache/userGroup:UserGroup":
      return { ...base, userGroupId: inputs.userGroupId };
    case "aws:rds/proxy:Proxy":
      return { ...base, name: inputs.name ?? name, endpoint: `${inputs.name ?? name}.proxy-abc123.${REGION}.rds.amazonaws.com` };
    case "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
      return { ...base, name: "default" };
    case "aws:secretsmanager/secret:Secret":
      return { ...base, arn: arn("secretsmanager", `secret:${name}-AbCdEf`, region) };
    case "aws:rds/instance:Instance":
      return {
        ...base,
        address: `${name}.abc123.${REGION}.rds.amazonaws.com`,
        endpoint: `${name}.abc123.${REGION}.rds.amazonaws.com:5432`,
        port: inputs.port ?? 5432,
        identifier: inputs.identifier ?? `${name}-db`,
        // RDS-managed master password: the secret RDS creates in Secrets Manager.
        masterUserSecrets: inputs.manageMasterUserPassword
          ? [{ secretArn: arn("secretsmanager", `secret:rds!db-${name}-AbCdEf`, region), secretStatus: "active", kmsKeyId: "" }]
          : [],
      };
    case "aws:eks/cluster:Cluster":
      return {
        ...base,
        endpoint: `https://ABCDEF0123456789.gr7.${REGION}.eks.amazonaws.com`,
        certificateAuthority: { data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${REGION}.amazonaws.com/id/ABCDEF0123456789` }] }],
        // EKS creates the cluster security group itself.
        vpcConfig: { ...(inputs.vpcConfig as Record<string, unknown>), clusterSecurityGroupId: `sg-eks-${name}` },
      };
    case "aws:eks/nodeGroup:NodeGroup":
      return { ...base, resources: [{ autoscalingGroups: [{ name: `eks-${name}-asg` }] }] };
    case "aws:ecr/repository:Repository":
      return { ...base, repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/${name}` };
    case "aws:s3/bucketV2:BucketV2":
    case "aws:s3/bucket:Bucket":
      return { ...base, bucket: inputs.bucket ?? name, bucketDomainName: `${name}.s3.amazonaws.com` };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...base, latestVersion: 1 };
    case "aws:elasticache/parameterGroup:ParameterGroup":
    case "aws:rds/parameterGroup:ParameterGroup":
    case "aws:rds/subnetGroup:SubnetGroup":
    case "aws:elasticache/subnetGroup:SubnetGroup":
      return { ...base, name: inputs.name ?? `${name}-${type.includes("elasticache") ? "cache" : "db"}` };
    case "docker:index/image:Image":
      return {
        repoDigest: `${String(inputs.imageName).split(":").slice(0, -1).join(":")}@sha256:${"0".repeat(64)}`,
        baseImageName: inputs.imageName,
      };
    case "random:index/randomId:RandomId":
      return { hex: "5eed0f1d", b64Url: "Xu0PHQ", b64Std: "Xu0PHQ==", dec: "1592594205" };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-${name}-password` };
    default:
      return base;
  }
}

/** Results of provider functions (invokes), deterministic. Unknown tokens throw. */
function invoke(token: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  const REGION = region;
  switch (token) {
    case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
      return {
        userName: "AWS",
        password: "mock-ecr-token",
        authorizationToken: "QVdTOm1vY2s=",
        proxyEndpoint: `https://${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`,
      };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return availabilityZones(inputs, region);
    case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
      // CloudFront's origin-facing list: about 55 entries, which count as 55 rules of a security group.
      if (inputs.name !== "com.amazonaws.global.cloudfront.origin-facing")
        throw new StackError(
          "UAIP_PLAN_NO_MOCK",
          `offline plan: no mock for prefix list ${JSON.stringify(inputs.name)}; add it to tools/mocks.ts`,
        );
      return {
        id: "pl-3b927c52",
        name: inputs.name,
        addressFamily: "IPv4",
        maxEntries: 55,
        entries: [],
        arn: `arn:aws:ec2:${REGION}:aws:prefix-list/pl-3b927c52`,
        ownerId: "AWS",
        version: 1,
      };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/plan`, userId: "AIDAPLAN" };
    case "aws:index/getRegion:getRegion":
      return { name: REGION, region: REGION, id: REGION };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com" };
    case "aws:elb/getServiceAccount:getServiceAccount":
      return { id: "127311923021", arn: "arn:aws:iam::127311923021:root" };
    case "aws:iam/getPolicyDocument:getPolicyDocument":
      return { json: JSON.stringify({ Version: "2012-10-17", Statement: inputs.statements ?? [] }) };
    case "aws:cloudfront/getCachePolicy:getCachePolicy":
    case "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy":
      return { id: `managed-${String(inputs.name)}` };
    default:
      throw new StackError("UAIP_PLAN_NO_MOCK", `offline plan: no mock for provider call "${token}"; add it to tools/mocks.ts`);
  }
}

interface PendingRegistration {
  parent: string;
  dependsOn: string[];
  wireInputs?: Record<string, unknown>;
  protect?: boolean;
  retainOnDelete?: boolean;
}

export class PlatformMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  /** The stack's `aws:region`: ARNs, endpoints, zones and getRegion answer for it. */
  constructor(readonly region: string = REGION) {}
  readonly #pending = new Map<string, PendingRegistration>();

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
    const pending = this.#pending.get(`${args.type}::${args.name}`);
    this.resources.push({
      urn: "", // filled in by the monitor hook, which knows the parent
      type: args.type,
      name: args.name,
      parent: pending?.parent ?? "",
      custom: args.custom ?? true,
      inputs: args.inputs,
      wireInputs: pending?.wireInputs,
      dependsOn: pending?.dependsOn ?? [],
      ...(pending?.protect ? { protect: true } : {}),
      ...(pending?.retainOnDelete ? { retainOnDelete: true } : {}),
    });
    const id = args.custom === false ? undefined : args.id || `${args.name}-id`;
    return { id, state: { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs, this.region) } };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    return invoke(args.token, args.inputs, this.region);
  }

  /** Called by the monitor hook before newResource, so the record can carry its parent, dependencies and wire inputs. */
  notePending(
    type: string,
    name: string,
    parent: string,
    dependsOn: string[] = [],
    wireInputs?: Record<string, unknown>,
    options: { protect?: boolean; retainOnDelete?: boolean } = {},
  ): void {
    this.#pending.set(`${type}::${name}`, { parent, dependsOn, wireInputs, ...options });
  }
}

interface RegisterRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/**
 * Installs the mocks and hooks the mock monitor so that each recorded resource carries its URN
 * and parent, as `pulumi preview` shows them.
 */
export function installMocks(project: string, stack: string, region: string = REGION): PlatformMocks {
  const mocks = new PlatformMocks(region);
  pulumi.runtime.setMocks(mocks, project, stack, true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, callback: (err: unknown, res: { getUrn(): string } | undefined) => void) => {
    const wire = req.getObject()?.toJavaScript();
    mocks.notePending(
      req.getType(),
      req.getName(),
      req.getParent(),
      req.getDependenciesList(),
      wire && (markWireUnknowns(wire) as Record<string, unknown>),
      { protect: req.getProtect() ?? false, retainOnDelete: req.getRetainondelete() ?? false },
    );
    return register(req, (err: unknown, res: { getUrn(): string } | undefined) => {
      const record = [...mocks.resources].reverse().find((r) => r.type === req.getType() && r.name === req.getName());
      if (record && res) record.urn = res.getUrn();
      callback(err, res);
    });
  };
  return mocks;
}
