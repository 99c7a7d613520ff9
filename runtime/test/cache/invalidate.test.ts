import { spawn } from "node:child_process";
import { join } from "node:path";
import { describeEachTopology, type RedisFixture } from "../../../test/helpers/redis-cluster";
import { CacheManager } from "../../src/cache";

/** Writes n keys, 5,000 commands in flight at a time (a Cluster client routes each to its slot's primary). */
async function fill(redis: RedisFixture, prefix: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 5_000) {
    const writes = [];
    for (let i = start; i < Math.min(n, start + 5_000); i++)
      writes.push(redis.admin.set(`${prefix}${i}`, `{"html":"<p>${i}</p>"}`, "PX", 600_000));
    await Promise.all(writes);
  }
}

const percentile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

// On one redis-server and on a 3-primary Redis Cluster (issue #28): on the cluster the SCAN/UNLINK
// steps run on every primary, and the server-side figures are summed (commands) or maxed (SLOWLOG) over them.
describeEachTopology("pattern invalidation at scale", (redis) => {
  it("removes 50,000 matching keys with SCAN+UNLINK while another client's GETs stay fast", async () => {
    await fill(redis, "uaip:c:page:", 50_000);
    await fill(redis, "uaip:c:keep:", 1_000);
    const config = { redis: { mode: redis.mode } };
    const a = new CacheManager({ url: redis.url, config });
    const b = new CacheManager({ url: redis.url, config });
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 0; i < 200; i++) await b.get(`page:${i}`); // B's L1 holds some of them
    expect(b.l1Size).toBe(200);

    // Server-side view: log every command that runs for 1 ms or more (on every primary). Counted as
    // differences, not after CONFIG RESETSTAT, which would also zero the CROSSSLOT count the matrix checks.
    const primaries = await redis.primaries();
    for (const node of primaries) {
      await node.config("SET", "slowlog-log-slower-than", "1000");
      await node.config("SET", "slowlog-max-len", "1024");
      await node.slowlog("RESET");
    }
    const callsBefore = await redis.commandCalls();

    // Another client, in its own process, loops GETs during the whole invalidation.
    const probe = spawn(process.execPath, [join(__dirname, "get-probe.js"), redis.url, "uaip:c:keep:1", redis.mode], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    probe.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => probe.once("exit", () => resolve()));
    while (!out.includes("ready\n")) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30));

    const t0 = performance.now();
    const result = await a.invalidate("page:*");
    const invalidateMs = performance.now() - t0;
    probe.stdin.end("stop\n");
    await exited;
    const latencies = JSON.parse(out.split("\n")[1]) as number[];

    expect(result).toEqual({ pattern: "page:*", l1: 0, l2: 50_000, complete: true });
    expect(await redis.dbsize()).toBe(1_000 + 0);
    expect(await redis.admin.exists("uaip:c:keep:999")).toBe(1);

    // Never KEYS; the work was split into many small SCAN/UNLINK steps.
    const callsAfter = await redis.commandCalls();
    const ran = (name: string) => (callsAfter.get(name) ?? 0) - (callsBefore.get(name) ?? 0);
    expect(ran("keys")).toBe(0);
    const scans = ran("scan");
    const unlinks = ran("unlink");
    expect(scans).toBeGreaterThanOrEqual(40);
    expect(unlinks).toBeGreaterThanOrEqual(40);

    // The longest single command any primary ran (SLOWLOG: [id, ts, micros, args...]).
    let longestMs = 0;
    for (const node of primaries) {
      const slow = (await node.slowlog("GET", 1024)) as [number, number, number, string[]][];
      longestMs = slow.reduce((m, e) => Math.max(m, e[2] / 1_000), longestMs);
    }

    latencies.sort((x, y) => x - y);
    const p99 = percentile(latencies, 0.99);
    const max = latencies[latencies.length - 1];
    if (process.env.UAIP_REPORT) {
      console.log(
        `50k invalidation (${redis.topology}): ${invalidateMs.toFixed(0)} ms, ${scans} SCAN + ${unlinks} UNLINK, longest server command ${longestMs.toFixed(2)} ms; ` +
          `probe GETs n=${latencies.length} p50=${percentile(latencies, 0.5).toFixed(3)} p99=${p99.toFixed(3)} max=${max.toFixed(3)} ms`,
      );
    }
    // Bounds with a wide margin for a shared 2-core machine (measured: see the report).
    // The server-side figure is the robust one; the client-side max also carries OS scheduling noise
    // from the shared CPUs (the probe is a separate process; load average here reaches 6 on 2 cores),
    // hence the looser client-side bounds. Quiet-machine figures are in the report.
    expect(longestMs).toBeLessThan(25);
    expect(p99).toBeLessThan(100);
    expect(max).toBeLessThan(500);
    expect(latencies.length).toBeGreaterThan(20);

    // Other instances dropped the matching L1 entries.
    const end = Date.now() + 1_000;
    while (b.l1Size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(b.l1Size).toBe(0);
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});
