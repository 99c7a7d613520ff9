import type { Environment } from "./schema";
import { defaultTags } from "./tags";

/**
 * Per-environment defaults of the performance profile, as data: dev is small and cheap,
 * staging mirrors prod's topology at a smaller size, prod is multi-AZ, deletion-protected and
 * keeps data longer. A stack file overrides any field (parse.ts merges them: parseConfig).
 */

/** The seed's three services and their ports. */
export const SEED_SERVICES = [
  { name: "agent-intelligence", port: 3001 },
  { name: "orchestration-pipeline", port: 3002 },
  { name: "capability-registry", port: 3003 },
] as const;

/**
 * The peak each seed service is sized for, in requests per second (`targetRps`): the plan checks it
 * against what hpa.max pods serve at the measured knee (capacity/<service>.json: hpa.max × knee
 * req/s per core × min(cpu limit, 1) × (1 − headroom 0.3)) and prices it in dollars per million
 * requests. Each is a plausible peak at about 60-70 % of that, so the autoscaler keeps room above it
 * (knees 2,934 / 3,783 / 4,000 req/s per core for agent-intelligence / orchestration-pipeline /
 * capability-registry; dev serves 1.05×, staging 4.2×, prod 7× the knee). local runs no autoscaler
 * and bills nothing, so it has none.
 */
const seedTargetRps: Partial<Record<Environment, Record<(typeof SEED_SERVICES)[number]["name"], number>>> = {
  // 3 × 0.5 core × 0.7: serves 3,081 / 3,972 / 4,200 req/s.
  dev: { "agent-intelligence": 2_000, "orchestration-pipeline": 2_500, "capability-registry": 2_700 },
  // 6 × 1 core × 0.7: serves 12,323 / 15,889 / 16,800 req/s.
  staging: { "agent-intelligence": 8_000, "orchestration-pipeline": 10_000, "capability-registry": 11_000 },
  // 10 × 1 core (one event loop of the 2-core limit) × 0.7: serves 20,538 / 26,481 / 28,000 req/s.
  prod: { "agent-intelligence": 13_000, "orchestration-pipeline": 17_000, "capability-registry": 18_000 },
};

type PlainObject = Record<string, unknown>;

/** CDN cache TTL bounds, seconds: `min <= default <= max`. */
export interface TtlBounds {
  min: number;
  default: number;
  max: number;
}

/** API responses are not cached by default (origin Cache-Control may allow up to a minute). */
export const DEFAULT_API_TTL: Readonly<TtlBounds> = Object.freeze({ min: 0, default: 0, max: 60 });
/** Static assets: a day by default, a year at most (the CloudFront maximum). */
export const DEFAULT_STATIC_TTL: Readonly<TtlBounds> = Object.freeze({ min: 3600, default: 86400, max: 31536000 });

/** Fields every service gets unless its stack entry says otherwise. */
const serviceDefaults: Record<Environment, PlainObject> = {
  dev: {
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    hpa: { min: 1, max: 3, cpuTarget: 70, scaleDownStabilizationSeconds: 300 },
    // Little's law at the measured knee (capacity/*.json): a 500m pod serves 1,470-2,000 req/s, 0.4
    // connection checkouts per request for ~9 ms each (p95) keep up to 7.2 connections busy.
    pool: { min: 1, max: 8 },
  },
  staging: {
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "768Mi" } },
    hpa: { min: 2, max: 6, cpuTarget: 70, scaleDownStabilizationSeconds: 300 },
    // A one-core pod at the knee (2,930-4,000 req/s) keeps up to 14.4 connections busy (Little's law).
    pool: { min: 2, max: 15 },
  },
  prod: {
    resources: { requests: { cpu: "500m", memory: "768Mi" }, limits: { cpu: "2", memory: "1Gi" } },
    hpa: { min: 3, max: 10, cpuTarget: 65, scaleDownStabilizationSeconds: 300 },
    // One event loop uses at most one core: the same 14.4 busy connections at the knee as staging.
    pool: { min: 2, max: 15 },
  },
  local: {
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    hpa: { min: 1, max: 1, cpuTarget: 80, scaleDownStabilizationSeconds: 300 },
    // A one-core pod at the knee keeps up to 14.4 connections busy (Little's law, capacity/*.json).
    pool: { min: 1, max: 15 },
  },
};

