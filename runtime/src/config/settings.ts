import { z } from "zod";
import { REDIS_MODES } from "../redis/mode";
import { trustedCidrProblem } from "./cidr";
import { durationMs } from "./duration";

/**
 * The runtime settings of one service: the seed's CacheConfig, RateLimitConfig, PoolConfig,
 * MemoryConfig, WSConfig, batching and CompressionConfig, plus the HTTP keep-alive timeout the
 * load balancer requires. Field names follow the seed; units are in the JSDoc.
 *
 * This one schema is used twice: by `loadRuntimeConfig(env)` in the services, and by the Pulumi
 * stack's performance profile (`profile/service-settings.ts`), so the two layers cannot drift apart.
 */

const positiveInt = z.number().int().positive();

const nonNegativeInt = z.number().int().nonnegative();

export const cacheSettingsSchema = z.strictObject({
  memory: z
    .strictObject({
      /** L1 (in-process LRU) capacity, in entries. @default 10000 */
      maxSize: positiveInt.default(10_000),
      /** L1 time-to-live, in ms. @default 60000 */
      ttl: durationMs().default(60_000),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Redis host; empty means "no L2" (in-process cache only). @default "" */
      host: z.string().default(""),
      /** @default 6379 */
      port: z.number().int().min(1).max(65535).default(6379),
      /** Connect with TLS (ElastiCache in-transit encryption). @default false */
      tls: z.boolean().default(false),
      /**
       * `standalone`: one primary (replicas only for failover; ElastiCache cluster mode disabled).
       * `cluster`: Redis Cluster (ElastiCache cluster mode enabled, Serverless): the runtime connects
       * with ioredis' Cluster, scans every primary and keeps each multi-key command in one slot.
       * The stack writes it from the profile's `redis.mode` / `redis.serverless`. @default "standalone"
       */
      mode: z.enum(REDIS_MODES).default("standalone"),
      /** Upper bound on Redis connections this process opens. @default 10 */
      maxConnections: positiveInt.default(10),
      /**
       * Namespace of this service's cache in Redis: entries live under `<keyPrefix>c:`, the invalidation
       * channel is `<keyPrefix>__cache_invalidation`. Unset, `loadRuntimeConfig` uses `uaip:<serviceName>:`
       * (one namespace per service); set the same value on several services to share a cache on purpose.
       * Never empty: an empty prefix would let a pattern invalidation reach every key in the database.
       * @default `uaip:<serviceName>:` (a standalone CacheManager: "uaip:")
       */
      keyPrefix: z
        .string()
        .min(1, {
          message:
            "the key prefix must not be empty (an empty prefix lets invalidate('*') reach every key); use e.g. \"uaip:<service>:\"",
        })
        .optional(),
      /** Per-command timeout, in ms; a slower Redis counts as a miss. @default 50 */
      commandTimeoutMs: durationMs().default(50),
      /** L2 time-to-live, in ms. @default 300000 */
      ttl: durationMs().default(300_000),
    })
    .prefault({}),
  cdn: z
    .strictObject({
      /** Purge the CDN on invalidation. @default false */
      enabled: z.boolean().default(false),
      /** @default "cloudfront" */
      provider: z.enum(["cloudfront"]).default("cloudfront"),
      /** CloudFront distribution to purge. @default "" */
      distributionId: z.string().default(""),
      /**
       * CDN path under which this service's responses are cached, e.g. "/agent-intelligence/" (the stack
       * sets `/<service>/`). The default `cdnPaths` purges `<pathPrefix>*` for a key that is not itself a
       * path (broader than needed, never narrower); pass `createRuntime({ cdnPaths })` for exact paths.
       * @default unset: "/" (the whole distribution)
       */
      pathPrefix: z
        .string()
        .regex(/^\/([^*?\s]*\/)?$/, {
          message: 'expected a CDN path that starts and ends with "/" and has no wildcards, e.g. "/agent-intelligence/"',
        })
        .optional(),
    })
    .prefault({}),
});

