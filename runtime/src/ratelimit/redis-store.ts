import type { RedisOptions } from "ioredis";
import { CircuitBreaker, type BreakerState, type CircuitBreakerOptions } from "../cache/breaker";
import { boolean, duration, integer, object, oneOf, string, validateOptions, type SpecFor } from "../options";
import { connectPrimaries, connectRedis, isCluster, REDIS_MODES, type RedisClient, type RedisMode } from "../redis/connect";
import { groupBySlot, PREFIX_BRACES_PROBLEM, slotKey } from "../redis/hash-tag";
import { RateLimitOptionsError, RateLimitStoreError } from "./errors";
import { LocalReservations, admittedDecision } from "./reservations";
import { describe } from "./sliding-window";
import type { RateLimitStore, StoreDecision } from "./types";
import { setTimer } from "../timer";

/** How long ready() waits for a cluster's primaries to accept their connection (a PING each). */
const PRIMARIES_CONNECT_WAIT_MS = 5_000;

/** Lua shared by both scripts: Redis' clock in ms, and the reply list. */
const REDIS_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
`;

/** Lua shared by both scripts, inside the per-key loop (w set): window index, elapsed ms, curr and prev of KEYS[k]. */
const WINDOW_STATE = `  local idx = math.floor(now / w)
  local elapsed = now - idx * w
  local s = redis.call('HMGET', KEYS[k], 'i', 'c', 'p')
  local si = tonumber(s[1])
  local curr, prev = 0, 0
  if si == idx then
    curr = tonumber(s[2]); prev = tonumber(s[3])
  elseif si == idx - 1 then
    prev = tonumber(s[2])
  end
`;

/**
 * Lua shared by the three scripts, after a write of KEYS[k] (k set) in window idx: the key lives until
 * the end of the window after idx, Redis time (idx + 2) * w, which is the same for every write in
 * window idx. So the TTL is set by the first write of a window (the hash held another window's index,
 * or nothing) and left alone by the others: HSET keeps a key's TTL. One command per check fewer than
 * setting it on every write, with the same expiry.
 */
const EXPIRE_ONCE_PER_WINDOW = `  if si ~= idx then redis.call('PEXPIRE', KEYS[k], 2 * w - elapsed) end
`;

/**
 * The sliding-window counter of sliding-window.ts, in one Lua script so a check is atomic (EVALSHA
 * through ioredis' defineCommand, which falls back to EVAL after a restart flushed the script cache).
 * The clock is Redis' TIME, so instances with skewed clocks still agree on the window. One hash per
 * key: i = window index, c = its count, p = previous count.
 *
 * The script takes a batch: every check issued in one event-loop iteration goes to Redis as one call
 * (KEYS[k] with ARGV window/limit pairs), applied in order inside one atomic script. Concurrent checks
 * of one key are thereby coalesced into one round trip and stay exact; 100 concurrent callers cost
 * Redis one script call per iteration instead of 100. (Every key of one script call must be in one slot
 * on a Redis Cluster, or it answers CROSSSLOT: there a batch is split per hash tag, see #batches.)
 * Returns per key [allowed, curr, prev, elapsed]. Used with `reserve` 1 (the default).
 */
const HIT_SCRIPT = `
${REDIS_NOW}for k = 1, #KEYS do
  local w = tonumber(ARGV[2 * k - 1])
  local limit = tonumber(ARGV[2 * k])
${WINDOW_STATE}  local allowed = 0
  if prev * (w - elapsed) + (curr + 1) * w <= limit * w then
    allowed = 1
    curr = curr + 1
    redis.call('HSET', KEYS[k], 'i', idx, 'c', curr, 'p', prev)
