import { readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { RedisClusterServers } from "../tools/local-servers/redis-cluster";
import { RedisServer } from "../tools/local-servers/redis-server";
import type { BenchModule, BenchResult } from "./types";

/**
 * `npm run bench [-- <name filter>] [--smoke] [--json]`: starts one redis-server on a free port (and,
 * when the cache or limiter bench runs, a local Redis Cluster for their cluster rows), runs every
 * bench/*.bench.ts module's `run({ redisUrl, clusterUrl, smoke })` in sequence, prints one table and exits 0.
 * It reports numbers next to their targets; it does not gate (a shared machine is too noisy), and it
 * prints the load average before and after, since every ratio depends on what else the cores ran.
 * --smoke: minimal iterations (the numbers mean nothing; test/bench/smoke.test.ts checks that every
 * module still runs, cluster rows included). --json: one JSON line on stdout, { files: [{ file, results, error? }] }, instead of the table.
 */
function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  return n.toPrecision(3);
}

const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function table(rows: BenchResult[]): string {
  const head = ["name", "ours", "peer", "peer value", "unit", "ratio", "target", "met"];
  const body = rows.map((r) => [
    r.name,
    fmt(r.ours),
    r.peer,
    fmt(r.peerValue),
    r.unit,
    `${r.ratio.toFixed(2)}x`,
    r.target ?? "",
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes("--smoke");
  const json = args.includes("--json");
  const filter = args.find((a) => !a.startsWith("--"));
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith(".bench.ts") && (!filter || f.includes(filter)))
    .sort();
  const redis = await RedisServer.start();
  // Only the cache and limiter benches have cluster rows; a cluster that fails to start costs those rows, not the run.
  const cluster = files.some((f) => /^(cache|limiter)\.bench\.ts$/.test(f))
    ? await RedisClusterServers.start().catch((err: Error) => {
        process.stderr.write(`bench: no Redis Cluster (${err.message}); cluster rows skipped\n`);
        return undefined;
      })
    : undefined;
  const clusterUrl = cluster ? `redis://127.0.0.1:${cluster.nodes[0].port}` : undefined;
  const results: BenchResult[] = [];
  const byFile: { file: string; results: BenchResult[]; error?: string }[] = [];
  const started = Date.now();
  const loadBefore = loadAverage();
  try {
    for (const file of files) {
      const t = Date.now();
      process.stderr.write(`bench: ${file} ...`);
      try {
        const mod = (await import(join(__dirname, file))) as BenchModule;
        const own = await mod.run({ redisUrl: redis.url, clusterUrl, smoke });
        results.push(...own);
        byFile.push({ file, results: own });
        process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        // One broken bench must not hide the others' numbers.
        process.stderr.write(` failed: ${(err as Error).stack ?? err}\n`);
        byFile.push({ file, results: [], error: String((err as Error).stack ?? err) });
        results.push({
          name: `${file} (failed: ${(err as Error).message})`,
          ours: NaN,
          peer: "-",
          peerValue: NaN,
          ratio: NaN,
          unit: "-",
          met: false,
        });
      }
    }
  } finally {
    await redis.stop();
    await cluster?.stop();
  }
  if (json) {
    // NaN and Infinity become null in JSON: a reader sees a non-finite number as not a number.
    console.log(JSON.stringify({ files: byFile }));
    return;
  }
  console.log(
    `\n${table(results)}\n\n${results.length} results from ${files.length} bench files in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      `\nload average (1, 5, 15 min): ${loadBefore} before, ${loadAverage()} after (2 cores; ratios measured above ~2 are under load)`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(0);
  },
);
