import { WebSocket } from "ws";
import {
  ClientClosedError,
  ClientQueueFullError,
  RealtimeOptionsError,
  ReconnectingClient,
  reconnectCap,
  reconnectDelay,
  WebSocketManager,
  type ReconnectingClientOptions,
  type WebSocketConstructor,
} from "../../src/realtime";
import { closeServer, listen, sleep, waitFor } from "./helpers";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const strategy = { initialDelay: 20, maxDelay: 200, factor: 2 };

function makeClient(
  options: Omit<ReconnectingClientOptions, "reconnectStrategy"> & Partial<Pick<ReconnectingClientOptions, "reconnectStrategy">>,
): ReconnectingClient {
  const c = new ReconnectingClient({
    reconnectStrategy: strategy,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...options,
  });
  cleanups.push(() => c.close());
  return c;
}

/** A ws server on `port` (0: any) whose manager is returned; `stop()` drains it and closes the port. */
async function startServer(port = 0, onConnection?: (s: WebSocket) => void) {
  const manager = new WebSocketManager(
    { maxConnections: 100, heartbeatInterval: 60_000, reconnectStrategy: strategy },
    { onConnection },
  );
  const { server, url, port: bound } = await listen(undefined, port);
  manager.attach(server);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await manager.drain(200);
    await closeServer(server);
  };
  cleanups.push(stop);
  return { manager, url, port: bound, stop };
}

/** A port that was free a moment ago and now refuses connections. */
async function deadPort(): Promise<number> {
  const { server, port } = await listen();
  await closeServer(server);
  return port;
}

describe("reconnectDelay: exponential backoff with full jitter", () => {
  it.each([
    [0, 20],
    [1, 40],
    [2, 80],
    [3, 160],
    [4, 200],
    [50, 200],
    [5000, 200], // factor^attempt overflows to Infinity; still capped
  ])("attempt %i is drawn from [0, %i)", (attempt, cap) => {
    expect(reconnectCap(attempt, strategy)).toBe(cap);
    expect(reconnectDelay(attempt, strategy, () => 0)).toBe(0);
    expect(reconnectDelay(attempt, strategy, () => 0.999999)).toBe(cap - 1);
    expect(reconnectDelay(attempt, strategy, () => 0.5)).toBe(Math.floor(cap / 2));
  });

  it("draws afresh on every call, so clients that dropped together come back spread out", () => {
    const draws = Array.from({ length: 1_000 }, () => reconnectDelay(3, { initialDelay: 1_000, maxDelay: 30_000, factor: 2 }));
    expect(new Set(draws).size).toBeGreaterThan(900);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(8_000);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(3_400);
    expect(mean).toBeLessThan(4_600);
  });
});

