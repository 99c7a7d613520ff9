import { z } from "zod";
import { durationMs, MAX_TIMER_MS, runtimeSettingsSchema } from "@uaip/runtime/config";
import { IAM_ROLE_ARN_SHAPE } from "./aws-identifiers";
import { DB_INSTANCE_CLASSES } from "./instance-classes";
import { cpuToCores, memoryToMiB } from "./quantity";
import { DNS_1123_LABEL } from "./naming";
import { ciDeploysSchema } from "./ci-deploys-schema";

/**
 * The performance profile: one typed configuration per stack, shared by the infrastructure
 * and (through `runtime`) by the services. Defaults per environment live in presets.ts; this
 * schema says what is allowed. Sizes: MiB/GiB as named, times: seconds unless the name says ms.
 */

const int = (min = 0) => z.number().int().min(min);
const memoryQuantity = z
  .string()
  .refine((q) => memoryToMiB(q) !== undefined, { message: 'expected a memory quantity like "512Mi" or "1Gi"' });
const cpuQuantity = z
  .string()
  .refine((q) => cpuToCores(q) !== undefined, { message: 'expected a CPU quantity like "250m" or "1"' });

/** Database and master user names: lowercase (PostgreSQL folds unquoted names), a letter first as RDS requires. */
const RDS_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const RDS_NAME_MESSAGE = 'expected a letter, then lowercase letters, digits or underscores (RDS for PostgreSQL), e.g. "uaip"';

/** ElastiCache engines the stack provisions (Valkey's versions: vendor/aws/data-tier-limits.json). */
export const CACHE_ENGINES = ["redis", "valkey"] as const;
export type CacheEngine = (typeof CACHE_ENGINES)[number];
/** ElastiCache cluster mode: node groups (shards) per replication group (NumNodeGroups, 1..500). */
export const ELASTICACHE_MAX_SHARDS = 500;
/** RDS for PostgreSQL: read replicas per source instance. */
export const RDS_POSTGRES_MAX_READ_REPLICAS = 15;

/**
 * ElastiCache Serverless usage limits (CacheUsageLimits), the ranges AWS accepts: data storage
 * 1..5,000 GB, 1,000..15,000,000 ECPU per second. The maximum caps the bill; the minimum keeps that
 * much capacity warm (and billed) for a known burst.
 */
const redisServerlessSchema = z
  .strictObject({
    dataStorageGb: z.strictObject({
      minimum: int(1).max(5_000).optional(),
      maximum: int(1).max(5_000),
    }),
    ecpuPerSecond: z.strictObject({
      minimum: int(1_000).max(15_000_000).optional(),
      maximum: int(1_000).max(15_000_000),
    }),
  })
  .superRefine((v, ctx) => {
    for (const key of ["dataStorageGb", "ecpuPerSecond"] as const) {
      const { minimum, maximum } = v[key];
      if (minimum !== undefined && minimum > maximum)
        ctx.addIssue({
          code: "custom",
          path: [key, "minimum"],
          message: `${minimum} exceeds ${key}.maximum ${maximum}; lower the minimum or raise the maximum`,
        });
    }
  });

/**
 * RDS Proxy's target group pool (ConnectionPoolConfigurationInfo) and client settings, with the
 * ranges the RDS API accepts. The server connections the proxy may open are
 * floor(maxConnectionsPercent% of max_connections) (profile/proxy-budget.ts).
 */
