/**
 * CacheManager.ready() on a Redis Cluster (issue #22): ready means a live connection to every primary, so a
 * primary that does not answer makes it false, and it is true again once that primary answers. The primary is held
 * with CLIENT PAUSE (its clients wait; the cluster bus does not, so no failover starts).
 */
import { CacheManager } from "../../src/cache";
import { useRedis } from "../../../test/helpers/redis-cluster";

const redis = useRedis("cluster");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("ready() is false while one primary does not answer, and true once it does", async () => {
  const c = new CacheManager({ url: redis.url, config: { redis: { mode: "cluster", commandTimeoutMs: 2_000 } }, bus: false });
  try {
    expect(await c.ready(10_000)).toBe(true);
    const [primary] = await redis.primaries();
    const pauseMs = 1_500;
    await primary.call("CLIENT", "PAUSE", String(pauseMs), "ALL");
    const pausedAt = performance.now();
    expect(await c.ready(300)).toBe(false);
    await sleep(pausedAt + pauseMs + 100 - performance.now());
    expect(await c.ready(10_000)).toBe(true);
  } finally {
    await c.close();
  }
}, 60_000);
