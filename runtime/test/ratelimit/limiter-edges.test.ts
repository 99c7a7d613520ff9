/**
 * RateLimiter at its edges (issue #22, mutation survivors): how each option is refused, what each
 * failure policy answers for consume and get while the store fails, the store events and metrics of an
 * outage, the typed errors of penalty/reward/reset, ready(), and the key rule. The failing store is a
 * custom RateLimitStore (the public extension point) wrapping a real MemoryStore, so an outage can
 * start and end between two calls; the Redis paths use a real redis-server.
 */
import { Redis } from "ioredis";
import fc from "fast-check";
import { Registry } from "prom-client";
import { LABEL, LABEL_VALUE, METRIC } from "../../src/metrics/names";
import { RateLimitKeyError, RateLimitOptionsError, RateLimitPointsError, RateLimitStoreError } from "../../src/ratelimit/errors";
import { RateLimiter, type RateLimitStoreEvent } from "../../src/ratelimit/limiter";
import { MemoryStore } from "../../src/ratelimit/memory-store";
import type { RateLimitStore } from "../../src/ratelimit/types";
import { slotKey } from "../../src/redis/hash-tag";
import { useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();

/** A store that answers from a real MemoryStore until `fail` is set, then rejects with it. */
class SwitchableStore implements RateLimitStore {
  readonly inner = new MemoryStore();
  fail: unknown = undefined;
  #or<T>(answer: () => Promise<T>): Promise<T> {
    return this.fail === undefined ? answer() : Promise.reject(this.fail);
  }
  hit(key: string, w: number, limit: number, points?: number) {
    return this.#or(() => this.inner.hit(key, w, limit, points));
  }
  peek(key: string, w: number, limit: number) {
    return this.#or(() => this.inner.peek(key, w, limit));
  }
  adjust(key: string, w: number, limit: number, points: number) {
    return this.#or(() => this.inner.adjust(key, w, limit, points));
  }
  delete(key: string) {
    return this.#or(() => this.inner.delete(key));
  }
  close() {
    return this.inner.close();
  }
}

function refusal(make: () => unknown): RateLimitOptionsError {
  try {
    make();
  } catch (err) {
    expect(err).toBeInstanceOf(RateLimitOptionsError);
    return err as RateLimitOptionsError;
  }
  throw new Error("expected a RateLimitOptionsError");
}

async function metricValue(registry: Registry, name: string, result?: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => result === undefined || v.labels[LABEL.result] === result)?.value;
}

describe("RateLimiter options refused by name", () => {
  it("no options, a store without hit(), both store and redis, a redis value of no known shape", () => {
    const none = refusal(() => new RateLimiter(undefined as never));
    expect(none.key).toBe("options");
    expect(none.message).toContain("{ windowMs, maxRequests }");
    const hitless = refusal(
      () => new RateLimiter({ windowMs: 1_000, maxRequests: 1, store: { close: async () => {} } as never }),
    );
    expect(hitless.key).toBe("store");
    expect(hitless.message).toContain("RateLimiter");
    const both = refusal(
      () => new RateLimiter({ windowMs: 1_000, maxRequests: 1, store: new MemoryStore(), redis: "redis://127.0.0.1:1" }),
    );
    expect(both.key).toBe("redis");
    expect(both.message).toMatch(/both "store" and "redis"/);
    for (const value of [42, null, true]) {
      const odd = refusal(() => new RateLimiter({ windowMs: 1_000, maxRequests: 1, redis: value as never }));
      expect(odd.key).toBe("redis");
      expect(odd.message).toContain(String(value));
    }
  });

  it("a store option's name that belongs elsewhere gets the hint saying where", () => {
    expect(refusal(() => new RateLimiter({ windowMs: 1_000, maxRequests: 1, keyPrefix: "x" } as never)).message).toContain(
      "RedisStore({ keyPrefix })",
    );
    expect(refusal(() => new RateLimiter({ windowMs: 1_000, maxRequests: 1, trustProxy: true } as never)).message).toContain(
      "clientAddressKey({ hops })",
    );
  });
});

