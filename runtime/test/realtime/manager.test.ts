import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { WebSocket, WebSocketServer, type ClientOptions } from "ws";
import { CLOSE_CODE, RealtimeOptionsError, WebSocketManager, type WSConfig } from "../../src/realtime";
import { METRIC } from "../../src/metrics/names";
import { closed, closeServer, histogramTotals, listen, openClient, sleep, waitFor } from "./helpers";

const strategy = { initialDelay: 100, maxDelay: 1_000, factor: 2 };
const config = (over: Partial<WSConfig> = {}): WSConfig => ({
  maxConnections: 3,
  heartbeatInterval: 60_000,
  reconnectStrategy: strategy,
  ...over,
});

// Everything is torn down even when an assertion fails, so a failing test cannot hang jest.
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function served(manager: WebSocketManager, path?: string): Promise<{ server: Server; url: string }> {
  const { server, url } = await listen();
  manager.attach(server, { path });
  cleanups.push(
    () => closeServer(server),
    () => manager.drain(100),
  );
  return { server, url };
}

function client(url: string, options?: ClientOptions): Promise<WebSocket> {
  return openClient(url, options).then((ws) => {
    cleanups.push(() => ws.terminate());
    return ws;
  });
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? NaN;
}

describe("WebSocketManager on real sockets", () => {
  it("closes connection maxConnections + 1 with 1013 before doing anything for it, from a plain ws server's connection event", async () => {
    const registry = new Registry();
    const accepted: WebSocket[] = [];
    const manager = new WebSocketManager(config({ maxConnections: 3 }), { registry, onConnection: (s) => accepted.push(s) });
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((r) => wss.once("listening", r));
    wss.on("connection", (socket, req) => void manager.handleConnection(socket, req));
    cleanups.push(
      () => new Promise((r) => wss.close(r)),
      () => manager.drain(100),
    );
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

    const first = await Promise.all([client(url), client(url), client(url)]);
    await waitFor(() => manager.size === 3);
    const fourth = new WebSocket(url);
    cleanups.push(() => fourth.terminate());
    expect(await closed(fourth)).toEqual({ code: 1013, reason: "Maximum connections reached" });
    expect(manager.size).toBe(3);
    expect(accepted).toHaveLength(3);
    expect(await value(registry, METRIC.wsRejectedConnectionsTotal, { reason: "max_connections" })).toBe(1);
    expect(await value(registry, METRIC.wsConnections)).toBe(3);
    expect(await value(registry, METRIC.wsMaxConnections)).toBe(3);
    for (const ws of first) expect(ws.readyState).toBe(WebSocket.OPEN);

    // A freed slot is usable again.
    first[0].close();
    await waitFor(() => manager.size === 2);
    await client(url);
    await waitFor(() => manager.size === 3);
    expect(await value(registry, METRIC.wsConnections)).toBe(3);

    // Once draining, handleConnection refuses with 1001 (reconnect elsewhere), not 1013.
    await manager.drain(100);
    const late = new WebSocket(url);
    cleanups.push(() => late.terminate());
    expect((await closed(late)).code).toBe(1001);
    expect(await value(registry, METRIC.wsRejectedConnectionsTotal, { reason: "draining" })).toBe(1);
  });

  it("terminates a peer that stops answering pings within 2 × heartbeatInterval, keeps healthy ones, and times the round trips", async () => {
    const registry = new Registry();
    const heartbeatInterval = 250;
    // A clock of the manager's own ticks: an interval of the same period made just before the manager's fires
    // just before each of its ticks, however late a loaded machine runs timers (equal periods fire in order).
    let ticks = 0;
    const ticker = setInterval(() => ticks++, heartbeatInterval);
    const manager = new WebSocketManager(config({ heartbeatInterval }), { registry });
    const { url } = await served(manager);
    const healthy = await client(url);
    const connectedAt = performance.now();
    const silent = await client(url, { autoPong: false });
    const ticksAtOpen = ticks;
    await closed(silent);
    const ticksToClose = ticks - ticksAtOpen;
    clearInterval(ticker);
    const elapsed = performance.now() - connectedAt;
    // Terminated at the second heartbeat tick after it connected (the first pinged it): counted in ticks, not in ms
    // with a slack for late timers. The ticker's tick before the second always falls after the open, the one
    // before the first may not: 1 or 2. A terminate at the third tick counts 3 (2 when the first was early).
    expect(ticksToClose).toBeGreaterThanOrEqual(1);
    expect(ticksToClose).toBeLessThanOrEqual(2);
    expect(elapsed).toBeGreaterThanOrEqual(heartbeatInterval - 20); // it got one interval to answer
    await waitFor(() => manager.size === 1);
    await sleep(3 * heartbeatInterval);
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "heartbeat_timeout" })).toBe(1);
    const { count, sum } = await histogramTotals(registry, METRIC.wsPingLatencySeconds);
    expect(count).toBeGreaterThanOrEqual(3);
    expect(sum / count).toBeLessThan(0.1); // loopback
  });

  it("drops a slow reader once its send buffer passes maxBufferedBytes and keeps the buffer bounded; fast readers get everything", async () => {
    const registry = new Registry();
    const maxBufferedBytes = 256 * 1024;
    const manager = new WebSocketManager(config(), { registry, maxBufferedBytes, closeTimeoutMs: 200 });
    const { url } = await served(manager);
    const fast = await client(url);
    let fastBytes = 0;
    fast.on("message", (data: Buffer) => (fastBytes += data.length));
    const slow = await client(url);
    slow.pause(); // stops reading: the kernel buffers fill, then ws' user-space buffer grows
    const slowClosed = closed(slow);
    await waitFor(() => manager.size === 2);
    const slowServerSide = manager.sockets()[1]; // insertion order: fast, then slow

    const frame = Buffer.alloc(64 * 1024, 1);
    let peak = 0;
    let sends = 0;
    for (let i = 0; i < 600 && manager.size === 2 && slowServerSide.readyState === WebSocket.OPEN; i++) {
      for (const s of manager.sockets()) peak = Math.max(peak, s.bufferedAmount);
      manager.broadcast(frame);
      sends++;
      await new Promise((r) => setImmediate(r));
    }
    // Dropped: 1008 is queued behind the unread data, so the peer sees the terminate (1006) unless it reads in time.
    slow.resume();
    expect([CLOSE_CODE.slowConsumer, 1006]).toContain((await slowClosed).code);
    await waitFor(() => manager.size === 1);
    expect(peak).toBeLessThanOrEqual(maxBufferedBytes + frame.length);
    expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "slow_consumer" })).toBe(1);
    await waitFor(() => fastBytes === sends * frame.length, 5_000, "fast reader got every frame");
    expect(fast.readyState).toBe(WebSocket.OPEN);
  });

  it("without the bound, a bare ws socket buffers the whole backlog (the failure the bound prevents)", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
    await new Promise((r) => wss.once("listening", r));
    const serverSide = new Promise<WebSocket>((r) => wss.once("connection", r));
    cleanups.push(() => new Promise((r) => wss.close(r)));
    const slow = await client(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    slow.pause();
    const socket = await serverSide;
    cleanups.push(() => socket.terminate());
    const frame = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 400; i++) {
      socket.send(frame);
      await new Promise((r) => setImmediate(r));
    }
    expect(socket.bufferedAmount).toBeGreaterThan(4 * 1024 * 1024);
  });

  it("drain closes every socket with 1001, refuses new upgrades with 503, terminates the deaf after the timeout, and lets server.close() finish", async () => {
    const registry = new Registry();
    const manager = new WebSocketManager(config({ maxConnections: 10 }), { registry });
    const { server, url } = await listen();
    manager.attach(server);
    cleanups.push(() => closeServer(server));
    const polite = await Promise.all([client(url), client(url)]);
    const deaf = await client(url);
    deaf.pause(); // never reads the close frame, so never answers it
    await waitFor(() => manager.size === 3);
    const codes = Promise.all(polite.map(closed));

    const started = performance.now();
    await manager.drain(300);
    const took = performance.now() - started;
    expect((await codes).map((c) => c.code)).toEqual([1001, 1001]);
    expect((await codes)[0].reason).toBe("Server shutting down");
    expect(manager.size).toBe(0);
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(1_500);
    expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "drain_timeout" })).toBe(1);
    expect(await value(registry, METRIC.wsConnections)).toBe(0);

    await expect(openClient(url)).rejects.toThrow(/503/);
    expect(await value(registry, METRIC.wsRejectedConnectionsTotal, { reason: "draining" })).toBe(1);
    // The HTTP server closes: no upgraded socket is left holding it open.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("server.close() blocked by open sockets")), 2_000);
      server.close(() => (clearTimeout(t), resolve()));
    });
    expect(manager.drain()).toBe(manager.drain()); // idempotent
  });

  it("serves only its path on a shared HTTP server and leaves plain HTTP routes alone", async () => {
    const manager = new WebSocketManager(config({ maxConnections: 1 }), {
      onMessage: (socket, data) => manager.send(socket, `echo:${data.toString()}`),
    });
    const server = createServer((_req, res) => res.end("http ok"));
    const { url } = await listen(server);
    const wss = manager.attach(server, { path: "/ws" });
    let connectionEvents = 0;
    wss.on("connection", () => connectionEvents++);
    cleanups.push(
      () => closeServer(server),
      () => manager.drain(100),
    );

    const ws = await client(`${url}/ws?token=x`);
    const reply = new Promise<string>((r) => ws.once("message", (d: Buffer) => r(d.toString())));
    ws.send("hi");
    expect(await reply).toBe("echo:hi");
    await expect(openClient(`${url}/other`)).rejects.toThrow(/404/);
    const body = await new Promise<string>((resolve, reject) =>
      get(`${url.replace("ws:", "http:")}/items`, (res) => {
        let b = "";
        res.on("data", (c) => (b += c)).on("end", () => resolve(b));
      }).on("error", reject),
    );
    expect(body).toBe("http ok");
    expect(ws.extensions).toBe(""); // permessage-deflate is off
    // A refused socket (over maxConnections) never reaches the service's `connection` listeners.
    const refused = new WebSocket(`${url}/ws`);
    cleanups.push(() => refused.terminate());
    expect((await closed(refused)).code).toBe(1013);
    expect(connectionEvents).toBe(1);
  });

  it.each([
    ["maxConnections", config({ maxConnections: 0 }), {}, /maxConnections: expected an integer >= 1, got 0/],
    ["heartbeatInterval", config({ heartbeatInterval: 1.5 }), {}, /heartbeatInterval: .*got 1.5/],
    [
      "reconnectStrategy.maxDelay",
      config({ reconnectStrategy: { initialDelay: 500, maxDelay: 100, factor: 2 } }),
      {},
      /maxDelay.*\(100\) must be >= initialDelay \(500\)/,
    ],
    [
      "reconnectStrategy.factor",
      config({ reconnectStrategy: { initialDelay: 1, maxDelay: 2, factor: 0.5 } }),
      {},
      /factor: expected a finite number >= 1 .*, got 0.5/,
    ],
    ["maxBufferedBytes", config(), { maxBufferedBytes: -1 }, /maxBufferedBytes: .*got -1/],
    ["drainTimeoutMs", config(), { drainTimeoutMs: Number.NaN }, /drainTimeoutMs/],
  ])("refuses a bad %s by name", (key, wsConfig, options, message) => {
    let error: unknown;
    try {
      new WebSocketManager(wsConfig, options).drain(0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RealtimeOptionsError);
    expect((error as RealtimeOptionsError).key).toBe(key);
    expect((error as RealtimeOptionsError).code).toBe("UAIP_REALTIME_OPTIONS_INVALID");
    expect((error as Error).message).toMatch(message);
  });
});
