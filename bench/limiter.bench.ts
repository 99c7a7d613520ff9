import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { RateLimiter } from "@uaip/runtime";
import { RedisStore } from "@uaip/runtime/ratelimit";
import { benchResult, sized, type BenchContext, type BenchResult } from "./types";

/**
 * Limiter checks per second: ours vs rate-limiter-flexible, same Redis, same concurrency, same key
 * spread (1,000 keys), limits high enough that every check is admitted (rate-limiter-flexible signals
 * a refusal by rejecting the promise, which would measure exception cost instead of the check).
 * Each comparison runs ROUNDS interleaved rounds (ours, peer, ours, peer, ...) after one warm-up
 * each and reports the medians, with the load average over the comparison in the row's name: the
 * machine is shared, and interleaving exposes both contenders to the same drift. Redis commands per
 * check come from INFO commandstats deltas (commands run inside scripts included).
 */
const CONCURRENCY = 50;
/** The second point: 100 concurrent callers, where sharing round trips pays off. */
const HIGH_CONCURRENCY = 100;
const KEYS = 1_000;
const WINDOW_MS = 60_000;
const HUGE = 1_000_000_000;
/** Full runs; a smoke run (ctx.smoke) takes one short round of each. */
const FULL = { runMs: 1_000, rounds: 5, warmup: 2_000 };
const SMOKE = { runMs: 30, rounds: 1, warmup: 20 };
let sizes = FULL;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const load1 = (): string => loadavg()[0].toFixed(1);

/** Runs `concurrency` loops awaiting `op` for `ms`; returns ops/s and how many ops ran. */
async function throughput(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  ms = sizes.runMs,
): Promise<{ rate: number; ops: number }> {
  let done = 0;
  const deadline = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      let i = w;
      while (performance.now() < deadline) {
        await op(i);
        i += concurrency;
        done++;
      }
    }),
  );
  return { rate: done / ((performance.now() - started) / 1000), ops: done };
}

/** CPU Redis has used so far, µs (INFO cpu: user + system of the server). */
async function redisCpuSoFar(admin: Redis): Promise<number> {
  const info = await admin.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? NaN);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1e6;
}