describe("RateLimiter's redis option builds the store it names", () => {
  const clients = () => fx.raw.client("LIST").then((list) => String(list).trim().split("\n").length);

  it("a URL or { host, port }: a RedisStore the limiter owns (counts in Redis, closed by close())", async () => {
    for (const redis of [fx.server.url, { host: "127.0.0.1", port: fx.server.port, keyPrefix: "rl-hostport:" }]) {
      const before = await clients();
      const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3, redis });
      expect(await limiter.ready(5_000)).toBe(true);
      const result = await limiter.consume("owned");
      expect(result).toMatchObject({ allowed: true, remaining: 2 });
      expect(result.degraded).toBeUndefined();
      const prefix = typeof redis === "string" ? "uaip:rl:" : "rl-hostport:";
      expect(await fx.raw.exists(slotKey(prefix, "owned"))).toBe(1);
      await limiter.close();
      // The owned connection is gone (QUIT is answered before the server drops it: poll briefly).
      for (let i = 0; i < 50 && (await clients()) > before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await clients()).toBe(before);
    }
  });

  it("an ioredis client: counted through it, and left open by close()", async () => {
    const client = new Redis(fx.server.url, { enableOfflineQueue: false });
    await new Promise((r) => client.once("ready", r));
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3, redis: client });
    expect((await limiter.consume("injected")).degraded).toBeUndefined();
    await limiter.close();
    expect(client.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });
});

