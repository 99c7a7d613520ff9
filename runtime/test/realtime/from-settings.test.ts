import { Registry } from "prom-client";
import { WebSocket } from "ws";
import { loadRuntimeConfig } from "../../src/config/load";
import { createRealtime, type WebSocketConstructor } from "../../src/realtime";
import { closed, closeServer, listen, openClient, waitFor } from "./helpers";

/** The UAIP_WS_* / UAIP_BATCH_* variables the stack writes reach the manager, the batcher and the client. */
describe("createRealtime from the env contract", () => {
  it("applies maxConnections, heartbeat, batch size, flush interval and the reconnect strategy; close flushes then drains", async () => {
    const config = loadRuntimeConfig({
      UAIP_SERVICE_NAME: "capability-registry",
      UAIP_WS_MAX_CONNECTIONS: "2",
      UAIP_WS_HEARTBEAT_INTERVAL_MS: "5000",
      UAIP_WS_RECONNECT_INITIAL_DELAY_MS: "20",
      UAIP_WS_RECONNECT_MAX_DELAY_MS: "80",
      UAIP_WS_RECONNECT_FACTOR: "3",
      UAIP_BATCH_SIZE: "3",
      UAIP_BATCH_FLUSH_INTERVAL_MS: "10000",
    });
    const realtime = createRealtime(config, new Registry(), { drainTimeoutMs: 500 });
    expect(realtime.ws.maxConnections).toBe(2);
    expect(realtime.ws.heartbeatInterval).toBe(5_000);
    expect(realtime.ws.drainTimeoutMs).toBe(500);
    expect(realtime.batcher.batchSize).toBe(3);
    expect(realtime.batcher.flushInterval).toBe(10_000);

    const { server, url } = await listen();
    realtime.ws.attach(server, { path: "/capability-registry/ws" });
    const frames: unknown[][] = [];
    const a = await openClient(`${url}/capability-registry/ws`);
    const b = await openClient(`${url}/capability-registry/ws`);
    a.on("message", (d: Buffer) => frames.push(JSON.parse(d.toString()) as unknown[]));
    const third = new WebSocket(`${url}/capability-registry/ws`);
    try {
      expect((await closed(third)).code).toBe(1013);
      await waitFor(() => realtime.ws.size === 2);

      for (const m of ["m1", "m2", "m3", "m4"]) await realtime.batcher.addMessage(m);
      await waitFor(() => frames.length === 1);
      expect(frames).toEqual([["m1", "m2", "m3"]]);

      const client = realtime.connect(`ws://127.0.0.1:1`, { WebSocket: WebSocket as unknown as WebSocketConstructor });
      expect(client.reconnectStrategy).toEqual({ initialDelay: 20, maxDelay: 80, factor: 3 });
      client.close();

      // Shutdown: the queued "m4" (its 10 s window far away) is sent, then every socket gets 1001.
      const codes = Promise.all([closed(a), closed(b)]);
      await realtime.close();
      expect((await codes).map((c) => c.code)).toEqual([1001, 1001]);
      expect(frames).toEqual([["m1", "m2", "m3"], ["m4"]]);
    } finally {
      for (const s of [a, b, third]) s.terminate();
      await closeServer(server);
    }
  });
});
