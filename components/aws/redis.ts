import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ComponentArgsError } from "../../profile/errors";
import { familyScopedName } from "../../profile/naming";
import { mergeTags } from "../../profile/tags";
import { MAXMEMORY_POLICIES, type MaxmemoryPolicy } from "../../profile/schema";

export type CacheEngine = "redis" | "valkey";

/** ElastiCache parameter group family: redis 7.1 -> "redis7", redis 6.2 -> "redis6.x", valkey 8.0 -> "valkey8". */
export function cacheParameterFamily(engine: CacheEngine, engineVersion: string): string {
  const major = Number(/^(\d+)(\.(\d+|x))?$/.exec(engineVersion)?.[1]);
  const supported = engine === "valkey" ? major >= 7 : major >= 6;
  if (!supported) {
    throw new ComponentArgsError(
      "RedisArgs.engineVersion",
      `"${engineVersion}" is not a supported ${engine} version (${engine === "valkey" ? "7.2 or 8.x" : "6.x or 7.x"})`,
    );
  }
  return engine === "redis" && major === 6 ? "redis6.x" : `${engine}${major}`;
}

export interface ReplicationPlan {
  numCacheClusters: number;
  automaticFailoverEnabled: boolean;
  multiAzEnabled: boolean;
}

/**
 * Primary + `replicas` nodes. Multi-AZ means automatic failover to a replica in another AZ, so
 * it is meaningless (and rejected by AWS) without at least one replica: fail early, naming both args.
 */
export function replicationPlan(replicas: number, multiAz: boolean): ReplicationPlan {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) {
    throw new ComponentArgsError("RedisArgs.replicas", `${replicas} must be an integer from 0 to 5`);
  }
  if (multiAz && replicas < 1) {
    throw new ComponentArgsError(
      "RedisArgs.replicas",
      "multiAz=true needs at least 1 replica to fail over to (replicas=0); set replicas >= 1 or multiAz=false",
    );
  }
  return { numCacheClusters: 1 + replicas, automaticFailoverEnabled: multiAz, multiAzEnabled: multiAz };
}

