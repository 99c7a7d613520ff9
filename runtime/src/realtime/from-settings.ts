import type { Registry } from "prom-client";
import type { RuntimeSettings } from "../config/settings";
import { checkOptions, checkValue, object, required } from "../options";
import { MessageBatcher } from "./batcher";
import { realtimeError } from "./options";
import { ReconnectingClient, type ReconnectingClientOptions } from "./client";
import { WebSocketManager, type WebSocketManagerOptions } from "./manager";

/** What createRuntime exposes for WebSockets, built from the profile's `ws` and `batching` settings. */
export interface Realtime {
  /** Accepts, pings, bounds and drains the service's WebSockets; `ws.attach(server, { path })` to serve. */
  ws: WebSocketManager;
  /** Batches messages into one frame per batch to every socket of `ws` (JSON array of messages); `addMessage(m, topic)` to the topic's subscribers only. */
  batcher: MessageBatcher<unknown>;
  /** A reconnecting client with the profile's `ws.reconnectStrategy`, for service-to-service streams. */
  connect(url: string, options?: Omit<ReconnectingClientOptions, "url" | "reconnectStrategy">): ReconnectingClient;
  /** Flushes the batcher to the sockets, then drains them (1001). */
  close(): Promise<void>;
}

/**
 * The WebSocketManager options createRealtime passes on. RealtimeOptions is derived from this list, so the run-time
 * check and the type cannot part (the type once offered `authorize` and `authorizeTimeoutMs`, which the check refused).
 */
const REALTIME_OPTIONS = [
  "drainTimeoutMs",
  "maxBufferedBytes",
  "maxPayload",
  "onMessage",
  "onConnection",
  "authorize",
  "authorizeTimeoutMs",
] as const satisfies readonly (keyof WebSocketManagerOptions)[];

/** Options of createRealtime beyond the settings: drain timeout, buffer and payload limits, message and connection hooks, authorize. */
export type RealtimeOptions = Pick<WebSocketManagerOptions, (typeof REALTIME_OPTIONS)[number]>;

/** The WebSocketManager, MessageBatcher and reconnecting-client factory built from the `ws` and `batching` settings. */
export function createRealtime(
  settings: Pick<RuntimeSettings, "ws" | "batching">,
  registry: Registry,
  options: RealtimeOptions = {},
): Realtime {
  // `settings` may be the whole RuntimeSettings (only ws and batching are read; the parts check
  // them); the options go to the WebSocketManager, so a key it would not see is named here.
  checkValue("createRealtime", "settings", settings, required(object("the runtime settings { ws, batching }")), realtimeError);
  checkOptions("createRealtime", options, REALTIME_OPTIONS, realtimeError);
  const ws = new WebSocketManager(settings.ws, { ...options, registry });
  const batcher = new MessageBatcher<unknown>({
    ...settings.batching,
    registry,
    broadcast: async (batch, topic) =>
      void (topic === undefined ? ws.broadcast(JSON.stringify(batch)) : ws.publish(topic, JSON.stringify(batch))),
  });
  return {
    ws,
    batcher,
    connect: (url, clientOptions = {}) =>
      new ReconnectingClient({ ...clientOptions, url, reconnectStrategy: settings.ws.reconnectStrategy }),
    async close() {
      // Queued messages go out before the sockets close; a failed last flush still drains.
      try {
        await batcher.close();
      } finally {
        await ws.drain();
      }
    },
  };
}