/**
 * The heap limit must leave room for buffers and code outside the V8 heap (about 25%).
 *
 * rateLimit.reserve: a busy client's checks mostly skip the Redis round trip (one script call per up to
 * `reserve` requests, after a slow start from 1), at the price of early refusals, never over-admission:
 * tokens a replica holds unused are refused to the others until the window ends, at most reserve - 1
 * per replica per window per client, and fewer near the limit (grants shrink to 1 there). 16 with
 * the default 100 per minute: at most 15 early refusals per extra replica in a worst case, about
 * 94 % fewer script calls for a client that keeps one replica busy. prod runs the most replicas (3-10),
 * so it takes 8 there (at most 7 per replica).
 */
const runtimeDefaults: Record<Environment, PlainObject> = {
  dev: { memory: { heapSizeLimit: 384, gcThreshold: 256 }, rateLimit: { reserve: 16 } },
  staging: { memory: { heapSizeLimit: 576, gcThreshold: 384 }, rateLimit: { reserve: 16 } },
  prod: { memory: { heapSizeLimit: 768, gcThreshold: 512 }, rateLimit: { reserve: 8 } },
  local: { memory: { heapSizeLimit: 384, gcThreshold: 256 }, rateLimit: { reserve: 16 } },
};

const common = {
  tags: { ...defaultTags },
  // No public image exists: build the reference service into the stack's ECR repository (needs Docker where `pulumi up` runs).
  images: { build: { context: ".", dockerfile: "examples/Dockerfile" } },
  network: { cidr: "10.0.0.0/16" },
  // Private API endpoint unless a stack opts in with the CIDRs that run `pulumi up`.
  cluster: { version: "1.35", extendedSupport: false, endpointPublicAccess: false, publicAccessCidrs: [], adminRoleArns: [] },
  database: { engineVersion: "16", logMinDurationMs: 500, name: "uaip", username: "uaip", statsRefreshInterval: 300_000 },
  redis: { engineVersion: "7.1", maxmemoryPolicy: "allkeys-lru" },
  cdn: {
    provider: "cloudfront",
    apiTtl: DEFAULT_API_TTL,
    staticTtl: DEFAULT_STATIC_TTL,
    staticPaths: [],
  },
  loadBalancer: { idleTimeout: 60, certificateArn: "", domainName: "", deregistrationDelay: 30 },
  monitoring: { scrapeInterval: "15s", slo: { latencyP95Ms: 500, errorRate: 0.01 } },
  // Opt-in per stack: it needs your repository, CI role and GitHub connection (README "Deploying from CI").
  ci: { deploys: { enabled: false, githubRepo: "", roleArn: "", connectionArn: "" } },
  // Usage the cost estimate assumes (a small API); set your own per stack (README "What it costs").
  cost: {
    assumptions: {
      requestsPerMonth: 10_000_000,
      gbOutPerMonth: 100,
      logGbPerMonth: 10,
      natGbPerMonth: 50,
      s3GbStored: 10,
      s3PutRequestsPerMonth: 10_000,
      ecrGbStored: 5,
      ciBuildMinutesPerMonth: 300,
      cacheGbStored: 1,
      cacheEcpuPerRequest: 2,
    },
  },
};

