import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Registry } from "prom-client";
import { CircuitBreaker, type BreakerState, type CircuitBreakerOptions } from "./breaker";
import { InvalidationBus, encodeMessage } from "./bus";
import { openCommandClient, release, SUBSCRIBER_OVERRIDES } from "./connection";
import { Deadlines } from "./deadlines";
import { CacheClosedError, CacheKeyError, CacheOptionsError, CacheValueError } from "./errors";
import { eventSink, type CacheEventListener } from "./events";
import { escapeGlob, globToRegExp, isGlob } from "./glob";
import { CACHE_OPERATION, CacheMetrics, type CacheOperation } from "./metrics";
import { checkValue, duration, func, required, showValue, validateOptions, type SpecFor } from "../options";
import { normalizeCacheOptions, parseCacheOptions, type CacheSettings, type CacheSettingsInput } from "./options";
import { unlinkMatching } from "./scan";
import { connectPrimaries, duplicateRedis, type RedisClient } from "../redis/connect";
import { unlinkKeys } from "../redis/hash-tag";
import { ClusterErrorReporter } from "../redis/cluster-errors";
import { setTimer } from "../timer";

/** Turns values into the strings stored in Redis and back. */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(raw: string): unknown;
}

/** JSON, the default: values must be JSON-serialisable (`undefined`, functions, cycles and BigInt are rejected). */
export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (raw) => JSON.parse(raw) as unknown,
};

/**
 * The seed's CacheConfig as written (`new CacheManager({ memory, redis, cdn })`): a shorthand for
 * `new CacheManager({ config: { memory, redis, cdn } })`. It may sit next to the other options, not next to `config`.
 */
export type SeedCacheConfig = Pick<CacheSettingsInput, "memory" | "redis" | "cdn">;

export interface CacheManagerOptions extends SeedCacheConfig {
  /** The seed's CacheConfig: memory, redis and cdn settings (the `cache` block of the performance profile). @default cacheSettingsSchema defaults */
  config?: CacheSettingsInput;
  /** An ioredis client (Redis, or Cluster for a Redis Cluster) you own; `close()` leaves it open. Must not use ioredis' own `keyPrefix` (use `config.redis.keyPrefix`). @default none */
  client?: RedisClient;
  /** `redis://` / `rediss://` URL; wins over `config.redis.host`/`port`. @default none */
  url?: string;
  /** Redis AUTH password / ElastiCache auth token. @default none */
  password?: string;
  /** prom-client registry for the hit/miss, error and invalidation counters. @default none (no metrics) */
  registry?: Registry;
  /** @default jsonSerializer */
  serializer?: Serializer;
  /** Optional L1 bound in bytes (size of the serialised value), on top of `memory.maxSize` entries. @default none */
  maxBytes?: number;
  /** TTLs are shortened by a random fraction in [0, jitter) so entries written together do not expire together. @default 0.1 */
  jitter?: number;
  /** Cross-instance L1 invalidation over Redis pub/sub; needs a second connection (`redis.maxConnections` >= 2). @default true */
  bus?: boolean;
  /**
   * Heartbeat of the bus subscriber, ms: a PING unanswered after this long drops and reconnects the
   * subscriber, which flushes L1 once it has resubscribed. Bounds how long a silently dead subscriber
   * (half-open connection) can leave L1 stale: 2 x this + the reconnect delay + a SUBSCRIBE round trip.
   * 0 turns it off (then only a closed connection is noticed). @default 1000
   */
  busHeartbeatMs?: number;
  /** Identifies this instance on the bus. @default a random UUID */
  instanceId?: string;
  /** Circuit breaker in front of Redis. @default { failureThreshold: 5, cooldownMs: 1000 } */
  breaker?: CircuitBreakerOptions;
  /** Longest accepted key, in characters. @default 1024 */
  maxKeyLength?: number;
  /** Per-command timeout for the SCAN/UNLINK steps of a pattern invalidation, in ms. @default max(1000, 20 x commandTimeoutMs) */
  invalidateCommandTimeoutMs?: number;
  /** SCAN COUNT hint for pattern invalidation. @default 1000 */
  scanCount?: number;
  /**
   * Read PTTL with every L2 hit so the backfilled L1 copy expires with the Redis entry. Without it, an
   * entry written with a per-call `ttl` shorter than `memory.ttl` may outlive its Redis copy in other
   * instances' L1 by up to `memory.ttl` (writes and deletes still reach them over the bus). Costs a
   * second command per L2 hit (same round trip, ~15% L2 latency here). @default false
   */
  exactBackfillTtl?: boolean;
  /**
   * For this long after an L1 entry's TTL ran out, keep it and serve it (`getEntry` status `"stale"`,
   * event `stale`) when Redis cannot be reached, instead of a miss (get/getEntry) or a loader call
   * (getOrSet): an outage then does not send every instance's reads to the database. A read that
   * reaches Redis never gets a stale value; invalidated keys are gone from L1 and never served. @default 0 (off)
   */
  staleIfErrorMs?: number;
  /** Called with Redis errors, circuit-breaker state changes and stale serves (see CacheEvent). @default none */
  onEvent?: CacheEventListener;
}

