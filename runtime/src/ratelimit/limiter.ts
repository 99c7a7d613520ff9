import type { IncomingMessage } from "node:http";
import { Counter, Registry } from "prom-client";
import { LABEL, LABEL_VALUE, METRIC } from "../metrics/names";
import { RateLimitKeyError, RateLimitOptionsError, RateLimitPointsError, RateLimitStoreError } from "./errors";
import type { RedisClient } from "../redis/connect";
import {
  anyOf,
  checkValue,
  duration,
  func,
  integer,
  object,
  oneOf,
  required,
  showValue,
  string,
  validateOptions,
  type SpecFor,
} from "../options";
import { clientAddressKey } from "./client-key";
import { MemoryStore } from "./memory-store";
import { RedisStore, type RedisStoreOptions } from "./redis-store";
import { ClusterErrorReporter } from "../redis/cluster-errors";
import type { FailurePolicy, RateLimitResult, RateLimitStore, StoreDecision } from "./types";
import { setTimer } from "../timer";

/** The seed's RateLimitConfig. `keyGenerator` maps a request to the key whose rate is limited. */
export interface RateLimitConfig<Req = IncomingMessage> {
  /** Window length, ms. */
  windowMs: number;
  /** Requests allowed per key per window. */
  maxRequests: number;
  keyGenerator: (req: Req) => string;
}

export interface RateLimiterOptions<Req = IncomingMessage> extends Omit<RateLimitConfig<Req>, "keyGenerator"> {
  /** @default the socket's address (`clientAddressKey()`); behind proxies use `clientAddressKey({ hops })` */
  keyGenerator?: (req: Req) => string;
  /** Where counts live. @default a RedisStore when `redis` is given, else a new MemoryStore (single instance only) */
  store?: RateLimitStore;
  /**
   * Count in Redis, shared by every instance: a `redis://` URL (one node), an ioredis client, `Redis`
   * or `Cluster` (left open by close()), or RedisStore options such as the seed's `{ host, port }`
   * (with `mode: "cluster"` for a Redis Cluster). The limiter owns the store it builds. @default none
   */
  redis?: string | RedisClient | Omit<RedisStoreOptions, "client">;
  /**
   * What to answer when the store fails: 'allow' (fail open), 'deny' (fail closed, HTTP 503) or
   * 'memory' (count in this process until the store is back). @default "memory"
   */
  failurePolicy?: FailurePolicy;
  /** Registry for the limiter metrics. @default a private registry */
  registry?: Registry;
  /** Policy name in the RateLimit / RateLimit-Policy headers. @default "default" */
  policyName?: string;
  /** Longest accepted key, characters. @default 512 */
  maxKeyLength?: number;
  /** Retry-After given with a 'deny' answer while the store is down, ms. @default 1000 */
  denyRetryAfterMs?: number;
  /**
   * How many replicas share the limit when the store is down (the HPA's max replicas, UAIP_REPLICAS_MAX).
   * With 'memory', each replica then admits `fallbackLimit` = max(1, floor(maxRequests / fallbackReplicas))
   * per key per window, so up to `fallbackReplicas` replicas together admit at most maxRequests (or
   * fallbackReplicas, when maxRequests < fallbackReplicas). @default 1 (a single instance: the whole limit)
   */
  fallbackReplicas?: number;
  /**
   * Told of each check answered without the store (`degraded`: by the failure policy, with the error) and
   * of the first answer from the store after that (`recovered`), e.g. to log an outage once. @default none
   */
  onStoreEvent?: (event: RateLimitStoreEvent) => void;
}

/** What the limiter reports to `onStoreEvent`. */
export type RateLimitStoreEvent = { type: "degraded"; policy: FailurePolicy; error: unknown } | { type: "recovered" };

const POLICIES: readonly FailurePolicy[] = ["allow", "deny", "memory"];
// Control characters would corrupt logs and Redis key listings.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const defaultKey = clientAddressKey();

