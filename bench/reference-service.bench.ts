import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { eachConnectionItsOwnClient } from "../load/runner/drive";
import { startBackends } from "../load/local-stack";
import { stackProfile } from "../load/stack-profile";
import { MODE_ENV, PER_RESPONSE_HEADERS, SERVICE, type Ready } from "./reference-service-server";
import { benchResult, sized, type BenchContext, type BenchResult } from "./types";

/**
 * End to end: the reference service's cached GET /<service>/operations/:id with every middleware
 * on (metrics, pressure gate, per-client rate limit in Redis, compression negotiation, L1/L2 cache,
 * WebSocket manager attached) vs the same route built on Fastify with the usual plugins, from the
 * same settings (reference-fastify-peer.ts), and a bare node:http server answering the same JSON
 * bytes as the floor (no target of its own beyond the goal). Each server runs in a child
 * process (reference-service-server.ts, forked with a mode) so autocannon does not share its event
 * loop; modes alternate (reference, Fastify, bare, ...) and each keeps its best run, which damps a
 * shared machine's noise. Next to the request rates: each server process's own CPU per request (user
 * + system time of every thread, from /proc), which autocannon's share of the 2 cores does not blur,
 * and a bare server that also sends the service's headers (same bytes on the wire).
 * BENCH_PROFILE=1 writes a --cpu-prof of the reference server to /tmp/prof.
 */
/**
 * runSeconds per measured run; warmupSeconds of load before it, so every server is measured with its
 * hot path compiled (V8 tiers up over the first thousands of calls). A smoke run (ctx.smoke) takes one short round.
 */
const FULL = { runSeconds: 4, warmupSeconds: 1, rounds: 3 };
const SMOKE = { runSeconds: 0.3, warmupSeconds: 0, rounds: 1 };
type Sizes = typeof FULL;
const CONNECTIONS = 20;

/** CPU time a process has used so far, µs: utime + stime of all its threads (proc(5) fields 14 and 15, in clock ticks). */
function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after it are space-separated.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const CLOCK_TICK_MICROS = 10_000; // USER_HZ is 100 on Linux
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MICROS;
}

interface Measured {
  rps: number;
  /** Server process CPU per request, µs. */
  cpuMicros: number;
  body: string;
  /** The response's own headers (PER_RESPONSE_HEADERS left out). */
  headers: Record<string, string>;
  non2xx: number;
  /** The path it served, e.g. /agent-intelligence/operations/1. */
  path: string;
}