/** What `getEntry` found: a cached `null` is a `hit` with value null; a `miss` has no value. */
export type CacheEntry<T = unknown> =
  | { status: "hit"; value: T }
  | { status: "miss"; value: undefined }
  /** Past its TTL, served because Redis could not be reached (`staleIfErrorMs`); `ageMs` past expiry. */
  | { status: "stale"; value: T; ageMs: number };

/**
 * What a `set` or `delete` did. `complete: false` means Redis could not be reached: this instance's L1
 * is already right, and the key is queued. Until Redis answers again, other instances may still serve
 * the old value; the moment it answers, the queued key is deleted from Redis and from every instance's
 * L1 (a lost queue, when this process exits first, falls back to the entry's remaining TTL).
 */
export interface CacheWriteResult {
  key: string;
  complete: boolean;
}

/** Per-entry options of `set` and `getOrSet` (time-to-live overrides). */
export interface SetOptions {
  /** Time to live in ms: the L2 TTL; L1 uses the smaller of this and `memory.ttl`. @default redis.ttl */
  ttl?: number;
}

/** What an invalidation removed, and whether every tier was reached. */
export interface InvalidationResult {
  pattern: string;
  /** Keys evicted from this instance's L1. */
  l1: number;
  /** Keys removed from Redis. */
  l2: number;
  /**
   * False when Redis could not be reached: the pattern is queued and replayed (SCAN + UNLINK + publish)
   * as soon as Redis answers; until then other instances may serve matching entries.
   */
  complete: boolean;
}

const cacheError = (key: string, message: string) => new CacheOptionsError(key, message);

/** Per-call options of set/getOrSet; the TTL is a Duration like every timer (Redis PX and lru-cache alike). */
const SET_OPTIONS_SPEC = { ttl: duration(1) } satisfies SpecFor<SetOptions>;
const LOADER = required(func<() => unknown>("a function () => value | Promise<value> (the loader called on a miss)"));

/** State of the L2 tier: `none` when there is no Redis, else the circuit breaker's state. */
export type L2State = "none" | BreakerState;

const FAILED = Symbol("redis-failed");
const MISS = Symbol("miss");
/** An L2 read that could not reach Redis (a miss for get, a chance for a stale L1 copy). */
const UNAVAILABLE = Symbol("unavailable");
/** L1 reads that must not return an expired entry (the L1 keeps them when `staleIfErrorMs` > 0). */
const FRESH_ONLY = { allowStale: false } as const;
const MISSED: CacheEntry<never> = Object.freeze({ status: "miss", value: undefined });
/** lru-cache cannot hold null; a cached null (negative caching) is stored as this marker. */
const NULL_VALUE = Symbol("null");

const unwrap = (v: unknown): unknown => (v === NULL_VALUE ? null : v);
const same = <T>(v: T): T => v;
/**
 * `map(x)` as a promise settled in a later microtask, as a Redis reply is (a throwing `map` is a rejection): the
 * caller registers it first. #sharedRead records a read in flight that the map removes; mapped in the caller's
 * turn, a read the open breaker skipped stayed recorded and answered every later read of its key "unavailable".
 */
function settled<X, R>(map: (x: X) => R, x: X): Promise<R> {
  return Promise.resolve(x).then(map);
}

/** Beyond this many queued keys, the queue collapses into one whole-namespace invalidation (`*`). */
const MAX_PENDING_KEYS = 10_000;
/** Keys per UNLINK when replaying the queue. */
const REPLAY_BATCH = 500;
/** How often a non-empty queue retries while Redis stays unreachable (the breaker makes a retry free when open). */
const REPLAY_RETRY_MS = 250;

/**
 * Two-tier cache (the seed's CacheManager): L1 is an in-process LRU, L2 is Redis shared by every
 * instance. Reads go L1 -> L2 and backfill L1. Writes and deletes are published on a Redis channel so
 * other instances drop their L1 copy. Redis trouble is a miss plus a metric, never an exception.
 */