const limiterError = (key: string, message: string) => new RateLimitOptionsError(key, message);
/** Points of one consume / penalty / reward (a weighted request). */
const POINTS = integer(1);

const RATE_LIMITER_OPTIONS_SPEC = {
  windowMs: required(duration(1)),
  maxRequests: required(integer(1, 1_000_000_000)),
  keyGenerator: func<(req: never) => string>("a function (req) => string"),
  store: object<RateLimitStore>("a RateLimitStore (hit/close)", (v) => typeof (v as RateLimitStore).hit === "function"),
  // A redis:// URL, an ioredis client or RedisStore options (storeFromRedis tells which, RedisStore checks them).
  // Anything else, null included, is refused here with the other bad options, not by a property read on it.
  redis: anyOf(
    "a redis:// URL, an ioredis client or RedisStore options such as { host, port }",
    string(),
    object("an ioredis client or RedisStore options"),
  ),
  failurePolicy: oneOf(POLICIES),
  registry: object<Registry>("a prom-client Registry"),
  // Sent as a Structured Fields string: printable ASCII without quotes or backslashes.
  policyName: string({
    pattern: /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/,
    what: '1-64 printable ASCII characters without " or \\',
  }),
  maxKeyLength: integer(1, 1_000_000),
  denyRetryAfterMs: duration(1),
  fallbackReplicas: integer(1, 100_000),
  onStoreEvent: func<(event: RateLimitStoreEvent) => void>("a function (event) => void"),
} satisfies SpecFor<RateLimiterOptions>;

export const RATE_LIMITER_OPTIONS = Object.keys(RATE_LIMITER_OPTIONS_SPEC) as readonly (keyof typeof RATE_LIMITER_OPTIONS_SPEC)[];

/**
 * One replica's share of the limit while the shared store is down: floor, so `replicas` replicas never
 * admit more than `maxRequests` together; at least 1, so a key is never locked out entirely (then the
 * replicas together admit up to `replicas`, more than a limit below the replica count).
 */
export function fallbackShare(maxRequests: number, replicas: number): number {
  return Math.max(1, Math.floor(maxRequests / replicas));
}

/** The `redis` option (a string or an object: RATE_LIMITER_OPTIONS_SPEC refused the rest) as a store this limiter owns. */
function storeFromRedis(redis: NonNullable<RateLimiterOptions["redis"]>): RedisStore {
  if (typeof redis === "string") return new RedisStore({ url: redis });
  if (typeof (redis as RedisClient).defineCommand === "function") return new RedisStore({ client: redis as RedisClient });
  return new RedisStore(redis as RedisStoreOptions);
}

/**
 * Limits each key to `maxRequests` per sliding `windowMs`. With a RedisStore the limit holds across
 * every instance sharing the Redis; when the store fails, `failurePolicy` decides, and the result
 * says `degraded: true` so a store outage is never reported as "limit exceeded".
 */
export class RateLimiter<Req = IncomingMessage> {
  readonly windowMs: number;
  readonly maxRequests: number;
  /** What this replica admits per key per window from its in-memory fallback: its share of maxRequests. */
  readonly fallbackLimit: number;
  readonly failurePolicy: FailurePolicy;
  readonly policyName: string;
  readonly keyGenerator: (req: Req) => string;
  readonly registry: Registry;
  #store: RateLimitStore;
  #ownsStore: boolean;
  #insurance: MemoryStore | undefined;
  /** Set when the store is a MemoryStore, whose synchronous answer needs no promise chain. */
  #local: MemoryStore | undefined;
  #maxKeyLength: number;
  #denyRetryAfterMs: number;
  // Plain numbers on the hot path; pushed into prom-client when it scrapes (see collect below).
  #counts = { allowed: 0, rejected: 0, unavailable: 0, storeErrors: 0 };
  #lastStoreError: unknown;
  /** Names a cluster error (CROSSSLOT, MOVED/ASK storm) behind a store failure: metric and log, next to the failure policy. */
  readonly #clusterErrors: ClusterErrorReporter;
  readonly #onStoreEvent: (event: RateLimitStoreEvent) => void;