describe("RateLimiter while its store fails", () => {
  const error = new Error("ECONNRESET");

  it("consume: 'allow' admits the full limit uncounted, 'deny' answers denyRetryAfterMs, both flagged and metered", async () => {
    const registry = new Registry();
    const store = new SwitchableStore();
    store.fail = error;
    const allow = new RateLimiter({ windowMs: 10_000, maxRequests: 7, store, failurePolicy: "allow", registry });
    for (let i = 0; i < 9; i++)
      expect(await allow.consume("k")).toEqual({
        allowed: true,
        limit: 7,
        remaining: 7,
        resetMs: 0,
        retryAfterMs: 0,
        degraded: true,
        reason: "store_unavailable",
      });
    expect(await metricValue(registry, METRIC.rateLimitRequestsTotal, LABEL_VALUE.allowed)).toBe(9);
    expect(await metricValue(registry, METRIC.rateLimitStoreErrorsTotal)).toBe(9);

    const denyRegistry = new Registry();
    const deny = new RateLimiter({
      windowMs: 10_000,
      maxRequests: 7,
      store,
      failurePolicy: "deny",
      denyRetryAfterMs: 2_500,
      registry: denyRegistry,
    });
    expect(await deny.consume("k")).toEqual({
      allowed: false,
      limit: 7,
      remaining: 0,
      resetMs: 2_500,
      retryAfterMs: 2_500,
      degraded: true,
      reason: "store_unavailable",
    });
    expect(await metricValue(denyRegistry, METRIC.rateLimitRequestsTotal, LABEL_VALUE.storeUnavailable)).toBe(1);
    expect(await metricValue(denyRegistry, METRIC.rateLimitRequestsTotal, LABEL_VALUE.rejected)).toBeUndefined();
    await Promise.all([allow.close(), deny.close(), store.close()]);
  });

  it("get: each policy answers as consume would, counting nothing ('memory' peeks its insurance store)", async () => {
    const store = new SwitchableStore();
    store.fail = error;
    const limiters = (["allow", "deny", "memory"] as const).map(
      (failurePolicy) => new RateLimiter({ windowMs: 60_000, maxRequests: 4, store, failurePolicy, fallbackReplicas: 2 }),
    );
    const [allow, deny, memory] = limiters;
    expect(await allow.get("k")).toMatchObject({ allowed: true, remaining: 4, degraded: true, reason: "store_unavailable" });
    expect(await deny.get("k")).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterMs: 1_000,
      resetMs: 1_000,
      degraded: true,
      reason: "store_unavailable",
    });
    // 'memory' with 2 replicas: each admits floor(4 / 2) = 2 per window from its insurance store.
    await memory.consume("k");
    for (let i = 0; i < 3; i++)
      expect(await memory.get("k")).toMatchObject({
        allowed: true,
        remaining: 1,
        limit: 2,
        degraded: true,
        reason: "memory_fallback",
      });
    await memory.consume("k");
    expect(await memory.get("k")).toMatchObject({ allowed: false, remaining: 0, limit: 2, reason: "memory_fallback" });
    await Promise.all([...limiters.map((l) => l.close()), store.close()]);
  });

  it("onStoreEvent: 'degraded' for every check the policy answered, one 'recovered' at the store's first answer after", async () => {
    const store = new SwitchableStore();
    const events: RateLimitStoreEvent[] = [];
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 100, store, onStoreEvent: (e) => events.push(e) });
    await limiter.consume("k");
    expect(events).toEqual([]);
    expect(limiter.lastStoreError).toBeUndefined();
    store.fail = error;
    await limiter.consume("k");
    await limiter.get("k");
    expect(events).toEqual([
      { type: "degraded", policy: "memory", error },
      { type: "degraded", policy: "memory", error },
    ]);
    expect(limiter.lastStoreError).toBe(error);
    store.fail = undefined;
    await limiter.get("k");
    await limiter.consume("k");
    await limiter.penalty("k");
    expect(events.slice(2)).toEqual([{ type: "recovered" }]);
    expect(limiter.lastStoreError).toBeUndefined();
    await limiter.close();
  });

  it("a throwing onStoreEvent listener changes no answer", async () => {
    const store = new SwitchableStore();
    store.fail = error;
    let calls = 0;
    const limiter = new RateLimiter({
      windowMs: 60_000,
      maxRequests: 1,
      store,
      failurePolicy: "deny",
      onStoreEvent: () => {
        calls++;
        throw new Error("logger down");
      },
    });
    expect(await limiter.consume("k")).toMatchObject({ allowed: false, reason: "store_unavailable" });
    expect(await limiter.get("k")).toMatchObject({ allowed: false, reason: "store_unavailable" });
    store.fail = undefined;
    expect(await limiter.consume("k")).toMatchObject({ allowed: true });
    expect(calls).toBe(3);
    await limiter.close();
  });

  it("penalty, reward, reset reject with a RateLimitStoreError carrying the cause, and count a store error", async () => {
    const registry = new Registry();
    const store = new SwitchableStore();
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 5, store, registry });
    store.fail = new Error("READONLY replica");
    const penalty = await limiter.penalty("k", 2).catch((e: unknown) => e);
    expect(penalty).toBeInstanceOf(RateLimitStoreError);
    expect((penalty as Error).message).toContain("READONLY replica");
    expect((penalty as Error).cause).toBe(store.fail);
    expect(limiter.lastStoreError).toBe(store.fail);
    store.fail = "a bare string";
    expect(((await limiter.reward("k").catch((e: unknown) => e)) as Error).message).toContain("a bare string");
    // A store's own typed error passes through as it is.
    store.fail = new RateLimitStoreError("breaker open");
    expect(await limiter.reset("k").catch((e: unknown) => e)).toBe(store.fail);
    expect(await metricValue(registry, METRIC.rateLimitStoreErrorsTotal)).toBe(3);
    // Bad input is the caller's fault, not a store failure: typed, not counted.
    store.fail = undefined;
    await expect(limiter.penalty("k", 0)).rejects.toBeInstanceOf(RateLimitPointsError);
    await expect(limiter.reward("", 1)).rejects.toBeInstanceOf(RateLimitKeyError);
    expect(await metricValue(registry, METRIC.rateLimitStoreErrorsTotal)).toBe(3);
    await limiter.close();
  });
});

