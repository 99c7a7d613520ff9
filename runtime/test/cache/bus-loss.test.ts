/**
 * An invalidation published while instance B's subscriber was cut off must not leave B serving the
 * old value once the bus is back: B's L1 is flushed when its subscription is restored, and a
 * subscriber connection that died silently (half-open: no FIN, no answers) is found by the bus
 * heartbeat. Two caches on a real Redis; B reaches it through the fault proxy.
 *
 * The bound checked: B serves the new value within heartbeat detection (2 x busHeartbeatMs) + the
 * reconnect delay (reconnectDelay's first step) + resubscribe, with slack for this shared machine.
 */
import { CacheManager } from "../../src/cache";
import { reconnectDelay } from "../../src/cache/connection";
import { RedisServer } from "../../../test/helpers/redis";
import { FaultProxy } from "../../../tools/fault-proxy/proxy";

jest.setTimeout(60_000);

let server: RedisServer;
let proxy: FaultProxy;
const open: CacheManager[] = [];
const HEARTBEAT_MS = 200;
/** Slack for a loaded 2-core machine: timers and event loops run late, never early. */
const SLACK_MS = 1_500;

beforeAll(async () => {
  server = await RedisServer.start();
});
beforeEach(async () => {
  proxy = await FaultProxy.start({ port: server.port });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await proxy.close();
});
afterAll(() => server.stop());

async function pair(): Promise<{ a: CacheManager; b: CacheManager }> {
  const a = new CacheManager({ url: server.url, busHeartbeatMs: HEARTBEAT_MS });
  const b = new CacheManager({ url: proxy.redisUrl, busHeartbeatMs: HEARTBEAT_MS });
  open.push(a, b);
  expect(await a.ready()).toBe(true);
  expect(await b.ready()).toBe(true);
  return { a, b };
}

/** Ms until B serves `want` for `key`, polling every 10 ms; Infinity after `limitMs`. */
async function msUntilServes(b: CacheManager, key: string, want: unknown, limitMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (JSON.stringify(await b.get(key)) === JSON.stringify(want)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Waits until `cache` holds `want` in L1 and the writer's own message for it has been handled (it
 * travels on another socket and may land just after the read, evicting the copy): stable over two reads.
 */
async function holdsInL1(cache: CacheManager, key: string, want: unknown): Promise<void> {
  let stable = 0;
  const deadline = Date.now() + 5_000;
  while (stable < 2 && Date.now() < deadline) {
    const size = cache.l1Size;
    const same = JSON.stringify(await cache.get(key)) === JSON.stringify(want) && cache.l1Size === size && size > 0;
    stable = same ? stable + 1 : 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(stable).toBeGreaterThanOrEqual(2);
}

/** B holds v1 in L1; then A writes v2 while B's subscriber is cut off `how`; the fault is cleared. */
async function missedInvalidation(how: "reset" | "half-open"): Promise<{ b: CacheManager; clearedAt: number }> {
  const { a, b } = await pair();
  await a.set("user:1", { v: 1 });
  await holdsInL1(b, "user:1", { v: 1 });
  if (how === "reset") proxy.enable({ kind: "reset" }, { said: /SUBSCRIBE/i });
  else proxy.enable({ kind: "half-open" }, { said: /SUBSCRIBE/i });
  await a.set("user:1", { v: 2 }); // published while B cannot hear it
  // The command connection is untouched: B's L2 holds v2, but B's L1 still answers v1 until the bus is back.
  proxy.clear();
  return { b, clearedAt: performance.now() };
}

test("subscriber reset: B serves the new value once it has resubscribed", async () => {
  const { b } = await missedInvalidation("reset");
  const bound = reconnectDelay(0) + 2 * HEARTBEAT_MS + SLACK_MS;
  const ms = await msUntilServes(b, "user:1", { v: 2 }, 10_000);
  expect(ms).toBeLessThanOrEqual(bound);
});

test("half-open subscriber (no FIN, no answers): the heartbeat finds it, and B serves the new value within the bound", async () => {
  const { b } = await missedInvalidation("half-open");
  const bound = reconnectDelay(0) + 2 * HEARTBEAT_MS + SLACK_MS;
  // Before the heartbeat, B never learnt: it served v1 until the L1 TTL (60 s by default).
  const ms = await msUntilServes(b, "user:1", { v: 2 }, 10_000);
  expect(ms).toBeLessThanOrEqual(bound);
});

test("the heartbeat leaves a healthy subscriber alone: invalidations keep arriving, L1 is not flushed", async () => {
  const { a, b } = await pair();
  await a.set("k", 1);
  await holdsInL1(b, "k", 1);
  await b.set("mine", 1);
  await new Promise((r) => setTimeout(r, 5 * HEARTBEAT_MS));
  expect(b.l1Size).toBe(2);
  await a.set("k", 2);
  expect(await msUntilServes(b, "k", 2, 2_000)).toBeLessThan(2_000);
  expect(b.l1Size).toBeGreaterThanOrEqual(1);
});
