/**
 * Realtime bench: @uaip/runtime's WebSocketManager + MessageBatcher side by side with bare `ws`,
 * on real loopback sockets, in the same process (~5-10 s):
 *  1. broadcast to 1,000 clients: the batcher (one frame per batch of 100) vs one `send` per
 *     message per client (ws README's broadcast loop); messages delivered per second, target ≥ 3x;
 *  2. p99 delivery latency through the batcher under a steady trickle vs its flushInterval
 *     (the window is timed from the first message, so p99 should stay near flushInterval);
 *  3. server-side memory per idle connection: manager vs a bare ws server.
 * The clients run in a child process (ClientFleet), so the server's event loop and heap hold only
 * the server side: what a pod would see.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WebSocketServer, type WebSocket } from "ws";
import { MessageBatcher, WebSocketManager } from "@uaip/runtime";
import { benchResult, sized, type BenchContext, type BenchResult } from "./types";

const BATCH_SIZE = 100;
const FLUSH_INTERVAL_MS = 100;
const TRICKLE_EVERY_MS = 2;
/**
 * Full runs; a smoke run (ctx.smoke) uses a few clients, messages and one memory round.
 * Memory is noisy (GC timing): best of 2. Throughput differs by an order of magnitude: one round each.
 */
const FULL = { clients: 1_000, messages: 100, trickleMs: 1_000, memoryRounds: 2 };
const SMOKE = { clients: 30, messages: 5, trickleMs: 120, memoryRounds: 1 };
type Sizes = typeof FULL;
const STRATEGY = { initialDelay: 1_000, maxDelay: 30_000, factor: 2 };

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

interface Msg {
  i: number;
  /** Epoch ms (performance.timeOrigin + now): comparable across the two processes. */
  t: number;
  body: string;
}
const BODY = "x".repeat(64);
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * `n` ws clients in a child process. Line protocol: stdin "expect <count> <sample 0|1>" is acked
 * with "armed"; once `count` messages (batch arrays counted per message) have arrived the child
 * prints "done <p50> <p99>" (delivery latency in ms, sampled on one client in `sampleEvery`).
 * Every client JSON-parses what it gets, as a real one would; after "ignore" they only read the
 * frames (ws still parses them), standing for clients that run on their own CPUs.
 */
const CLIENT_SCRIPT = `
const { WebSocket } = require("ws");
const url = process.argv[1], n = Number(process.argv[2]), sampleEvery = Number(process.argv[3]);
let delivered = 0, expected = Infinity, sample = false, lat = [], ignore = false;
const now = () => performance.timeOrigin + performance.now();
const report = () => {
  expected = Infinity;
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : -1);
  process.stdout.write("done " + q(0.5) + " " + q(0.99) + "\\n");
};
let open = 0;
const sockets = [];
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on("error", (e) => { console.error(e.message); process.exit(1); });
  ws.once("open", () => { if (++open === n) process.stdout.write("ready\\n"); });
  ws.on("message", (data) => {
    if (ignore) return;
    const parsed = JSON.parse(data.toString());
    const list = Array.isArray(parsed) ? parsed : [parsed];
    delivered += list.length;
    if (sample && i % sampleEvery === 0) { const t = now(); for (const m of list) lat.push(t - m.t); }
    if (delivered >= expected) report();
  });
  sockets.push(ws);
}
let buf = "";
process.stdin.on("data", (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf("\\n")) >= 0) {
    const [cmd, count, s] = buf.slice(0, nl).split(" ");
    buf = buf.slice(nl + 1);
    if (cmd === "expect") { delivered = 0; lat = []; sample = s === "1"; expected = Number(count); ignore = false; process.stdout.write("armed\\n"); }
    if (cmd === "ignore") { ignore = true; process.stdout.write("armed\\n"); }
  }
});
process.stdin.on("end", () => { for (const s of sockets) s.terminate(); process.exit(0); });
`;

class ClientFleet {
  readonly #child: ReturnType<typeof spawn>;
  readonly #waiters: { prefix: string; resolve: (line: string) => void }[] = [];

