// Run by property.test.ts in its own process with --max-old-space-size=64: random sizes go to every
// option whose value lives in the heap. Before the Size rule, a large one aborted the process
// ("Reached heap limit") or threw RangeError; here each must be built and used, or refused with a
// typed error. Prints one JSON line with the counts; any abort shows up as the child's exit signal.
import { getHeapStatistics } from "node:v8";
import fc from "fast-check";
import { CacheManager, createMetrics, MemoryStore, UaipError, WebSocketManager } from "./public-surface";

type Closable = { close?: () => unknown; drain?: (ms: number) => unknown };

const builders: [string, (n: number) => Closable][] = [
  ["CacheManager memory.maxSize", (n) => new CacheManager({ memory: { maxSize: n } })],
  ["CacheManager maxBytes", (n) => new CacheManager({ maxBytes: n })],
  ["MemoryStore maxKeys", (n) => new MemoryStore({ maxKeys: n })],
  [
    "WebSocketManager maxPayload/maxBufferedBytes",
    (n) => new WebSocketManager({ maxConnections: 1, heartbeatInterval: 1_000 }, { maxPayload: n, maxBufferedBytes: n }),
  ],
  ["createMetrics samplesPerBucket", (n) => createMetrics({ serviceName: "child", collectDefault: false, samplesPerBucket: n })],
];

async function release(made: Closable): Promise<void> {
  if (made.drain) await made.drain(0);
  else await made.close?.();
}

async function main(): Promise<void> {
  const untyped: string[] = [];
  let refused = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...builders),
      // Small, near-cap and absurd sizes alike.
      fc.oneof(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 5_000_000 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      ),
      async ([name, build], n) => {
        let made: Closable | undefined;
        try {
          made = build(n);
        } catch (err) {
          if (err instanceof UaipError) refused++;
          else untyped.push(`${name}(${n}): ${String(err)}`);
          return;
        }
        accepted++;
        if (made instanceof CacheManager) {
          await made.set("k", "v");
          await made.get("k");
        }
        await release(made);
        // A service builds its cache once; here a closed one must be collectable before the next is
        // built, so its last timers (unref'd, a few ms) get the time to fire.
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    ),
    { numRuns: 150 },
  );

  // At the cap itself (a quarter of the 64 MiB old space over the documented 64-byte floor): built, written and read.
  const cap = Math.floor(Math.min(64 * 2 ** 20, getHeapStatistics().heap_size_limit) / 4 / 64);
  const atCapCache = new CacheManager({ memory: { maxSize: cap } });
  for (let i = 0; i < 1_000; i++) await atCapCache.set(`k${i}`, i);
  const atCap = (await atCapCache.get("k999")) === 999 ? "built and used" : "wrong value";
  await atCapCache.close();

  const quoted: Record<string, string> = {};
  for (const maxSize of [1e9, 1e10]) {
    try {
      await new CacheManager({ memory: { maxSize } }).close();
      quoted[String(maxSize)] = "accepted";
    } catch (err) {
      quoted[String(maxSize)] = (err as UaipError).code ?? String(err);
    }
  }
  process.stdout.write(`${JSON.stringify({ untyped, refused, accepted, atCap, quoted })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
