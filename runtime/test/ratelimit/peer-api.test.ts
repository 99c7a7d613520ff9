/**
 * Issue #24, "what peers offer": weighted consume(key, points), get, reset/delete, penalty, reward
 * (rate-limiter-flexible's names) and the middleware's skip (express-rate-limit's), exact across
 * instances like a 1-point check. Expectations come from a reference model written here from the
 * algorithm's definition (per-window counts, integer comparison), not from the stores' code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { MemoryStore } from "../../src/ratelimit/memory-store";
import { RedisStore } from "../../src/ratelimit/redis-store";
import { RateLimiter } from "../../src/ratelimit/limiter";
import { rateLimitHandler, rateLimitMiddleware } from "../../src/ratelimit/middleware";
import { RateLimitPointsError, RateLimitStoreError } from "../../src/ratelimit/errors";
import { freePort, useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();

/** Reference sliding-window counter: a count per window index; the estimate weighs the previous window by what is left of it. */
class Model {
  readonly counts = new Map<string, Map<number, number>>();
  constructor(
    readonly w: number,
    readonly limit: number,
  ) {}
  #windows(key: string) {
    let m = this.counts.get(key);
    if (!m) this.counts.set(key, (m = new Map()));
    return m;
  }
  /** limit * w - usage * w, in integers (usage * w = prev * (w - e) + curr * w). */
  #room(key: string, t: number): { idx: number; scaled: number } {
    const idx = Math.floor(t / this.w);
    const e = t - idx * this.w;
    const m = this.#windows(key);
    const scaled = this.limit * this.w - (m.get(idx - 1) ?? 0) * (this.w - e) - (m.get(idx) ?? 0) * this.w;
    return { idx, scaled };
  }
  remaining(key: string, t: number): number {
    return Math.max(0, Math.floor(this.#room(key, t).scaled / this.w));
  }
  consume(key: string, t: number, points: number): boolean {
    const { idx, scaled } = this.#room(key, t);
    if (scaled < points * this.w) return false;
    const m = this.#windows(key);
    m.set(idx, (m.get(idx) ?? 0) + points);
    return true;
  }
  penalty(key: string, t: number, points: number): void {
    const idx = Math.floor(t / this.w);
    const m = this.#windows(key);
    m.set(idx, (m.get(idx) ?? 0) + points);
  }
  reward(key: string, t: number, points: number): void {
    const idx = Math.floor(t / this.w);
    const m = this.#windows(key);
    let back = points;
    for (const i of [idx, idx - 1]) {
      const take = Math.min(back, m.get(i) ?? 0);
      m.set(i, (m.get(i) ?? 0) - take);
      back -= take;
    }
  }
  reset(key: string): void {
    this.counts.delete(key);
  }
}

type Op =
  | { kind: "consume"; points: number }
  | { kind: "penalty"; points: number }
  | { kind: "reward"; points: number }
  | { kind: "reset" }
  | { kind: "get" }
  | { kind: "wait"; ms: number };

const LIMIT = 10;
const op = (w: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: LIMIT }).map((points) => ({ kind: "consume" as const, points })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * LIMIT }).map((points) => ({ kind: "penalty" as const, points })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * LIMIT }).map((points) => ({ kind: "reward" as const, points })) },
    { weight: 1, arbitrary: fc.constant({ kind: "reset" as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: "get" as const }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 2 * w }).map((ms) => ({ kind: "wait" as const, ms })) },
  );