/** Redis commands run so far (INFO commandstats, every command, scripts' inner calls included). */
async function commandsSoFar(admin: Redis): Promise<number> {
  const stats = await admin.info("commandstats");
  return [...stats.matchAll(/^cmdstat_(?!info|config)[^:]+:calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

interface Compared {
  /** Median ops/s per contender. */
  rate: Record<string, number>;
  /** Best ops/s per contender. */
  best: Record<string, number>;
  /** Redis commands per check per contender (over all rounds). */
  commands: Record<string, number>;
  /** CPU per check, µs, this process plus the Redis server (over all rounds): what load on the machine disturbs least. */
  cpu: Record<string, number>;
  /** 1-minute load average at the start and the end. */
  load: string;
}

/** Warms each contender up once, then runs them interleaved for sizes.rounds rounds (order reversed every other round). */
async function compare(
  contenders: Record<string, (i: number) => Promise<unknown>>,
  concurrency: number,
  admin: Redis,
): Promise<Compared> {
  const loadAtStart = load1();
  for (const op of Object.values(contenders)) for (let i = 0; i < sizes.warmup; i++) await op(i); // JIT, script load
  const rates: Record<string, number[]> = {};
  const commands: Record<string, number> = {};
  const checks: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const names = Object.keys(contenders);
  for (let r = 0; r < sizes.rounds; r++) {
    for (const name of r % 2 ? [...names].reverse() : names) {
      const before = await commandsSoFar(admin);
      const redisCpu = await redisCpuSoFar(admin);
      const ownCpu = process.cpuUsage();
      const { rate, ops } = await throughput(contenders[name], concurrency);
      const own = process.cpuUsage(ownCpu);
      cpu[name] = (cpu[name] ?? 0) + own.user + own.system + (await redisCpuSoFar(admin)) - redisCpu;
      // Minus the INFO calls themselves.
      commands[name] = (commands[name] ?? 0) + (await commandsSoFar(admin)) - before - 3;
      checks[name] = (checks[name] ?? 0) + ops;
      (rates[name] ??= []).push(rate);
    }
  }
  const per = (f: (name: string) => number) => Object.fromEntries(names.map((n) => [n, f(n)]));
  return {
    rate: per((n) => median(rates[n])),
    best: per((n) => Math.max(...rates[n])),
    commands: per((n) => commands[n] / checks[n]),
    cpu: per((n) => cpu[n] / checks[n]),
    load: `${loadAtStart}-${load1()}`,
  };
}

const key = (i: number) => `user-${i % KEYS}`;

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const { redisUrl, clusterUrl } = ctx;
  sizes = sized(ctx, FULL, SMOKE);
  const results: BenchResult[] = [];

  // Redis: ours with its default fail-fast client (batching on: the checks issued in one event-loop
  // turn go to Redis as one atomic script call); the peer on a client with the options its docs recommend
  // (enableOfflineQueue: false) plus our timeout/retry settings.
  // Both sides get the same 1 s command timeout: this measures throughput, and on a loaded machine a 50 ms
  // timeout would turn scheduling hiccups into failures (ours would degrade, the peer would throw).
  const ourStore = new RedisStore({ url: redisUrl, keyPrefix: "bench:ours:", commandTimeoutMs: 1_000 });
  await ourStore.ready();
  const ours = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: HUGE, store: ourStore });
  const peerClient = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1_000 });
  await new Promise((r) => (peerClient.status === "ready" ? r(null) : peerClient.once("ready", r)));
  const peer = new RateLimiterRedis({
    storeClient: peerClient,
    points: HUGE,
    duration: WINDOW_MS / 1000,
    keyPrefix: "bench:rlf",
    rejectIfRedisNotReady: true,
  });
  const admin = new Redis(redisUrl);
  const rlf = "rate-limiter-flexible RateLimiterRedis, same Redis + client options";
  const interleaved = `median of ${sizes.rounds} interleaved rounds`;
  const contenders = { ours: (i: number) => ours.consume(key(i)), peer: (i: number) => peer.consume(key(i)) };
  const redis = await compare(contenders, CONCURRENCY, admin);
  results.push(
    benchResult(
      `limiter checks/s, Redis, ${KEYS.toLocaleString("en-US")} keys, reserve 1 (${CONCURRENCY} concurrent; ${interleaved}; load ${redis.load})`,
      redis.rate.ours,
      rlf,
      redis.rate.peer,
      "checks/s",
      { text: ">= 1.0x (aim 1.2x)", met: (r) => r >= 1.0 },
    ),
  );
  const high = await compare(contenders, HIGH_CONCURRENCY, admin);
  results.push(
    benchResult(
      `limiter checks/s, Redis, ${KEYS.toLocaleString("en-US")} keys, reserve 1 (${HIGH_CONCURRENCY} concurrent; ${interleaved}; load ${high.load})`,
      high.rate.ours,
      rlf,
      high.rate.peer,
      "checks/s",
      { text: ">= 1.3x", met: (r) => r >= 1.3 },
    ),
    benchResult(`  the same rounds, best of each (load ${high.load})`, high.best.ours, rlf, high.best.peer, "checks/s"),
    // Lower is better: client and Redis CPU per check, which the machine's load blurs far less than checks/s.
    benchResult(
      "  the same rounds: CPU per check, this process + redis-server (lower is better)",
      high.cpu.ours,
      rlf,
      high.cpu.peer,
      "µs",
      { text: "<= 0.77x (1.3x the checks per CPU)", met: (r) => r <= 1 / 1.3 },
    ),
    // Lower is better: commands Redis runs per check (EVALSHA and TIME shared by a batch).
    benchResult(
      `  the same rounds: Redis commands per check (INFO commandstats, script calls included)`,
      high.commands.ours,
      rlf,
      high.commands.peer,
      "commands",
      { text: "<= 1.0x (lower is better)", met: (r) => r <= 1.0 },
    ),
  );
  // The same checks on a Redis Cluster (3 primaries): keys hash-tagged per client, batches split per slot.
  if (clusterUrl) {
    const clusterStore = new RedisStore({ url: clusterUrl, mode: "cluster", keyPrefix: "bench:ours:", commandTimeoutMs: 1_000 });
    await clusterStore.ready();
    const onCluster = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: HUGE, store: clusterStore });
    // A degraded check (failure policy, in memory) would be fast and measure nothing: they are counted and shown.
    let degraded = 0;
    const counted = (r: { degraded?: boolean }) => void (r.degraded && degraded++);
    // Only the medians are read: the command and CPU counts come from the single node's INFO.
    const both = (
      await compare(
        { single: (i) => ours.consume(key(i)).then(counted), cluster: (i) => onCluster.consume(key(i)).then(counted) },
        HIGH_CONCURRENCY,
        admin,
      )
    ).rate;
    results.push(
      benchResult(
        `limiter checks/s, Redis Cluster, 3 primaries (${HIGH_CONCURRENCY} concurrent; degraded checks: ${degraded})`,
        both.cluster,
        "ours, single node",
        both.single,
        "checks/s",
        { text: "no degraded check", met: () => degraded === 0 },
      ),
    );
    await Promise.all([onCluster.close(), clusterStore.close()]);
  }
  // Local reservations (the stacks' rateLimit.reserve: 16 in dev/staging/local): 1,000 busy clients
  // take their tokens from Redis 16 at a time after a slow start, and admit the rest in process.
  const reservingStore = new RedisStore({ url: redisUrl, keyPrefix: "bench:reserve:", commandTimeoutMs: 1_000, reserve: 16 });
  await reservingStore.ready();
  const reserving = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: HUGE, store: reservingStore });
  const reserved = await compare(
    { ours: (i) => reserving.consume(key(i)), peer: (i) => peer.consume(key(i)) },
    HIGH_CONCURRENCY,
    admin,
  );
  results.push(
    benchResult(
      `limiter checks/s, Redis, ${KEYS.toLocaleString("en-US")} keys, reserve 16 (${HIGH_CONCURRENCY} concurrent; ${interleaved}; load ${reserved.load})`,
      reserved.rate.ours,
      rlf,
      reserved.rate.peer,
      "checks/s",
    ),
  );
  await Promise.all([reserving.close(), reservingStore.close()]);
  // Exactness while being fast: two instances (each batching on its own connection), 500 concurrent checks on one key.
  const second = new RedisStore({ url: redisUrl, keyPrefix: "bench:ours:", commandTimeoutMs: 1_000 });
  await second.ready();
  const limit = 100;
  const a = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: limit, store: ourStore });
  const b = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: limit, store: second });
  const burstKey = `exact-${Date.now()}`;
  const burst = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).consume(burstKey)));
  const allowed = burst.filter((r) => r.allowed).length;
  results.push(
    benchResult("limiter exactness: 2 instances, 500 concurrent, one key", allowed, "maxRequests", limit, "allowed", {
      text: "= 1.0x",
      met: (r) => r === 1,
    }),
  );

  // In-process: our RateLimiter over MemoryStore vs RateLimiterMemory.
  const oursMem = new RateLimiter({ windowMs: WINDOW_MS, maxRequests: HUGE });
  const peerMem = new RateLimiterMemory({ points: HUGE, duration: WINDOW_MS / 1000 });
  const mem = await compare({ ours: (i) => oursMem.consume(key(i)), peer: (i) => peerMem.consume(key(i)) }, CONCURRENCY, admin);
  results.push(
    benchResult(
      `limiter checks/s, in-process (${interleaved})`,
      mem.rate.ours,
      "rate-limiter-flexible RateLimiterMemory",
      mem.rate.peer,
      "checks/s",
      {
        text: ">= 1.0x",
        met: (r) => r >= 1.0,
      },
    ),
  );

  await Promise.all([ours.close(), a.close(), b.close(), oursMem.close(), ourStore.close(), second.close()]);
  peerClient.disconnect();
  admin.disconnect();
  return results;
}