  constructor(options: RateLimiterOptions<Req>) {
    if (options === undefined)
      throw new RateLimitOptionsError("options", "RateLimiter: options are required: { windowMs, maxRequests }");
    const o = validateOptions("RateLimiter", options, RATE_LIMITER_OPTIONS_SPEC, limiterError, {
      hints: {
        keyPrefix: "the key prefix is a store option: redis: { host, port, keyPrefix } or new RedisStore({ keyPrefix })",
        trustProxy: "pass keyGenerator: clientAddressKey({ hops }) (createRuntime does this from UAIP_TRUSTED_PROXY_HOPS)",
      },
    });
    if (options.store !== undefined && options.redis !== undefined) {
      throw new RateLimitOptionsError(
        "redis",
        'both "store" and "redis" given; pass one: redis builds a RedisStore, store is one you built',
      );
    }
    this.windowMs = o.windowMs!;
    this.maxRequests = o.maxRequests!;
    this.failurePolicy = o.failurePolicy ?? "memory";
    this.keyGenerator = options.keyGenerator ?? (defaultKey as unknown as (req: Req) => string);
    this.policyName = o.policyName ?? "default";
    this.#maxKeyLength = o.maxKeyLength ?? 512;
    this.#denyRetryAfterMs = o.denyRetryAfterMs ?? 1_000;
    const listener = options.onStoreEvent;
    this.#onStoreEvent = listener
      ? (event) => {
          try {
            listener(event);
          } catch {
            // a logging hook must not turn a degraded answer into an exception
          }
        }
      : () => undefined;
    this.fallbackLimit = fallbackShare(this.maxRequests, o.fallbackReplicas ?? 1);
    this.#ownsStore = options.store === undefined;
    this.#store = options.store ?? (options.redis !== undefined ? storeFromRedis(options.redis) : new MemoryStore());
    this.#local = this.#store instanceof MemoryStore ? this.#store : undefined;
    // Any store that can fail (one given, or the RedisStore built from `redis`) gets an in-process insurance store.
    this.#insurance = this.failurePolicy === "memory" && !(this.#store instanceof MemoryStore) ? new MemoryStore() : undefined;

    this.registry = options.registry ?? new Registry();
    this.#clusterErrors = new ClusterErrorReporter(this.registry);
    this.#registerMetrics();
  }

  /** The last store failure, for logs/health checks; undefined once the store answers again. */
  get lastStoreError(): unknown {
    return this.#lastStoreError;
  }