/** ElastiCache AUTH tokens: 16..128 printable ASCII characters without space, `"`, `/` or `@`. */
export function validAuthToken(token: string): boolean {
  return /^[\x21-\x7e]{16,128}$/.test(token) && !/["/@]/.test(token);
}

export interface RedisArgs {
  /** Private subnets for the cache subnet group (Network.privateSubnetIds). Required. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security group that admits the Redis port from the nodes only (SecurityGroups.redisSecurityGroupId). Required. */
  securityGroupId: pulumi.Input<string>;
  /**
   * "redis" (Redis OSS) or "valkey" (its open-source fork, about 20 % cheaper on ElastiCache and
   * wire-compatible with ioredis). The profile pins Redis OSS 7.1 today.
   * @default "redis"
   */
  engine?: CacheEngine;
  /**
   * Engine version; its major picks the parameter group family.
   * @default "7.1"
   */
  engineVersion?: string;
  /**
   * Node type.
   * @default "cache.t4g.micro"
   */
  nodeType?: string;
  /**
   * Read replicas besides the primary (0..5).
   * @default 0
   */
  replicas?: number;
  /**
   * Spread nodes over AZs with automatic failover. Needs replicas >= 1.
   * @default false
   */
  multiAz?: boolean;
  /**
   * Eviction policy. A cache needs allkeys-lru or allkeys-lfu (the lead's checks enforce it).
   * @default "allkeys-lru"
   */
  maxmemoryPolicy?: MaxmemoryPolicy;
  /**
   * Deliver the slow log to CloudWatch Logs (JSON).
   * @default false
   */
  slowLogs?: boolean;
  /**
   * Slow log retention, days.
   * @default 30
   */
  slowLogRetentionDays?: number;
  /**
   * AUTH token (a Pulumi secret). When omitted, a @pulumi/random password is generated once
   * and kept in state, so later deployments reuse it instead of rotating it.
   * @default undefined (generated)
   */
  authToken?: pulumi.Input<string>;
  /**
   * Daily snapshots kept, days (0 = none; a cache can be rebuilt).
   * @default 0
   */
  snapshotRetentionDays?: number;
  /**
   * KMS key for at-rest encryption.
   * @default undefined (AWS-managed key)
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * Prefix of the physical names AWS wants unique per account and region (parameter group, log
   * group): pass the stack scope (stack-names.ts) so a second stack never collides.
   * @default the component name
   */
  physicalName?: string;
  /**
   * KMS key for the slow log group (a customer-managed key; prod).
   * @default undefined (CloudWatch Logs' own encryption)
   */
  logKmsKeyArn?: pulumi.Input<string>;
  /**
   * Port.
   * @default 6379
   */
  port?: number;
  /**
   * Apply modifications now instead of in the next maintenance window.
   * @default false
   */
  applyImmediately?: boolean;
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/** An ElastiCache replication group, encrypted at rest and in transit, with AUTH, in private subnets. */
export class Redis extends pulumi.ComponentResource {
  public readonly primaryEndpoint: pulumi.Output<string>;
  public readonly readerEndpoint: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** Secret. */
  public readonly authToken: pulumi.Output<string>;
  public readonly engine: CacheEngine;
  public readonly parameterGroupName: pulumi.Output<string>;
  public readonly maxmemoryPolicy: MaxmemoryPolicy;

  constructor(name: string, args: RedisArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:Redis", name, {}, opts);
    const tags = mergeTags(args.tags);
    const engine = args.engine ?? "redis";
    const engineVersion = args.engineVersion ?? "7.1";
    const family = cacheParameterFamily(engine, engineVersion);
    const plan = replicationPlan(args.replicas ?? 0, args.multiAz ?? false);
    const maxmemoryPolicy = args.maxmemoryPolicy ?? "allkeys-lru";
    if (!(MAXMEMORY_POLICIES as readonly string[]).includes(maxmemoryPolicy)) {
      throw new ComponentArgsError(
        "RedisArgs.maxmemoryPolicy",
        `"${maxmemoryPolicy}" is not a Redis policy (${MAXMEMORY_POLICIES.join(", ")})`,
      );
    }
    if (typeof args.authToken === "string" && !validAuthToken(args.authToken)) {
      throw new ComponentArgsError("RedisArgs.authToken", 'must be 16..128 printable characters without spaces, ", / or @');
    }
    const parent = { parent: this };
    const physicalName = args.physicalName ?? name;

    // A generated token lives in Pulumi state (as a secret), so it is stable across runs.
    const authToken = pulumi.secret(
      args.authToken !== undefined
        ? pulumi.output(args.authToken)
        : new random.RandomPassword(`${name}-auth`, { length: 64, special: false }, parent).result,
    );

    const subnetGroup = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: `${name}: private subnets only`, tags },
      parent,
    );
    // Family in the physical name: see profile/naming.ts (a family change replaces the group without a name clash).
    const parameterGroup = new aws.elasticache.ParameterGroup(
      `${name}-params`,
      {
        name: familyScopedName(physicalName, family),
        family,
        description: `${name} ${family}: maxmemory-policy ${maxmemoryPolicy}`,
        parameters: [{ name: "maxmemory-policy", value: maxmemoryPolicy }],
        tags,
      },
      parent,
    );

    const slowLog = args.slowLogs
      ? new aws.cloudwatch.LogGroup(
          `${name}-slow-log`,
          {
            name: `/uaip/${physicalName}/redis-slow-log`,
            retentionInDays: args.slowLogRetentionDays ?? 30,
            ...(args.logKmsKeyArn ? { kmsKeyId: args.logKmsKeyArn } : {}),
            tags,
          },
          parent,
        )
      : undefined;

    const group = new aws.elasticache.ReplicationGroup(
      `${name}-group`,
      {
        description: `${name} cache (${engine} ${engineVersion})`,
        engine,
        engineVersion,
        nodeType: args.nodeType ?? "cache.t4g.micro",
        port: args.port ?? 6379,
        numCacheClusters: plan.numCacheClusters,
        automaticFailoverEnabled: plan.automaticFailoverEnabled,
        multiAzEnabled: plan.multiAzEnabled,
        atRestEncryptionEnabled: true,
        ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken,
        parameterGroupName: parameterGroup.name,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [args.securityGroupId],
        snapshotRetentionLimit: args.snapshotRetentionDays ?? 0,
        autoMinorVersionUpgrade: true,
        applyImmediately: args.applyImmediately ?? false,
        logDeliveryConfigurations: slowLog
          ? [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }]
          : [],
        tags,
      },
      parent,
    );

    this.primaryEndpoint = group.primaryEndpointAddress;
    this.readerEndpoint = group.readerEndpointAddress;
    this.port = group.port.apply((p) => p ?? args.port ?? 6379);
    this.authToken = authToken;
    this.engine = engine;
    this.parameterGroupName = parameterGroup.name;
    this.maxmemoryPolicy = maxmemoryPolicy;
    this.registerOutputs({
      primaryEndpoint: this.primaryEndpoint,
      readerEndpoint: this.readerEndpoint,
      port: this.port,
      authToken: this.authToken,
      parameterGroupName: this.parameterGroupName,
    });
  }
}