describe("ReconnectingClient on real sockets", () => {
  it("retries a refused port with growing, jittered delays capped at maxDelay, waiting each delay", async () => {
    const port = await deadPort();
    const planned: { attempt: number; delay: number }[] = [];
    const attemptsAt: number[] = [];
    class Spy extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        attemptsAt.push(performance.now());
      }
    }
    makeClient({
      url: `ws://127.0.0.1:${port}`,
      WebSocket: Spy as unknown as WebSocketConstructor,
      onReconnecting: (attempt, delay) => planned.push({ attempt, delay }),
    });
    await waitFor(() => attemptsAt.length >= 9, 5_000, "9 connection attempts");

    expect(planned.slice(0, 8).map((p) => p.attempt)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const { attempt, delay } of planned) {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(reconnectCap(attempt, strategy));
      expect(delay).toBeLessThan(strategy.maxDelay);
    }
    // Jittered: the draws are not the caps, nor a fixed fraction of them.
    const fractions = planned.slice(0, 8).map((p) => p.delay / reconnectCap(p.attempt, strategy));
    expect(new Set(fractions.map((f) => f.toFixed(2))).size).toBeGreaterThan(4);
    // Growing: the later attempts wait longer on average than the first ones.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(planned.slice(4, 8).map((p) => p.delay))).toBeGreaterThan(mean(planned.slice(0, 3).map((p) => p.delay)));
    // Each attempt really waited its delay.
    for (let i = 1; i < 8; i++) expect(attemptsAt[i] - attemptsAt[i - 1]).toBeGreaterThanOrEqual(planned[i - 1].delay - 2);
  });

  it("spreads a fleet: 30 clients cut at the same instant pick different first delays", async () => {
    const firstDelays: number[] = [];
    const server = await startServer();
    const clients = Array.from({ length: 30 }, () =>
      makeClient({
        url: server.url,
        reconnectStrategy: { initialDelay: 1_000, maxDelay: 30_000, factor: 2 },
        onReconnecting: (a, d) => void (a === 0 && firstDelays.push(d)),
      }),
    );
    await waitFor(() => clients.every((c) => c.connected));
    await server.stop();
    await waitFor(() => firstDelays.length === 30);
    expect(new Set(firstDelays).size).toBeGreaterThan(25);
  });

  it("resumes after a server restart on the same port and delivers what was sent while down", async () => {
    const received: string[] = [];
    const first = await startServer(0, (s) => s.on("message", (d: Buffer) => received.push(`a:${d.toString()}`)));
    const got: unknown[] = [];
    const closes: [number, boolean][] = [];
    // No WebSocket given: the default (the global one, else `ws` on Node < 22).
    const client = makeClient({
      url: first.url,
      WebSocket: undefined,
      onMessage: (d) => got.push(String(d)),
      onClose: (code, _r, again) => closes.push([code, again]),
    });
    await waitFor(() => client.connected);
    client.send("one");
    await waitFor(() => received.length === 1);

    await first.stop(); // drain: 1001, then the port closes
    await waitFor(() => !client.connected);
    expect(closes[0]).toEqual([1001, true]);
    client.send("while-down");
    expect(client.queued).toBe(1);
    await sleep(150); // a few refused attempts

    const second = await startServer(first.port, (s) => s.on("message", (d: Buffer) => received.push(`b:${d.toString()}`)));
    await waitFor(() => client.connected, 5_000, "reconnected");
    await waitFor(() => received.includes("b:while-down"));
    expect(client.queued).toBe(0);
    second.manager.broadcast("hello again");
    await waitFor(() => got.includes("hello again"));
    expect(client.stopped).toBeUndefined();
  });

  it("gives up only when told to: on a 4xxx refusal or close(), never on 1013/1006", async () => {
    let mode: "refuse-auth" | "full" = "full";
    const server = await startServer(0, (s) =>
      mode === "refuse-auth" ? s.close(4401, "token expired") : s.close(1013, "Maximum connections reached"),
    );
    const closes: [number, boolean][] = [];
    const full = makeClient({ url: server.url, onClose: (code, _r, again) => closes.push([code, again]) });
    await waitFor(() => closes.length >= 3, 5_000, "three 1013 closes");
    expect(closes.slice(0, 3)).toEqual([
      [1013, true],
      [1013, true],
      [1013, true],
    ]);
    expect(full.stopped).toBeUndefined();
    // The attempt counter keeps growing: accept-then-close is not a stable connection.
    expect(full.attempt).toBeGreaterThanOrEqual(3);
    full.close();
    const after = closes.length;
    await sleep(300);
    expect(closes.length).toBe(after); // no attempt after close()
    expect(() => full.send("x")).toThrow(ClientClosedError);

    mode = "refuse-auth";
    const authCloses: [number, boolean][] = [];
    const refused = makeClient({ url: server.url, onClose: (code, _r, again) => authCloses.push([code, again]) });
    await waitFor(() => authCloses.length === 1);
    await sleep(300);
    expect(authCloses).toEqual([[4401, false]]);
    expect(refused.stopped).toMatch(/4401 "token expired"/);
    expect(() => refused.send("x")).toThrow(/4401/);

    // A server that is down (1006) is retried for as long as it takes.
    const down = makeClient({
      url: `ws://127.0.0.1:${await deadPort()}`,
      reconnectStrategy: { initialDelay: 5, maxDelay: 10, factor: 2 },
    });
    await waitFor(() => down.attempt >= 20, 5_000, "20 attempts");
    expect(down.stopped).toBeUndefined();
  });

  it("bounds its outgoing queue and returns the unsent messages on close()", async () => {
    const client = makeClient({ url: `ws://127.0.0.1:${await deadPort()}`, maxQueued: 2 });
    client.send("a");
    client.send("b");
    expect(() => client.send("c")).toThrow(ClientQueueFullError);
    expect(() => client.send("c")).toThrow(/2 message\(s\) already queued; raise maxQueued/);
    expect(client.close()).toEqual(["a", "b"]);
  });

  it.each([
    ["url", { url: "http://x" }, /url: expected a ws:\/\/ or wss:\/\/ URL, got "http:\/\/x"/],
    [
      "reconnectStrategy.initialDelay",
      { url: "ws://127.0.0.1:1", reconnectStrategy: { initialDelay: 0, maxDelay: 1, factor: 2 } },
      /initialDelay: .*got 0/,
    ],
    ["maxQueued", { url: "ws://127.0.0.1:1", maxQueued: -1 }, /maxQueued: .*got -1/],
  ])("refuses a bad %s by name", (key, options, message) => {
    let error: unknown;
    try {
      makeClient(options as ReconnectingClientOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RealtimeOptionsError);
    expect((error as RealtimeOptionsError).key).toBe(key);
    expect((error as Error).message).toMatch(message);
  });
});
