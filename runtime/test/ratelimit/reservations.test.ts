/**
 * RedisStore `reserve`: a replica takes several tokens of a key's allowance per script call and admits
 * the key's following checks locally. Against a real redis-server: never over-admits across replicas,
 * a single replica stays exact, script calls drop, tokens die with their window, outages unchanged.
 */
import { RateLimiter, RateLimitOptionsError, RedisStore, type StoreDecision } from "../../src/ratelimit";
import { scriptCalls, useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let prefixes = 0;
/** Each test its own key prefix, so counts never leak between tests. */
async function stores(n: number, options: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}): Promise<RedisStore[]> {
  const keyPrefix = `rl-test-${++prefixes}:`;
  const list = Array.from(
    { length: n },
    () => new RedisStore({ url: fx.server.url, commandTimeoutMs: 2_000, keyPrefix, ...options }),
  );
  await Promise.all(list.map((s) => s.ready()));
  return list;
}
const closeAll = (list: RedisStore[]) => Promise.all(list.map((s) => s.close()));

/** `rounds` rounds of `perRound` concurrent checks of one key, spread over the stores in turn. */
async function hammer(
  list: RedisStore[],
  key: string,
  limit: number,
  rounds: number,
  perRound: number,
): Promise<StoreDecision[]> {
  const all: StoreDecision[] = [];
  for (let r = 0; r < rounds; r++) {
    all.push(
      ...(await Promise.all(Array.from({ length: perRound }, (_, i) => list[(r + i) % list.length]!.hit(key, 60_000, limit)))),
    );
  }
  return all;
}