async function measure(mode: "bare" | "reference" | "fastify", env: Record<string, string>, sizes: Sizes): Promise<Measured> {
  const child = fork(require.resolve("./reference-service-server"), [], {
    execArgv: [
      ...process.execArgv,
      ...(process.env.BENCH_PROFILE && mode === "reference" ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []),
    ],
    env: { ...process.env, ...env, [MODE_ENV]: mode },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const { port, path } = await new Promise<Ready>((resolve, reject) => {
      child.once("message", (m: Ready) => resolve(m));
      child.once("exit", (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
    });
    const url = `http://127.0.0.1:${port}${path}`;
    const first = await fetch(url, { headers: { "accept-encoding": "gzip, br" } });
    const body = await first.text();
    const headers = Object.fromEntries([...first.headers].filter(([name]) => !PER_RESPONSE_HEADERS.has(name)));
    const load = (duration: number) =>
      autocannon({
        url,
        connections: CONNECTIONS,
        duration,
        // Each connection is its own client behind the load balancer (the service trusts one hop).
        ...eachConnectionItsOwnClient([{ method: "GET", path, headers: { "accept-encoding": "gzip, br" } }]),
      });
    // (Not in a smoke run: each autocannon run lasts at least its 1 s sampling tick.)
    if (sizes.warmupSeconds > 0) await load(sizes.warmupSeconds);
    const cpuBefore = processCpuMicros(child.pid!);
    const result = await load(sizes.runSeconds);
    const cpuMicros = (processCpuMicros(child.pid!) - cpuBefore) / result.requests.total;
    return { rps: result.requests.average, cpuMicros, body, headers, non2xx: result.non2xx, path };
  } finally {
    child.kill();
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const sizes = sized(ctx, FULL, SMOKE);
  const profile = stackProfile("local");
  const backends = await startBackends(profile);
  try {
    const env = {
      ...[...backends.envs].find(([s]) => s.name === SERVICE)![1],
      UAIP_TRUSTED_PROXY_HOPS: "1",
      // Every middleware stays on; the limit is set high so the bench measures work, not 429s.
      UAIP_RATE_LIMIT_MAX_REQUESTS: "1000000000",
    };
    const best = { reference: 0, fastify: 0, bare: 0, bareSameHeaders: 0 };
    const cpu = { reference: Infinity, fastify: Infinity, bare: Infinity };
    const keep = (name: "reference" | "fastify" | "bare", m: Measured) => {
      if (m.non2xx > 0) throw new Error(`${name} answered ${m.non2xx} non-2xx responses`);
      best[name] = Math.max(best[name], m.rps);
      cpu[name] = Math.min(cpu[name], m.cpuMicros);
    };
    for (let r = 0; r < sizes.rounds; r++) {
      const ours = await measure("reference", env, sizes);
      keep("reference", ours);
      // The peer reads the same row (the reference run created it in the same database).
      const peer = await measure("fastify", { ...env, BENCH_REFERENCE_OPERATION_ID: ours.path.split("/").pop()! }, sizes);
      if (JSON.stringify(JSON.parse(peer.body)) !== JSON.stringify(JSON.parse(ours.body)))
        throw new Error(`the Fastify peer answered ${peer.body}, the reference service ${ours.body}: not the same operation`);
      keep("fastify", peer);
      keep("bare", await measure("bare", { BENCH_REFERENCE_BODY: ours.body }, sizes));
      // The same bytes on the wire: autocannon parses headers in JavaScript (http-parser-js) on the
      // same 2 cores, so this run tells whether reading the service's extra headers, not computing
      // them, is what the gap to bare is made of.
      const sameBytes = await measure(
        "bare",
        { BENCH_REFERENCE_BODY: ours.body, BENCH_REFERENCE_HEADERS: JSON.stringify(ours.headers) },
        sizes,
      );
      best.bareSameHeaders = Math.max(best.bareSameHeaders, sameBytes.rps);
    }
    const name = `reference service cached GET /operations/:id, every middleware (${CONNECTIONS} connections)`;
    const fastifyPeer = "Fastify + @fastify/rate-limit (Redis) + lru-cache/ioredis + prom-client + @fastify/compress";
    return [
      benchResult(name, best.reference, fastifyPeer, best.fastify, "req/s", { text: ">= 2.0x", met: (ratio) => ratio >= 2 }),
      // Lower is better: the server's own CPU, which autocannon's share of the 2 cores does not blur
      // (no target of its own: the goal is the request rate).
      benchResult(
        "  the same runs: server process CPU per request (all threads, user + system)",
        cpu.reference,
        fastifyPeer,
        cpu.fastify,
        "µs",
      ),
      // The floor: what node:http does with no feature at all.
      benchResult("  the same runs, against the floor", best.reference, "bare node:http, same JSON", best.bare, "req/s", {
        text: ">= 0.6x",
        met: (ratio) => ratio >= 0.6,
      }),
      benchResult(
        "  the same runs: server process CPU per request, against the floor",
        cpu.reference,
        "bare node:http",
        cpu.bare,
        "µs",
      ),
      // No target: it shows how much of the gap to the floor is the client reading the service's headers.
      benchResult(
        "  the same runs, against bare node:http also sending the service's headers (same bytes)",
        best.reference,
        "bare node:http, same JSON and headers",
        best.bareSameHeaders,
        "req/s",
      ),
    ];
  } finally {
    await backends.stop();
  }
}