  /**
   * Counts a request of `points` (default 1; a weighted request, e.g. by cost) on `key`: admitted when
   * the window has room for all of its points, else refused counting nothing. Exact across instances
   * like a 1-point check. Rejects only for a malformed key (RateLimitKeyError) or points
   * (RateLimitPointsError: not a positive integer, or more than maxRequests, which no window admits).
   */
  consume(key: string, points = 1): Promise<RateLimitResult> {
    try {
      this.#checkKey(key);
      if (points !== 1) this.#checkPoints(points, this.maxRequests, "consume");
    } catch (err) {
      return Promise.reject(err);
    }
    // The in-process store answers synchronously: skip the extra promise hop (in-memory speed matters here).
    if (this.#local) return Promise.resolve(this.#accepted(this.#local.hitSync(key, this.windowMs, this.maxRequests, points)));
    let pending: Promise<StoreDecision>;
    try {
      pending =
        points === 1
          ? this.#store.hit(key, this.windowMs, this.maxRequests)
          : this.#store.hit(key, this.windowMs, this.maxRequests, points);
    } catch (err) {
      // A custom store that throws instead of rejecting is still a store failure, not a crash.
      return Promise.resolve(this.#degraded(key, err, points));
    }
    return pending.then(
      (decision) => this.#accepted(decision),
      (err: unknown) => this.#degraded(key, err, points),
    );
  }

  /**
   * `consume(key)` (one point) answered in this turn when the store can decide without waiting: the
   * in-process store, or a token a RedisStore with `reserve` > 1 already holds. Undefined when only
   * the store's round trip can tell: then call `consume(key)`. Counts exactly like `consume`; throws
   * RateLimitKeyError for a malformed key. The middleware uses it so a request admitted from local
   * tokens waits for no promise.
   */
  consumeNow(key: string): RateLimitResult | undefined {
    this.#checkKey(key);
    if (this.#local) return this.#accepted(this.#local.hitSync(key, this.windowMs, this.maxRequests));
    const decision = this.#store.hitNow?.(key, this.windowMs, this.maxRequests);
    return decision === undefined ? undefined : this.#accepted(decision);
  }

  /**
   * The key's state without counting anything: `remaining`, `resetMs`, and `allowed` / `retryAfterMs`
   * for a 1-point request now. While the store is down, the failure policy answers as it would for
   * consume (`degraded: true`; with 'memory', from the insurance store), still counting nothing.
   */
  get(key: string): Promise<RateLimitResult> {
    return this.#run(key, (store) => this.#need(store, "peek").call(store, key, this.windowMs, this.maxRequests)).then(
      (decision) => this.#result(decision),
      (err: unknown) => {
        if (err instanceof RateLimitKeyError || err instanceof RateLimitOptionsError) throw err;
        return this.#degradedPeek(key, err);
      },
    );
  }

  /**
   * Adds `points` to the key's usage in the current window without a check (a penalty for a bad
   * request); usage may go past the limit, and then the key waits longer. Answers like `get`.
   * Rejects with RateLimitStoreError when the store is down (nothing was applied).
   */
  penalty(key: string, points = 1): Promise<RateLimitResult> {
    return this.#adjust(key, points, +1);
  }

  /**
   * Gives `points` back (e.g. a request that turned out cheap): taken from the current window's count
   * first, then the previous window's, never below zero. Answers like `get`; rejects with
   * RateLimitStoreError when the store is down (nothing was applied).
   */
  reward(key: string, points = 1): Promise<RateLimitResult> {
    return this.#adjust(key, points, -1);
  }

  /**
   * Forgets the key's counts (the store's, and the insurance store's); resolves whether the store had
   * any. Rejects with RateLimitStoreError when the store is down (the insurance store is cleared anyway).
   */
  reset(key: string): Promise<boolean> {
    void this.#insurance?.delete(key);
    return this.#run(key, (store) => this.#need(store, "delete").call(store, key)).catch((err: unknown) => this.#failed(err));
  }

  /** Alias of `reset` (rate-limiter-flexible's name). */
  delete(key: string): Promise<boolean> {
    return this.reset(key);
  }

  #adjust(key: string, points: number, sign: 1 | -1): Promise<RateLimitResult> {
    return this.#run(key, (store) => {
      this.#checkPoints(points, Number.MAX_SAFE_INTEGER, sign > 0 ? "penalty" : "reward");
      return this.#need(store, "adjust").call(store, key, this.windowMs, this.maxRequests, sign * points);
    }).then(
      (decision) => this.#result(decision),
      (err: unknown) => this.#failed(err),
    );
  }

  /** Checks the key, then calls the store; a synchronous throw becomes a rejection. */
  #run<T>(key: string, call: (store: RateLimitStore) => Promise<T>): Promise<T> {
    try {
      this.#checkKey(key);
      return call(this.#store);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The store's optional method, or a refusal naming it (a custom store without it). */
  #need<M extends "peek" | "adjust" | "delete">(store: RateLimitStore, method: M): NonNullable<RateLimitStore[M]> {
    const fn = store[method];
    if (typeof fn !== "function")
      throw new RateLimitOptionsError(
        "store",
        `the store has no ${method}(); implement RateLimitStore.${method} to use this call`,
      );
    return fn as NonNullable<RateLimitStore[M]>;
  }

  /** A store failure of penalty/reward/reset: counted, then rethrown as the typed error it is. */
  #failed(err: unknown): never {
    if (err instanceof RateLimitKeyError || err instanceof RateLimitOptionsError || err instanceof RateLimitPointsError)
      throw err;
    this.#counts.storeErrors++;
    this.#lastStoreError = err;
    this.#clusterErrors.report(err, "ratelimit");
    if (err instanceof RateLimitStoreError) throw err;
    throw new RateLimitStoreError(`rate-limit store failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  /** The store answered: a failure episode, if one was open, is over. */
  #storeAnswered(): void {
    if (this.#lastStoreError === undefined) return;
    this.#lastStoreError = undefined;
    this.#onStoreEvent({ type: "recovered" });
  }

  #result(decision: StoreDecision): RateLimitResult {
    this.#storeAnswered();
    return { ...decision, limit: this.maxRequests };
  }

  #degradedPeek(key: string, err: unknown): Promise<RateLimitResult> {
    this.#counts.storeErrors++;
    this.#lastStoreError = err;
    this.#clusterErrors.report(err, "ratelimit");
    this.#onStoreEvent({ type: "degraded", policy: this.failurePolicy, error: err });
    const base = { limit: this.maxRequests, degraded: true, reason: "store_unavailable" as const };
    if (this.failurePolicy === "allow")
      return Promise.resolve({ ...base, allowed: true, remaining: this.maxRequests, resetMs: 0, retryAfterMs: 0 });
    if (this.failurePolicy === "deny" || this.#insurance === undefined)
      return Promise.resolve({
        ...base,
        allowed: false,
        remaining: 0,
        resetMs: this.#denyRetryAfterMs,
        retryAfterMs: this.#denyRetryAfterMs,
      });
    return this.#insurance
      .peek(key, this.windowMs, this.fallbackLimit)
      .then((decision) => ({ ...decision, limit: this.fallbackLimit, degraded: true, reason: "memory_fallback" as const }));
  }

  #accepted(decision: StoreDecision): RateLimitResult {
    this.#storeAnswered();
    if (decision.allowed) this.#counts.allowed++;
    else this.#counts.rejected++;
    return {
      allowed: decision.allowed,
      limit: this.maxRequests,
      remaining: decision.remaining,
      resetMs: decision.resetMs,
      retryAfterMs: decision.retryAfterMs,
    };
  }

  /**
   * Resolves true once the store can count (a RedisStore is connected; other stores at once), false
   * after `timeoutMs`. Never throws. Until then checks wait for the first connection (a RedisStore's
   * `firstConnectWaitMs`), then fall back to the failure policy.
   */
  async ready(timeoutMs = 5_000): Promise<boolean> {
    checkValue("RateLimiter.ready", "timeoutMs", timeoutMs, duration(0), limiterError);
    const store = this.#store as RateLimitStore & { ready?: () => Promise<void> };
    if (typeof store.ready !== "function") return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimer(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const ok = await Promise.race([store.ready().then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  }

  /** The seed's API: true when the request is within its limit. */
  async checkLimit(req: Req): Promise<boolean> {
    return (await this.consume(this.keyGenerator(req))).allowed;
  }

  #degraded(key: string, err: unknown, points = 1): RateLimitResult {
    this.#counts.storeErrors++;
    this.#lastStoreError = err;
    this.#clusterErrors.report(err, "ratelimit");
    this.#onStoreEvent({ type: "degraded", policy: this.failurePolicy, error: err });
    const base = { limit: this.maxRequests, degraded: true, reason: "store_unavailable" as const };
    if (this.failurePolicy === "allow") {
      this.#counts.allowed++;
      return { ...base, allowed: true, remaining: this.maxRequests, resetMs: 0, retryAfterMs: 0 };
    }
    if (this.failurePolicy === "deny" || this.#insurance === undefined) {
      this.#counts.unavailable++;
      return { ...base, allowed: false, remaining: 0, resetMs: this.#denyRetryAfterMs, retryAfterMs: this.#denyRetryAfterMs };
    }
    const decision = this.#insurance.hitSync(key, this.windowMs, this.fallbackLimit, points);
    if (decision.allowed) this.#counts.allowed++;
    else this.#counts.rejected++;
    return { ...decision, limit: this.fallbackLimit, degraded: true, reason: "memory_fallback" };
  }

  /**
   * Registers the limiter counters. Several limiters may share a registry: each adds its own
   * deltas to the shared counters at scrape time.
   */
  #registerMetrics(): void {
    const counts = this.#counts;
    const pushed = { allowed: 0, rejected: 0, unavailable: 0, storeErrors: 0 };
    const sync = () => {
      const add = (k: keyof typeof counts, inc: (delta: number) => void) => {
        const delta = counts[k] - pushed[k];
        if (delta > 0) inc(delta);
        pushed[k] = counts[k];
      };
      add("allowed", (d) => requests.inc({ [LABEL.result]: LABEL_VALUE.allowed }, d));
      add("rejected", (d) => requests.inc({ [LABEL.result]: LABEL_VALUE.rejected }, d));
      add("unavailable", (d) => requests.inc({ [LABEL.result]: LABEL_VALUE.storeUnavailable }, d));
      add("storeErrors", (d) => storeErrors.inc(d));
    };
    const existing = this.registry.getSingleMetric(METRIC.rateLimitRequestsTotal) as Counter<string> | undefined;
    const requests =
      existing ??
      new Counter({
        name: METRIC.rateLimitRequestsTotal,
        help: "Rate-limit checks by result",
        labelNames: [LABEL.result],
        registers: [this.registry],
      });
    const storeErrors =
      (this.registry.getSingleMetric(METRIC.rateLimitStoreErrorsTotal) as Counter<string> | undefined) ??
      new Counter({
        name: METRIC.rateLimitStoreErrorsTotal,
        help: "Rate-limit store failures (answered by the failure policy)",
        registers: [this.registry],
      });
    // prom-client calls one `collect` per metric; chain ours after any earlier limiter's.
    for (const metric of [requests, storeErrors] as unknown as { collect?: () => unknown }[]) {
      const previous = metric.collect;
      metric.collect = previous ? () => (previous.call(metric), sync()) : sync;
    }
  }

  /** A per-call point count: the runtime's one validator (value shown as written), then the window's bound. */
  #checkPoints(points: unknown, most: number, call: "consume" | "penalty" | "reward"): void {
    checkValue(`RateLimiter.${call}`, "points", points, POINTS, (_key, message) => new RateLimitPointsError(points, message));
    if ((points as number) > most)
      throw new RateLimitPointsError(
        points,
        `points ${points} exceed maxRequests ${most}: no window could admit it; raise maxRequests or lower the request's weight`,
      );
  }

  #checkKey(key: unknown): void {
    if (typeof key !== "string" || key.length === 0)
      throw new RateLimitKeyError(`rate-limit key must be a non-empty string, got ${showValue(key)}`);
    if (key.length > this.#maxKeyLength)
      throw new RateLimitKeyError(
        `rate-limit key is ${key.length} characters; the limit is ${this.#maxKeyLength} (maxKeyLength)`,
      );
    if (CONTROL_CHARS.test(key)) throw new RateLimitKeyError(`rate-limit key contains control characters: ${showValue(key)}`);
  }

  /** Stops the insurance store's timer and closes a store this limiter created. */
  async close(): Promise<void> {
    await this.#insurance?.close();
    if (this.#ownsStore) await this.#store.close();
  }
}