describe("RedisStore reserve option", () => {
  it("refuses bad reserve values by name", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "16", null]) {
      expect(() => new RedisStore({ url: fx.server.url, reserve: bad as never })).toThrow(RateLimitOptionsError);
      expect(() => new RedisStore({ url: fx.server.url, reserve: bad as never })).toThrow(
        expect.objectContaining({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key: "reserve" }),
      );
    }
  });

  it.each([
    [2, true],
    [3, true],
    [2, false],
  ])("never over-admits: %i replicas (batching %s), reserve 16, hammering one key concurrently", async (n, batching) => {
    const list = await stores(n, { reserve: 16, batching });
    try {
      // Sequential rounds of concurrent checks: the replicas hold tokens between rounds.
      const decisions = await hammer(list, "shared", 120, 40, 10);
      const admitted = decisions.filter((d) => d.allowed).length;
      expect(admitted).toBeLessThanOrEqual(120);
      // The documented early-refusal bound: tokens held unused, at most reserve - 1 per replica.
      expect(admitted).toBeGreaterThanOrEqual(120 - n * 15);
      // Redis counted every token handed out or still held, and no more than the limit.
      const held = list.reduce((sum, s) => sum + s.reserved("shared"), 0);
      expect(Number(await fx.raw.hget(`{rl-test-${prefixes}:shared}`, "c"))).toBe(admitted + held);
    } finally {
      await closeAll(list);
    }
  });

  it("early refusals are bounded by the tokens other replicas hold (at most reserve - 1 each)", async () => {
    const [a, b] = await stores(2, { reserve: 16 });
    try {
      let admitted = 0;
      // a ramps up and keeps some tokens; then b uses up the window.
      for (let i = 0; i < 12; i++) if ((await a!.hit("early", 60_000, 50)).allowed) admitted++;
      const held = a!.reserved("early");
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(15);
      for (let i = 0; i < 80; i++) if ((await b!.hit("early", 60_000, 50)).allowed) admitted++;
      // b was refused exactly the tokens a holds: early, never over.
      expect(admitted).toBe(50 - held);
      // a still admits them, then the window is closed to both.
      for (let i = 0; i < 20; i++) if ((await a!.hit("early", 60_000, 50)).allowed) admitted++;
      expect(admitted).toBe(50);
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it("a single replica still admits exactly maxRequests, sequentially and concurrently", async () => {
    const [store] = await stores(1, { reserve: 16 });
    try {
      const sequential: boolean[] = [];
      for (let i = 0; i < 130; i++) sequential.push((await store!.hit("one-by-one", 60_000, 100)).allowed);
      expect(sequential.filter(Boolean)).toHaveLength(100);
      expect(sequential.slice(0, 100).every(Boolean)).toBe(true); // no early refusal: its own tokens serve it
      const burst = await hammer([store!], "bursts", 100, 13, 10);
      expect(burst.filter((d) => d.allowed)).toHaveLength(100);
      expect(burst.slice(0, 100).every((d) => d.allowed)).toBe(true);
    } finally {
      await store!.close();
    }
  });

  it("a single replica stays exact when its calls overlap (batching off): a refused call takes the tokens an earlier reply left", async () => {
    const [store] = await stores(1, { reserve: 16, batching: false });
    try {
      let admitted = 0;
      // Ramp the key's ask up (1, 2, 4, 8, 16), then fire concurrent calls that each ask for 16.
      for (let i = 0; i < 20; i++) if ((await store!.hit("overlap", 60_000, 60)).allowed) admitted++;
      const burst = await Promise.all(Array.from({ length: 60 }, () => store!.hit("overlap", 60_000, 60)));
      admitted += burst.filter((d) => d.allowed).length;
      expect(admitted).toBe(60);
    } finally {
      await store!.close();
    }
  });

  it("mixed keys split over several script calls (maxBatch 2) stay independent and exact", async () => {
    const [store] = await stores(1, { reserve: 8, maxBatch: 2 });
    try {
      const decisions: { key: string; allowed: boolean }[] = [];
      for (let r = 0; r < 6; r++) {
        const round = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store!.hit(`mixed-${i % 3}`, 60_000, 20).then((d) => ({ key: `mixed-${i % 3}`, allowed: d.allowed })),
          ),
        );
        decisions.push(...round);
      }
      for (let k = 0; k < 3; k++) expect(decisions.filter((d) => d.key === `mixed-${k}` && d.allowed)).toHaveLength(20);
    } finally {
      await store!.close();
    }
  });

  it("cuts script calls: reserve 64, limit 1e9, 1000 checks of one key", async () => {
    const [store] = await stores(1, { reserve: 64 });
    try {
      let before = await scriptCalls(fx.raw);
      for (let i = 0; i < 1_000; i++) await store!.hit("chatty", 60_000, 1e9);
      // One at a time, the slow start asks 1, 2, 4, 8, 16, 32 (63 tokens in 6 calls), then 64 a call: 6 + 15.
      expect((await scriptCalls(fx.raw)) - before).toBeLessThanOrEqual(21);
      // 20 concurrent callers (like connections of one client), 50 rounds: a call carries the round's
      // checks plus the slow-start ask (2, 4, ... 64), so after the ramp a call covers about 4 rounds (17 calls;
      // reserve 1 would make one call per round, 50).
      before = await scriptCalls(fx.raw);
      await hammer([store!], "chatty-concurrent", 1e9, 50, 20);
      expect((await scriptCalls(fx.raw)) - before).toBeLessThanOrEqual(18);
      // reserve 1 (the default) for comparison: a call per check when they come one at a time.
      const [plain] = await stores(1);
      before = await scriptCalls(fx.raw);
      for (let i = 0; i < 100; i++) await plain!.hit("plain", 60_000, 1e9);
      expect((await scriptCalls(fx.raw)) - before).toBe(100);
      await plain!.close();
    } finally {
      await store!.close();
    }
  });

  it("slow start: a client sending one request per window reserves only one token", async () => {
    const [a, b] = await stores(2, { reserve: 16 });
    try {
      expect((await a!.hit("once", 60_000, 2)).allowed).toBe(true);
      expect(a!.reserved("once")).toBe(0);
      // Nothing held by a: b gets the rest of the limit.
      expect((await b!.hit("once", 60_000, 2)).allowed).toBe(true);
      expect((await b!.hit("once", 60_000, 2)).allowed).toBe(false);
      // A chatty key's ask doubles each time its tokens run out in the window, up to reserve.
      const held: number[] = [];
      for (let i = 0; i < 40; i++) {
        await a!.hit("ramp", 60_000, 1e6);
        held.push(a!.reserved("ramp"));
      }
      expect(held.slice(0, 8)).toEqual([0, 1, 0, 3, 2, 1, 0, 7]);
      expect(Math.max(...held)).toBe(15);
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it("reserved tokens expire with the window (300 ms): the next check goes to Redis again", async () => {
    const [store] = await stores(1, { reserve: 16 });
    try {
      // Start early in a window so the ramp finishes before it ends.
      await sleep(300 - (Date.now() % 300) + 5);
      for (let i = 0; i < 4; i++) await store!.hit("short", 300, 1_000);
      expect(store!.reserved("short")).toBeGreaterThan(0);
      await sleep(320);
      expect(store!.reserved("short")).toBe(0);
      const before = await scriptCalls(fx.raw);
      expect((await store!.hit("short", 300, 1_000)).allowed).toBe(true);
      expect((await scriptCalls(fx.raw)) - before).toBe(1);
    } finally {
      await store!.close();
    }
  });

  it("tokens never outlive Redis' window: across many 300 ms windows a replica's admissions stay within the sliding limit", async () => {
    const [a, b] = await stores(2, { reserve: 16 });
    try {
      const admittedAt: number[] = [];
      const end = Date.now() + 1_500;
      while (Date.now() < end) {
        const d = await Promise.all([a!.hit("windows", 300, 20), b!.hit("windows", 300, 20)]);
        for (const x of d) if (x.allowed) admittedAt.push(Date.now());
      }
      // A fixed window never holds more than twice the limit under a sliding-window counter.
      const perWindow = new Map<number, number>();
      for (const t of admittedAt) perWindow.set(Math.floor(t / 300), (perWindow.get(Math.floor(t / 300)) ?? 0) + 1);
      for (const count of perWindow.values()) expect(count).toBeLessThanOrEqual(40);
      expect(admittedAt.length).toBeGreaterThan(20);
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it("locally admitted checks report consistent state: remaining falls by one, reset is the window's", async () => {
    const [store] = await stores(1, { reserve: 16 });
    try {
      const decisions: StoreDecision[] = [];
      for (let i = 0; i < 30; i++) decisions.push(await store!.hit("headers", 60_000, 100));
      expect(decisions.map((d) => d.remaining)).toEqual(Array.from({ length: 30 }, (_, i) => 99 - i));
      for (const d of decisions) {
        expect(d.allowed).toBe(true);
        expect(d.retryAfterMs).toBe(0);
        // Usage drains at the end of the next window: between one and two windows away.
        expect(d.resetMs).toBeGreaterThan(60_000);
        expect(d.resetMs).toBeLessThanOrEqual(120_000);
      }
      // At the limit, a local token still reports the wait of Redis' state.
      const last: StoreDecision[] = [];
      for (let i = 0; i < 75; i++) last.push(await store!.hit("headers", 60_000, 100));
      const lastAdmitted = last.filter((d) => d.allowed).at(-1)!;
      expect(lastAdmitted.remaining).toBe(0);
      expect(lastAdmitted.retryAfterMs).toBeGreaterThan(0);
      expect(last.at(-1)!.allowed).toBe(false);
      expect(last.at(-1)!.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await store!.close();
    }
  });

  it("through the limiter: headers stay consistent and the limit exact", async () => {
    const [store] = await stores(1, { reserve: 8 });
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 20, store: store! });
    try {
      const results = [];
      for (let i = 0; i < 25; i++) results.push(await limiter.consume("via-limiter"));
      expect(results.map((r) => r.allowed)).toEqual([...Array<boolean>(20).fill(true), ...Array<boolean>(5).fill(false)]);
      expect(results.slice(0, 20).map((r) => r.remaining)).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
      expect(results.every((r) => r.degraded === undefined)).toBe(true);
    } finally {
      await limiter.close();
      await store!.close();
    }
  });

  it("during an outage, tokens already held are still handed out (they were counted), then the failure policy answers", async () => {
    const [store] = await stores(1, { reserve: 16, commandTimeoutMs: 200, breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    const limiter = new RateLimiter({ windowMs: 60_000, maxRequests: 1_000, store: store!, failurePolicy: "deny" });
    try {
      for (let i = 0; i < 8; i++) await limiter.consume("outage");
      const held = store!.reserved("outage");
      expect(held).toBeGreaterThan(0);
      fx.server.pause();
      const during = [];
      for (let i = 0; i < held + 3; i++) during.push(await limiter.consume("outage"));
      expect(during.slice(0, held).every((r) => r.allowed && r.degraded === undefined)).toBe(true);
      // Then the store fails and 'deny' answers, flagged degraded (not "limit exceeded").
      expect(during.slice(held).every((r) => !r.allowed && r.degraded === true)).toBe(true);
    } finally {
      fx.server.resume();
      await limiter.close();
      await store!.close();
    }
  });
});