const databaseProxySchema = z
  .strictObject({
    /** Share of max_connections the proxy may open, percent (1..100). @default 80 (the rest: migrations, admins, the server's reservations) */
    maxConnectionsPercent: int(1).max(100).default(80),
    /** Idle server connections the proxy keeps, percent of max_connections (0..maxConnectionsPercent). @default 50 */
    maxIdleConnectionsPercent: int(0).max(100).default(50),
    /** Seconds a client waits for a free server connection before the proxy refuses it (0..3600). @default 120 */
    connectionBorrowTimeout: int(0).max(3600).default(120),
    /** Seconds an idle client connection stays open (1..28800); above the pools' idle timeout. @default 1800 */
    idleClientTimeout: int(1).max(28_800).default(1800),
    /**
     * Client connections the profile allows per server connection the proxy may open: the proxy's
     * client limit is this × its server connections. 1 means no client ever waits for a server
     * connection; above 1 counts on pools being mostly idle (a waiting client gets a server connection
     * within connectionBorrowTimeout or an error, and a pinned session holds one to itself).
     * @default 1
     */
    clientsPerServerConnection: z.number().min(1).max(100).default(1),
  })
  .superRefine((v, ctx) => {
    if (v.maxIdleConnectionsPercent > v.maxConnectionsPercent)
      ctx.addIssue({
        code: "custom",
        path: ["maxIdleConnectionsPercent"],
        message: `${v.maxIdleConnectionsPercent} exceeds maxConnectionsPercent ${v.maxConnectionsPercent} (RDS refuses it); lower it`,
      });
  });

export const ENVIRONMENTS = ["dev", "staging", "prod", "local"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
  limits: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
});

/** Longest service name: it prefixes the names of its Kubernetes objects and AWS resources. */
export const SERVICE_NAME_MAX_LENGTH = 42;

/** Redis' `maxmemory-policy` values (the profile's and the Redis component's one list). */
export const MAXMEMORY_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
] as const;
export type MaxmemoryPolicy = (typeof MAXMEMORY_POLICIES)[number];

export const serviceSchema = z.strictObject({
  /** DNS-1123 name; also the Kubernetes object names and the metric `service` label. */
  name: z
    .string()
    .regex(DNS_1123_LABEL, { message: "expected a DNS-1123 label (lowercase letters, digits, '-')" })
    .max(SERVICE_NAME_MAX_LENGTH, { message: `expected a DNS-1123 label of at most ${SERVICE_NAME_MAX_LENGTH} characters` }),
  /** Container/HTTP port (the seed: 3001, 3002, 3003). */
  port: int(1).max(65535),
  /** Prebuilt image reference. Either this or `build`. */
  image: z.string().min(1).optional(),
  /** Build the image with @pulumi/docker and push it to ECR. */
  build: z.strictObject({ context: z.string().min(1), dockerfile: z.string().min(1).default("Dockerfile") }).optional(),
  resources: resourcesSchema,
  hpa: z.strictObject({
    min: int(1),
    max: int(1),
    /** Target average CPU utilisation, percent of requests. */
    cpuTarget: int(1).max(100),
    /** Optional target average memory utilisation, percent of requests. */
    memoryTarget: int(1).max(100).optional(),
    /** Scale-down stabilisation window, seconds (against flapping). */
    scaleDownStabilizationSeconds: int(0).max(3600),
  }),
  /**
   * Peak request rate the service must serve, req/s across all its pods. The plan checks it
   * against hpa.max × the measured capacity per pod (capacity/<name>.json) × (1 − headroom).
   * Absent: no throughput check.
   */
  targetRps: z.number().finite().positive().optional(),
  /** Fraction of the measured capacity kept spare at peak (bursts, a pod being replaced), 0–0.9. */
  headroom: z.number().finite().min(0).max(0.9).default(0.3),
  /** PostgreSQL pool size per replica; max × hpa.max counts against max_connections. */
  pool: z.strictObject({ min: int(0), max: int(1) }),
  /** Per-service overrides of the shared runtime settings. */
  runtime: z.record(z.string(), z.unknown()).optional(),
  /**
   * Turns the admin endpoints on (the CPU profile trigger, POST /_admin/profile): the stack
   * generates a token into the service's Secret (UAIP_ADMIN_TOKEN). Off: no token, the endpoint
   * answers 404. Never routed by the ALB either way; reach it with `kubectl port-forward`.
   */
  adminEndpoints: z.boolean().default(false),
});

