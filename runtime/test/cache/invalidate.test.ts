import { spawn } from "node:child_process";
import { join } from "node:path";
import Redis from "ioredis";
import { RedisServer } from "../../../test/helpers/redis";
import { CacheManager } from "../../src/cache";

let server: RedisServer;
let admin: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

async function fill(prefix: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 5_000) {
    const p = admin.pipeline();
    for (let i = start; i < Math.min(n, start + 5_000); i++) p.set(`${prefix}${i}`, `{"html":"<p>${i}</p>"}`, "PX", 600_000);
    await p.exec();
  }
}

const percentile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

describe("pattern invalidation at scale", () => {
  it("removes 50,000 matching keys with SCAN+UNLINK while another client's GETs stay fast", async () => {
    await fill("uaip:c:page:", 50_000);
    await fill("uaip:c:keep:", 1_000);
    const a = new CacheManager({ url: server.url });
    const b = new CacheManager({ url: server.url });
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 0; i < 200; i++) await b.get(`page:${i}`); // B's L1 holds some of them
    expect(b.l1Size).toBe(200);

    // Server-side view: log every command that runs for 1 ms or more.
    await admin.config("SET", "slowlog-log-slower-than", "1000");
    await admin.config("SET", "slowlog-max-len", "1024");
    await admin.slowlog("RESET");
    await admin.config("RESETSTAT");

    // Another client, in its own process, loops GETs during the whole invalidation.
    const probe = spawn(process.execPath, [join(__dirname, "get-probe.js"), server.url, "uaip:c:keep:1"], {
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
    expect(await admin.dbsize()).toBe(1_000 + 0);
    expect(await admin.exists("uaip:c:keep:999")).toBe(1);

    // Never KEYS; the work was split into many small SCAN/UNLINK steps.
    const stats = (await admin.info("commandstats")) as string;
    expect(stats).not.toMatch(/cmdstat_keys:/);
    const scans = Number(/cmdstat_scan:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    const unlinks = Number(/cmdstat_unlink:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    expect(scans).toBeGreaterThanOrEqual(40);
    expect(unlinks).toBeGreaterThanOrEqual(40);

    // The longest single command Redis ran (SLOWLOG: [id, ts, micros, args...]).
    const slow = (await admin.slowlog("GET", 1024)) as [number, number, number, string[]][];
    const longestMs = slow.reduce((m, e) => Math.max(m, e[2] / 1_000), 0);

    latencies.sort((x, y) => x - y);
    const p99 = percentile(latencies, 0.99);
    const max = latencies[latencies.length - 1];
    if (process.env.UAIP_REPORT) {
      console.log(
        `50k invalidation: ${invalidateMs.toFixed(0)} ms, ${scans} SCAN + ${unlinks} UNLINK, longest server command ${longestMs.toFixed(2)} ms; ` +
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
  });
});
