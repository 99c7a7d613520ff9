/**
 * Cache bench: @uaip/runtime CacheManager side by side with its floor (bare lru-cache) and peers
 * (bentocache, cache-manager 7), all two-tier on the same redis-server, in the same process.
 * Comparisons run interleaved in short rounds (medians); the whole module takes ~10 s.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import Redis from "ioredis";
import { CacheManager } from "@uaip/runtime";
import { benchResult, sized, type BenchContext, type BenchResult } from "./types";

// lru-cache 11 as the runtime uses it (the repository root resolves an older major for other tools).
const runtimeRequire = createRequire(join(__dirname, "../runtime/package.json"));
const { LRUCache } = runtimeRequire("lru-cache") as typeof import("../runtime/node_modules/lru-cache");

/** Loads an ESM-only peer without TypeScript resolving its subpath exports (tsconfig uses node10 resolution). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (specifier: string): Promise<any> => import(specifier);

interface Peer {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  getOrSet(key: string, loader: () => Promise<unknown>): Promise<unknown>;
  close(): Promise<unknown>;
  ready?(): Promise<unknown>;
}

const VALUE = { id: 42, name: "agent-intelligence", tags: ["a", "b", "c"], score: 0.97, updatedAt: "2026-01-01T00:00:00Z" };
const KEYS = Array.from({ length: 100 }, (_, i) => `bench:item:${i}`);
/** Full runs; a smoke run (ctx.smoke) takes one short round of each. */
const FULL = { roundMs: 100, rounds: 9, warmupMs: 50, getOrSetMs: 1_000 };
const SMOKE = { roundMs: 5, rounds: 1, warmupMs: 5, getOrSetMs: 20 };
type Sizes = typeof FULL;

/** Sequential awaited calls for `ms`; returns ops/s. Checks the clock every 64 calls. */
async function opsPerSecond(fn: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) await fn(ops + i);
    ops += 64;
  }
  return ops / ((performance.now() - start) / 1_000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Runs the contenders in interleaved short rounds and keeps each one's median ops/s. The machine is
 * shared, so load drifts during a run; interleaving exposes every contender to the same drift.
 */
async function compare(
  contenders: Record<string, (i: number) => Promise<unknown>>,
  sizes: Sizes,
): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(contenders)) {
    await opsPerSecond(fn, sizes.warmupMs); // warm-up (JIT, connections)
    samples[name] = [];
  }
  for (let round = 0; round < sizes.rounds; round++) {
    for (const [name, fn] of Object.entries(contenders)) samples[name].push(await opsPerSecond(fn, sizes.roundMs));
  }
  return Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)]));
}

/** `callers` concurrent loops of getOrSet over a cold key space for `ms`; returns ops/s and loader calls. */
async function concurrentGetOrSet(
  cache: Peer,
  prefix: string,
  callers = 100,
  ms = 1_000,
): Promise<{ ops: number; loads: number }> {
  let ops = 0;
  let loads = 0;
  const space = 5_000;
  const loader = async (): Promise<unknown> => {
    loads++;
    await new Promise((r) => setImmediate(r)); // an async source (a DB query stand-in)
    return VALUE;
  };
  const end = performance.now() + ms;
  const start = performance.now();
  let seed = 1;
  // 32-bit LCG in integer arithmetic: the same key sequence for every peer, covering the whole space.
  const next = (): number => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) % space;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        await cache.getOrSet(`${prefix}:${next()}`, loader);
        ops++;
      }
    }),
  );
  return { ops: ops / ((performance.now() - start) / 1_000), loads };
}

function ours(redisUrl: string, prefix: string, memoryMaxSize = 10_000, mode: "standalone" | "cluster" = "standalone"): Peer {
  const c = new CacheManager({
    url: redisUrl,
    config: { memory: { maxSize: memoryMaxSize }, redis: { keyPrefix: `${prefix}:`, mode } },
  });
  return {
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v),
    getOrSet: (k, loader) => c.getOrSet(k, loader),
    close: () => c.close(),
    ready: () => c.ready(),
  };
}