${EXPIRE_ONCE_PER_WINDOW}  end
  out[#out + 1] = allowed
  out[#out + 1] = curr
  out[#out + 1] = prev
  out[#out + 1] = elapsed
end
return out
`;

/**
 * HIT_SCRIPT with grants, for `reserve` > 1 (same keys, same hash, so replicas with different
 * `reserve` share counts). ARGV per key: window, limit, need, want.
 *
 * Per key, `room` is how many more hits the window admits right now (the largest j with
 * prev * (w - elapsed) + (curr + j) * w <= limit * w, i.e. admits() j times in a row). The script grants
 * g = max(min(need, room), min(want, room, ceil(room / 8))) and counts g: the `need` checks the entry
 * carries are admitted exactly as `need` single checks would be, plus up to `want` tokens more, which
 * the replica hands out locally (reservations.ts); at most an eighth of the room, so near the limit
 * grants shrink to 1 and tokens stranded on other replicas stay few. With need = want = 1 this is
 * exactly HIT_SCRIPT's check.
 * Returns per key [g, curr, prev, elapsed, windowIndex] (curr after the grant).
 */
const RESERVE_SCRIPT = `
${REDIS_NOW}for k = 1, #KEYS do
  local w = tonumber(ARGV[4 * k - 3])
  local limit = tonumber(ARGV[4 * k - 2])
  local need = tonumber(ARGV[4 * k - 1])
  local want = tonumber(ARGV[4 * k])
${WINDOW_STATE}  local room = math.floor((limit * w - prev * (w - elapsed)) / w) - curr
  -- Integer guard against the division's rounding: admits() must hold for every granted hit.
  while room > 0 and prev * (w - elapsed) + (curr + room) * w > limit * w do room = room - 1 end
  local g = 0
  if room > 0 then
    g = math.min(need, room)
    local extra = math.min(want, room, math.ceil(room / 8))
    if extra > g then g = extra end
    curr = curr + g
    redis.call('HSET', KEYS[k], 'i', idx, 'c', curr, 'p', prev)
${EXPIRE_ONCE_PER_WINDOW}  end
  out[#out + 1] = g
  out[#out + 1] = curr
  out[#out + 1] = prev
  out[#out + 1] = elapsed
  out[#out + 1] = idx
end
return out
`;

/**
 * One key, one operation, atomically (the key's hash as HIT_SCRIPT keeps it, so every path shares the
 * counts): ARGV window, limit, points, mode.
 * - consume: a hit of `points` (weighted; admitted when prev * (w - elapsed) + (curr + points) * w <= limit * w);
 * - adjust: adds `points` unconditionally (penalty), or gives -points back (reward: current window
 *   first, then the previous one, never below zero); a key left with no counts is deleted;
 * - peek: nothing written.
 * Returns [allowed, curr, prev, elapsed]; for adjust and peek `allowed` says whether a 1-point hit
 * would be admitted now.
 */
const OP_SCRIPT = `
local w = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local mode = ARGV[4]
local k = 1
${REDIS_NOW}${WINDOW_STATE}local allowed = 0
local write = false
if mode == 'consume' then
  if prev * (w - elapsed) + (curr + points) * w <= limit * w then
    allowed = 1
    curr = curr + points
    write = true
  end
elseif mode == 'adjust' then
  if points >= 0 then
    curr = curr + points
  else
    local fromCurr = math.min(curr, -points)
    curr = curr - fromCurr
    prev = math.max(0, prev - (-points - fromCurr))
  end
  if curr == 0 and prev == 0 then redis.call('DEL', KEYS[1]) else write = true end
end
if write then
  redis.call('HSET', KEYS[1], 'i', idx, 'c', curr, 'p', prev)
${EXPIRE_ONCE_PER_WINDOW}end
if mode ~= 'consume' and prev * (w - elapsed) + (curr + 1) * w <= limit * w then allowed = 1 end
return {allowed, curr, prev, elapsed}
`;

const HIT_COMMAND = "uaipRateLimitHitBatch";
const RESERVE_COMMAND = "uaipRateLimitReserveBatch";
const OP_COMMAND = "uaipRateLimitOp";
type OpMode = "consume" | "adjust" | "peek";
/**
 * HIT_COMMAND: (numberOfKeys, ...keys, ...[windowMs, limit] per key) -> [allowed, curr, prev, elapsed] per key.
 * RESERVE_COMMAND: (numberOfKeys, ...keys, ...[windowMs, limit, need, want] per key) -> [granted, curr, prev, elapsed, windowIndex] per key.
 */
type HitCommand = (...args: (string | number)[]) => Promise<number[]>;
const HIT_FIELDS = 4;
const RESERVE_FIELDS = 5;

interface PendingHit {
  key: string;
  windowMs: number;
  limit: number;
  resolve: (decision: StoreDecision) => void;
  reject: (error: unknown) => void;
  /** Tokens the script call asks for: 1, or with reservations the checks it carries plus the slow-start want - 1. */
  want: number;
  /** With reservations: later checks of the same key in the same batch, carried by this entry. */
  rest: PendingHit[] | undefined;
}

export interface RedisStoreOptions {
  /**
   * An ioredis client to use (not closed by close()). Give it `enableOfflineQueue: false` and a
   * short `commandTimeout` so an outage fails fast; the store also refuses to send while the
   * client is not "ready".
   */
  client?: RedisClient;
  /**
   * For an owned client: `standalone` (one primary) or `cluster` (ioredis Cluster: Redis Cluster,
   * ElastiCache cluster mode or Serverless; `url`/`host` is any node or the configuration endpoint).
   * An injected Cluster client is recognised without it. @default "standalone"
   */
  mode?: RedisMode;
  /** Connect to this URL instead (the store owns and closes that client). */
  url?: string;
  /** Or connect to this host (the seed's `redis: { host, port }`). @default none */
  host?: string;
  /** @default 6379 */
  port?: number;
  /** For an owned client: AUTH password / ElastiCache auth token. @default none */
  password?: string;
  /** For an owned client: connect with TLS. @default false */
  tls?: boolean;
  /** The seed's `redis.maxConnections`: the store uses one connection, so any value >= 1 is met. @default 1 */
  maxConnections?: number;
  /** Prefix of every key. @default "uaip:rl:" */
  keyPrefix?: string;
  /** For an owned client: per-command timeout, ms. @default 50 */
  commandTimeoutMs?: number;
  /**
   * Send the checks issued in one event-loop iteration as one script call (see HIT_SCRIPT): one round trip
   * and one script run for many callers, still exact. On a Redis Cluster one call per slot. @default true
   */
  batching?: boolean;
  /** Most checks (with `reserve` > 1: most keys) in one script call. @default 256 */
  maxBatch?: number;
  /**
   * Local reservations: take up to this many tokens of a key's allowance per script call and admit the
   * key's following checks in this process, without a round trip, until Redis' window ends. Per key
   * the ask starts at 1 and doubles each time the tokens run out within a window (slow start), and
   * Redis grants at most an eighth of what the window still allows, so near the limit it is 1.
   * Never over-admits across replicas (the tokens are counted in Redis before they are handed out);
   * the price is early refusals: tokens one replica holds unused are refused to the others, at most
   * `reserve - 1` per replica per window per key. Tokens already held are still handed out while
   * Redis is down (they were counted). Keys remembered: at most 10 000 (LRU). 1 sends every check to Redis.
   * @default 1
   */
  reserve?: number;
  /**
   * Until the first connection is up, checks wait for it at most this long (then fail to the failure
   * policy), so a limiter created just before a burst still counts in Redis instead of per process.
   * @default 1000
   */
  firstConnectWaitMs?: number;
  /** The circuit breaker in front of Redis (the cache's): while open, checks fail at once and the limiter's failurePolicy answers. @default { failureThreshold: 5, cooldownMs: 1000 } */
  breaker?: CircuitBreakerOptions;
  /** For an owned client: extra ioredis options (override the fail-fast defaults at your own risk). */
  redisOptions?: RedisOptions;
}

/** A redis:// or rediss:// URL that ioredis can parse (it throws an untyped error, or connects to localhost, on others). */
export const REDIS_URL = string({ pattern: /^rediss?:\/\/[^\s]*$/i, what: "a redis:// or rediss:// URL" });

const REDIS_STORE_OPTIONS_SPEC = {
  client: object<RedisClient>("an ioredis client", (v) => typeof (v as RedisClient).defineCommand === "function"),
  mode: oneOf(REDIS_MODES),
  url: {
    ...REDIS_URL,
    problem: (v: unknown) => REDIS_URL.problem(v) ?? (URL.canParse(v as string) ? undefined : "not a parseable URL"),
  },
  host: string({ nonEmpty: true, what: "a host name or address" }),
  port: integer(1, 65_535),
  password: string(),
  tls: boolean,
  maxConnections: integer(1, 100_000),
  keyPrefix: {
    ...string({ nonEmpty: true }),
    problem: (v: unknown) =>
      string({ nonEmpty: true }).problem(v) ?? (/[{}]/.test(v as string) ? PREFIX_BRACES_PROBLEM : undefined),
  },
  commandTimeoutMs: duration(1),
  batching: boolean,
  maxBatch: integer(1, 100_000),
  reserve: integer(1, 1_000_000),
  firstConnectWaitMs: duration(0),
  breaker: object<CircuitBreakerOptions>("{ failureThreshold, cooldownMs }"),
  redisOptions: object<RedisOptions>("ioredis options"),
} satisfies SpecFor<RedisStoreOptions>;

export const REDIS_STORE_OPTIONS = Object.keys(REDIS_STORE_OPTIONS_SPEC);

const optionsError = (key: string, message: string) => new RateLimitOptionsError(key, message);

/** Atomic Redis store: exact across any number of limiter instances sharing the Redis. */
export class RedisStore implements RateLimitStore {
  readonly client: RedisClient;
  /** True on a Redis Cluster: a batch goes as one script call per slot. */
  readonly #cluster: boolean;
  #owned: boolean;
  #prefix: string;
  #hit: HitCommand;
  #opCommand: HitCommand;
  readonly #breaker: CircuitBreaker;
  /** One error for every check refused while the breaker is open: no stack capture on that path. */
  readonly #open = new RateLimitStoreError(
    "redis circuit breaker is open (recent failures); the failure policy answers until a probe succeeds",
  );
  readonly #onReady = (): void => this.#breaker.success();
  readonly #batching: boolean;
  readonly #maxBatch: number;
  /** Tokens counted in Redis for this replica (reserve > 1), else undefined: every check goes to Redis. */
  readonly #reservations: LocalReservations | undefined;
  #queue: PendingHit[] = [];
  #firstConnect: Promise<boolean> | undefined;
  readonly #flush = (): void => this.#send();

  constructor(options: RedisStoreOptions) {
    validateOptions("RedisStore", options, REDIS_STORE_OPTIONS_SPEC, optionsError);
    if (!options?.client && !options?.url && !options?.host)
      throw new RateLimitOptionsError("store", "RedisStore needs `client`, `url` or `host`");
    if (
      options.client &&
      (options.url ||
        options.host ||
        options.password ||
        options.tls ||
        options.redisOptions ||
        options.commandTimeoutMs ||
        options.mode)
    ) {
      throw new RateLimitOptionsError(
        "client",
        "connection options (url, host, port, mode, password, tls, commandTimeoutMs, redisOptions) apply to a client the store creates; configure the injected client yourself",
      );
    }
    this.#batching = options.batching ?? true;
    this.#maxBatch = options.maxBatch ?? 256;
    const reserve = options.reserve ?? 1;
    this.#reservations = reserve > 1 ? new LocalReservations(reserve) : undefined;
    this.#prefix = options.keyPrefix ?? "uaip:rl:";
    this.#owned = !options.client;
    this.#breaker = new CircuitBreaker(options.breaker, optionsError, "RedisStore");
    const owned: RedisOptions = {
      // Fail fast: no queueing while disconnected, no per-command retries, short timeout;
      // reconnect in the background quickly so the store recovers by itself.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 50,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
      // ioredis holds a ref'd timer this long after a disconnect() of a socket that never
      // connected (default 2 s), which keeps a closing process alive through an outage.
      disconnectTimeout: 200,
      ...(options.password ? { password: options.password } : {}),
      ...(options.tls ? { tls: {} } : {}),
      ...options.redisOptions,
    };
    // The runtime's one Redis factory (a Cluster for mode "cluster"); TLS and the password were folded into `owned` above.
    this.client =
      options.client ?? connectRedis({ mode: options.mode, url: options.url, host: options.host, port: options.port }, owned);
    this.#cluster = isCluster(this.client);
    // An unhandled 'error' event would crash the process; the failure shows up per call instead.
    if (this.#owned) this.client.on("error", () => {});
    this.client.on("ready", this.#onReady);
    const commands = this.client as unknown as Record<string, HitCommand | undefined>;
    const [command, lua] = this.#reservations === undefined ? [HIT_COMMAND, HIT_SCRIPT] : [RESERVE_COMMAND, RESERVE_SCRIPT];
    // No numberOfKeys: the first argument says how many keys this batch has.
    if (typeof commands[command] !== "function") this.client.defineCommand(command, { lua });
    this.#hit = (commands[command] as HitCommand).bind(this.client);
    if (typeof commands[OP_COMMAND] !== "function") this.client.defineCommand(OP_COMMAND, { lua: OP_SCRIPT, numberOfKeys: 1 });
    this.#opCommand = (commands[OP_COMMAND] as HitCommand).bind(this.client);
    const wait = options.firstConnectWaitMs ?? 1_000;
    if (this.client.status !== "ready" && wait > 0) {
      const first = new Promise<boolean>((resolve) => {
        const timer = setTimer(() => resolve(false), wait);
        timer.unref();
        this.client.once("ready", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      this.#firstConnect = first;
      // After the first outcome, a disconnected client fails fast (the breaker takes over).
      void first.then(() => (this.#firstConnect = undefined));
    }
  }

  /** The breaker's state: `closed` (healthy), `open` (skipping Redis), `half-open` (one probe in flight). */
  get state(): BreakerState {
    return this.#breaker.state;
  }

  /**
   * Resolves once the client is connected (useful before the first burst, since nothing is queued):
   * on a cluster, once every primary's connection is open too (connectPrimaries), or 5 s passed.
   */
  async ready(): Promise<void> {
    if (this.client.status !== "ready") await new Promise<void>((resolve) => this.client.once("ready", () => resolve()));
    await connectPrimaries(this.client, PRIMARIES_CONNECT_WAIT_MS);
  }

  /** Tokens this replica holds for `key` right now (reserve > 1; 0 once the window ended). */
  reserved(key: string): number {
    return this.#reservations?.held(key) ?? 0;
  }

  /**
   * With `reserve` > 1, a token this replica already holds for `key` (counted in Redis before it was
   * handed out, so it is also handed out while Redis is down); else undefined: `hit` goes to Redis.
   */
  hitNow(key: string, windowMs: number, limit: number): StoreDecision | undefined {
    return this.#reservations?.take(key, windowMs, limit);
  }

  hit(key: string, windowMs: number, limit: number, points = 1): Promise<StoreDecision> {
    // Weighted hits go to Redis one by one (no batch, no local tokens); the counts are the same hash.
    if (points !== 1) return this.#op(key, windowMs, limit, points, "consume");
    if (this.#reservations !== undefined) {
      // Tokens already held were counted in Redis: handed out without a round trip, and also while the
      // breaker is open or Redis is down (admitting them cannot exceed the limit; see reservations.ts).
      const local = this.#reservations.take(key, windowMs, limit);
      if (local !== undefined) return Promise.resolve(local);
    }
    // While open, a check costs one branch and a rejected promise: the failure policy answers at in-memory speed.
    if (!this.#breaker.allow()) return Promise.reject(this.#open);
    if (this.client.status !== "ready") {
      if (this.#firstConnect) return this.#firstConnect.then(() => this.hit(key, windowMs, limit));
      this.#breaker.failure();
      return Promise.reject(new RateLimitStoreError(`redis is not ready (status ${this.client.status})`));
    }
    if (!this.#batching) return this.#sendOne(key, windowMs, limit);
    return new Promise<StoreDecision>((resolve, reject) => {
      // The first check of a loop iteration schedules the flush. setImmediate, not nextTick: each
      // request's handler runs in its own I/O callback and a tick ends with each, so a per-tick flush
      // sent one script call per request; the check phase follows all of this poll phase's callbacks.
      if (this.#queue.push({ key, windowMs, limit, resolve, reject, want: 1, rest: undefined }) === 1) setImmediate(this.#flush);
    });
  }

  /**
   * With reservations, the queued checks that the tokens granted since they queued now cover are
   * admitted here, and the others are grouped per key: one script entry carries all of a key's checks
   * and asks for the slow-start want on top.
   */
  #group(queue: PendingHit[], reservations: LocalReservations, now: number): PendingHit[] {
    const entries: PendingHit[] = [];
    const byKey = new Map<string, PendingHit>();
    for (const h of queue) {
      const local = reservations.take(h.key, h.windowMs, h.limit, now);
      if (local !== undefined) {
        h.resolve(local);
        continue;
      }
      const first = byKey.get(h.key);
      if (first !== undefined && first.windowMs === h.windowMs && first.limit === h.limit) {
        (first.rest ??= []).push(h);
        continue;
      }
      byKey.set(h.key, h);
      entries.push(h);
    }
    for (const e of entries) e.want = (e.rest?.length ?? 0) + reservations.want(e.key, e.windowMs, e.limit, now);
    return entries;
  }

  /** One script call per batch; each caller gets its own decision, or the batch's failure. */
  #send(): void {
    const sentAt = performance.now();
    const queue = this.#reservations === undefined ? this.#queue : this.#group(this.#queue, this.#reservations, sentAt);
    this.#queue = [];
    for (const batch of this.#batches(queue)) {
      const args: (string | number)[] = [batch.length];
      for (const h of batch) args.push(slotKey(this.#prefix, h.key));
      if (this.#reservations === undefined) for (const h of batch) args.push(h.windowMs, h.limit);
      else for (const h of batch) args.push(h.windowMs, h.limit, h.rest === undefined ? 1 : 1 + h.rest.length, h.want);
      this.#hit(...args).then(
        (reply) => {
          this.#breaker.success();
          if (this.#reservations === undefined) {
            for (let i = 0; i < batch.length; i++) {
              const h = batch[i];
              const o = HIT_FIELDS * i;
              h.resolve(describe(reply[o] === 1, reply[o + 2], reply[o + 1], reply[o + 3], h.windowMs, h.limit));
            }
            return;
          }
          for (let i = 0; i < batch.length; i++) {
            const h = batch[i];
            const o = RESERVE_FIELDS * i;
            if (h.rest === undefined) h.resolve(this.#decide(h.key, h.windowMs, h.limit, h.want, 1, reply, o, sentAt, 0));
            else {
              const need = 1 + h.rest.length;
              h.resolve(this.#decide(h.key, h.windowMs, h.limit, h.want, need, reply, o, sentAt, 0));
              for (let j = 0; j < h.rest.length; j++)
                h.rest[j].resolve(this.#decide(h.key, h.windowMs, h.limit, h.want, need, reply, o, sentAt, j + 1));
            }
          }
        },
        (err: Error) => {
          this.#breaker.failure();
          const error = new RateLimitStoreError(`redis rate-limit check failed: ${err.message}`, { cause: err });
          for (const h of batch) {
            h.reject(error);
            if (h.rest !== undefined) for (const r of h.rest) r.reject(error);
          }
        },
      );
    }
  }

  /**
   * The queue cut into script calls of at most maxBatch checks; on a Redis Cluster also per hash tag, so
   * every call's keys share one slot (one client's checks stay together and in order).
   */
  #batches(queue: PendingHit[]): PendingHit[][] {
    const batches: PendingHit[][] = [];
    const parts = this.#cluster ? groupBySlot(true, queue, (h) => slotKey(this.#prefix, h.key)) : [queue];
    for (const part of parts)
      for (let start = 0; start < part.length; start += this.#maxBatch)
        batches.push(start === 0 && part.length <= this.#maxBatch ? part : part.slice(start, start + this.#maxBatch));
    return batches;
  }

  /**
   * The decision of the `nth` (0-based) of the `need` checks a script entry carried; for the first one,
   * also keeps the tokens granted beyond them (reserve > 1).
   */
  #decide(
    key: string,
    windowMs: number,
    limit: number,
    want: number,
    need: number,
    reply: number[],
    o: number,
    sentAt: number,
    nth: number,
  ): StoreDecision {
    const granted = reply[o];
    const curr = reply[o + 1];
    const prev = reply[o + 2];
    const elapsed = reply[o + 3];
    const decision = describe(nth < granted, prev, curr, elapsed, windowMs, limit);
    if (this.#reservations !== undefined && nth === 0) {
      this.#reservations.keep(key, windowMs, limit, want - need + 1, {
        granted,
        used: Math.min(granted, need),
        decision,
        windowIndex: reply[o + 4],
        elapsedMs: elapsed,
        sentAt,
      });
    }
    if (nth < granted) return admittedDecision(decision, granted, nth);
    // Refused by Redis, but an earlier call of this replica (in flight when this one was sent) may
    // have left tokens of this window here: they were counted, so they admit it.
    return (this.#reservations !== undefined && this.#reservations.take(key, windowMs, limit)) || decision;
  }

  #sendOne(key: string, windowMs: number, limit: number): Promise<StoreDecision> {
    if (this.#reservations === undefined) {
      // A plain promise chain (no async wrappers): this is the per-request path.
      return this.#hit(1, slotKey(this.#prefix, key), windowMs, limit).then(
        (reply) => {
          this.#breaker.success();
          return describe(reply[0] === 1, reply[2], reply[1], reply[3], windowMs, limit);
        },
        (err: Error) => {
          this.#breaker.failure();
          throw new RateLimitStoreError(`redis rate-limit check failed: ${err.message}`, { cause: err });
        },
      );
    }
    const want = this.#reservations.want(key, windowMs, limit);
    const sentAt = performance.now();
    // A plain promise chain (no async wrappers): this is the per-request path.
    return this.#hit(1, slotKey(this.#prefix, key), windowMs, limit, 1, want).then(
      (reply) => {
        this.#breaker.success();
        return this.#decide(key, windowMs, limit, want, 1, reply, 0, sentAt, 0);
      },
      (err: Error) => {
        this.#breaker.failure();
        throw new RateLimitStoreError(`redis rate-limit check failed: ${err.message}`, { cause: err });
      },
    );
  }

  peek(key: string, windowMs: number, limit: number): Promise<StoreDecision> {
    return this.#op(key, windowMs, limit, 0, "peek");
  }

  adjust(key: string, windowMs: number, limit: number, points: number): Promise<StoreDecision> {
    return this.#op(key, windowMs, limit, points, "adjust");
  }

  /**
   * Deletes the key's counts in Redis and this replica's reserved tokens. Tokens other replicas
   * already hold (reserve > 1) are still handed out there: at most `reserve - 1` each, until their window ends.
   */
  delete(key: string): Promise<boolean> {
    this.#reservations?.drop(key);
    return this.#whenUsable(() =>
      this.client.del(slotKey(this.#prefix, key)).then(
        (n) => (this.#breaker.success(), n > 0),
        (err: Error) => this.#failed(err),
      ),
    );
  }

  /** One OP_SCRIPT call behind the breaker; the decision described as for a hit of `points`. */
  #op(key: string, windowMs: number, limit: number, points: number, mode: OpMode): Promise<StoreDecision> {
    return this.#whenUsable(() =>
      this.#opCommand(slotKey(this.#prefix, key), windowMs, limit, points, mode).then(
        (reply) => {
          this.#breaker.success();
          const need = mode === "consume" && reply[0] !== 1 ? points : 1;
          return describe(reply[0] === 1, reply[2], reply[1], reply[3], windowMs, limit, need);
        },
        (err: Error) => this.#failed(err),
      ),
    );
  }

  /** Runs `send` when Redis may be called (breaker closed or probing, client ready or first connect awaited). */
  #whenUsable<T>(send: () => Promise<T>): Promise<T> {
    if (!this.#breaker.allow()) return Promise.reject(this.#open);
    if (this.client.status !== "ready") {
      if (this.#firstConnect) return this.#firstConnect.then(() => this.#whenUsable(send));
      this.#breaker.failure();
      return Promise.reject(new RateLimitStoreError(`redis is not ready (status ${this.client.status})`));
    }
    return send();
  }

  #failed(err: Error): never {
    this.#breaker.failure();
    throw new RateLimitStoreError(`redis rate-limit operation failed: ${err.message}`, { cause: err });
  }

  async close(): Promise<void> {
    this.client.off("ready", this.#onReady);
    this.#reservations?.clear();
    if (!this.#owned) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