describe("weighted consume, get, penalty, reward, reset: MemoryStore against the reference model", () => {
  it("every answer matches the model, over random sequences and clocks", async () => {
    const w = 1_000;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10 * w }), fc.array(op(w), { maxLength: 60 }), async (start, ops) => {
        let t = 1_000_000 + start;
        const store = new MemoryStore({ now: () => t });
        const limiter = new RateLimiter({ windowMs: w, maxRequests: LIMIT, store });
        const model = new Model(w, LIMIT);
        for (const o of ops) {
          if (o.kind === "wait") t += o.ms;
          else if (o.kind === "consume") {
            const r = await limiter.consume("k", o.points);
            expect(r.allowed).toBe(model.consume("k", t, o.points));
            expect(r.remaining).toBe(model.remaining("k", t));
          } else if (o.kind === "penalty") {
            model.penalty("k", t, o.points);
            expect((await limiter.penalty("k", o.points)).remaining).toBe(model.remaining("k", t));
          } else if (o.kind === "reward") {
            model.reward("k", t, o.points);
            expect((await limiter.reward("k", o.points)).remaining).toBe(model.remaining("k", t));
          } else if (o.kind === "reset") {
            model.reset("k");
            await limiter.reset("k");
          } else {
            const r = await limiter.get("k");
            expect(r.remaining).toBe(model.remaining("k", t));
          }
        }
        // get never counts: two reads in a row agree, and a 1-point consume then matches what get said.
        const seen = await limiter.get("k");
        expect(await limiter.get("k")).toEqual(seen);
        expect((await limiter.consume("k")).allowed).toBe(seen.allowed);
        await limiter.close();
      }),
      { numRuns: 200, endOnFailure: true },
    );
  });

  it("a refused weighted consume's retryAfterMs is the first ms at which the same points are admitted", async () => {
    const w = 1_000;
    await fc.assert(
      fc.asyncProperty(fc.array(op(w), { maxLength: 30 }), fc.integer({ min: 1, max: LIMIT }), async (ops, points) => {
        let t = 5_000_000;
        const store = new MemoryStore({ now: () => t });
        const limiter = new RateLimiter({ windowMs: w, maxRequests: LIMIT, store });
        for (const o of ops) {
          if (o.kind === "wait") t += o.ms;
          else if (o.kind === "consume") await limiter.consume("k", o.points);
          else if (o.kind === "penalty") await limiter.penalty("k", o.points);
          else if (o.kind === "reward") await limiter.reward("k", o.points);
        }
        const first = await limiter.consume("k", points);
        if (!first.allowed) {
          expect(first.retryAfterMs).toBeGreaterThan(0);
          const at = t;
          t = at + first.retryAfterMs - 1;
          expect((await limiter.consume("k", points)).allowed).toBe(false); // refused: counts nothing
          t = at + first.retryAfterMs;
          expect((await limiter.consume("k", points)).allowed).toBe(true);
        }
        await limiter.close();
      }),
      { numRuns: 300, endOnFailure: true },
    );
  });

  it("refuses points that are not positive integers or exceed maxRequests, naming the value; maxRequests itself is admitted", async () => {
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 5 });
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 6, "2" as unknown as number]) {
      await expect(limiter.consume("k", bad)).rejects.toMatchObject({ code: RateLimitPointsError.CODE, points: bad });
    }
    for (const bad of [0, -3, 0.5]) {
      await expect(limiter.penalty("k", bad)).rejects.toBeInstanceOf(RateLimitPointsError);
      await expect(limiter.reward("k", bad)).rejects.toBeInstanceOf(RateLimitPointsError);
    }
    expect((await limiter.consume("k", 5)).allowed).toBe(true);
    expect((await limiter.get("k")).remaining).toBe(0);
    await limiter.close();
  });
});

