import { get } from "node:http";
import { createRuntime, loadRuntimeConfig, type UaipRuntime } from "@uaip/runtime";
import { WebSocket } from "ws";
import { serveOnLoopback, type LoopbackService } from "../helpers/service";
import { closed, openClient, waitFor } from "./helpers";

/**
 * The reference service serves WebSockets on its HTTP port, at /<service>/ws, and broadcasts
 * through the runtime's batcher; the runtime built both from the UAIP_WS_* / UAIP_BATCH_* env.
 */
let runtime: UaipRuntime;
let served: LoopbackService | undefined;
let port: number;
const name = "orchestration-pipeline";

beforeAll(async () => {
  // No Redis here: the runtime degrades (L1 only, in-memory limits), which is all this test needs.
  runtime = createRuntime(
    loadRuntimeConfig({
      UAIP_SERVICE_NAME: name,
      UAIP_WS_MAX_CONNECTIONS: "5",
      UAIP_BATCH_SIZE: "50",
      UAIP_BATCH_FLUSH_INTERVAL_MS: "30",
    }),
    { realtime: { drainTimeoutMs: 1_000 } },
  );
  served = await serveOnLoopback(runtime);
  ({ port } = served);
});

afterAll(async () => {
  await (served ? served.close() : runtime?.close());
});

function httpGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) =>
    get(`http://127.0.0.1:${port}${path}`, (res) => {
      let body = "";
      res.on("data", (d) => (body += d)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject),
  );
}

describe("examples/service.ts WebSocket route", () => {
  it("broadcasts item reads and client messages to every client in batched frames, on the HTTP port", async () => {
    const url = `ws://127.0.0.1:${port}/${name}/ws`;
    const [a, b] = await Promise.all([openClient(url), openClient(url)]);
    const seen: { a: unknown[][]; b: unknown[][] } = { a: [], b: [] };
    a.on("message", (d: Buffer) => seen.a.push(JSON.parse(d.toString()) as unknown[]));
    b.on("message", (d: Buffer) => seen.b.push(JSON.parse(d.toString()) as unknown[]));
    try {
      await Promise.all([httpGet(`/${name}/items/7`), httpGet(`/${name}/items/8`)]);
      a.send("hello from a");
      await waitFor(() => seen.b.flat().length === 3 && seen.a.flat().length === 3);
      expect(seen.b.flat()).toEqual(
        expect.arrayContaining([
          { type: "item.read", id: "7" },
          { type: "item.read", id: "8" },
          { type: "client.message", text: "hello from a" },
        ]),
      );
      expect(seen.a.length).toBeLessThan(3); // batched: fewer frames than messages

      const scrape = await httpGet("/metrics");
      expect(scrape.body).toMatch(new RegExp(`^uaip_ws_connections\\{service="${name}"\\} 2$`, "m"));
      expect(scrape.body).toMatch(new RegExp(`^uaip_ws_max_connections\\{service="${name}"\\} 5$`, "m"));

      // Shutdown as on SIGTERM: the queued message still goes out, then 1001.
      const codes = Promise.all([closed(a), closed(b)]);
      await runtime.realtime.batcher.addMessage({ type: "last" });
      await runtime.realtime.close();
      expect((await codes).map((c) => c.code)).toEqual([1001, 1001]);
      expect(seen.a.flat()).toContainEqual({ type: "last" });
    } finally {
      for (const s of [a, b]) if (s.readyState !== WebSocket.CLOSED) s.terminate();
    }
  });
});