async function bento(redisUrl: string, prefix: string): Promise<Peer> {
  const { BentoCache, bentostore } = await load("bentocache");
  const { memoryDriver } = await load("bentocache/drivers/memory");
  const { redisDriver, redisBusDriver } = await load("bentocache/drivers/redis");
  const { hostname, port } = new URL(redisUrl);
  const connection = { host: hostname, port: Number(port) };
  const b = new BentoCache({
    default: "two",
    prefix,
    stores: {
      two: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  return {
    get: (key) => b.get({ key }),
    set: (key, value) => b.set({ key, value }),
    getOrSet: (key, factory) => b.getOrSet({ key, factory }),
    close: () => b.disconnectAll(),
  };
}

async function cacheManager7(redisUrl: string, prefix: string): Promise<Peer> {
  const { createCache } = await load("cache-manager");
  const { Keyv } = await load("keyv");
  const { default: KeyvRedis } = await load("@keyv/redis");
  const l2 = new Keyv({ store: new KeyvRedis(redisUrl), namespace: prefix });
  const c = createCache({ stores: [new Keyv(), l2] });
  return {
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v, 60_000),
    getOrSet: (k, loader) => c.wrap(k, loader, 60_000),
    close: () => c.disconnect(),
  };
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const sizes = sized(ctx, FULL, SMOKE);
  const admin = new Redis(ctx.redisUrl);
  const o = ours(ctx.redisUrl, "bo");
  const b = await bento(ctx.redisUrl, "bb");
  const m = await cacheManager7(ctx.redisUrl, "bm");
  try {
    await o.ready?.();
    for (const k of KEYS) await Promise.all([o.set(k, VALUE), b.set(k, VALUE), m.set(k, VALUE)]);

    // 1. L1 hits. The floor is a bare lru-cache get through the same awaited async shape.
    const lru = new LRUCache<string, object>({ max: 10_000, ttl: 60_000 });
    for (const k of KEYS) lru.set(k, VALUE);
    const key = (i: number): string => KEYS[i % KEYS.length];
    const l1 = await compare(
      {
        floor: async (i) => lru.get(key(i)),
        ours: (i) => o.get(key(i)),
        bento: (i) => b.get(key(i)),
        cacheManager: (i) => m.get(key(i)),
      },
      sizes,
    );
    results.push(
      benchResult("cache L1 hit", l1.ours, "bare lru-cache get (awaited)", l1.floor, "ops/s", {
        text: ">= 0.7x",
        met: (r) => r >= 0.7,
      }),
    );
    results.push(
      benchResult("cache L1 hit", l1.ours, "bentocache (memory + redis + bus)", l1.bento, "ops/s", {
        text: ">= 1.5x",
        met: (r) => r >= 1.5,
      }),
    );
    results.push(benchResult("cache L1 hit", l1.ours, "cache-manager 7 (keyv memory + @keyv/redis)", l1.cacheManager, "ops/s"));

    // 2. L2 hits: a one-entry L1 and two alternating keys, so every get misses L1, reads Redis and backfills.
    const l2 = ours(ctx.redisUrl, "bl2", 1);
    await l2.ready?.();
    await l2.set("a", VALUE);
    await l2.set("b", VALUE);
    const l2Keys = ["a", "b"];
    const rawKeys = ["bl2:a", "bl2:b"];
    const l2ops = await compare(
      {
        raw: (i) => admin.get(rawKeys[i & 1]),
        // The same read made usable: the cache hands back the value, so it parses what Redis returned.
        rawParse: (i) => admin.get(rawKeys[i & 1]).then((s) => JSON.parse(s!) as unknown),
        ours: (i) => l2.get(l2Keys[i & 1]),
      },
      sizes,
    );
    const us = (opsPerSec: number): number => 1e6 / opsPerSec;
    results.push(
      benchResult("cache L2 hit latency", us(l2ops.ours), "raw ioredis GET (same value)", us(l2ops.raw), "µs", {
        text: "<= 1.2x (lower is better)",
        met: (r) => r <= 1.2,
      }),
      benchResult(
        "  the same rounds",
        us(l2ops.ours),
        "raw ioredis GET + JSON.parse (the value, usable)",
        us(l2ops.rawParse),
        "µs",
      ),
    );
    // The same L2 hit on a Redis Cluster (3 primaries): one more hop to pick the slot's node, same round trip count.
    if (ctx.clusterUrl) {
      const l2c = ours(ctx.clusterUrl, "bl2c", 1, "cluster");
      await l2c.ready?.();
      await l2c.set("a", VALUE);
      await l2c.set("b", VALUE);
      const both = await compare({ single: (i) => l2.get(l2Keys[i & 1]), cluster: (i) => l2c.get(l2Keys[i & 1]) }, sizes);
      results.push(
        benchResult(
          "cache L2 hit latency, Redis Cluster (3 primaries)",
          us(both.cluster),
          "ours, single node",
          us(both.single),
          "µs",
          {
            text: "<= 1.3x (lower is better)",
            met: (r) => r <= 1.3,
          },
        ),
      );
      await l2c.close();
    }
    await l2.close();

    // 3. getOrSet under 100 concurrent callers, cold caches, same key sequence and loader.
    await admin.flushdb();
    const o2 = ours(ctx.redisUrl, "go");
    await o2.ready?.();
    const b2 = await bento(ctx.redisUrl, "gb");
    const oursGos = await concurrentGetOrSet(o2, "k", 100, sizes.getOrSetMs);
    const bentoGos = await concurrentGetOrSet(b2, "k", 100, sizes.getOrSetMs);
    results.push(
      benchResult(
        `getOrSet, 100 concurrent callers (loader calls: ours ${oursGos.loads}, bentocache ${bentoGos.loads})`,
        oursGos.ops,
        "bentocache getOrSet",
        bentoGos.ops,
        "ops/s",
      ),
    );
    await Promise.all([o2.close(), b2.close()]);
  } finally {
    await Promise.allSettled([o.close(), b.close(), m.close()]);
    await admin.quit();
  }
  return results;
}
