import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { WebSocket, type ClientOptions } from "ws";

/** Helpers for the realtime tests: a real node:http server on loopback and real ws clients. */

export async function listen(
  server: Server = createServer((_req, res) => res.end("ok")),
  port = 0,
): Promise<{ server: Server; port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const p = (server.address() as AddressInfo).port;
  return { server, port: p, url: `ws://127.0.0.1:${p}` };
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A ws client that has opened, or rejects with the error/close that prevented it. */
export function openClient(url: string, options?: ClientOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("close", (code) => reject(new Error(`closed with ${code} before open`)));
  });
}

/** Resolves with the close code and reason the client saw. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: "already closed" });
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Polls until `condition` holds (a loaded machine may take longer than any fixed sleep). */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `_count` and `_sum` of an unlabelled histogram in `registry`. */
export async function histogramTotals(registry: Registry, name: string): Promise<{ count: number; sum: number }> {
  const values = (await registry.getSingleMetric(name)!.get()).values as { metricName?: string; value: number }[];
  const pick = (suffix: string) => values.find((v) => v.metricName === `${name}${suffix}`)?.value ?? NaN;
  return { count: pick("_count"), sum: pick("_sum") };
}