  private constructor(url: string, n: number, sampleEvery: number) {
    this.#child = spawn(process.execPath, ["-e", CLIENT_SCRIPT, url, String(n), String(sampleEvery)], {
      cwd: __dirname,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let buf = "";
    this.#child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const i = this.#waiters.findIndex((w) => line.startsWith(w.prefix));
        if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(line);
      }
    });
  }

  static async start(url: string, n: number, sampleEvery = 1): Promise<ClientFleet> {
    const fleet = new ClientFleet(url, n, sampleEvery);
    await Promise.race([
      fleet.#line("ready"),
      new Promise((_, reject) => fleet.#child.once("exit", (code) => reject(new Error(`bench clients exited with ${code}`)))),
    ]);
    return fleet;
  }

  #line(prefix: string): Promise<string> {
    return new Promise((resolve) => this.#waiters.push({ prefix, resolve }));
  }

  /** Arms the count; `done` resolves with the latency percentiles once all arrived (wrapped: an async function would flatten it). */
  async expect(count: number, sample = false): Promise<{ done: Promise<{ p50: number; p99: number }> }> {
    const armed = this.#line("armed");
    const done = this.#line("done").then((l) => {
      const [, p50, p99] = l.split(" ").map(Number);
      return { p50, p99 };
    });
    this.#child.stdin!.write(`expect ${count} ${sample ? 1 : 0}\n`);
    await armed;
    return { done };
  }

  /** The clients stop parsing what they receive (until the next `expect`). */
  async ignore(): Promise<void> {
    const armed = this.#line("armed");
    this.#child.stdin!.write("ignore\n");
    await armed;
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.#child.once("exit", r));
    this.#child.stdin!.end();
    await exited;
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

function waitUntil(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () =>
      done() ? resolve() : performance.now() > deadline ? reject(new Error("bench: condition timed out")) : setTimeout(tick, 5);
    tick();
  });
}

interface Run {
  /** Messages delivered per second, end to end (send until the last client parsed the last one). */
  rate: number;
  /** Server process CPU (user + system) per delivered message, µs. */
  cpuUs: number;
}

/** Runs `send` and waits until both fleets have every message; measures rate and server CPU. */
async function measure(fleets: ClientFleet[], perClient: number, sizes: number[], send: () => Promise<void>): Promise<Run> {
  const dones = await Promise.all(fleets.map((f, i) => f.expect(perClient * sizes[i])));
  const total = perClient * sizes.reduce((a, b) => a + b, 0);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await send();
  await Promise.all(dones.map((d) => d.done));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { rate: total / (elapsed / 1000), cpuUs: (used.user + used.system) / total };
}

/**
 * 1 + 2: the same 1,000 sockets serve our batcher and the per-message loop. PROBES of them live in
 * a separate child, connected last (the end of the fan-out order): they measure latency without
 * the other 990 clients' parsing delaying their reads, as each real client has its own CPU.
 */