describe("RateLimiter on a store without the optional methods", () => {
  const bare: RateLimitStore = {
    hit: () => Promise.resolve({ allowed: true, remaining: 0, resetMs: 0, retryAfterMs: 0 }),
    close: async () => {},
  };

  it.each([
    ["get", "peek", (l: RateLimiter) => l.get("k")],
    ["penalty", "adjust", (l: RateLimiter) => l.penalty("k")],
    ["reward", "adjust", (l: RateLimiter) => l.reward("k")],
    ["reset", "delete", (l: RateLimiter) => l.reset("k")],
  ])("%s refuses by naming the store's missing %s(), not as a store failure", async (_call, method, call) => {
    const events: RateLimitStoreEvent[] = [];
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 5, store: bare, onStoreEvent: (e) => events.push(e) });
    const err = await call(limiter).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitOptionsError);
    expect(err).toMatchObject({ key: "store" });
    expect((err as Error).message).toContain(`${method}()`);
    expect(events).toEqual([]);
    await limiter.close();
  });
});

describe("penalty points", () => {
  it("may exceed maxRequests (a penalty pushes usage past the limit); a consume of as many is refused", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3 });
    expect(await limiter.penalty("k", 10)).toMatchObject({ allowed: false, remaining: 0 });
    await expect(limiter.consume("j", 4)).rejects.toBeInstanceOf(RateLimitPointsError);
    await limiter.close();
  });
});

describe("consume's weight bound", () => {
  it("a weight of maxRequests is checked, one more is refused naming the weight and maxRequests (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000 }), async (max) => {
        const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: max });
        expect(await limiter.consume("at", max)).toMatchObject({ allowed: true, remaining: 0 });
        const err = (await limiter.consume("over", max + 1).catch((e: unknown) => e)) as RateLimitPointsError;
        expect(err).toBeInstanceOf(RateLimitPointsError);
        expect(err.message).toContain(`points ${max + 1} exceed maxRequests ${max}`);
        await limiter.close();
      }),
      { numRuns: 10 },
    );
  });
});

describe("RateLimiter.ready", () => {
  it("true at once for a store without ready(); false after timeoutMs for one that never gets there; refuses a negative timeout", async () => {
    const plain = new RateLimiter({ windowMs: 1_000, maxRequests: 1 });
    expect(await plain.ready(0)).toBe(true);
    await expect(plain.ready(-1)).rejects.toMatchObject({ key: "timeoutMs" });
    await expect(plain.ready(-1)).rejects.toThrow(/RateLimiter\.ready: /);
    const never = Object.assign(new SwitchableStore(), { ready: () => new Promise<void>(() => {}) });
    const stuck = new RateLimiter({ windowMs: 1_000, maxRequests: 1, store: never });
    const start = performance.now();
    expect(await stuck.ready(80)).toBe(false);
    expect(performance.now() - start).toBeGreaterThanOrEqual(79);
    const soon = Object.assign(new SwitchableStore(), { ready: () => Promise.resolve() });
    expect(await new RateLimiter({ windowMs: 1_000, maxRequests: 1, store: soon }).ready(60_000)).toBe(true);
    await Promise.all([plain.close(), stuck.close(), never.close(), soon.close()]);
  });
});

describe("the key rule", () => {
  /** Accepted iff 1..max characters with no C0 control character and no DEL (written from the rule). */
  const acceptable = (key: string, max: number) =>
    key.length >= 1 && key.length <= max && [...key].every((ch) => ch.charCodeAt(0) > 0x1f && ch.charCodeAt(0) !== 0x7f);

  it("consume accepts exactly the non-empty keys up to maxKeyLength without control characters (property)", async () => {
    const max = 6;
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 1_000_000, maxKeyLength: max });
    const char = fc.oneof(
      fc.constantFrom("\u0000", "\u001f", "\u0020", "\u007e", "\u007f", "\u0080", "a"),
      fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(char, { maxLength: max + 2 }).map((cs) => cs.join("")),
        async (key) => {
          const outcome = await limiter.consume(key).then(
            () => "accepted",
            (e: unknown) => (e instanceof RateLimitKeyError ? "refused" : e),
          );
          expect(outcome).toBe(acceptable(key, max) ? "accepted" : "refused");
        },
      ),
      { numRuns: 300 },
    );
    await limiter.close();
  });

  it("the refusal says why: the length and the limit, or the control characters", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 1, maxKeyLength: 4 });
    await expect(limiter.consume("abcde")).rejects.toThrow(/5 characters.*limit is 4/);
    await expect(limiter.consume("a\u007fb")).rejects.toThrow(/control characters/);
    await limiter.close();
  });
});

