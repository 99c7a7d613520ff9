/**
 * unlinkMatching at its edges (issue #22): every matching key removed and counted, over many SCAN pages and on
 * every primary of a cluster, the rest left alone; the COUNT hint and the guard applied to every command; a
 * cluster that knows no primary refused; a failing SCAN never leaves an UNLINK's rejection unhandled. Real
 * redis-server and a real 3-primary Redis Cluster (describeEachTopology).
 */
import fc from "fast-check";
import { Cluster } from "ioredis";
import { describeEachTopology } from "../../../test/helpers/redis-cluster";
import { unlinkMatching } from "../../src/cache/scan";

jest.setTimeout(60_000);

describeEachTopology("unlinkMatching", (redis) => {
  beforeEach(() => redis.flush());

  /** Writes `n` keys `<prefix><i>` through the admin client, 500 commands in flight (each routed to its slot's node). */
  async function write(prefix: string, n: number): Promise<void> {
    for (let i = 0; i < n; i += 500) {
      const batch = Array.from({ length: Math.min(n, i + 500) - i }, (_, j) => `${prefix}${i + j}`);
      await Promise.all(batch.map((k) => redis.admin.set(k, "1")));
    }
  }

  it("removes every matching key, on every primary and over many pages, counts them, and leaves the rest (property over sizes and COUNT)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 50 }),
        async (n, others, count) => {
          await redis.flush();
          await write("m:", n);
          await write("o:", others);
          expect(await unlinkMatching(redis.admin, "m:*", { count })).toBe(n);
          expect(await redis.keys("m:*")).toEqual([]);
          expect((await redis.keys("o:*")).length).toBe(others);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("sends each SCAN and UNLINK through the guard, one SCAN per COUNT-sized page (1000 by default)", async () => {
    await write("g:", 2_500);
    const calls: unknown[] = [];
    const guard = <T>(p: Promise<T>): Promise<T> => (calls.push(p), p);
    expect(await unlinkMatching(redis.admin, "g:*", { guard })).toBe(2_500);
    const primaries = (await redis.primaries()).length;
    // SCAN's COUNT is a hint: pages vary, but with 1000 a page the 2,500 keys take a few round trips, not hundreds.
    expect(calls.length).toBeGreaterThanOrEqual(primaries + 1);
    expect(calls.length).toBeLessThan(primaries * 10);
    await write("g:", 2_500);
    calls.length = 0;
    expect(await unlinkMatching(redis.admin, "g:*", { guard, count: 10 })).toBe(2_500);
    expect(calls.length).toBeGreaterThan(2 * (2_500 / 10) * 0.5);
  });

  it("a failing SCAN fails the call, and the UNLINK still in flight never becomes an unhandled rejection", async () => {
    await write("f:", 50);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // Every UNLINK and every SCAN after the first fails; the first page's UNLINK is in flight when the second SCAN fails.
      let scans = 0;
      let calls = 0;
      const guard = <T>(p: Promise<T>): Promise<T> => {
        const isScan = calls++ % 2 === 0;
        if (isScan && scans++ === 0) return p;
        return p.then(() => Promise.reject(new Error(isScan ? "scan failed" : "unlink failed")));
      };
      await expect(unlinkMatching(redis.admin, "f:*", { guard, count: 5 })).rejects.toThrow(/failed/);
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("unlinkMatching on a cluster client that has not loaded its slots", () => {
  it("is refused (no primary known is a failure, not zero keys removed)", async () => {
    const c = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
    try {
      await expect(unlinkMatching(c, "*")).rejects.toThrow(/no Redis Cluster primary is known/);
    } finally {
      c.disconnect();
    }
  });
});