describe("RedisStore: retryAfterMs of every answer is about the next 1-point request", () => {
  it("0 exactly when a 1-point request is admitted now (remaining >= 1, and get says so), after any weighted consume, penalty, reward or get (property)", async () => {
    // One window of 10^9 ms (windows start at its multiples on Redis' clock): the previous window never weighs,
    // so the model's count of this window is the whole usage.
    const W = 1_000_000_000;
    const store = new RedisStore({ url: fx.server.url, commandTimeoutMs: 2_000, keyPrefix: "retry-next:" });
    await store.ready();
    const limiter = new RateLimiter({ windowMs: W, maxRequests: LIMIT, store });
    let run = 0;
    const ops = fc.array(
      op(1).filter((o) => o.kind !== "wait" && o.kind !== "reset"),
      { minLength: 1, maxLength: 12 },
    );
    try {
      await fc.assert(
        fc.asyncProperty(ops, async (list) => {
          const key = `k${run++}`;
          const model = new Model(W, LIMIT);
          const t = 0; // one window throughout (see W)
          for (const o of list) {
            let r;
            if (o.kind === "consume") {
              r = await limiter.consume(key, o.points);
              expect(r.allowed).toBe(model.consume(key, t, o.points));
              if (!r.allowed) {
                // A refusal's retryAfterMs is about its own points, which do not fit now: never 0, even when 1 point would.
                expect(r.retryAfterMs).toBeGreaterThan(0);
                continue;
              }
            } else if (o.kind === "penalty") {
              model.penalty(key, t, o.points);
              r = await limiter.penalty(key, o.points);
            } else if (o.kind === "reward") {
              model.reward(key, t, o.points);
              r = await limiter.reward(key, o.points);
            } else r = await limiter.get(key);
            const nextAdmitted = model.remaining(key, t) >= 1;
            expect(r.remaining).toBe(model.remaining(key, t));
            expect(r.retryAfterMs === 0).toBe(nextAdmitted);
            expect((await limiter.get(key)).allowed).toBe(nextAdmitted);
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      await Promise.all([limiter.close(), store.close()]);
    }
  });
});

describe("RedisStore: the same operations, exact across instances", () => {
  const HOUR = 3_600_000; // a burst never straddles a window boundary in practice

  async function twoLimiters(maxRequests: number, reserve = 1) {
    const stores = [0, 1].map(() => new RedisStore({ url: fx.server.url, commandTimeoutMs: 2_000, reserve }));
    await Promise.all(stores.map((s) => s.ready()));
    const limiters = stores.map((store) => new RateLimiter({ windowMs: HOUR, maxRequests, store }));
    return {
      limiters,
      close: () => Promise.all([...limiters.map((l) => l.close()), ...stores.map((s) => s.close())]),
    };
  }

  it.each([1, 16])(
    "2 instances (reserve %i) × 300 concurrent weighted consumes never over-admit, and refuse only what did not fit",
    async (reserve) => {
      const limit = 100;
      const { limiters, close } = await twoLimiters(limit, reserve);
      const points = Array.from({ length: 300 }, (_, i) => 1 + ((i * 7) % 5)); // 1..5, mixed with 1-point checks
      const key = `weighted-${reserve}`;
      const results = await Promise.all(points.map((p, i) => limiters[i % 2].consume(key, p)));
      expect(results.filter((r) => r.degraded)).toHaveLength(0);
      const admitted = points.filter((_, i) => results[i].allowed).reduce((a, b) => a + b, 0);
      // Redis' count: what was admitted plus tokens reserved and not yet handed out (reserve > 1), never past the limit.
      const counted = Number(await fx.raw.hget(`{uaip:rl:${key}}`, "c"));
      expect(counted).toBeLessThanOrEqual(limit);
      expect(counted - admitted).toBeGreaterThanOrEqual(0);
      expect(counted - admitted).toBeLessThanOrEqual(2 * (reserve - 1));
      // Each refusal saw at most `counted` used, so it did not fit in what was left at the end.
      for (let i = 0; i < points.length; i++) if (!results[i].allowed) expect(points[i]).toBeGreaterThan(limit - counted);
      await close();
    },
  );

  it("get reads without counting; penalty, reward and reset act on the count every instance sees", async () => {
    const { limiters, close } = await twoLimiters(10);
    const [a, b] = limiters;
    const fresh = await b.get("shared");
    expect(fresh).toMatchObject({ allowed: true, remaining: 10 });
    expect(await fx.raw.exists("{uaip:rl:shared}")).toBe(0); // a read writes nothing
    await a.consume("shared", 4);
    expect((await b.get("shared")).remaining).toBe(6);
    expect((await b.get("shared")).remaining).toBe(6);
    const penalised = await a.penalty("shared", 9); // 13 used: past the limit
    expect(penalised).toMatchObject({ allowed: false, remaining: 0 });
    const refused = await b.consume("shared");
    expect(refused.allowed).toBe(false);
    // 13 in this window: refused until it ends (resetMs - HOUR from now) and 4/13 of it has slid out after that.
    expect(refused.retryAfterMs).toBeGreaterThan(refused.resetMs - HOUR + (4 * HOUR) / 13 - 1);
    expect((await b.reward("shared", 5)).remaining).toBe(2); // 8 used
    expect((await a.consume("shared", 3)).allowed).toBe(false);
    expect((await a.consume("shared", 2)).allowed).toBe(true);
    expect(await b.reset("shared")).toBe(true);
    expect(await fx.raw.exists("{uaip:rl:shared}")).toBe(0);
    expect(await a.delete("shared")).toBe(false);
    expect((await a.consume("shared", 10)).allowed).toBe(true);
    expect((await b.reward("shared", 50)).remaining).toBe(10); // never below zero
    expect(await fx.raw.exists("{uaip:rl:shared}")).toBe(0); // nothing left: the key is gone
    await close();
  });

  it("Lua and the in-process store agree on every answer for random sequences (one window)", async () => {
    const store = new RedisStore({ url: fx.server.url, commandTimeoutMs: 2_000 });
    await store.ready();
    const redis = new RateLimiter({ windowMs: 24 * HOUR, maxRequests: LIMIT, store });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op(0).filter((o) => o.kind !== "wait")), async (ops) => {
        const key = `agree-${run++}`;
        const memory = new RateLimiter({ windowMs: 24 * HOUR, maxRequests: LIMIT });
        for (const o of ops) {
          const call = (l: RateLimiter) =>
            o.kind === "consume"
              ? l.consume(key, o.points)
              : o.kind === "penalty"
                ? l.penalty(key, o.points)
                : o.kind === "reward"
                  ? l.reward(key, o.points)
                  : o.kind === "reset"
                    ? l.reset(key).then(() => l.get(key))
                    : l.get(key);
          const [m, r] = await Promise.all([call(memory), call(redis)]);
          expect({ allowed: r.allowed, remaining: r.remaining }).toEqual({ allowed: m.allowed, remaining: m.remaining });
        }
        await memory.close();
      }),
      { numRuns: 40, endOnFailure: true },
    );
    await redis.close();
    await store.close();
  });

  it("while Redis is unreachable: get answers by the failure policy without counting; penalty, reward and reset reject typed", async () => {
    const port = await freePort();
    const limiter = new RateLimiter({
      windowMs: 60_000,
      maxRequests: 3,
      redis: { url: `redis://127.0.0.1:${port}`, firstConnectWaitMs: 0 },
    });
    await limiter.consume("down", 2); // counted by the insurance store
    const got = await limiter.get("down");
    expect(got).toMatchObject({ degraded: true, reason: "memory_fallback", remaining: 1 });
    expect((await limiter.get("down")).remaining).toBe(1);
    await expect(limiter.penalty("down", 1)).rejects.toBeInstanceOf(RateLimitStoreError);
    await expect(limiter.reward("down", 1)).rejects.toBeInstanceOf(RateLimitStoreError);
    await expect(limiter.reset("down")).rejects.toBeInstanceOf(RateLimitStoreError);
    expect((await limiter.get("down")).remaining).toBe(3); // reset still cleared the insurance count
    await limiter.close();

    const deny = new RateLimiter({
      windowMs: 60_000,
      maxRequests: 3,
      failurePolicy: "deny",
      redis: { url: `redis://127.0.0.1:${port}`, firstConnectWaitMs: 0 },
    });
    expect(await deny.get("down")).toMatchObject({ allowed: false, degraded: true, reason: "store_unavailable" });
    await deny.close();
  });
});

describe("rateLimitMiddleware skip", () => {
  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it("skipped requests (sync or async) are neither counted nor given RateLimit headers; a failing skip answers 500", async () => {
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 2, keyGenerator: () => "one-client" });
    const handler = rateLimitHandler(limiter, (_req, res) => res.end("ok"), {
      skip: (req) => {
        if (req.url === "/boom") throw new Error("skip failed");
        if (req.url === "/async-skip") return Promise.resolve(true);
        return req.url === "/health";
      },
    });
    const { server, url } = await listen(handler);
    for (const path of ["/health", "/async-skip", "/health", "/async-skip"]) {
      const res = await fetch(url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit")).toBeNull();
    }
    expect((await limiter.get("one-client")).remaining).toBe(2);
    expect((await fetch(url + "/boom")).status).toBe(500);
    const counted = [await fetch(url + "/a"), await fetch(url + "/b"), await fetch(url + "/c")].map((r) => r.status);
    expect(counted).toEqual([200, 200, 429]);
    expect((await fetch(url + "/health")).status).toBe(200); // still skipped once the client is limited
    server.closeAllConnections();
    server.close();
    await limiter.close();
  });

  it("refuses an unknown middleware option or a non-function skip by name", () => {
    const limiter = new RateLimiter({ windowMs: 1_000, maxRequests: 1 });
    expect(() => rateLimitMiddleware(limiter, { skp: () => true } as never)).toThrow(/unknown option "skp"/);
    expect(() => rateLimitMiddleware(limiter, { skip: true } as never)).toThrow(
      expect.objectContaining({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key: "skip" }),
    );
    void limiter.close();
  });
});