const PROBES = 10;
async function broadcastAndLatency({ clients, messages, trickleMs }: Sizes): Promise<BenchResult[]> {
  const server = createServer();
  const manager = new WebSocketManager(
    { maxConnections: clients + 10, heartbeatInterval: 60_000, reconnectStrategy: STRATEGY },
    { maxBufferedBytes: 16 * 1024 * 1024 },
  );
  manager.attach(server);
  const url = await listen(server);
  const fleet = await ClientFleet.start(url, clients - PROBES);
  const probes = await ClientFleet.start(url, PROBES);
  const fleets = [fleet, probes];
  const sizes = [clients - PROBES, PROBES];
  try {
    await waitUntil(() => manager.size === clients);
    const sockets: WebSocket[] = manager.sockets();

    const batched = () =>
      measure(fleets, messages, sizes, async () => {
        const batcher = new MessageBatcher<Msg>({
          batchSize: BATCH_SIZE,
          flushInterval: FLUSH_INTERVAL_MS,
          broadcast: async (b) => void manager.broadcast(JSON.stringify(b)),
        });
        for (let i = 0; i < messages; i++) await batcher.addMessage({ i, t: epochNow(), body: BODY });
        await batcher.close();
      });
    // ws README's broadcast: serialise each message once, send it to every client.
    const perMessage = () =>
      measure(fleets, messages, sizes, async () => {
        for (let i = 0; i < messages; i++) {
          const data = JSON.stringify({ i, t: epochNow(), body: BODY });
          for (const s of sockets) s.send(data);
        }
      });
    await batched(); // warm-up: JIT, socket buffers
    const ours = await batched();
    const peer = await perMessage();

    // A steady trickle, below batchSize per window, so the flushInterval timer decides every flush.
    // `inBatcher` is the server-side part: queued until handed to the sockets.
    // `fanOut` is the server's send loop per flush (one frame written to every socket).
    const inBatcher: number[] = [];
    const fanOut: number[] = [];
    const batcher = new MessageBatcher<Msg>({
      batchSize: BATCH_SIZE,
      flushInterval: FLUSH_INTERVAL_MS,
      broadcast: async (b) => {
        const now = epochNow();
        for (const m of b) inBatcher.push(now - m.t);
        manager.broadcast(JSON.stringify(b));
        fanOut.push(epochNow() - now);
      },
    });
    const count = Math.floor(trickleMs / TRICKLE_EVERY_MS);
    // The probes measure; the other 990 still get every frame but skip the JSON work, which real
    // clients do on their own CPUs, not on the one core this machine lends the whole fleet.
    await fleet.ignore();
    const { done } = await probes.expect(count * PROBES, true);
    for (let i = 0; i < count; i++) {
      await batcher.addMessage({ i, t: epochNow(), body: BODY });
      await new Promise((r) => setTimeout(r, TRICKLE_EVERY_MS));
    }
    await batcher.close();
    const { p50, p99 } = await done;
    inBatcher.sort((a, b) => a - b);
    const batcherP99 = inBatcher[Math.floor(0.99 * inBatcher.length)];
    fanOut.sort((a, b) => a - b);
    const fanOutP99 = fanOut[Math.floor(0.99 * fanOut.length)];
    return [
      benchResult(
        `broadcast to ${clients} clients, ${messages} msgs: delivered/s (batch ${BATCH_SIZE})`,
        ours.rate,
        "ws: one send per message",
        peer.rate,
        "msg/s",
        {
          text: ">= 3.0x",
          met: (ratio) => ratio >= 3,
        },
      ),
      benchResult(
        `broadcast to ${clients} clients: server CPU per delivered msg`,
        ours.cpuUs,
        "ws: one send per message",
        peer.cpuUs,
        "µs",
        {
          text: "< 1.0x (lower is better)",
          met: (ratio) => ratio < 1,
        },
      ),
      benchResult(
        `batcher p99 delivery latency, ${clients} clients, 1 msg/${TRICKLE_EVERY_MS} ms (p50 ${p50.toFixed(0)} ms; queued in batcher p99 ${batcherP99.toFixed(0)} ms; server send loop per flush p99 ${fanOutP99.toFixed(1)} ms)`,
        p99,
        "flushInterval",
        FLUSH_INTERVAL_MS,
        "ms",
        {
          text: "<= 1.2x (flushInterval + 20 ms)",
          met: (ratio) => ratio <= (FLUSH_INTERVAL_MS + 20) / FLUSH_INTERVAL_MS,
        },
      ),
      // What the batcher itself controls: how long a message waits in it before its batch is handed
      // to the sockets. The row above adds the send loop (one write per socket, which the per-message
      // peer pays too) and the clients' reads, on the same 2 cores as this server.
      benchResult(
        `  the same trickle: p99 time queued in the batcher (server side, before the send loop)`,
        batcherP99,
        "flushInterval",
        FLUSH_INTERVAL_MS,
        "ms",
        { text: "<= 1.2x", met: (ratio) => ratio <= 1.2 },
      ),
    ];
  } finally {
    await Promise.all(fleets.map((f) => f.close()));
    await manager.drain(1_000);
    await closeServer(server);
  }
}

function serverMemory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Bytes the server holds per idle connection; `count()` is its open-connection count. */
async function bytesPerConnection(url: string, count: () => number, clients: number): Promise<number> {
  const before = serverMemory();
  const fleet = await ClientFleet.start(url, clients);
  try {
    await waitUntil(() => count() === clients);
    await new Promise((r) => setTimeout(r, 100));
    return (serverMemory() - before) / clients;
  } finally {
    await fleet.close();
    await waitUntil(() => count() === 0, 10_000);
  }
}

async function idleMemory({ clients, memoryRounds }: Sizes): Promise<BenchResult> {
  const manager = new WebSocketManager({ maxConnections: clients + 10, heartbeatInterval: 60_000, reconnectStrategy: STRATEGY });
  const oursServer = createServer();
  manager.attach(oursServer);
  const oursUrl = await listen(oursServer);
  // The peer: ws' documented `{ server }` setup on the same kind of node:http server.
  const bareServer = createServer();
  const wss = new WebSocketServer({ server: bareServer });
  const bareUrl = await listen(bareServer);
  try {
    await bytesPerConnection(oursUrl, () => manager.size, clients); // warm-up: lazily built code and buffers
    const ours: number[] = [];
    const peer: number[] = [];
    for (let r = 0; r < memoryRounds; r++) {
      peer.push(await bytesPerConnection(bareUrl, () => wss.clients.size, clients));
      ours.push(await bytesPerConnection(oursUrl, () => manager.size, clients));
    }
    return benchResult(
      `server memory per idle connection (${clients} conns, heap + external)`,
      Math.min(...ours),
      "bare ws WebSocketServer",
      Math.min(...peer),
      "bytes",
      {
        text: "<= 1.25x",
        met: (ratio) => ratio <= 1.25,
      },
    );
  } finally {
    await manager.drain(1_000);
    wss.close();
    await Promise.all([closeServer(oursServer), closeServer(bareServer)]);
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const sizes = sized(ctx, FULL, SMOKE);
  // Memory first, before the broadcast runs leave garbage and socket buffers behind.
  const memory = await idleMemory(sizes);
  return [...(await broadcastAndLatency(sizes)), memory];
}