export const profileSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  /** Which platform the stack provisions: AWS (dev/staging/prod) or Docker (local). */
  platform: z.enum(["aws", "docker"]),
  /** Tags on every AWS resource; the user's win over the defaults. */
  tags: z.record(z.string(), z.string()),
  network: z.strictObject({
    cidr: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2[0-4])$/, { message: "expected an IPv4 CIDR between /16 and /24" }),
    azCount: int(2).max(3),
    natGateways: z.enum(["single", "perAz"]),
    flowLogs: z.boolean(),
  }),
  cluster: z.strictObject({
    version: z.string().regex(/^1\.\d+$/, { message: 'expected a Kubernetes minor version like "1.35"' }),
    /** Accept EKS extended support (6× the control-plane price) once `version` leaves standard support; sets the cluster's upgradePolicy. */
    extendedSupport: z.boolean(),
    instanceTypes: z.array(z.string().min(1)).min(1),
    nodes: z.strictObject({ min: int(1), desired: int(1), max: int(1) }),
    endpointPublicAccess: z.boolean(),
    /** Who may reach a public API endpoint: your CI/VPN egress CIDRs (never the whole internet). */
    publicAccessCidrs: z.array(
      z
        .string()
        .regex(/^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/, { message: "expected an IPv4 CIDR" })
        .refine((c) => !c.endsWith("/0"), {
          message: "the whole internet may not reach the Kubernetes API; give your CI/VPN egress CIDR",
        }),
    ),
    /** IAM roles given cluster-admin through EKS access entries, besides the identity that created the cluster (don't list that one: EKS already has its entry). */
    adminRoleArns: z.array(
      z.string().regex(IAM_ROLE_ARN_SHAPE, {
        message: 'expected an IAM role ARN like "arn:aws:iam::123456789012:role/platform-admin"',
      }),
    ),
  }),
  services: z.array(serviceSchema).min(1),
  /**
   * Where a service without `image` or `build` gets its image: either prebuilt images at
   * <registry>/<name>:<tag>, or one image built from source (default: the reference service,
   * examples/Dockerfile) and pushed to this stack's ECR repository.
   */
  images: z.union([
    z.strictObject({
      registry: z
        .string()
        .regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/, { message: 'expected a registry path like "ghcr.io/uaip"' }),
      /** Never "latest": a moving tag makes rollouts unrepeatable. */
      tag: z.string().regex(/^(?!latest$)[\w][\w.-]{0,127}$/, { message: 'expected an image tag other than "latest"' }),
    }),
    z.strictObject({ build: z.strictObject({ context: z.string().min(1), dockerfile: z.string().min(1) }) }),
  ]),
  database: z.strictObject({
    instanceClass: z.enum(DB_INSTANCE_CLASSES),
    /** Major only: RDS applies minor upgrades itself (autoMinorVersionUpgrade); a minor pin would drift and plan a downgrade. */
    engineVersion: z.string().regex(/^\d+$/, {
      message: 'expected a PostgreSQL major version like "16" (minor upgrades are automatic; pin the major only)',
    }),
    /** GiB. */
    allocatedStorage: int(20).max(65536),
    /** GiB; storage autoscaling ceiling. */
    maxAllocatedStorage: int(20).max(65536),
    multiAz: z.boolean(),
    deletionProtection: z.boolean(),
    backupRetentionDays: int(0).max(35),
    /** Connections kept for admins, migrations and monitoring. */
    reservedConnections: int(3),
    /** Explicit max_connections; default: exactly the connection budget. */
    maxConnections: int(10).optional(),
    /** Log statements slower than this, ms. */
    logMinDurationMs: int(-1).max(MAX_TIMER_MS),
    /** Refresh the operation_stats materialized view every this many ms (0: never); one replica does it. */
    statsRefreshInterval: durationMs(0),
    /** RDS for PostgreSQL's name rules (a letter first; master user 1..16, database 1..63): profile/aws-identifiers.ts. */
    name: z.string().regex(RDS_NAME, { message: RDS_NAME_MESSAGE }),
    username: z.string().regex(RDS_NAME, { message: RDS_NAME_MESSAGE }),
    /**
     * RDS Proxy in front of the instance (profile/proxy-budget.ts): the services connect through it
     * (TLS required, each service role's password in Secrets Manager); migrations and the stats
     * refresher's advisory locks go to the instance directly (they would pin a proxied session).
     * Absent: no proxy, the services connect to the instance.
     */
    proxy: databaseProxySchema.optional(),
    /**
     * Read replicas of the instance (0..15, RDS for PostgreSQL's limit). Each service's reader pool
     * (UAIP_DB_READ_HOST) goes to one of them, services spread over them in order; each replica has its
     * own connection budget. Needs backups on the source (backupRetentionDays >= 1).
     */
    readReplicas: int(0).max(RDS_POSTGRES_MAX_READ_REPLICAS).default(0),
  }),
  redis: z.strictObject({
    nodeType: z.string().regex(/^cache\./, { message: 'expected an ElastiCache node type like "cache.t4g.micro"' }),
    /** "major.minor" (ElastiCache's own granularity for Redis 7+; patches are automatic), never a patch level. */
    engineVersion: z.string().regex(/^\d+\.\d+$/, {
      message: 'expected an ElastiCache Redis version like "7.1" (no patch level: patches are automatic)',
    }),
    replicas: int(0).max(5),
    multiAz: z.boolean(),
    /** Checked by the cross-layer checks: a cache needs allkeys-lru or allkeys-lfu. */
    maxmemoryPolicy: z.enum(MAXMEMORY_POLICIES),
    slowLogs: z.boolean(),
    /** Days of daily snapshots kept (0 = none: a dev cache is rebuilt from the database). */
    snapshotRetentionDays: int(0).max(35),
    /** "redis" (Redis OSS) or "valkey" (its fork, priced lower on ElastiCache; replication groups and serverless only). */
    engine: z.enum(CACHE_ENGINES).default("redis"),
    /**
     * "replicated": one primary with `replicas` for failover. "cluster": cluster mode, `shards` primaries
     * each with `replicasPerShard` replicas; the runtime connects with a cluster client (UAIP_REDIS_MODE=cluster).
     */
    mode: z.enum(["replicated", "cluster"]).default("replicated"),
    /** Cluster mode only: shards (node groups), 1..500 (ElastiCache's limit; vendor/aws/data-tier-limits.json). @default 3 in cluster mode */
    shards: int(1).max(ELASTICACHE_MAX_SHARDS).optional(),
    /** Cluster mode only: replicas of each shard's primary, 0..5. @default redis.replicas */
    replicasPerShard: int(0).max(5).optional(),
    /**
     * ElastiCache Serverless instead of nodes (always cluster mode: set `mode: cluster`), with its usage
     * limits; nodeType, replicas and shards do not apply.
     */
    serverless: redisServerlessSchema.optional(),
  }),
  /** Log groups the stack creates (control plane, Redis slow log, VPC flow logs). */
  logs: z.strictObject({
    /** Encrypt them with a customer-managed KMS key (rotated, key policy limited to this account's log groups). */
    customerManagedKey: z.boolean(),
  }),
  cdn: z.strictObject({
    enabled: z.boolean(),
    provider: z.enum(["cloudfront"]),
    priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]),
    originShield: z.boolean(),
    /** API paths: honour the origin's Cache-Control within these bounds, seconds. */
    apiTtl: z.strictObject({ min: int(0), default: int(0), max: int(0) }),
    /** Static paths, seconds. */
    staticTtl: z.strictObject({ min: int(0), default: int(0), max: int(0) }),
    /** CloudFront path patterns cached with staticTtl, each under a service's prefix ("/<service>/static/*"), since the ALB routes only those. */
    staticPaths: z.array(
      z.string().regex(/^\/[a-z0-9][-a-z0-9]*\/[-\w./*]*$/, {
        message: 'expected a path pattern under a service prefix, like "/agent-intelligence/static/*"',
      }),
    ),
  }),
  loadBalancer: z.strictObject({
    /** Seconds; must exceed the WebSocket heartbeat and stay below the services' keep-alive. */
    idleTimeout: int(1).max(4000),
    /** ACM certificate ARN; empty means HTTP only (no redirect). */
    certificateArn: z.string().regex(/^(arn:aws[-a-z]*:acm:[a-z0-9-]+:\d{12}:certificate\/[-a-f0-9]+)?$/, {
      message: "expected an ACM certificate ARN or an empty string",
    }),
    /** DNS name the certificate covers and that points at the ALB; CloudFront's HTTPS origin. */
    domainName: z.string().regex(/^([a-z0-9-]+\.)*[a-z0-9-]*$/, { message: "expected a DNS name or an empty string" }),
    accessLogs: z.boolean(),
    deletionProtection: z.boolean(),
    /** Seconds the ALB waits for in-flight requests when a target leaves. */
    deregistrationDelay: int(0).max(3600),
  }),
  monitoring: z.strictObject({
    scrapeInterval: z.string().regex(/^\d+[smh]$/, { message: 'expected a Prometheus duration like "15s"' }),
    retention: z.string().regex(/^\d+[hdwy]$/, { message: 'expected a Prometheus retention like "15d"' }),
    storageSize: memoryQuantity,
    replicas: int(1).max(5),
    /** Keep Prometheus' EBS volumes when their claims go (StorageClass reclaimPolicy Retain); README "Retain policy". */
    retainVolumes: z.boolean(),
    slo: z.strictObject({
      /** p95 latency objective, ms (seed: 500). */
      latencyP95Ms: durationMs(),
      /** Error-rate objective, fraction (seed: 0.01). */
      errorRate: z.number().gt(0).lt(1),
    }),
  }),
  /** The runtime settings every service gets (seed: CacheConfig, RateLimitConfig, ...). */
  runtime: runtimeSettingsSchema,
  /** Deploys from CI: an in-VPC runner (CodeBuild-hosted GitHub Actions runner) for `pulumi preview`/`up`; profile/ci-deploys.ts. */
  ci: z.strictObject({ deploys: ciDeploysSchema }),
  /** The plan's monthly cost estimate (tools/cost/, `npm run plan -- --cost`); prices from vendor/aws/prices/. */
  cost: z.strictObject({
    /** USD per month; the plan fails when its estimate exceeds it, naming the largest items. Unset: no budget. */
    monthlyBudget: z.number().positive().optional(),
    /** What the usage-driven prices are multiplied by (the plan cannot know traffic): state yours. */
    assumptions: z.strictObject({
      /** Requests per month through CloudFront. */
      requestsPerMonth: int(0),
      /** GB per month served out through CloudFront (and processed by the ALB). */
      gbOutPerMonth: z.number().min(0),
      /** GB per month ingested into the stack's CloudWatch log groups. */
      logGbPerMonth: z.number().min(0),
      /** GB per month the pods send out through the NAT gateways (image pulls, external APIs). */
      natGbPerMonth: z.number().min(0),
      /** GB the stack's S3 buckets hold (ALB access logs), shared among them. */
      s3GbStored: z.number().min(0),
      /** PUT/COPY/POST/LIST requests per month to the stack's S3 buckets (log deliveries), shared among them. */
      s3PutRequestsPerMonth: int(0),
      /** GB of images the stack's ECR repositories hold. */
      ecrGbStored: z.number().min(0),
      /** Build minutes per month of the in-VPC CI runner (CodeBuild), when ci.deploys is enabled. */
      ciBuildMinutesPerMonth: z.number().min(0),
      /** Average GB held by an ElastiCache Serverless cache (billed per GB-hour, above the engine's minimum). */
      cacheGbStored: z.number().min(0),
      /** ElastiCache Processing Units per request (1 per KB read or written) on ElastiCache Serverless. */
      cacheEcpuPerRequest: z.number().min(0),
    }),
  }),
});

export type Profile = z.output<typeof profileSchema>;
export type ServiceProfile = Profile["services"][number];
