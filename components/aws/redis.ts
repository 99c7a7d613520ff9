import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ComponentArgsError } from "../../profile/errors";
import { familyScopedName } from "../../profile/naming";
import { mergeTags } from "../../profile/tags";
import { ELASTICACHE_MAX_SHARDS, MAXMEMORY_POLICIES, type CacheEngine, type MaxmemoryPolicy } from "../../profile/schema";

export type { CacheEngine };

/**
 * ElastiCache's topology limits (vendor/aws/elasticache/limits.md): replicas per primary or shard 0..5;
 * cluster mode 1..500 shards and at most 500 nodes per cluster (Redis OSS 5.0.6+, Valkey; the
 * account's default quota is 90 nodes per cluster, raised through Service Quotas).
 */
export const ELASTICACHE_MAX_REPLICAS = 5;
export const ELASTICACHE_MAX_NODES_PER_CLUSTER = 500;
export const ELASTICACHE_DEFAULT_NODES_QUOTA = 90;
/** ElastiCache Serverless CacheUsageLimits ranges. */
export const SERVERLESS_LIMITS = {
  dataStorageGb: { min: 1, max: 5_000 },
  ecpuPerSecond: { min: 1_000, max: 15_000_000 },
} as const;

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

export interface ClusterModePlan {
  numNodeGroups: number;
  replicasPerNodeGroup: number;
  /** Always true: ElastiCache requires automatic failover for cluster mode enabled groups. */
  automaticFailoverEnabled: true;
  multiAzEnabled: boolean;
  /** shards × (1 + replicas): what counts against the nodes-per-cluster quota. */
  nodes: number;
}

/**
 * Cluster mode: `shards` primaries (1..500), each with `replicasPerShard` replicas (0..5), at most
 * 500 nodes in all; multi-AZ needs a replica per shard to fail over to.
 */
export function clusterModePlan(shards: number, replicasPerShard: number, multiAz: boolean): ClusterModePlan {
  if (!Number.isInteger(shards) || shards < 1 || shards > ELASTICACHE_MAX_SHARDS)
    throw new ComponentArgsError(
      "RedisArgs.shards",
      `${shards} must be an integer from 1 to ${ELASTICACHE_MAX_SHARDS} (ElastiCache's NumNodeGroups)`,
    );
  if (!Number.isInteger(replicasPerShard) || replicasPerShard < 0 || replicasPerShard > ELASTICACHE_MAX_REPLICAS)
    throw new ComponentArgsError(
      "RedisArgs.replicasPerShard",
      `${replicasPerShard} must be an integer from 0 to ${ELASTICACHE_MAX_REPLICAS} (ElastiCache's ReplicasPerNodeGroup)`,
    );
  const nodes = shards * (1 + replicasPerShard);
  if (nodes > ELASTICACHE_MAX_NODES_PER_CLUSTER)
    throw new ComponentArgsError(
      "RedisArgs.shards",
      `shards ${shards} × (1 + replicasPerShard ${replicasPerShard}) = ${nodes} nodes exceeds ElastiCache's ${ELASTICACHE_MAX_NODES_PER_CLUSTER} nodes per cluster; lower shards or replicasPerShard, or use a larger nodeType`,
    );
  if (multiAz && replicasPerShard < 1)
    throw new ComponentArgsError(
      "RedisArgs.replicasPerShard",
      "multiAz=true needs at least 1 replica per shard to fail over to (replicasPerShard=0); set replicasPerShard >= 1 or multiAz=false",
    );
  return {
    numNodeGroups: shards,
    replicasPerNodeGroup: replicasPerShard,
    automaticFailoverEnabled: true,
    multiAzEnabled: multiAz,
    nodes,
  };
}

/** ElastiCache Serverless usage limits, each `{ minimum?, maximum }`. */
export interface ServerlessLimits {
  dataStorageGb: { minimum?: number; maximum: number };
  ecpuPerSecond: { minimum?: number; maximum: number };
}

/**
 * ElastiCache Serverless: its major engine version (Redis OSS 7, Valkey 7 or 8) and its usage limits
 * within AWS's ranges (data storage 1..5,000 GB, 1,000..15,000,000 ECPU/s, minimum <= maximum).
 */
