import type { z } from "zod";
import { cacheSettingsSchema } from "../config/settings";
import { checkOptions } from "../options";
import { CacheOptionsError } from "./errors";

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

/** Every option CacheManager honours (see CacheManagerOptions). */
export const CACHE_MANAGER_OPTIONS = [
  "config",
  "client",
  "url",
  "password",
  "registry",
  "serializer",
  "maxBytes",
  "jitter",
  "bus",
  "instanceId",
  "breaker",
  "maxKeyLength",
  "invalidateCommandTimeoutMs",
  "scanCount",
  "exactBackfillTtl",
  "staleIfErrorMs",
  "onEvent",
] as const;

/** The seed's own CacheConfig keys, accepted at the top level as a shorthand for `{ config: { memory, redis, cdn } }`. */
const SEED_KEYS = ["memory", "redis", "cdn"] as const;

const error = (key: string, message: string) => new CacheOptionsError(key, message);

/**
 * Accepts both the seed's shape (`new CacheManager({ memory, redis, cdn })`) and the full options
 * (`{ config: { memory, redis, cdn }, client, registry, ... }`), and refuses anything else by name.
 */
export function normalizeCacheOptions(options: unknown): Record<string, unknown> {
  const record = checkOptions("CacheManager", options, [...CACHE_MANAGER_OPTIONS, ...SEED_KEYS], error, {
    cdnPaths: "cdnPaths is a CacheInvalidator / createRuntime option: new CacheInvalidator({ cache, cdnPaths })",
    purger: "purger is a CacheInvalidator option: new CacheInvalidator({ cache, purger })",
    keyPrefix: "the key prefix goes under config.redis.keyPrefix (or redis.keyPrefix in the seed shape)",
  });
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

/** Validates the options once, at construction, naming the bad key (`config.redis.port`, `jitter`, ...). */
export function parseCacheOptions(options: RawOptions): ParsedCacheOptions {
  const parsed = cacheSettingsSchema.safeParse(options.config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = ["config", ...issue.path.map(String)].join(".");
    const hint = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    throw new CacheOptionsError(key, `${key}: ${issue.message}${hint}`, { cause: parsed.error });
  }
  const settings = parsed.data;
  const jitter = options.jitter ?? 0.1;
  if (!(jitter >= 0 && jitter < 1)) throw new CacheOptionsError("jitter", `jitter must be a fraction in [0, 1), got ${jitter}`);
  const maxBytes = options.maxBytes;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
    throw new CacheOptionsError("maxBytes", `maxBytes must be a positive integer, got ${maxBytes}`);
  }
  const maxKeyLength = options.maxKeyLength ?? 1_024;
  if (!(Number.isInteger(maxKeyLength) && maxKeyLength > 0)) {
    throw new CacheOptionsError("maxKeyLength", `maxKeyLength must be a positive integer, got ${maxKeyLength}`);
  }
  if (options.client?.options?.keyPrefix) {
    throw new CacheOptionsError(
      "client",
      "the injected ioredis client sets keyPrefix; remove it and use config.redis.keyPrefix, which also scopes pattern invalidation",
    );
  }
  // The bus needs its own (subscriber) connection; with a one-connection budget, L1 TTL alone bounds staleness.
  const bus = (options.bus ?? true) && settings.redis.maxConnections >= 2;
  return { settings, keyPrefix: settings.redis.keyPrefix ?? DEFAULT_CACHE_KEY_PREFIX, jitter, maxBytes, maxKeyLength, bus };
}
