import { fork } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import autocannon from "autocannon";
import { createMetrics } from "@uaip/runtime";
import { benchResult, sized, type BenchContext, type BenchResult } from "./types";

/**
 * Instrumented vs bare node:http throughput under autocannon on loopback. The server runs in a
 * child process (this same file, forked with a mode variable) so the load generator and the server
 * do not share one event loop; modes alternate (bare, instrumented, ... three times) and each
 * keeps its best run, which damps the noise of a shared machine.
 */
const MODE_ENV = "UAIP_BENCH_HTTP_MODE";
/** Full runs; a smoke run (ctx.smoke) takes one short round. */
const FULL = { runSeconds: 3, rounds: 3 };
const SMOKE = { runSeconds: 0.2, rounds: 1 };
const CONNECTIONS = 50;

function handler(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("hello world");
}

/** Child side: start the server in the requested mode and report the port. */
function serve(mode: string): void {
  const server =
    mode === "instrumented"
      ? createMetrics({ serviceName: "bench" }).instrumentServer(createServer(handler))
      : createServer(handler);
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send!({ port: typeof address === "object" && address ? address.port : 0 });
  });
}

async function measure(mode: "bare" | "instrumented", runSeconds: number): Promise<number> {
  const child = fork(__filename, [], {
    env: { ...process.env, [MODE_ENV]: mode },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m: { port: number }) => resolve(m.port));
      child.once("exit", (code) => reject(new Error(`bench server (${mode}) exited with ${code}`)));
    });
    // Ids in the path exercise route templating, as real traffic does.
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/users/12345`,
      connections: CONNECTIONS,
      duration: runSeconds,
    });
    return result.requests.average;
  } finally {
    child.kill();
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const { runSeconds, rounds } = sized(ctx, FULL, SMOKE);
  let bare = 0;
  let instrumented = 0;
  for (let r = 0; r < rounds; r++) {
    bare = Math.max(bare, await measure("bare", runSeconds));
    instrumented = Math.max(instrumented, await measure("instrumented", runSeconds));
  }
  return [
    benchResult(
      `HTTP throughput, instrumented (${CONNECTIONS} connections)`,
      instrumented,
      "bare node:http, same handler",
      bare,
      "req/s",
      {
        text: ">= 0.9x (cost <= 10%)",
        met: (r) => r >= 0.9,
      },
    ),
  ];
}

if (process.env[MODE_ENV]) serve(process.env[MODE_ENV]);
