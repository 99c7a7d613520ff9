/**
 * What a Redis check costs Redis, and that the key still expires when it should: the key's TTL is set
 * by the first write of each window only (every write of window idx expires it at the same Redis
 * time, (idx + 2) * w), so a check is HMGET + HSET, plus TIME and the script call per batch.
 */
import fc from "fast-check";
import type { Redis } from "ioredis";
import { RateLimiter } from "../../src";
import { RedisStore } from "../../src/ratelimit";
import { slotKey } from "../../src/redis/hash-tag";
import { useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();

/** Calls per command name since the last CONFIG RESETSTAT (INFO commandstats). */
async function commandCalls(raw: Redis): Promise<Record<string, number>> {
  const stats = await raw.info("commandstats");
  return Object.fromEntries([...stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

/** Redis' clock, ms. */
async function redisNow(raw: Redis): Promise<number> {
  const [s, us] = await raw.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe("RedisStore: commands per check", () => {
  it("n single checks of one key in one window: n HMGET, n HSET, one PEXPIRE", async () => {
    const windowMs = 3_600_000;
    for (const n of [1, 2, 10, 50]) {
      const store = new RedisStore({ url: fx.server.url, keyPrefix: `cmd-${n}:`, commandTimeoutMs: 2_000, batching: false });
      await store.ready();
      const limiter = new RateLimiter({ windowMs, maxRequests: 1_000_000, store });
      // Window boundaries fall on whole hours: skip the last seconds of one, so all n share a window.
      if ((await redisNow(fx.raw)) % windowMs > windowMs - 5_000) await new Promise((r) => setTimeout(r, 5_000));
      await limiter.consume("warm-up"); // loads the script (a first EVALSHA fails over to EVAL)
      await fx.raw.config("RESETSTAT");
      for (let i = 0; i < n; i++) expect((await limiter.consume("k")).allowed).toBe(true);
      const calls = await commandCalls(fx.raw);
      expect(calls.hmget).toBe(n);
      expect(calls.hset).toBe(n);
      expect(calls.pexpire).toBe(1);
      // Commands of n checks sent one by one (no batch to share TIME and the script call): EVALSHA, TIME,
      // HMGET, HSET each, and one PEXPIRE; 4 per check from the second on, where PEXPIRE made it 5
      // (rate-limiter-flexible's RateLimiterRedis: 4). Batched checks share EVALSHA and TIME: 2 per check.
      const total = (calls.evalsha ?? 0) + (calls.eval ?? 0) + calls.time + calls.hmget + calls.hset + calls.pexpire;
      expect(total).toBe(4 * n + 1);
      await Promise.all([limiter.close(), store.close()]);
    }
  });

  it("for any hits over a few windows, the key expires at the end of the window after its last write's window", async () => {
    const windowMs = 400;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 250 }), { minLength: 1, maxLength: 6 }), async (gaps) => {
        const prefix = `ttl-${Math.random().toString(36).slice(2)}:`;
        const store = new RedisStore({ url: fx.server.url, keyPrefix: prefix, commandTimeoutMs: 2_000, batching: false });
        await store.ready();
        const limiter = new RateLimiter({ windowMs, maxRequests: 1_000_000, store });
        for (const gap of gaps) {
          await new Promise((r) => setTimeout(r, gap));
          const sentAt = Date.now();
          await limiter.consume("k");
          const roundTripMs = Date.now() - sentAt;
          // The store's key for client "k" (hash-tagged, so a cluster keeps a client's keys in one slot).
          const key = slotKey(prefix, "k");
          // PEXPIRETIME is the expiry itself, in Redis' clock: no PTTL + TIME pair read by two commands,
          // whose gap (the server descheduled between them under CI load) once read as 5 ms of lateness.
          const expiresAt = Number(await fx.raw.call("PEXPIRETIME", key));
          expect(expiresAt).toBeGreaterThan(0);
          const index = Number(await fx.raw.hget(key, "i"));
          // (idx + 2) * w: never earlier (that would drop the previous window's count), and later only by the
          // time from the script's TIME (read as whole ms, floored) to the PEXPIRE's own clock: inside this
          // check's round trip, which Date.now()'s whole ms read up to 1 ms short.
          // A wrong window (idx + 1, idx + 3) is a whole window (400 ms) away, beyond any round trip under it.
          const late = expiresAt - (index + 2) * windowMs;
          expect(late).toBeGreaterThanOrEqual(0);
          expect(late).toBeLessThanOrEqual(roundTripMs + 1);
        }
        await Promise.all([limiter.close(), store.close()]);
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });
});