export function serverlessPlan(
  engine: CacheEngine,
  engineVersion: string,
  limits: ServerlessLimits,
): { majorEngineVersion: string } {
  const major = Number(/^(\d+)\./.exec(engineVersion)?.[1]);
  const majors = engine === "valkey" ? [7, 8] : [7];
  if (!majors.includes(major))
    throw new ComponentArgsError(
      "RedisArgs.engineVersion",
      `"${engineVersion}": ElastiCache Serverless runs ${engine} ${majors.join(" or ")} only; use ${engine === "valkey" ? '"8.0"' : '"7.1"'}`,
    );
  for (const key of ["dataStorageGb", "ecpuPerSecond"] as const) {
    const { min, max } = SERVERLESS_LIMITS[key];
    const { minimum, maximum } = limits[key];
    for (const [which, value] of [
      ["maximum", maximum],
      ["minimum", minimum],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
        throw new ComponentArgsError(`RedisArgs.serverless.${key}.${which}`, `${value} must be an integer from ${min} to ${max}`);
    }
    if (minimum !== undefined && minimum > maximum)
      throw new ComponentArgsError(`RedisArgs.serverless.${key}.minimum`, `${minimum} exceeds the maximum ${maximum}; lower it`);
  }
  return { majorEngineVersion: String(major) };
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
   * "replicated": one primary and `replicas`. "cluster": cluster mode, `shards` primaries with
   * `replicasPerShard` replicas each, the parameter group with `cluster-enabled yes`.
   * @default "replicated"
   */
  mode?: "replicated" | "cluster";
  /**
   * Cluster mode: shards (node groups), 1..500.
   * @default 3
   */
  shards?: number;
  /**
   * Cluster mode: replicas per shard, 0..5.
   * @default `replicas`
   */
  replicasPerShard?: number;
  /**
   * ElastiCache Serverless with these usage limits instead of nodes (always cluster mode; nodeType,
   * replicas, shards, multiAz and the parameter group do not apply; AUTH through a user group whose
   * `default` user has the token).
   * @default undefined (nodes)
   */
  serverless?: ServerlessLimits;
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

/**
 * ElastiCache for the services' cache: a replication group (one primary and replicas, or cluster mode
 * with shards) or a serverless cache; encrypted at rest and in transit, with AUTH, in private subnets.
 */
export class Redis extends pulumi.ComponentResource {
  /** Where clients connect: the primary, cluster mode's configuration endpoint, or the serverless endpoint. */
  public readonly primaryEndpoint: pulumi.Output<string>;
  public readonly readerEndpoint: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** Secret. */
  public readonly authToken: pulumi.Output<string>;
  public readonly engine: CacheEngine;
  /** "" for a serverless cache (it has none). */
  public readonly parameterGroupName: pulumi.Output<string>;
  public readonly maxmemoryPolicy: MaxmemoryPolicy;
  /** How the runtime must connect (UAIP_REDIS_MODE): cluster mode and serverless speak the cluster protocol. */
  public readonly clientMode: "standalone" | "cluster";

  constructor(name: string, args: RedisArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:Redis", name, {}, opts);
    const tags = mergeTags(args.tags);
    const engine = args.engine ?? "redis";
    const engineVersion = args.engineVersion ?? "7.1";
    const family = cacheParameterFamily(engine, engineVersion);
    const mode = args.mode ?? "replicated";
    const serverless = args.serverless ? serverlessPlan(engine, engineVersion, args.serverless) : undefined;
    const topology =
      mode === "cluster"
        ? clusterModePlan(args.shards ?? 3, args.replicasPerShard ?? args.replicas ?? 0, args.multiAz ?? false)
        : replicationPlan(args.replicas ?? 0, args.multiAz ?? false);
    if (serverless && mode !== "cluster")
      throw new ComponentArgsError("RedisArgs.mode", 'a serverless cache always runs in cluster mode; set mode "cluster"');
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
    this.authToken = authToken;
    this.engine = engine;
    this.maxmemoryPolicy = maxmemoryPolicy;
    this.clientMode = mode === "cluster" ? "cluster" : "standalone";

    if (serverless) {
      const cache = this.#serverless(name, physicalName, args, engine, serverless.majorEngineVersion, authToken, tags);
      this.primaryEndpoint = cache.endpoints.apply((e) => e[0]?.address ?? "");
      this.readerEndpoint = cache.readerEndpoints.apply((e) => e[0]?.address ?? "");
      this.port = cache.endpoints.apply((e) => e[0]?.port ?? args.port ?? 6379);
      this.parameterGroupName = pulumi.output("");
    } else {
      const subnetGroup = new aws.elasticache.SubnetGroup(
        `${name}-subnets`,
        { subnetIds: args.subnetIds, description: `${name}: private subnets only`, tags },
        parent,
      );
      // Family in the physical name: see profile/naming.ts (a family change replaces the group without a name clash).
      // Cluster mode needs `cluster-enabled yes` in the group (what default.<family>.cluster.on sets).
      const parameterGroup = new aws.elasticache.ParameterGroup(
        `${name}-params`,
        {
          name: familyScopedName(mode === "cluster" ? `${physicalName}-cluster` : physicalName, family),
          family,
          description: `${name} ${family}: maxmemory-policy ${maxmemoryPolicy}${mode === "cluster" ? ", cluster mode" : ""}`,
          parameters: [
            { name: "maxmemory-policy", value: maxmemoryPolicy },
            ...(mode === "cluster" ? [{ name: "cluster-enabled", value: "yes" }] : []),
          ],
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

      const nodes =
        "numNodeGroups" in topology
          ? { numNodeGroups: topology.numNodeGroups, replicasPerNodeGroup: topology.replicasPerNodeGroup }
          : { numCacheClusters: topology.numCacheClusters };
      const group = new aws.elasticache.ReplicationGroup(
        `${name}-group`,
        {
          description: `${name} cache (${engine} ${engineVersion}${mode === "cluster" ? ", cluster mode" : ""})`,
          engine,
          engineVersion,
          nodeType: args.nodeType ?? "cache.t4g.micro",
          port: args.port ?? 6379,
          ...nodes,
          automaticFailoverEnabled: topology.automaticFailoverEnabled,
          multiAzEnabled: topology.multiAzEnabled,
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
      // Cluster mode has no primary endpoint: clients discover the shards from the configuration endpoint.
      this.primaryEndpoint = mode === "cluster" ? group.configurationEndpointAddress : group.primaryEndpointAddress;
      this.readerEndpoint = mode === "cluster" ? group.configurationEndpointAddress : group.readerEndpointAddress;
      this.port = group.port.apply((p) => p ?? args.port ?? 6379);
      this.parameterGroupName = parameterGroup.name;
    }
    this.registerOutputs({
      primaryEndpoint: this.primaryEndpoint,
      readerEndpoint: this.readerEndpoint,
      port: this.port,
      authToken: this.authToken,
      parameterGroupName: this.parameterGroupName,
      clientMode: this.clientMode,
    });
  }

  /**
   * A serverless cache. It has no AUTH token of its own: access goes through a user group, whose
   * `default` user (the one a password-only AUTH logs in as, as ioredis sends it) has the token, with
   * no dangerous commands (FLUSHALL, KEYS, CONFIG, ...).
   */
  #serverless(
    name: string,
    physicalName: string,
    args: RedisArgs,
    engine: CacheEngine,
    majorEngineVersion: string,
    authToken: pulumi.Output<string>,
    tags: Record<string, string>,
  ): aws.elasticache.ServerlessCache {
    const parent = { parent: this };
    // ElastiCache RBAC: user and user group ids are per account and region, so they carry the stack scope.
    const user = new aws.elasticache.User(
      `${name}-default-user`,
      {
        userId: `${physicalName}-default`,
        userName: "default",
        engine,
        accessString: "on ~* &* +@all -@dangerous",
        authenticationMode: { type: "password", passwords: [authToken] },
        tags,
      },
      parent,
    );
    const userGroup = new aws.elasticache.UserGroup(
      `${name}-users`,
      { userGroupId: `${physicalName}-users`, engine, userIds: [user.userId], tags },
      parent,
    );
    const limits = args.serverless!;
    return new aws.elasticache.ServerlessCache(
      `${name}-serverless`,
      {
        name: physicalName,
        description: `${name} serverless cache (${engine} ${majorEngineVersion})`,
        engine,
        majorEngineVersion,
        cacheUsageLimits: {
          dataStorage: { unit: "GB", maximum: limits.dataStorageGb.maximum, minimum: limits.dataStorageGb.minimum },
          ecpuPerSeconds: [{ maximum: limits.ecpuPerSecond.maximum, minimum: limits.ecpuPerSecond.minimum }],
        },
        // In-transit encryption is always on for serverless; at rest with the given key, else AWS's.
        ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
        securityGroupIds: [args.securityGroupId],
        subnetIds: args.subnetIds,
        snapshotRetentionLimit: args.snapshotRetentionDays ?? 0,
        userGroupId: userGroup.userGroupId,
        tags,
      },
      parent,
    );
  }
}
