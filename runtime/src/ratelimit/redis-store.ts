import { Redis, type RedisOptions } from "ioredis";
import { RateLimitOptionsError, RateLimitStoreError } from "./errors";
import { describe } from "./sliding-window";
import type { RateLimitStore, StoreDecision } from "./types";

/**
 * The sliding-window counter of sliding-window.ts, in one Lua script so a check is atomic and one
 * round trip (EVALSHA through ioredis' defineCommand, which falls back to EVAL after a restart
 * flushed the script cache). The clock is Redis' TIME, so instances with skewed clocks still
 * agree on the window. One hash per key: i = window index, c = its count, p = previous count.
 */
const HIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local w = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local idx = math.floor(now / w)
local elapsed = now - idx * w
local s = redis.call('HMGET', KEYS[1], 'i', 'c', 'p')
local si = tonumber(s[1])
local curr, prev = 0, 0
if si == idx then
  curr = tonumber(s[2]); prev = tonumber(s[3])
elseif si == idx - 1 then
  prev = tonumber(s[2])
end
local allowed = 0
if prev * (w - elapsed) + (curr + 1) * w <= limit * w then
  allowed = 1
  curr = curr + 1
  redis.call('HSET', KEYS[1], 'i', idx, 'c', curr, 'p', prev)
  redis.call('PEXPIRE', KEYS[1], 2 * w - elapsed)
end
return {allowed, curr, prev, elapsed}
`;

const COMMAND = "uaipRateLimitHit";
type HitCommand = (key: string, windowMs: number, limit: number) => Promise<[number, number, number, number]>;

export interface RedisStoreOptions {
  /**
   * An ioredis client to use (not closed by close()). Give it `enableOfflineQueue: false` and a
   * short `commandTimeout` so an outage fails fast; the store also refuses to send while the
   * client is not "ready".
   */
  client?: Redis;
  /** Connect to this URL instead (the store owns and closes that client). */
  url?: string;
  /** Prefix of every key. @default "uaip:rl:" */
  keyPrefix?: string;
  /** For an owned client: per-command timeout, ms. @default 50 */
  commandTimeoutMs?: number;
  /** For an owned client: extra ioredis options (override the fail-fast defaults at your own risk). */
  redisOptions?: RedisOptions;
}

/** Atomic Redis store: exact across any number of limiter instances sharing the Redis. */
export class RedisStore implements RateLimitStore {
  readonly client: Redis;
  #owned: boolean;
  #prefix: string;
  #hit: HitCommand;

  constructor(options: RedisStoreOptions) {
    if (!options.client && !options.url) throw new RateLimitOptionsError("store", "RedisStore needs `client` or `url`");
    this.#prefix = options.keyPrefix ?? "uaip:rl:";
    this.#owned = !options.client;
    this.client =
      options.client ??
      new Redis(options.url!, {
        // Fail fast: no queueing while disconnected, no per-command retries, short timeout;
        // reconnect in the background quickly so the store recovers by itself.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeoutMs ?? 50,
        retryStrategy: (times) => Math.min(times * 100, 1_000),
        // ioredis holds a ref'd timer this long after a disconnect() of a socket that never
        // connected (default 2 s), which keeps a closing process alive through an outage.
        disconnectTimeout: 200,
        ...options.redisOptions,
      });
    // An unhandled 'error' event would crash the process; the failure shows up per call instead.
    if (this.#owned) this.client.on("error", () => {});
    const commands = this.client as unknown as Record<string, HitCommand | undefined>;
    if (typeof commands[COMMAND] !== "function") this.client.defineCommand(COMMAND, { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.#hit = (commands[COMMAND] as HitCommand).bind(this.client);
  }

  /** Resolves once the client is connected (useful before the first burst, since nothing is queued). */
  ready(): Promise<void> {
    if (this.client.status === "ready") return Promise.resolve();
    return new Promise((resolve) => this.client.once("ready", () => resolve()));
  }

  hit(key: string, windowMs: number, limit: number): Promise<StoreDecision> {
    if (this.client.status !== "ready") return Promise.reject(new RateLimitStoreError(`redis is not ready (status ${this.client.status})`));
    // A plain promise chain (no async wrappers): this is the per-request path.
    return this.#hit(this.#prefix + key, windowMs, limit).then(
      (reply) => describe(reply[0] === 1, reply[2], reply[1], reply[3], windowMs, limit),
      (err: Error) => {
        throw new RateLimitStoreError(`redis rate-limit check failed: ${err.message}`, { cause: err });
      },
    );
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