describe("point refusals name the call and the value", () => {
  it.each([
    ["consume", (l: RateLimiter, p: number) => l.consume("k", p)],
    ["penalty", (l: RateLimiter, p: number) => l.penalty("k", p)],
    ["reward", (l: RateLimiter, p: number) => l.reward("k", p)],
  ] as const)("%s", async (call, run) => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3 });
    for (const bad of [0, -2, 1.5]) {
      const err = (await run(limiter, bad).catch((e: unknown) => e)) as RateLimitPointsError;
      expect(err).toBeInstanceOf(RateLimitPointsError);
      expect(err.message).toContain(`RateLimiter.${call}`);
      expect(err.message).toContain("points");
      expect(err.message).toContain(String(bad));
    }
    await limiter.close();
  });
});

describe("get while the store fails is a store failure in the metrics", () => {
  it.each(["allow", "deny", "memory"] as const)("'%s': each get adds one store error, and no request", async (failurePolicy) => {
    const registry = new Registry();
    const store = new SwitchableStore();
    store.fail = new Error("ECONNREFUSED");
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3, store, failurePolicy, registry });
    for (let i = 0; i < 3; i++) await limiter.get("k");
    expect(await metricValue(registry, METRIC.rateLimitStoreErrorsTotal)).toBe(3);
    expect(await metricValue(registry, METRIC.rateLimitRequestsTotal)).toBeUndefined();
    await Promise.all([limiter.close(), store.close()]);
  });
});

describe("a cluster error behind a store failure is counted as the rate limiter's", () => {
  it("get and consume (answered by the policy) and penalty (rejected) each add one to the cluster-error metric, operation 'ratelimit'", async () => {
    const registry = new Registry();
    const store = new SwitchableStore();
    store.fail = new Error("CROSSSLOT Keys in request don't hash to the same slot");
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3, store, failurePolicy: "deny", registry });
    await limiter.get("k");
    await expect(limiter.penalty("k")).rejects.toBeInstanceOf(RateLimitStoreError);
    expect(await limiter.consume("k")).toMatchObject({ allowed: false, reason: "store_unavailable" });
    const metric = await registry.getSingleMetric(METRIC.redisClusterErrorsTotal)!.get();
    expect(metric.values.map((v) => [v.labels[LABEL.operation], v.value])).toEqual([["ratelimit", 3]]);
    await Promise.all([limiter.close(), store.close()]);
  });
});

describe("a failing store that is itself a MemoryStore (no insurance store behind it)", () => {
  it("get under 'memory' answers like 'deny' (store_unavailable), not with a TypeError", async () => {
    class FailingMemoryStore extends MemoryStore {
      override peek(): never {
        throw new Error("disk full");
      }
    }
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 3, store: new FailingMemoryStore() });
    expect(await limiter.get("k")).toMatchObject({ allowed: false, remaining: 0, degraded: true, reason: "store_unavailable" });
    await limiter.close();
  });
});

describe("the 'memory' fallback in the metrics", () => {
  it("each check its insurance store admits counts as allowed, each it refuses as rejected", async () => {
    const registry = new Registry();
    const store = new SwitchableStore();
    store.fail = new Error("ECONNRESET");
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 4, store, fallbackReplicas: 2, registry });
    // fallbackLimit = floor(4 / 2) = 2: two admitted, three refused.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await limiter.consume("k")).allowed);
    expect(answers).toEqual([true, true, false, false, false]);
    expect(await metricValue(registry, METRIC.rateLimitRequestsTotal, LABEL_VALUE.allowed)).toBe(2);
    expect(await metricValue(registry, METRIC.rateLimitRequestsTotal, LABEL_VALUE.rejected)).toBe(3);
    await Promise.all([limiter.close(), store.close()]);
  });
});
