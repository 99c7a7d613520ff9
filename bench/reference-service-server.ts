import { createServer } from "node:http";
import { createRuntime } from "@uaip/runtime";
import { createService, loadServiceConfig, serviceCdnPaths } from "../examples/service";

/**
 * The server side of reference-service.bench.ts, forked once per run: the reference service on the
 * env the parent passed, or a bare node:http server answering its JSON (and its headers, when given).
 * Its own module so the child loads what a service's image loads and no more: forking the bench file
 * itself also loaded the load runner and Pulumi (250 MB of heap) into the server being measured.
 */

// Not UAIP_*: loadRuntimeConfig refuses unknown UAIP_ variables.
export const MODE_ENV = "BENCH_REFERENCE_MODE";
/** The seed service whose env and routes the bench uses. */
export const SERVICE = "agent-intelligence";

/** What the child sends its parent once it listens. */
export interface Ready {
  port: number;
  path: string;
}

/** Headers Node writes on every response itself, or that describe one response only: not copied to bare. */
export const PER_RESPONSE_HEADERS = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

/** The reference service, its Fastify peer (reference-fastify-peer.ts), or a bare server with its JSON (and headers, when given). */
async function serve(mode: string): Promise<void> {
  if (mode === "bare") {
    const body = Buffer.from(process.env.BENCH_REFERENCE_BODY ?? "{}");
    const headers = JSON.parse(process.env.BENCH_REFERENCE_HEADERS ?? '{"content-type":"application/json"}') as Record<
      string,
      string
    >;
    const server = createServer((_req, res) => {
      res.writeHead(200, headers);
      res.end(body);
    });
    server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as { port: number }).port, path: "/" }));
    return;
  }
  const config = loadServiceConfig(process.env);
  if (mode === "fastify") {
    // Loaded only here: the reference service's child loads what its image loads and no more.
    const { serveFastifyPeer } = await import("./reference-fastify-peer");
    const port = await serveFastifyPeer(config);
    // The operation the reference run created (the same database): the same row, the same JSON.
    process.send!({ port, path: `/${SERVICE}/operations/${process.env.BENCH_REFERENCE_OPERATION_ID}` });
    return;
  }
  const runtime = createRuntime({ config, cdnPaths: serviceCdnPaths(config.serviceName) });
  await runtime.ready(10_000);
  const { server } = createService(runtime);
  server.listen(0, "127.0.0.1", async () => {
    const port = (server.address() as { port: number }).port;
    const created = await fetch(`http://127.0.0.1:${port}/${SERVICE}/operations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "bench", payload: { data: "test" } }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    process.send!({ port, path: `/${SERVICE}/operations/${created.id}` });
  });
}

if (process.env[MODE_ENV]) {
  // Exit normally on kill(), so a --cpu-prof run (BENCH_PROFILE=1) writes its profile.
  process.once("SIGTERM", () => process.exit(0));
  void serve(process.env[MODE_ENV]);
}
