/**
 * RedisStore's batched path at its edges (issue #22, `redis-store.ts` lines 351-499): the first-connection wait,
 * the checks of one event-loop iteration sent as script calls (one per `maxBatch`), each check's own decision,
 * a key's checks carried by one entry with reservations (and tokens granted while they queued), a failed call
 * rejecting every check it carried, and the breaker counting per call. Real redis-server; expectations come
 * from the sliding-window rule (remaining = limit - count in a fresh window) and the documented grant rule.
 */
import { RateLimitStoreError } from "../../src/ratelimit/errors";
import { RedisStore, type RedisStoreOptions } from "../../src/ratelimit/redis-store";
import type { StoreDecision } from "../../src/ratelimit/types";
import { scriptCalls, useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();

/** A window far longer than any test (~11.6 days): every key is in its first window, so prev is 0. */
const W = 1_000_000_000;
/** Another window length whose window index differs from W's (and is not W's index + 1): a fresh window of the same hash. */
const W2 = 600_000_000;
const BIG = 1_000_000;

let prefixes = 0;
const opened: RedisStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A store on the test server with its own key prefix, connected. */
async function store(options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const s = new RedisStore({ url: fx.server.url, commandTimeoutMs: 2_000, keyPrefix: `batch-${++prefixes}:`, ...options });
  opened.push(s);
  await s.ready();
  // ready() resolves once connected, not before.
  expect(s.client.status).toBe("ready");
  return s;
}
/** The Redis hash key of `key` for the last store made (slot-tagged prefix + key). */
const redisKey = (key: string) => `{batch-${prefixes}:${key}}`;
const count = async (key: string) => Number((await fx.raw.hget(redisKey(key), "c")) ?? 0);
const allowed = (ds: StoreDecision[]) => ds.map((d) => d.allowed);
const remaining = (ds: StoreDecision[]) => ds.map((d) => d.remaining);
/** Blocks the whole process (no event loop turn) for `ms`. */
const blockFor = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe("checks issued in one event-loop iteration (batching, reserve 1)", () => {
  it("go to Redis as one script call, and each check gets its own key's decision, in order", async () => {
    const s = await store();
    const limit = 3;
    // Counts before: a 0, b 1, c 3 (full).
    for (const [key, n] of [
      ["b", 1],
      ["c", 3],
    ] as const)
      for (let i = 0; i < n; i++) await s.hit(key, W, limit);
    const before = await scriptCalls(fx.raw);
    const keys = ["a", "b", "c", "b", "a", "b"];
    const ds = await Promise.all(keys.map((k) => s.hit(k, W, limit)));
    expect(await scriptCalls(fx.raw)).toBe(before + 1);
    // Applied in order, one at a time: admitted while the key's count is below the limit.
    const counts = new Map<string, number>([
      ["a", 0],
      ["b", 1],
      ["c", 3],
    ]);
    const expected = keys.map((k) => {
      const c = counts.get(k)!;
      if (c < limit) counts.set(k, c + 1);
      return { allowed: c < limit, remaining: limit - counts.get(k)! };
    });
    expect(ds.map((d) => ({ allowed: d.allowed, remaining: d.remaining }))).toEqual(expected);
    for (const [k, c] of counts) expect(await count(k)).toBe(c);
  });

  it.each([
    [2, 4],
    [2, 5],
    [3, 3],
  ])("maxBatch %i cuts %i checks into ceil(n / maxBatch) script calls, each check counted once", async (maxBatch, n) => {
    const s = await store({ maxBatch });
    const before = await scriptCalls(fx.raw);
    const ds = await Promise.all(Array.from({ length: n }, (_, i) => s.hit(`k${i}`, W, 5)));
    expect(await scriptCalls(fx.raw)).toBe(before + Math.ceil(n / maxBatch));
    expect(allowed(ds)).toEqual(Array(n).fill(true));
    expect(remaining(ds)).toEqual(Array(n).fill(4));
    for (let i = 0; i < n; i++) expect(await count(`k${i}`)).toBe(1);
  });

  it("batching: false sends every check on its own; a weighted hit counts its points", async () => {
    const s = await store({ batching: false });
    const before = await scriptCalls(fx.raw);
    const ds = await Promise.all([s.hit("k", W, 10), s.hit("k", W, 10), s.hit("k", W, 10, 3)]);
    expect(await scriptCalls(fx.raw)).toBe(before + 3);
    expect(remaining(ds)).toEqual([9, 8, 5]);
    expect(await count("k")).toBe(5);
  });
});

describe("reserve > 1: a key's checks of one iteration ride one script entry", () => {
  it("slow start: each call asks for its checks plus 1, 2, 4 tokens; remaining falls by one per admitted check", async () => {
    const s = await store({ reserve: 16 });
    const before = await scriptCalls(fx.raw);
    const ds: StoreDecision[] = [];
    // Three iterations of three concurrent checks. The grant rule (room is huge): checks + ask - 1 tokens counted,
    // ask - 1 kept. Iteration 1 asks 1 (nothing kept); 2 asks 2 (1 kept); 3: one check takes the kept token,
    // the two others ask 4 (3 kept).
    for (let round = 0; round < 3; round++) ds.push(...(await Promise.all([0, 1, 2].map(() => s.hit("k", W, BIG)))));
    expect(allowed(ds)).toEqual(Array(9).fill(true));
    expect(remaining(ds)).toEqual(ds.map((_, i) => BIG - 1 - i));
    expect(await scriptCalls(fx.raw)).toBe(before + 3);
    expect(s.reserved("k")).toBe(3);
    // Redis counted every check admitted and every token kept.
    expect(await count("k")).toBe(9 + 3);
  });

  it("near the limit, the checks an entry carries are admitted exactly as single checks would be", async () => {
    const s = await store({ reserve: 16 });
    const first = await Promise.all([0, 1, 2].map(() => s.hit("k", W, 10)));
    expect(allowed(first)).toEqual([true, true, true]);
    expect(remaining(first)).toEqual([9, 8, 7]);
    const second = await Promise.all(Array.from({ length: 10 }, () => s.hit("k", W, 10)));
    expect(allowed(second)).toEqual([...Array(7).fill(true), ...Array(3).fill(false)]);
    expect(await count("k")).toBe(10);
    expect(s.reserved("k")).toBe(0);
    const two = await Promise.all([0, 1, 2].map(() => s.hit("two", W, 2)));
    expect(allowed(two)).toEqual([true, true, false]);
  });

  it("a check of the same key with another limit or window is its own entry, decided by its own limit and window", async () => {
    const s = await store({ reserve: 16 });
    const [lim, win] = await Promise.all([
      Promise.all([s.hit("lim", W, 1), s.hit("lim", W, 1), s.hit("lim", W, 5)]),
      Promise.all([s.hit("win", W, 2), s.hit("win", W, 2), s.hit("win", W, 2), s.hit("win", W2, 2)]),
    ]);
    // Sequentially: 1 fits in limit 1, the second is refused, the third fits in 5.
    expect(allowed(lim)).toEqual([true, false, true]);
    // Two fit in limit 2, the third is refused; in the other window's count the key starts empty.
    expect(allowed(win)).toEqual([true, true, false, true]);
  });

  it("a window that ends with tokens unused halves the next call's ask", async () => {
    const s = await store({ reserve: 16 });
    const w = 60;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    let ramped = false;
    for (let attempt = 0; attempt < 4 && !ramped; attempt++) {
      const key = `half-${attempt}`;
      // From the start of a window (Redis' clock is this host's): asks 1, 2 (one token kept, then used), 4 (three kept).
      await sleep((Math.floor(Date.now() / w) + 1) * w + 2 - Date.now());
      for (let i = 0; i < 4; i++) await s.hit(key, w, BIG);
      ramped = s.reserved(key) === 3;
      if (!ramped) continue; // the ramp crossed a window boundary (a loaded machine): again
      await sleep((Math.floor(Date.now() / w) + 1) * w + 2 - Date.now());
      // The three tokens died unused with their window: the next call asks for 4 / 2, one check uses one.
      expect((await s.hit(key, w, BIG)).allowed).toBe(true);
      expect(s.reserved(key)).toBe(1);
    }
    expect(ramped).toBe(true);
  });

  it("tokens granted while a check waited in the queue admit it there, without another call", async () => {
    const s = await store({ reserve: 16 });
    // Ramp: asks 1, then 2 (one token kept, then used): the next call asks for more than one.
    for (let i = 0; i < 3; i++) await s.hit("k", W, BIG);
    let calls = 0;
    for (let attempt = 0; attempt < 4 && calls !== 1; attempt++) {
      while (s.reserved("k") > 0) await s.hit("k", W, BIG);
      const before = await scriptCalls(fx.raw);
      fx.server.pause();
      const p0 = s.hit("k", W, BIG); // queued, then sent while Redis is frozen
      await new Promise((r) => setTimeout(r, 20));
      const p1 = await new Promise<Promise<StoreDecision>>((resolve) =>
        setTimeout(() => {
          // Queued with no token held. Redis answers p0's call while the process is blocked, so its reply is read
          // in this iteration's poll phase, before the queue's flush in its check phase.
          const queued = s.hit("k", W, BIG);
          fx.server.resume();
          blockFor(60 * (attempt + 1));
          resolve(queued);
        }, 0),
      );
      const [d0, d1] = await Promise.all([p0, p1]);
      expect(d0.allowed).toBe(true);
      expect(d1?.allowed).toBe(true);
      // One call: p1 was admitted from p0's tokens. Two: the reply came late (a loaded machine); try again.
      calls = (await scriptCalls(fx.raw)) - before;
    }
    expect(calls).toBe(1);
  });
});

describe("a script call that fails", () => {
  it("rejects every check it carried, typed, naming Redis' error and keeping it as the cause", async () => {
    const plain = await store();
    await fx.raw.set(redisKey("bad"), "not a hash"); // HMGET on it: WRONGTYPE, and the whole script fails
    const settled = await Promise.allSettled([plain.hit("bad", W, 5), plain.hit("good", W, 5)]);
    const reserving = await store({ reserve: 16 });
    await fx.raw.set(redisKey("bad"), "not a hash");
    settled.push(...(await Promise.allSettled([0, 1, 2].map(() => reserving.hit("bad", W, 5)))));
    for (const r of settled) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason as RateLimitStoreError;
      expect(err).toBeInstanceOf(RateLimitStoreError);
      expect(err.message).toMatch(/^redis rate-limit check failed: .*WRONGTYPE/);
      expect((err.cause as Error).message).toMatch(/WRONGTYPE/);
    }
  });

  it("counts one breaker failure; a call that succeeds resets the count; while open, checks fail without Redis", async () => {
    const s = await store({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    await fx.raw.set(redisKey("bad"), "not a hash");
    const fail = () => expect(s.hit("bad", W, 5)).rejects.toThrow(/check failed/);
    await fail();
    expect((await s.hit("good", W, 5)).allowed).toBe(true);
    await fail();
    expect(s.state).toBe("closed");
    await fail();
    expect(s.state).toBe("open");
    const before = await scriptCalls(fx.raw);
    await expect(s.hit("good", W, 5)).rejects.toThrow(/circuit breaker is open/);
    expect(await scriptCalls(fx.raw)).toBe(before);
  });
});

describe("before and without a connection", () => {
  it("a check issued before the first connection waits for it and is counted in Redis", async () => {
    const s = new RedisStore({
      url: fx.server.url,
      commandTimeoutMs: 2_000,
      keyPrefix: `batch-${++prefixes}:`,
      firstConnectWaitMs: 60_000,
    });
    opened.push(s);
    expect(s.client.status).not.toBe("ready");
    const started = performance.now();
    expect(await s.hit("k", W, 5)).toMatchObject({ allowed: true, remaining: 4 });
    // Well before the 60 s wait: it went on at the connection.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await count("k")).toBe(1);
    await s.ready(); // ready() of a connected store resolves too
    expect(s.client.status).toBe("ready");
  });

  it("an unreachable Redis: checks wait out firstConnectWaitMs once, then fail at once; each failure counts for the breaker", async () => {
    const wait = 60;
    const s = new RedisStore({
      url: "redis://127.0.0.1:1",
      firstConnectWaitMs: wait,
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    opened.push(s);
    const started = performance.now();
    const notReady = /^redis is not ready \(status (?!ready)\w+\)$/;
    await expect(s.hit("k", W, 5)).rejects.toThrow(notReady);
    expect(performance.now() - started).toBeGreaterThanOrEqual(wait - 5);
    expect(s.state).toBe("closed");
    const again = performance.now();
    await expect(s.hit("k", W, 5)).rejects.toThrow(notReady);
    expect(performance.now() - again).toBeLessThan(wait);
    expect(s.state).toBe("open");
    await expect(s.hit("k", W, 5)).rejects.toThrow(/circuit breaker is open/);
  });

  it("the first-connection timer does not keep the process alive", () => {
    const wait = 4_321;
    const spy = jest.spyOn(global, "setTimeout");
    try {
      const s = new RedisStore({ url: "redis://127.0.0.1:1", firstConnectWaitMs: wait });
      opened.push(s);
      const i = spy.mock.calls.findIndex((call) => call[1] === wait);
      expect(i).toBeGreaterThanOrEqual(0);
      expect((spy.mock.results[i]!.value as NodeJS.Timeout).hasRef()).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("reserved() and hitNow()", () => {
  it("reserve 1 holds nothing; reserve > 1 hands out a held token without Redis, one at a time", async () => {
    const plain = await store();
    await plain.hit("k", W, 5);
    expect(plain.reserved("k")).toBe(0);
    expect(plain.hitNow("k", W, 5)).toBeUndefined();
    const s = await store({ reserve: 16 });
    // Asks 1, then 2: one token kept.
    await s.hit("k", W, 10);
    await s.hit("k", W, 10);
    expect(s.reserved("k")).toBe(1);
    const before = await scriptCalls(fx.raw);
    // Two checks admitted, one token counted in Redis: 10 - 3 remain.
    expect(s.hitNow("k", W, 10)).toMatchObject({ allowed: true, remaining: 7 });
    expect(s.reserved("k")).toBe(0);
    expect(s.hitNow("k", W, 10)).toBeUndefined();
    expect(await scriptCalls(fx.raw)).toBe(before);
  });

  it("hit() hands a held token out at the call, not at the next flush of the queue", async () => {
    const s = await store({ reserve: 16 });
    await s.hit("k", W, 10);
    await s.hit("k", W, 10);
    expect(s.reserved("k")).toBe(1);
    const order: string[] = [];
    const local = s.hit("k", W, 10).then((d) => order.push(`hit ${d.allowed}`));
    // Taken synchronously; the queue would be flushed by a setImmediate scheduled after this one.
    expect(s.reserved("k")).toBe(0);
    await new Promise((r) => setImmediate(r)).then(() => order.push("immediate"));
    await local;
    expect(order).toEqual(["hit true", "immediate"]);
  });
});