const perEnvironment: Record<Environment, PlainObject> = {
  dev: {
    platform: "aws",
    network: { azCount: 2, natGateways: "single", flowLogs: false },
    cluster: { instanceTypes: ["t3.medium"], nodes: { min: 1, desired: 2, max: 4 } },
    database: {
      instanceClass: "db.t4g.micro",
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      multiAz: false,
      deletionProtection: false,
      backupRetentionDays: 1,
      reservedConnections: 10,
    },
    redis: { nodeType: "cache.t4g.micro", replicas: 0, multiAz: false, slowLogs: false, snapshotRetentionDays: 0 },
    logs: { customerManagedKey: false },
    cdn: { enabled: true, priceClass: "PriceClass_100", originShield: false },
    loadBalancer: { accessLogs: false, deletionProtection: false },
    monitoring: { retention: "7d", storageSize: "20Gi", replicas: 1, retainVolumes: false },
  },
  staging: {
    platform: "aws",
    network: { azCount: 3, natGateways: "single", flowLogs: false },
    cluster: { instanceTypes: ["m6i.large"], nodes: { min: 2, desired: 3, max: 6 } },
    database: {
      instanceClass: "db.t4g.medium",
      allocatedStorage: 50,
      maxAllocatedStorage: 200,
      multiAz: false,
      deletionProtection: false,
      backupRetentionDays: 7,
      reservedConnections: 15,
    },
    redis: { nodeType: "cache.t4g.small", replicas: 1, multiAz: true, slowLogs: false, snapshotRetentionDays: 1 },
    logs: { customerManagedKey: false },
    cdn: { enabled: true, priceClass: "PriceClass_100", originShield: false },
    loadBalancer: { accessLogs: true, deletionProtection: false },
    monitoring: { retention: "15d", storageSize: "50Gi", replicas: 1, retainVolumes: false },
  },
  prod: {
    platform: "aws",
    network: { azCount: 3, natGateways: "perAz", flowLogs: true },
    cluster: { instanceTypes: ["m6i.large", "m6a.large"], nodes: { min: 3, desired: 3, max: 12 } },
    database: {
      instanceClass: "db.r7g.large",
      allocatedStorage: 100,
      maxAllocatedStorage: 1000,
      multiAz: true,
      deletionProtection: true,
      backupRetentionDays: 14,
      reservedConnections: 20,
    },
    // Snapshots: a cold cache after a failure would send the full load to PostgreSQL at once.
    redis: { nodeType: "cache.r7g.large", replicas: 2, multiAz: true, slowLogs: true, snapshotRetentionDays: 7 },
    logs: { customerManagedKey: true },
    cdn: { enabled: true, priceClass: "PriceClass_All", originShield: true },
    loadBalancer: { accessLogs: true, deletionProtection: true },
    monitoring: { retention: "30d", storageSize: "100Gi", replicas: 2, retainVolumes: true },
  },
  local: {
    platform: "docker",
    network: { azCount: 2, natGateways: "single", flowLogs: false },
    cluster: { instanceTypes: ["local"], nodes: { min: 1, desired: 1, max: 1 } },
    database: {
      instanceClass: "db.t4g.micro",
      allocatedStorage: 20,
      maxAllocatedStorage: 20,
      multiAz: false,
      deletionProtection: false,
      backupRetentionDays: 0,
      reservedConnections: 5,
    },
    redis: { nodeType: "cache.local", replicas: 0, multiAz: false, slowLogs: false, snapshotRetentionDays: 0 },
    logs: { customerManagedKey: false },
    cdn: { enabled: false, priceClass: "PriceClass_100", originShield: false },
    loadBalancer: { accessLogs: false, deletionProtection: false },
    // 3d: the longest burn-rate window of the rules (profile/monitoring-windows.ts checks it).
    monitoring: { retention: "3d", storageSize: "5Gi", replicas: 1, retainVolumes: false },
  },
};

/** Deep merge of plain objects; arrays and scalars from `override` replace those in `base`. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: PlainObject = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The environment's defaults for one service entry (name and port come from the entry). */
export function serviceDefaultsFor(environment: Environment): PlainObject {
  return serviceDefaults[environment];
}

/** The full preset of an environment, services included (the seed's three). */
export function presetFor(environment: Environment): PlainObject {
  const base = deepMerge(common, perEnvironment[environment]) as PlainObject;
  return {
    environment,
    ...base,
    services: SEED_SERVICES.map((s) => {
      const targetRps = seedTargetRps[environment]?.[s.name];
      return targetRps === undefined ? { ...s } : { ...s, targetRps };
    }),
    runtime: runtimeDefaults[environment],
  };
}