export const rateLimitSettingsSchema = z.strictObject({
  /** Window length, in ms. @default 60000 */
  windowMs: durationMs().default(60_000),
  /** Requests allowed per key per window. @default 100 */
  maxRequests: positiveInt.default(100),
  /** What to do when Redis is unavailable. @default "memory" */
  failurePolicy: z.enum(["allow", "deny", "memory"]).default("memory"),
  /**
   * RedisStore `reserve`: tokens of a client's allowance a replica may take from Redis per call and
   * hand out locally until the window ends (slow start from 1 per client). Never over-admits; costs up
   * to reserve - 1 early refusals per replica per window per client. 1: every check goes to Redis. @default 1
   */
  reserve: positiveInt.default(1),
});

export const poolSettingsSchema = z
  .strictObject({
    /** @default 2 */
    minConnections: nonNegativeInt.default(2),
    /** @default 10 */
    maxConnections: positiveInt.default(10),
    /** Close idle connections after this many ms. @default 30000 */
    idleTimeoutMillis: durationMs().default(30_000),
    /** Give up acquiring a connection after this many ms. @default 2000 */
    connectionTimeoutMillis: durationMs().default(2_000),
    /**
     * Count the application's statements that would pin an RDS Proxy session (SET, prepared statements,
     * temporary tables, cursors, LISTEN, sequence functions, advisory locks) in
     * uaip_db_pinning_statements_total{reason}: a debugging aid for services behind database.proxy.
     * @default unset (off)
     */
    detectPinning: z.boolean().optional(),
  })
  // The pool cannot keep more idle connections than it may open; both numbers in the message.
  .superRefine((p, ctx) => {
    if (p.minConnections > p.maxConnections)
      ctx.addIssue({
        code: "custom",
        path: ["minConnections"],
        message: `(${p.minConnections}) exceeds pool.maxConnections (${p.maxConnections}); lower the minimum or raise the maximum`,
      });
  });

/** Binary units a size may be written in, as MiB per unit (Kubernetes quantity suffixes). */
const MIB_PER_UNIT = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 } as const;
/**
 * The largest plausible size in MiB (1 TiB). A heap size written in bytes (16 MiB is already
 * 16,777,216) is above it, so a byte count given where MiB are expected is refused, never read as
 * terabytes.
 */
export const MAX_MIB = 1024 * 1024;

/**
 * A memory size, carried in MiB: a whole number of MiB (`384`), or a string with its binary unit
 * (`"384Mi"`, `"1Gi"`, `"524288Ki"`), which must come to a whole number of MiB. Decimal units
 * (`"384M"`, `"384MB"`) are refused: they name a different size. Every size setting goes through
 * this one rule.
 */
