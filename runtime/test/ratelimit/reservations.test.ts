/**
 * RedisStore `reserve`: a replica takes several tokens of a key's allowance per script call and admits
 * the key's following checks locally. Against a real redis-server: never over-admits across replicas,
 * a single replica stays exact, script calls drop, tokens die with their window, outages unchanged.
 */
import fc from "fast-check";
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

  it("reserved tokens expire with the window (300 ms), not a window after their grant: the next check goes to Redis again", async () => {
    const W = 300;
    const LATE = 200; // the ramp starts this far into a window: its tokens have about W - LATE ms to live
    const [store] = await stores(1, { reserve: 16 });
    try {
      // A token dies at its grant's send time + (W - Redis' elapsed): the window's end, less the time from the
      // send to the script's clock (at most the call's round trip). So the ramp's tokens are still held at
      // `after` when the window ends later than after + the attempt's whole duration; and they are gone at
      // the window's end, which is about W - LATE ms before a window after their grant. A loaded machine can
      // make an attempt too slow to tell these apart: then it proves nothing and the next window tries again.
      const deadline = Date.now() + 20_000;
      for (let attempt = 0; ; attempt++) {
        expect({ attempt, timedOut: Date.now() > deadline }).toEqual({ attempt, timedOut: false });
        await sleep((Math.floor(Date.now() / W) + 1) * W + LATE - Date.now());
        const key = `short-${attempt}`;
        const before = Date.now();
        for (let i = 0; i < 4; i++) await store!.hit(key, W, 1_000);
        const held = store!.reserved(key);
        const after = Date.now();
        const windowEnd = (Math.floor(before / W) + 1) * W;
        if (after + (after - before) + 1 >= windowEnd) continue;
        expect(held).toBeGreaterThan(0);
        // From the window's end on (Date.now() and Redis' TIME read the same clock): none left.
        await sleep(windowEnd - Date.now() + 2);
        const left = store!.reserved(key);
        if (Date.now() >= before + W) continue; // too late to tell the window's end from a window after the grant
        expect(left).toBe(0);
        const calls = await scriptCalls(fx.raw);
        expect((await store!.hit(key, W, 1_000)).allowed).toBe(true);
        expect((await scriptCalls(fx.raw)) - calls).toBe(1);
        break;
      }
    } finally {
      await store!.close();
    }
  });

  it("tokens never outlive Redis' window: across many 300 ms windows two replicas admit at most the limit in each", async () => {
    const W = 300;
    const LIMIT = 20;
    const [a, b] = await stores(2, { reserve: 16 });
    try {
      // Each admission was decided (by Redis, or locally from a token) between its call's send and its answer.
      const admitted: { sent: number; got: number }[] = [];
      const windowOf = (t: number) => Math.floor(t / W);
      // Until several windows' worth was admitted, however slow the machine (a generous deadline).
      const deadline = Date.now() + 20_000;
      while (admitted.length <= 3 * LIMIT && Date.now() < deadline) {
        const sent = Date.now();
        const d = await Promise.all([a!.hit("windows", W, LIMIT), b!.hit("windows", W, LIMIT)]);
        const got = Date.now();
        for (const x of d) if (x.allowed) admitted.push({ sent, got });
      }
      expect(admitted.length).toBeGreaterThan(3 * LIMIT);
      // A window's counter never passes the limit, and a token is used only in the window that counted it,
      // so at most LIMIT admissions are decided in any one window. A decision's window is known only to lie
      // within its call's span, so the rule checked is the one any such assignment must meet: for every run
      // of consecutive windows, the admissions whose spans lie inside it are at most LIMIT per window. On a
      // quiet machine the spans are a few ms, so this is LIMIT per window; load widens spans, never breaks it.
      const first = windowOf(admitted[0]!.sent);
      const last = windowOf(admitted.at(-1)!.got);
      const over: { windows: string; admitted: number; allowed: number }[] = [];
      for (let i = first; i <= last; i++)
        for (let j = i; j <= last; j++) {
          const inside = admitted.filter((x) => windowOf(x.sent) >= i && windowOf(x.got) <= j).length;
          if (inside > LIMIT * (j - i + 1)) over.push({ windows: `${i}..${j}`, admitted: inside, allowed: LIMIT * (j - i + 1) });
        }
      expect(over).toEqual([]);
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
    // The stores' 2 s command timeout: with a failure threshold of 1, one command slower than a short timeout on a
    // loaded machine would open the breaker before the outage; during it the first call waits the timeout once.
    const [store] = await stores(1, { reserve: 16, breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
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

  it("a single replica's Redis count of each key is exactly what it admitted plus what it holds, for any schedule of checks over event-loop iterations (property)", async () => {
    const [store] = await stores(1, { reserve: 16 });
    const prefix = `rl-test-${prefixes}:`;
    // A window of 10^9 ms (windows start at multiples of it on Redis' clock): no run crosses one.
    const W = 1_000_000_000;
    let run = 0;
    const iteration = fc.record({
      keys: fc.array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 8 }),
      wait: fc.boolean(),
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(iteration, { minLength: 1, maxLength: 8 }), async (iterations) => {
          const names = (k: string) => `${run}-${k}`;
          run++;
          const admitted = new Map<string, number>();
          const pending: Promise<void>[] = [];
          for (const { keys, wait } of iterations) {
            for (const k of keys)
              pending.push(
                store!.hit(names(k), W, 1e9).then((d) => {
                  if (d.allowed) admitted.set(k, (admitted.get(k) ?? 0) + 1);
                }),
              );
            // Either the replies come first, or the next iteration's checks go out while these are in flight.
            if (wait) await Promise.all(pending);
            else await new Promise((r) => setImmediate(r));
          }
          await Promise.all(pending);
          for (const k of ["a", "b", "c"]) {
            const counted = Number((await fx.raw.hget(`{${prefix}${names(k)}}`, "c")) ?? 0);
            expect(counted).toBe((admitted.get(k) ?? 0) + store!.reserved(names(k)));
          }
        }),
        {
          numRuns: 40,
          // b ramps its ask up (1, 2, 4), then two batches with b second in each are in flight at once.
          examples: [
            [
              [
                { keys: ["b"], wait: true },
                { keys: ["b"], wait: true },
                { keys: ["b"], wait: true },
                { keys: ["b"], wait: true },
                { keys: ["a", "b", "b", "b", "b", "b"], wait: false },
                { keys: ["c", "b"], wait: true },
              ],
            ],
          ],
        },
      );
    } finally {
      await store!.close();
    }
  });
});
