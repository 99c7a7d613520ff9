import type { z } from "zod";
import { cacheSettingsSchema } from "../config/settings";
import { CacheOptionsError } from "./errors";

/** The seed's CacheConfig with every default applied. */
export type CacheSettings = z.output<typeof cacheSettingsSchema>;
/** The seed's CacheConfig as written by a user: every field optional. */
export type CacheSettingsInput = z.input<typeof cacheSettingsSchema>;

export interface ParsedCacheOptions {
  settings: CacheSettings;
  jitter: number;
  maxBytes: number | undefined;
  maxKeyLength: number;
  bus: boolean;
}

interface RawOptions {
  config?: CacheSettingsInput;
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
    throw new CacheOptionsError(key, `${key}: ${issue.message}`, { cause: parsed.error });
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
    throw new CacheOptionsError("client", "the injected ioredis client sets keyPrefix; remove it and use config.redis.keyPrefix, which also scopes pattern invalidation");
  }
  // The bus needs its own (subscriber) connection; with a one-connection budget, L1 TTL alone bounds staleness.
  const bus = (options.bus ?? true) && settings.redis.maxConnections >= 2;
  return { settings, jitter, maxBytes, maxKeyLength, bus };
}