export function mebibytes(defaultMiB: number) {
  return z
    .union([
      z.number(),
      z.string().refine((text) => /^\d+(Ki|Mi|Gi|Ti)$/.test(text), {
        message: 'expected MiB as a number (384) or a size with a binary unit ("384Mi", "1Gi")',
      }),
    ])
    .transform((value, ctx) => {
      const match = typeof value === "string" ? /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(value)! : undefined;
      const mib = match ? Number(match[1]) * MIB_PER_UNIT[match[2] as keyof typeof MIB_PER_UNIT] : (value as number);
      if (!Number.isInteger(mib) || mib < 1) {
        ctx.addIssue({ code: "custom", message: `expected a whole number of MiB >= 1, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      if (mib > MAX_MIB) {
        ctx.addIssue({
          code: "custom",
          message: `${JSON.stringify(value)} is more than ${MAX_MIB} MiB (1 TiB): the value is in MiB, not bytes; write ${Math.max(1, Math.floor(mib / 1024 / 1024))} or "${Math.max(1, Math.floor(mib / 1024 / 1024))}Mi" for ${mib} bytes`,
        });
        return z.NEVER;
      }
      return mib;
    })
    .default(defaultMiB);
}

export const memorySettingsSchema = z.strictObject({
  /**
   * V8 old-space limit, in MiB (or "384Mi", "1Gi"); the stack sets NODE_OPTIONS=--max-old-space-size
   * to this. The memory monitor measures pressure against the smaller of this and the limit V8
   * enforces. @default 384
   */
  heapSizeLimit: mebibytes(384),
  /** Heap used, in MiB (or "256Mi"), above which the monitor asks for a GC (when exposed). @default 256 */
  gcThreshold: mebibytes(256),
  memoryMonitoring: z
    .strictObject({
      /** @default true */
      enabled: z.boolean().default(true),
      /** Sampling interval, in ms. @default 5000 */
      interval: durationMs().default(5_000),
      /** Fraction of heapSizeLimit that counts as memory pressure. @default 0.85 */
      threshold: z.number().gt(0).max(1).default(0.85),
      /** Event-loop delay p99, in ms, that also counts as pressure (503s, not ready); 0 turns it off. @default 0 */
      eventLoopDelayLimit: durationMs(0).default(0),
      /** Event-loop utilization (0–1) that also counts as pressure; 0 turns it off. @default 0 */
      eventLoopUtilizationLimit: z.number().min(0).max(1).default(0),
    })
    .prefault({}),
});

export const wsSettingsSchema = z.strictObject({
  /** Connections per process; more are closed with 1013. @default 1000 */
  maxConnections: positiveInt.default(1_000),
  /** Ping interval, in ms; must stay below the load balancer idle timeout. @default 30000 */
  heartbeatInterval: durationMs().default(30_000),
  reconnectStrategy: z
    .strictObject({
      /** @default 1000 */
      initialDelay: durationMs().default(1_000),
      /** @default 30000 */
      maxDelay: durationMs().default(30_000),
      /** @default 2 */
      factor: z.number().min(1).default(2),
    })
    // The client (ReconnectingClient) refuses a strategy whose delays are upside down: check it where the value is written.
    .refine((s) => s.maxDelay >= s.initialDelay, {
      path: ["maxDelay"],
      message:
        "expected maxDelay >= initialDelay (the backoff grows from initialDelay up to maxDelay); raise maxDelay or lower initialDelay",
    })
    .prefault({}),
});

export const batchingSettingsSchema = z.strictObject({
  /** Messages per batch (seed: 100). @default 100 */
  batchSize: positiveInt.default(100),
  /** Flush a partial batch after this many ms (seed: 100). @default 100 */
  flushInterval: durationMs().default(100),
});

export const compressionSettingsSchema = z.strictObject({
  /** gzip/brotli level, 0–9. @default 6 */
  level: z.number().int().min(0).max(9).default(6),
  /** Only compress bodies of at least this many bytes. @default 1024 */
  threshold: nonNegativeInt.default(1_024),
});

export const httpSettingsSchema = z.strictObject({
  /** Server keep-alive timeout, in ms; must exceed the ALB idle timeout. @default 65000 */
  keepAliveTimeout: durationMs().default(65_000),
  /**
   * Proxies in front of the service that append to X-Forwarded-For (CloudFront + ALB: 2, ALB only: 1,
   * none: 0). The client is the entry this many hops left of the connecting address; entries further
   * left are client-supplied and ignored. @default 0 (X-Forwarded-For is ignored)
   */
  trustedProxyHops: nonNegativeInt.max(16).default(0),
  /**
   * Comma-separated CIDRs of trusted proxies. When set, addresses inside them are skipped from the right
   * of the chain (at most `trustedProxyHops` of them when that is non-zero) and the first other address is
   * the client; a connection from outside them ignores X-Forwarded-For. @default "" (none)
   */
  trustedProxyCidrs: z
    .string()
    .superRefine((value, ctx) => {
      // Each bad entry is its own issue, shown as written, so every one of them is fixed in one go.
      for (const cidr of value.split(",").filter((c) => c.trim() !== "")) {
        const problem = trustedCidrProblem(cidr);
        if (problem) ctx.addIssue({ code: "custom", message: `${JSON.stringify(cidr.trim())}: ${problem}`, input: value });
      }
    })
    .default(""),
});

export const runtimeSettingsSchema = z.strictObject({
  cache: cacheSettingsSchema.prefault({}),
  rateLimit: rateLimitSettingsSchema.prefault({}),
  pool: poolSettingsSchema.prefault({}),
  memory: memorySettingsSchema.prefault({}),
  ws: wsSettingsSchema.prefault({}),
  batching: batchingSettingsSchema.prefault({}),
  compression: compressionSettingsSchema.prefault({}),
  http: httpSettingsSchema.prefault({}),
});

/** Runtime settings with every default applied. */
export type RuntimeSettings = z.output<typeof runtimeSettingsSchema>;
/** Runtime settings as written by a user: every field optional. */
export type RuntimeSettingsInput = z.input<typeof runtimeSettingsSchema>;
