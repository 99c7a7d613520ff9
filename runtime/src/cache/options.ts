import type { z } from "zod";
import { cacheSettingsSchema } from "../config/settings";
import {
  anything,
  asRecord,
  boolean,
  duration,
  fieldProblem,
  func,
  integer,
  number,
  object,
  size,
  string,
  throwProblems,
  prototypeProblems,
  specProblems,
  zodProblems,
  type OptionProblem,
  type SpecFor,
} from "../options";
import type { CacheManagerOptions, SeedCacheConfig } from "./manager";
import { CacheOptionsError } from "./errors";
import type { CacheEventListener } from "./events";

/** The seed's CacheConfig with every default applied. */
export type CacheSettings = z.output<typeof cacheSettingsSchema>;
/** The seed's CacheConfig as written by a user: every field optional. */
export type CacheSettingsInput = z.input<typeof cacheSettingsSchema>;

/** Namespace of a CacheManager that was given no `keyPrefix` (outside createRuntime, which uses `uaip:<service>:`). */
export const DEFAULT_CACHE_KEY_PREFIX = "uaip:";

export interface ParsedCacheOptions {
  settings: CacheSettings;
  keyPrefix: string;
  jitter: number;
  maxBytes: number | undefined;
  maxKeyLength: number;
  bus: boolean;
}

/**
 * Least heap an L1 entry costs, bytes: lru-cache preallocates 44 bytes per slot of `max` (key and
 * value arrays, next/prev/free indexes, TTL starts and lengths; measured with lru-cache 11 on Node 20),
 * and its Map entry adds about 24 more, before the key and value themselves.
 */
export const L1_BYTES_PER_ENTRY = 64;

const REDIS_URL = string({ pattern: /^rediss?:\/\/\S*$/i, what: "a redis:// or rediss:// URL" });

/** Every option CacheManager honours (see CacheManagerOptions), checked by the runtime's one validator. */
const CACHE_MANAGER_OPTIONS_SPEC = {
  config: object("the seed's CacheConfig { memory, redis, cdn }"),
  client: object("an ioredis client", (v) => typeof (v as { get?: unknown }).get === "function"),
  url: {
    ...REDIS_URL,
    problem: (v: unknown) => REDIS_URL.problem(v) ?? (URL.canParse(v as string) ? undefined : "not a parseable URL"),
  },
  password: string(),
  registry: object("a prom-client Registry"),
  serializer: object("a Serializer { serialize, deserialize }", (v) => {
    const x = v as { serialize?: unknown; deserialize?: unknown };
    return typeof x.serialize === "function" && typeof x.deserialize === "function";
  }),
  maxBytes: size("bytes"),
  jitter: number({ min: 0, lt: 1 }),
  bus: boolean,
  busHeartbeatMs: duration(0),
  instanceId: string({ nonEmpty: true }),
  breaker: object("{ failureThreshold, cooldownMs }"),
  maxKeyLength: integer(1, 1_000_000),
  invalidateCommandTimeoutMs: duration(1),
  scanCount: integer(1, 1_000_000),
  exactBackfillTtl: boolean,
  staleIfErrorMs: duration(0),
  onEvent: func<CacheEventListener>("a function (event) => void"),
} satisfies SpecFor<Omit<CacheManagerOptions, keyof SeedCacheConfig>>; // the seed's keys: SEED_KEYS below

export const CACHE_MANAGER_OPTIONS = Object.keys(CACHE_MANAGER_OPTIONS_SPEC);

/** The seed's own CacheConfig keys, accepted at the top level as a shorthand for `{ config: { memory, redis, cdn } }`. */
const SEED_KEYS = ["memory", "redis", "cdn"] as const;

const error = (key: string, message: string) => new CacheOptionsError(key, message);

/**
 * Accepts both the seed's shape (`new CacheManager({ memory, redis, cdn })`) and the full options
 * (`{ config: { memory, redis, cdn }, client, registry, ... }`), and refuses anything else by name.
 */
export function normalizeCacheOptions(options: unknown): Record<string, unknown> {
  // Unknown keys are reported by parseCacheOptions, together with every other bad value.
  const record = options === undefined ? {} : asRecord("CacheManager", options, "", error);
  const seed = SEED_KEYS.filter((k) => record[k] !== undefined);
  if (seed.length === 0) return record;
  if (record.config !== undefined) {
    throw new CacheOptionsError(
      seed[0],
      `CacheManager: option "${seed[0]}" given next to "config"; put the seed's CacheConfig (memory, redis, cdn) either under "config" or at the top level, not both`,
    );
  }
  const rest: Record<string, unknown> = {};
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) ((SEED_KEYS as readonly string[]).includes(k) ? config : rest)[k] = v;
  return { ...rest, config };
}

interface RawOptions {
  config?: unknown;
  client?: { options?: { keyPrefix?: string } };
  jitter?: number;
  maxBytes?: number;
  maxKeyLength?: number;
  bus?: boolean;
}

/**
 * Validates the options once, at construction, naming every bad key (`config.redis.port`, `jitter`,
 * ...) at once. On top of the settings schema (whose TTLs and timeouts are already Durations, at most
 * MAX_TIMER_MS): `memory.maxSize` must fit in the heap (L1_BYTES_PER_ENTRY each), and an injected client
 * must not set its own keyPrefix.
 */
export function parseCacheOptions(options: RawOptions): ParsedCacheOptions {
  const where = "CacheManager";
  const rest = { ...options } as Record<string, unknown>;
  delete rest.config;
  // The seed's keys were moved under `config` by normalizeCacheOptions; they stay known for the did-you-mean.
  const known = { ...CACHE_MANAGER_OPTIONS_SPEC, memory: anything, redis: anything, cdn: anything };
  const problems: OptionProblem[] = specProblems(rest, known, {
    cdnPaths: "cdnPaths is a CacheInvalidator / createRuntime option: new CacheInvalidator({ cache, cdnPaths })",
    purger: "purger is a CacheInvalidator option: new CacheInvalidator({ cache, purger })",
    keyPrefix: "the key prefix goes under config.redis.keyPrefix (or redis.keyPrefix in the seed shape)",
  });
  const config = options.config === undefined ? {} : options.config;
  problems.push(...prototypeProblems(config, "config"));
  const parsed = cacheSettingsSchema.safeParse(config);
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, options.config, "config", cacheSettingsSchema));
  else {
    const p = fieldProblem("config.memory.maxSize", parsed.data.memory.maxSize, size("entries", L1_BYTES_PER_ENTRY));
    if (p) problems.push(p);
  }
  // Listed with the other problems, so one error names every bad key.
  if (options.client?.options?.keyPrefix) {
    problems.push({
      key: "client",
      message:
        "the injected ioredis client sets keyPrefix; remove it and use config.redis.keyPrefix, which also scopes pattern invalidation",
    });
  }
  throwProblems(where, problems, error);
  const settings = parsed.data!;
  // The bus needs its own (subscriber) connection; with a one-connection budget, L1 TTL alone bounds staleness.
  const bus = (options.bus ?? true) && settings.redis.maxConnections >= 2;
  return {
    settings,
    keyPrefix: settings.redis.keyPrefix ?? DEFAULT_CACHE_KEY_PREFIX,
    jitter: options.jitter ?? 0.1,
    maxBytes: options.maxBytes,
    maxKeyLength: options.maxKeyLength ?? 1_024,
    bus,
  };
}