export class CacheManager {
  readonly settings: CacheSettings;
  readonly instanceId: string;
  /** This cache's namespace in Redis: entries under `<keyPrefix>c:`, the bus on `<keyPrefix>__cache_invalidation`. */
  readonly keyPrefix: string;
  readonly #l1: LRUCache<string, NonNullable<unknown>>;
  readonly #client: RedisClient | undefined;
  readonly #ownsClient: boolean;
  readonly #subscriber: RedisClient | undefined;
  readonly #bus: InvalidationBus | undefined;
  readonly #channel: string;
  readonly #breaker: CircuitBreaker;
  readonly #metrics: CacheMetrics;
  readonly #clusterErrors: ClusterErrorReporter;
  readonly #serializer: Serializer;
  readonly #jitter: number;
  readonly #maxKeyLength: number;
  readonly #sized: boolean;
  readonly #timeoutMs: number;
  readonly #deadlines: Deadlines;
  readonly #invalidateTimeoutMs: number;
  readonly #scanCount: number;
  readonly #exactBackfillTtl: boolean;
  readonly #prefix: string;
  /** In-flight L2 reads and loads per key: concurrent misses share one. */
  readonly #reads = new Map<string, Promise<unknown>>();
  readonly #loads = new Map<string, Promise<unknown>>();
  /**
   * Bumped by every local write and every invalidation. An L2 read that started before a bump may
   * carry an older value than the one just written elsewhere, so it is returned but not backfilled.
   */
  #epoch = 0;
  #closed = false;
  /** Keys and patterns whose invalidation did not reach Redis: skipped on read, replayed once Redis answers. */
  readonly #pendingKeys = new Set<string>();
  readonly #pendingPatterns = new Map<string, RegExp>();
  #replayTimer: NodeJS.Timeout | undefined;
  #replaying: Promise<void> | undefined;
  /** Until the first connection is up, an L2 step waits for it (at most its timeout) instead of failing at once. */
  #firstConnect: Promise<void> | undefined;
  readonly #onClientReady = (): void => {
    this.#breaker.success();
    this.#scheduleReplay(0);
  };
  readonly #onClientError = (error: unknown): void => {
    this.#metrics.error(CACHE_OPERATION.connection);
    this.#emit({ type: "error", operation: CACHE_OPERATION.connection, error });
  };
  /** The `onEvent` listener given (CacheInvalidator reports purge failures to it too). */
  readonly onEvent: CacheEventListener | undefined;

  readonly #emit: CacheEventListener;
  readonly #staleIfErrorMs: number;

  constructor(input: CacheManagerOptions = {}) {
    const options = normalizeCacheOptions(input) as CacheManagerOptions;
    const o = parseCacheOptions(options);
    this.onEvent = options.onEvent;
    this.#emit = eventSink(options.onEvent);
    this.#staleIfErrorMs = options.staleIfErrorMs ?? 0;
    this.settings = o.settings;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#serializer = options.serializer ?? jsonSerializer;
    this.#jitter = o.jitter;
    this.#maxKeyLength = o.maxKeyLength;
    this.#sized = o.maxBytes !== undefined;
    this.#metrics = new CacheMetrics(options.registry);
    this.#clusterErrors = new ClusterErrorReporter(options.registry);
    this.#breaker = new CircuitBreaker(options.breaker, cacheError, "CacheManager", (from, to) =>
      this.#emit({ type: "breaker", from, to }),
    );
    const redis = o.settings.redis;
    this.keyPrefix = o.keyPrefix;
    // Entries get their own sub-namespace, so a pattern invalidation (SCAN <prefix>c:<pattern>) can never
    // reach a rate-limit counter or anything else that shares the prefix.
    this.#prefix = `${o.keyPrefix}c:`;
    this.#channel = `${o.keyPrefix}__cache_invalidation`;
    this.#timeoutMs = redis.commandTimeoutMs;
    this.#deadlines = new Deadlines(Math.max(2, Math.floor(redis.commandTimeoutMs / 5)));
    this.#invalidateTimeoutMs = options.invalidateCommandTimeoutMs ?? Math.max(1_000, 20 * redis.commandTimeoutMs);
    this.#scanCount = options.scanCount ?? 1_000;
    this.#exactBackfillTtl = options.exactBackfillTtl ?? false;
    this.#l1 = new LRUCache<string, NonNullable<unknown>>({
      max: o.settings.memory.maxSize,
      ttl: o.settings.memory.ttl,
      ...(o.maxBytes !== undefined ? { maxSize: o.maxBytes } : {}),
      updateAgeOnGet: false,
      // With stale serving, expired entries stay (until LRU eviction) for #stale; ordinary reads pass FRESH_ONLY.
      allowStale: this.#staleIfErrorMs > 0,
      noDeleteOnStaleGet: this.#staleIfErrorMs > 0,
    });

    const hasL2 = options.client !== undefined || options.url !== undefined || redis.host !== "";
    if (!hasL2) {
      this.#ownsClient = false;
      return;
    }
    const { client, owned } = openCommandClient({
      client: options.client,
      mode: redis.mode,
      url: options.url,
      host: redis.host,
      port: redis.port,
      tls: redis.tls,
      password: options.password,
      commandTimeoutMs: redis.commandTimeoutMs,
    });
    this.#client = client;
    this.#ownsClient = owned;
    client.on("ready", this.#onClientReady);
    // An injected lazyConnect client would otherwise wait for a first command we hold back until it is ready.
    if (client.status === "wait") client.connect().catch(() => undefined);
    if (client.status !== "ready") {
      // Only the process's first connection is waited for, and at most the connect timeout: a cache used
      // right after construction still reaches Redis, a Redis that is down at start costs one wait, once.
      const waitMs = Math.max(1_000, 10 * redis.commandTimeoutMs);
      this.#firstConnect = new Promise<void>((resolve) => {
        const timer = setTimer(resolve, waitMs);
        timer.unref();
        client.once("ready", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      void this.#firstConnect.then(() => (this.#firstConnect = undefined));
    }
    // Without a listener ioredis logs every reconnect failure; here they become a metric.
    if (owned) client.on("error", this.#onClientError);

    if (o.bus) {
      this.#subscriber = duplicateRedis(client, SUBSCRIBER_OVERRIDES);
      this.#bus = new InvalidationBus({
        subscriber: this.#subscriber,
        channel: this.#channel,
        instanceId: this.instanceId,
        onKeys: (keys) => this.#evictKeys(keys),
        onPattern: (pattern) => this.#evictRemotePattern(pattern),
        // Invalidations published while we were disconnected are lost: drop L1 rather than serve stale entries.
        onResubscribed: () => {
          this.#epoch++;
          this.#l1.clear();
        },
        heartbeatMs: options.busHeartbeatMs ?? 1_000,
        onHeartbeatLost: () => {
          this.#metrics.error(CACHE_OPERATION.subscribe);
          this.#emit({
            type: "error",
            operation: CACHE_OPERATION.subscribe,
            error: new Error("bus subscriber stopped answering (heartbeat)"),
          });
        },
        onError: (error) => {
          this.#metrics.error(CACHE_OPERATION.subscribe);
          this.#emit({ type: "error", operation: CACHE_OPERATION.subscribe, error });
        },
      });
    }
  }

  /** Where the L2 tier stands: `none` (L1 only), `closed` (healthy), `open` (skipping Redis), `half-open` (probing). */
  get l2State(): L2State {
    return this.#client ? this.#breaker.state : "none";
  }

  /** Entries currently in L1. */
  get l1Size(): number {
    return this.#l1.size;
  }

  /** Resolves true once Redis is connected and the bus subscription is active; false after `timeoutMs`. Never throws. */
  async ready(timeoutMs = 5_000): Promise<boolean> {
    checkValue("CacheManager.ready", "timeoutMs", timeoutMs, duration(0), cacheError);
    const client = this.#client;
    if (!client) return true;
    const deadline = Date.now() + timeoutMs;
    while (client.status !== "ready") {
      if (Date.now() >= deadline || this.#closed) return false;
      await new Promise((r) => setTimer(r, 10).unref());
    }
    if (!(await connectPrimaries(client, Math.max(0, deadline - Date.now())))) return false;
    return this.#bus ? this.#bus.ready(Math.max(0, deadline - Date.now())) : true;
  }

  /** L1, then L2 (backfilling L1). `null` on a miss, including when Redis is unavailable. */
  async get<T = unknown>(key: string): Promise<T | null> {
    this.#check(key);
    const hit = this.#l1.get(key, FRESH_ONLY);
    if (hit !== undefined) {
      this.#metrics.l1Hit++;
      return unwrap(hit) as T;
    }
    this.#metrics.l1Miss++;
    const value = await this.#sharedRead(key);
    if (value === UNAVAILABLE) {
      const stale = this.#stale<T>(key);
      return stale.status === "miss" ? null : stale.value;
    }
    return value === MISS ? null : (value as T);
  }

  /**
   * The L1's fresh copy, answered in this turn: the value (a cached `null` included) when the L1
   * holds it, counted as an L1 hit like `get`; `undefined` when it does not (nothing counted: call
   * `get` or `getOrSet`, which count the miss and read Redis). A request handler answers a hit in the
   * turn it arrived, without a promise per request (the limiter's `consumeNow` does the same).
   */
  getNow<T = unknown>(key: string): T | null | undefined {
    this.#check(key);
    const hit = this.#l1.get(key, FRESH_ONLY);
    if (hit === undefined) return undefined;
    this.#metrics.l1Hit++;
    return unwrap(hit) as T;
  }

  /**
   * Like `get`, but says what it found: `hit` (a cached `null` included), `miss`, or `stale` (an
   * expired L1 copy served while Redis is unreachable, see `staleIfErrorMs`).
   */
  async getEntry<T = unknown>(key: string): Promise<CacheEntry<T>> {
    this.#check(key);
    const hit = this.#l1.get(key, FRESH_ONLY);
    if (hit !== undefined) {
      this.#metrics.l1Hit++;
      return { status: "hit", value: unwrap(hit) as T };
    }
    this.#metrics.l1Miss++;
    const value = await this.#sharedRead(key);
    if (value === UNAVAILABLE) return this.#stale<T>(key);
    return value === MISS ? MISSED : { status: "hit", value: value as T };
  }

  /**
   * Writes both tiers and tells other instances to drop their L1 copy. Resolves after the Redis write;
   * `complete: false` when Redis could not be reached (see CacheWriteResult for what happens then).
   */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<CacheWriteResult> {
    this.#check(key);
    return { key, complete: await this.#store(key, value, this.#ttl("set", options)) };
  }

  /**
   * Removes the key from both tiers and from every instance's L1. `complete: false` when Redis could not
   * be reached: the delete is queued and replayed as soon as Redis answers (see CacheWriteResult).
   */
  async delete(key: string): Promise<CacheWriteResult> {
    this.#check(key);
    // The seed writes `delete("a:*")` meaning a pattern. Deleting the literal key "a:*" would report
    // success and leave a:1 cached, so glob characters are refused here, pointing to invalidate()
    // (which SCANs Redis: a cost the caller should choose, not get from a delete).
    if (isGlob(key))
      throw new CacheKeyError(
        `cache.delete(${showValue(key)}) deletes one exact key, and this one has glob characters (* ? [): ` +
          `use cache.invalidate(${showValue(key)}) to delete every matching key, or escape them (\\*) to delete the literal key with invalidate`,
      );
    this.#forget(key);
    this.#l1.delete(key);
    this.#metrics.invalidation(CACHE_OPERATION.delete);
    if (!this.#client) return { key, complete: true };
    const message = this.#message({ k: [key] });
    const r = await this.#l2(CACHE_OPERATION.delete, (c) =>
      Promise.all([c.unlink(this.#prefix + key), message ? c.publish(this.#channel, message) : 0]),
    );
    if (r === FAILED) this.#queueKey(key);
    return { key, complete: r !== FAILED };
  }

  /**
   * Cached value, or the loader's result (then stored). Concurrent misses for one key in this process
   * share one L2 read and one loader call. A loader error reaches every waiter and is not cached.
   * Return `null` from the loader to cache an absence; `undefined` is rejected (CacheValueError).
   */
  async getOrSet<T>(key: string, loader: () => T | Promise<T>, options?: SetOptions): Promise<T> {
    this.#check(key);
    checkValue("CacheManager.getOrSet", "loader", loader, LOADER, cacheError);
    const ttl = this.#ttl("getOrSet", options);
    const hit = this.#l1.get(key, FRESH_ONLY);
    if (hit !== undefined) {
      this.#metrics.l1Hit++;
      return unwrap(hit) as T;
    }
    this.#metrics.l1Miss++;
    const pending = this.#loads.get(key);
    if (pending) return pending as Promise<T>;
    const load = this.#load(key, loader, ttl).finally(() => {
      if (this.#loads.get(key) === load) this.#loads.delete(key);
    });
    this.#loads.set(key, load);
    return load;
  }

  /**
   * Deletes every key matching a Redis glob (`*`, `?`, `[a-z]`, `\x`) from this L1, from Redis
   * (SCAN + UNLINK, never KEYS) and from the other instances' L1. A pattern without glob operators
   * is a plain delete. Never throws for Redis trouble: `complete` says whether Redis was reached.
   */
  async invalidate(pattern: string): Promise<InvalidationResult> {
    this.#check(pattern);
    this.#metrics.invalidation(CACHE_OPERATION.invalidate);
    if (!isGlob(pattern) && !pattern.includes("\\")) {
      const present = this.#l1.has(pattern) ? 1 : 0;
      this.#forget(pattern);
      this.#l1.delete(pattern);
      if (!this.#client) return { pattern, l1: present, l2: 0, complete: true };
      const message = this.#message({ k: [pattern] });
      const r = await this.#l2(CACHE_OPERATION.invalidate, (c) =>
        Promise.all([c.unlink(this.#prefix + pattern), message ? c.publish(this.#channel, message) : 0]),
      );
      if (r === FAILED) this.#queueKey(pattern);
      return r === FAILED ? { pattern, l1: present, l2: 0, complete: false } : { pattern, l1: present, l2: r[0], complete: true };
    }
    const l1 = this.#evictPattern(pattern);
    if (!this.#client) return { pattern, l1, l2: 0, complete: true };
    const removed = await this.#unlinkPattern(pattern);
    const published = await this.#publishPattern(pattern);
    const complete = removed !== FAILED && published !== FAILED;
    if (!complete) this.#queuePattern(pattern);
    return { pattern, l1, l2: removed === FAILED ? 0 : removed, complete };
  }

  /** Invalidations waiting for Redis (keys plus patterns); 0 when everything reached it. */
  get pendingInvalidations(): number {
    return this.#pendingKeys.size + this.#pendingPatterns.size;
  }

  /** Releases both connections (an injected client is left open) and the L1 memory. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#metrics.close();
    this.#l1.clear();
    this.#reads.clear();
    this.#loads.clear();
    this.#bus?.detach();
    this.#deadlines.close();
    if (this.#replayTimer) clearTimeout(this.#replayTimer);
    this.#pendingKeys.clear();
    this.#pendingPatterns.clear();
    const client = this.#client;
    // The error listener stays on our own client: a disconnect during its ready check still emits one.
    client?.off("ready", this.#onClientReady);
    await Promise.all([
      this.#subscriber ? release(this.#subscriber) : undefined,
      client && this.#ownsClient ? release(client) : undefined,
    ]);
  }

  #check(key: string): void {
    if (this.#closed) throw new CacheClosedError();
    if (typeof key !== "string" || key.length === 0)
      throw new CacheKeyError(`cache key must be a non-empty string, got ${showValue(key)}`);
    if (key.length > this.#maxKeyLength)
      throw new CacheKeyError(`cache key is ${key.length} characters, more than maxKeyLength ${this.#maxKeyLength}`);
  }

  /** The per-call TTL, checked before anything is touched: a bad one is this call's error, never the breaker's. */
  #ttl(method: string, options: SetOptions | undefined): number | undefined {
    return validateOptions(`CacheManager.${method}`, options, SET_OPTIONS_SPEC, cacheError).ttl;
  }

  #jittered(ttl: number): number {
    return this.#jitter > 0 ? Math.max(1, Math.round(ttl * (1 - this.#jitter * Math.random()))) : ttl;
  }

  #serialize(key: string, value: unknown): string {
    let raw: unknown;
    try {
      raw = this.#serializer.serialize(value);
    } catch (cause) {
      throw new CacheValueError(`value for "${key}" cannot be serialised: ${(cause as Error).message}`, { cause });
    }
    if (typeof raw !== "string") {
      throw new CacheValueError(
        `value for "${key}" cannot be serialised (got ${value === undefined ? "undefined" : typeof value}); store null to cache an absence`,
      );
    }
    return raw;
  }

  #writeL1(key: string, value: unknown, raw: string, ttl: number): void {
    const v = value === null ? NULL_VALUE : (value as NonNullable<unknown>);
    this.#l1.set(key, v, this.#sized ? { ttl, size: Math.max(1, Buffer.byteLength(raw)) } : { ttl });
  }

  #l1Ttl(ttl: number | undefined): number {
    const max = this.settings.memory.ttl;
    return this.#jittered(ttl === undefined ? max : Math.min(ttl, max));
  }

  /** Writes L1, then Redis; true when Redis took the write (or there is no Redis). */
  async #store(key: string, value: unknown, ttl: number | undefined): Promise<boolean> {
    const raw = this.#serialize(key, value);
    this.#epoch++;
    this.#writeL1(key, value, raw, this.#l1Ttl(ttl));
    if (!this.#client) return true;
    const px = this.#jittered(ttl ?? this.settings.redis.ttl);
    const pk = this.#prefix + key;
    const message = this.#message({ k: [key] });
    const r = await this.#l2(CACHE_OPERATION.set, (c) =>
      Promise.all([c.set(pk, raw, "PX", px), message ? c.publish(this.#channel, message) : 0]),
    );
    // Redis keeps the previous value (and other instances their L1 copy): queue its removal.
    if (r === FAILED) this.#queueKey(key);
    // The new value reached Redis and the bus: an older queued delete of this key is moot.
    else this.#pendingKeys.delete(key);
    return r !== FAILED;
  }

  async #load<T>(key: string, loader: () => T | Promise<T>, ttl: number | undefined): Promise<T> {
    const cached = await this.#sharedRead(key);
    if (cached === UNAVAILABLE) {
      const stale = this.#stale<T>(key);
      if (stale.status !== "miss") return stale.value;
    } else if (cached !== MISS) return cached as T;
    const value = await loader();
    await this.#store(key, value, ttl);
    return value;
  }

  /** One L2 read per key at a time; callers arriving meanwhile share it. */
  #sharedRead(key: string): Promise<unknown> {
    if (!this.#client) return Promise.resolve(MISS);
    // Redis may still hold the value an unreplayed invalidation was meant to remove.
    if ((this.#pendingKeys.size > 0 || this.#pendingPatterns.size > 0) && this.#isPending(key)) {
      this.#metrics.l2Miss++;
      return Promise.resolve(MISS);
    }
    const pending = this.#reads.get(key);
    if (pending) return pending;
    const read = this.#readL2(key);
    this.#reads.set(key, read);
    return read;
  }

  /**
   * Never rejects (Redis failures are FAILED inside #l2); removes itself from #reads when done. Not
   * async, and #l2 neither: the reply is decoded inside the one promise the deadline creates, where
   * three async layers (#readL2, #l2, Deadlines.guard) each added a promise and a microtask:
   * 2.8 -> 2.2 KB allocated per L2 hit in-process, and fewer scavenges is what keeps a loaded
   * machine's latency close to a raw GET's (GC helper threads compete for the same cores).
   */
  #readL2(key: string): Promise<unknown> {
    const epoch = this.#epoch;
    const pk = this.#prefix + key;
    // With exactBackfillTtl, PTTL travels in the same round trip so the L1 copy expires with the Redis entry.
    return this.#l2<string | null | [string | null, number], unknown>(
      CACHE_OPERATION.get,
      (c) => (this.#exactBackfillTtl ? Promise.all([c.get(pk), c.pttl(pk)]) : c.get(pk)),
      this.#timeoutMs,
      (reply) => this.#decodeL2(key, epoch, reply),
    );
  }

  /** What an L2 read found: the value (L1 backfilled), MISS, or UNAVAILABLE when Redis could not be reached. */
  #decodeL2(key: string, epoch: number, reply: string | null | [string | null, number] | typeof FAILED): unknown {
    // May drop a newer read started after an invalidation; harmless, the next caller starts another.
    this.#reads.delete(key);
    if (reply === FAILED) {
      this.#metrics.l2Miss++;
      return UNAVAILABLE;
    }
    const raw = typeof reply === "string" || reply === null ? reply : reply[0];
    if (raw === null) {
      this.#metrics.l2Miss++;
      return MISS;
    }
    let value: unknown;
    try {
      value = this.#serializer.deserialize(raw);
    } catch {
      // Written by something else or by an older serializer: treat as a miss, the next write replaces it.
      this.#metrics.l2Miss++;
      this.#metrics.error(CACHE_OPERATION.get);
      return MISS;
    }
    this.#metrics.l2Hit++;
    const remaining = Array.isArray(reply) && reply[1] > 0 ? reply[1] : undefined;
    if (epoch === this.#epoch && !this.#closed) this.#writeL1(key, value, raw, this.#l1Ttl(remaining));
    return value;
  }

  /**
   * Runs one Redis step behind the breaker and a timeout. Any failure is counted and becomes FAILED;
   * while the breaker is open the call is skipped at once (a dead Redis costs nothing per call).
   * `then` maps the outcome, FAILED included, in the same settlement. Never rejects unless `then` throws.
   */
  #l2<T, R = T | typeof FAILED>(
    operation: CacheOperation,
    command: (client: RedisClient) => Promise<T>,
    timeoutMs = this.#timeoutMs,
    then: (reply: T | typeof FAILED) => R = same as (reply: T | typeof FAILED) => R,
  ): Promise<R> {
    const client = this.#client;
    if (!client || this.#closed) return settled(then, FAILED);
    if (!this.#breaker.allow()) {
      this.#metrics.error(operation);
      return settled(then, FAILED);
    }
    if (this.#firstConnect) return this.#firstConnect.then(() => this.#send(operation, client, command, timeoutMs, then));
    return this.#send(operation, client, command, timeoutMs, then);
  }

  #send<T, R>(
    operation: CacheOperation,
    client: RedisClient,
    command: (client: RedisClient) => Promise<T>,
    timeoutMs: number,
    then: (reply: T | typeof FAILED) => R,
  ): Promise<R> {
    let sent: Promise<T>;
    try {
      // A command that throws instead of rejecting is a failure like any other.
      sent = command(client);
    } catch (error) {
      return settled((e: unknown) => then(this.#failed(operation, e)), error);
    }
    // Inline arrows, not named consts: esbuild's keepNames (tsx, which the bench runs) wraps a named
    // closure in __name(), a defineProperty per call.
    return Number.isFinite(timeoutMs)
      ? this.#deadlines.map(
          sent,
          timeoutMs,
          (reply) => this.#succeeded(reply, then),
          (error) => then(this.#failed(operation, error)),
        )
      : sent.then(
          (reply) => this.#succeeded(reply, then),
          (error: unknown) => then(this.#failed(operation, error)),
        );
  }

  #succeeded<T, R>(reply: T, then: (reply: T | typeof FAILED) => R): R {
    this.#breaker.success();
    return then(reply);
  }

  #failed(operation: CacheOperation, error: unknown): typeof FAILED {
    this.#breaker.failure();
    this.#metrics.error(operation);
    // A cluster error (CROSSSLOT, MOVED/ASK storm) is answered like any failure, and also named.
    this.#clusterErrors.report(error, operation);
    this.#emit({ type: "error", operation, error });
    return FAILED;
  }

  /** The L1 copy of `key` if it expired at most `staleIfErrorMs` ago (Redis being unreachable), else a miss. */
  #stale<T>(key: string): CacheEntry<T> {
    if (this.#staleIfErrorMs === 0 || this.#closed) return MISSED;
    const status: LRUCache.Status<string, NonNullable<unknown>> = {};
    const value = this.#l1.get(key, { allowStale: true, status });
    if (value === undefined) return MISSED;
    // Written again while Redis was being tried: a fresh hit.
    if (status.get === "hit") return { status: "hit", value: unwrap(value) as T };
    const ageMs = (status.now ?? 0) - ((status.start ?? 0) + (status.ttl ?? 0));
    if (ageMs > this.#staleIfErrorMs) {
      this.#l1.delete(key);
      return MISSED;
    }
    this.#emit({ type: "stale", key, ageMs });
    return { status: "stale", value: unwrap(value) as T, ageMs };
  }

  #isPending(key: string): boolean {
    if (this.#pendingKeys.has(key)) return true;
    for (const re of this.#pendingPatterns.values()) if (re.test(key)) return true;
    return false;
  }

  #queueKey(key: string): void {
    if (this.#closed) return;
    this.#pendingKeys.add(key);
    // A bounded queue: past the bound, one whole-namespace invalidation replaces the keys (broader, never stale).
    if (this.#pendingKeys.size > MAX_PENDING_KEYS) {
      this.#pendingKeys.clear();
      this.#queuePattern("*");
    }
    this.#scheduleReplay(REPLAY_RETRY_MS);
  }

  #queuePattern(pattern: string): void {
    if (this.#closed) return;
    this.#pendingPatterns.set(pattern, globToRegExp(pattern));
    this.#scheduleReplay(REPLAY_RETRY_MS);
  }

  #scheduleReplay(delayMs: number): void {
    if (this.#closed || this.#replayTimer || this.pendingInvalidations === 0) return;
    this.#replayTimer = setTimer(() => {
      this.#replayTimer = undefined;
      void this.#replay();
    }, delayMs);
    this.#replayTimer.unref();
  }

  /**
   * Sends the queued invalidations (UNLINK + publish, SCAN for patterns) and forgets each one Redis
   * took. Anything still queued afterwards (Redis unreachable again) is retried by a timer.
   */
  #replay(): Promise<void> {
    // Reset in `.finally`, which always runs in a later microtask, after the assignment. An inline async body
    // reached its reset before the assignment when the queue was already empty (a set had cleared it), and the
    // settled promise then stayed in #replaying and stopped every later replay.
    this.#replaying ??= this.#replayQueue().finally(() => {
      this.#replaying = undefined;
      this.#scheduleReplay(REPLAY_RETRY_MS);
    });
    return this.#replaying;
  }

  async #replayQueue(): Promise<void> {
    const keys = [...this.#pendingKeys];
    for (let i = 0; i < keys.length; i += REPLAY_BATCH) {
      const batch = keys.slice(i, i + REPLAY_BATCH);
      const message = this.#message({ k: batch });
      const r = await this.#l2(CACHE_OPERATION.delete, (c) =>
        Promise.all([
          unlinkKeys(
            c,
            batch.map((k) => this.#prefix + k),
          ),
          message ? c.publish(this.#channel, message) : 0,
        ]),
      );
      if (r === FAILED) return;
      for (const k of batch) this.#pendingKeys.delete(k);
    }
    for (const [pattern, re] of [...this.#pendingPatterns]) {
      if ((await this.#unlinkPattern(pattern)) === FAILED) return;
      if ((await this.#publishPattern(pattern)) === FAILED) return;
      if (this.#pendingPatterns.get(pattern) === re) this.#pendingPatterns.delete(pattern);
    }
  }

  /** SCAN + UNLINK of this namespace's keys matching `pattern`; the count removed, or FAILED. */
  #unlinkPattern(pattern: string): Promise<number | typeof FAILED> {
    const timeout = this.#invalidateTimeoutMs;
    return this.#l2(
      CACHE_OPERATION.invalidate,
      (c) =>
        unlinkMatching(c, escapeGlob(this.#prefix) + pattern, {
          count: this.#scanCount,
          guard: (p) => this.#deadlines.guard(p, timeout),
        }),
      // the guard bounds each step; the whole walk may take longer than one command timeout
      Number.POSITIVE_INFINITY,
    );
  }

  /** Tells the other instances to drop `pattern` from their L1 (nothing to do without the bus). */
  async #publishPattern(pattern: string): Promise<number | typeof FAILED> {
    const message = this.#message({ p: pattern });
    return message ? this.#l2(CACHE_OPERATION.publish, (c) => c.publish(this.#channel, message)) : 0;
  }

  #message(body: { k: string[] } | { p: string }): string | undefined {
    return this.#bus ? encodeMessage({ i: this.instanceId, ...body }) : undefined;
  }

  /** Drops in-flight reads/loads so later callers do not join a result from before the invalidation. */
  #forget(key: string): void {
    this.#epoch++;
    this.#reads.delete(key);
    this.#loads.delete(key);
  }

  #evictKeys(keys: string[]): void {
    for (const key of keys) {
      this.#forget(key);
      this.#l1.delete(key);
    }
    this.#metrics.invalidation(CACHE_OPERATION.remote);
  }

  #evictPattern(pattern: string): number {
    const re = globToRegExp(pattern);
    this.#epoch++;
    for (const key of [...this.#reads.keys()]) if (re.test(key)) this.#reads.delete(key);
    for (const key of [...this.#loads.keys()]) if (re.test(key)) this.#loads.delete(key);
    const matched = [...this.#l1.keys()].filter((k) => re.test(k));
    for (const key of matched) this.#l1.delete(key);
    return matched.length;
  }

  /** Called by the bus for a pattern from another instance. */
  #evictRemotePattern(pattern: string): void {
    this.#evictPattern(pattern);
    this.#metrics.invalidation(CACHE_OPERATION.remote);
  }
}
