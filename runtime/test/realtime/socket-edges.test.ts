/**
 * Edges the realtime mutation run (issue #22, h-rt) found untested: what createRealtime lets through, the
 * manager's timers and counters around refused, slow and departed peers, the upgrade listener shared by two
 * managers, and the reconnecting client's own close. Real node:http servers, real `ws` clients, raw TCP where a
 * peer must misbehave.
 */
import { STATUS_CODES } from "node:http";
import { connect, type Socket } from "node:net";
import fc from "fast-check";
import { Registry } from "prom-client";
import { WebSocket, WebSocketServer, type ClientOptions } from "ws";
import {
  BatcherClosedError,
  BatchFlushError,
  ClientQueueFullError,
  createRealtime,
  MessageBatcher,
  RealtimeOptionsError,
  ReconnectingClient,
  reconnectCap,
  WebSocketManager,
  type AuthorizeVerdict,
  type ReconnectingClientOptions,
  type WebSocketConstructor,
  WebSocketTopicError,
} from "../../src/realtime";
import { METRIC } from "../../src/metrics/names";
import { closed, closeServer, listen, openClient, waitFor } from "./helpers";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const wsConfig = { maxConnections: 5, heartbeatInterval: 60_000 };
const settings = {
  ws: { ...wsConfig, reconnectStrategy: { initialDelay: 10, maxDelay: 20, factor: 2 } },
  batching: { batchSize: 10, flushInterval: 60_000 },
};

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? NaN;
}

async function served(options: ConstructorParameters<typeof WebSocketManager>[1] = {}, config = wsConfig) {
  const l = await listen();
  const manager = new WebSocketManager(config, options);
  manager.attach(l.server);
  cleanups.push(
    () => closeServer(l.server),
    () => manager.drain(50),
  );
  return { ...l, manager };
}

function client(url: string, options?: ClientOptions): Promise<WebSocket> {
  return openClient(url, options).then((ws) => {
    cleanups.push(() => ws.terminate());
    return ws;
  });
}

/**
 * A raw TCP peer that completes the WebSocket handshake, then never answers anything (no close frame back). With
 * `allowHalfOpen` it does not even end its side of the connection when the server ends its own.
 */
async function deafPeer(port: number, allowHalfOpen = false): Promise<{ socket: Socket; ended: Promise<number> }> {
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen });
  cleanups.push(() => socket.destroy());
  const started = performance.now();
  const ended = new Promise<number>((r) => socket.once("close", () => r(performance.now() - started)));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () =>
      socket.write(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    let head = "";
    const onData = (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.resume(); // keep reading (and ignoring) whatever the server sends
      if (head.startsWith("HTTP/1.1 101")) resolve();
      else reject(new Error(head.split("\r\n")[0]));
    };
    socket.on("data", onData);
  });
  return { socket, ended };
}

/** The HTTP answer to an upgrade request: its status and headers; rejects when the client cannot parse it. */
function upgradeAnswer(url: string): Promise<{ status: number; text?: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("open", () => reject(new Error("accepted")));
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0, text: res.statusMessage, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

describe("createRealtime options", () => {
  it("passes every documented option on to the manager (authorize refuses a real upgrade) and refuses any other key by name", async () => {
    const connected: unknown[] = [];
    const realtime = createRealtime(settings, new Registry(), {
      drainTimeoutMs: 321,
      maxBufferedBytes: 4_096,
      maxPayload: 2_048,
      authorizeTimeoutMs: 777,
      authorize: (req) => req.headers.authorization === "Bearer ok",
      onConnection: (s) => connected.push(s),
      onMessage: () => undefined,
    });
    expect([
      realtime.ws.drainTimeoutMs,
      realtime.ws.maxBufferedBytes,
      realtime.ws.maxPayload,
      realtime.ws.authorizeTimeoutMs,
    ]).toEqual([321, 4_096, 2_048, 777]);
    const { server, url } = await listen();
    realtime.ws.attach(server);
    cleanups.push(
      () => closeServer(server),
      () => realtime.close(),
    );
    await expect(openClient(url)).rejects.toThrow(/403/);
    await client(url, { headers: { authorization: "Bearer ok" } });
    await waitFor(() => connected.length === 1);

    // Each refusal names the function refusing, the key, and what it wants.
    expect(() => createRealtime(undefined as never, new Registry())).toThrow(
      expect.objectContaining({ key: "settings", message: expect.stringMatching(/createRealtime.*\{ ws, batching \}/) }),
    );
    for (const key of ["registry", "closeTimeoutMs", "authorise"]) {
      let error: unknown;
      try {
        createRealtime(settings, new Registry(), { [key]: 1 } as never);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ key, code: "UAIP_REALTIME_OPTIONS_INVALID" });
      expect((error as Error).message).toMatch(new RegExp(`createRealtime.*unknown option "${key}"`));
    }
  });

  it("close() drains the sockets even when the last flush fails (a message JSON cannot encode)", async () => {
    const realtime = createRealtime(settings, new Registry());
    const { server, url } = await listen();
    realtime.ws.attach(server);
    cleanups.push(() => closeServer(server));
    const ws = await client(url);
    await waitFor(() => realtime.ws.size === 1);
    const code = closed(ws);
    await realtime.batcher.addMessage(1n); // JSON.stringify throws on a BigInt
    await expect(realtime.close()).rejects.toBeInstanceOf(BatchFlushError);
    expect((await code).code).toBe(1001);
    expect(realtime.ws.size).toBe(0);
  });
});

describe("WebSocketManager timers and counters", () => {
  it("without a registry: a healthy client answers pings across beats; a peer breaking the protocol is closed, nothing thrown", async () => {
    const { url, port, manager } = await served({}, { ...wsConfig, heartbeatInterval: 40 });
    const healthy = await client(url);
    await waitFor(() => manager.size === 1);
    let pongs = 0;
    manager.sockets()[0].on("pong", () => pongs++);
    const { socket, ended } = await deafPeer(port);
    await waitFor(() => manager.size === 2);
    socket.write(Buffer.from([0x81, 0x01, 0x61])); // an unmasked client frame: ws emits 'error', then closes
    await ended;
    await waitFor(() => pongs >= 2, 5_000, "two pongs");
    expect([healthy.readyState, manager.size]).toEqual([WebSocket.OPEN, 1]);
  });

  it("the documented defaults apply to every option left out", async () => {
    const m = new WebSocketManager(wsConfig);
    const MiB = 1024 * 1024;
    expect([m.maxBufferedBytes, m.maxPayload, m.drainTimeoutMs, m.closeTimeoutMs, m.authorizeTimeoutMs]).toEqual([
      MiB,
      MiB,
      10_000,
      1_000,
      5_000,
    ]);
    expect(() => m.drain(-1)).toThrow(
      expect.objectContaining({ key: "timeoutMs", message: expect.stringContaining("WebSocketManager.drain") }),
    );
    await m.drain(0);
  });

  it("a socket no longer open when handed over is ignored: not counted, no onConnection", async () => {
    const seen: unknown[] = [];
    const manager = new WebSocketManager(wsConfig, { onConnection: (s) => seen.push(s) });
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((r) => wss.once("listening", r));
    cleanups.push(
      () => new Promise((r) => wss.close(r)),
      () => manager.drain(50),
    );
    const handed = new Promise<void>((resolve) =>
      wss.once("connection", (socket) => {
        socket.terminate();
        void manager.handleConnection(socket).then(resolve);
      }),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    ws.on("error", () => undefined);
    cleanups.push(() => ws.terminate());
    await handed;
    expect(manager.size).toBe(0);
    expect(seen).toEqual([]);
  });

  it("an unsolicited pong is not timed as a ping round trip; drain takes the socket budget off max_connections", async () => {
    const registry = new Registry();
    const { url, manager } = await served({ registry });
    // Every documented label value is scraped as 0 before its first event (rate() over a missing series is empty).
    const zeroSeries: [string, Record<string, string>][] = [
      ...["max_connections", "draining", "unauthorized", "authorize_failed"].map((reason): [string, Record<string, string>] => [
        METRIC.wsRejectedConnectionsTotal,
        { reason },
      ]),
      ...["sent", "received"].map((direction): [string, Record<string, string>] => [METRIC.wsMessagesTotal, { direction }]),
    ];
    for (const [name, labels] of zeroSeries)
      expect([name, labels, await value(registry, name, labels)]).toEqual([name, labels, 0]);
    const ws = await client(url);
    await waitFor(() => manager.size === 1);
    const [socket] = manager.sockets();
    const ponged = new Promise((r) => socket.once("pong", r)); // after the manager's own listener
    ws.pong(); // no ping is out (the heartbeat is a minute away)
    await ponged;
    const count = (await registry.getSingleMetric(METRIC.wsPingLatencySeconds)!.get()).values.find(
      (v) => (v as { metricName?: string }).metricName === `${METRIC.wsPingLatencySeconds}_count`,
    )?.value;
    expect(count).toBe(0);
    expect(await value(registry, METRIC.wsMaxConnections)).toBe(wsConfig.maxConnections);
    await manager.drain(50);
    expect(await value(registry, METRIC.wsMaxConnections)).toBe(0);
  });

  it("a peer refused over maxConnections that never answers the close frame is cut after closeTimeoutMs", async () => {
    const closeTimeoutMs = 80;
    const { port, manager } = await served({ closeTimeoutMs }, { ...wsConfig, maxConnections: 1 });
    await client(`ws://127.0.0.1:${port}`);
    await waitFor(() => manager.size === 1);
    const { ended } = await deafPeer(port);
    const took = await ended;
    // ws itself would wait 30 s for the close handshake.
    expect(took).toBeGreaterThanOrEqual(closeTimeoutMs - 10);
    expect(took).toBeLessThan(5_000);
  });

  it("slow consumers get 1008 with a reason, are cut after closeTimeoutMs when deaf, and are never counted as heartbeat timeouts", async () => {
    const registry = new Registry();
    const closeTimeoutMs = 300;
    const { url, manager } = await served(
      { registry, maxBufferedBytes: 1_024, closeTimeoutMs },
      { ...wsConfig, heartbeatInterval: 100 },
    );
    const deaf = await client(url);
    deaf.pause(); // reads nothing: no close frame back, no pong
    const reader = await client(url);
    reader.pause(); // until it was dropped, then it reads the close frame
    const readerClosed = closed(reader);
    await waitFor(() => manager.size === 2);
    const started = performance.now();
    const big = Buffer.alloc(8 * 1024 * 1024); // more than the kernel buffers take
    for (const socket of manager.sockets()) {
      expect(manager.send(socket, big)).toBe(true);
      expect(manager.send(socket, "next")).toBe(false); // the backlog is above 1 KiB: closed with 1008
    }
    reader.resume();
    const { code, reason } = await readerClosed;
    expect(code).toBe(1008);
    expect(reason).not.toBe(""); // the frame says why
    await waitFor(() => manager.size === 0, 5_000, "the kill timer");
    expect(performance.now() - started).toBeGreaterThanOrEqual(closeTimeoutMs - 10);
    expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "slow_consumer" })).toBe(2);
    expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "heartbeat_timeout" })).toBe(0);
  });
  // With a registry and without one (no metrics to count in, nothing thrown from the timer).
  it.each([true, false])(
    "a peer that never answers pings is cut within two beats and counted as a heartbeat timeout; a healthy one stays (registry: %s)",
    async (withRegistry) => {
      const registry = withRegistry ? new Registry() : undefined;
      const heartbeatInterval = 30;
      const { url, port, manager } = await served({ registry }, { ...wsConfig, heartbeatInterval });
      const healthy = await client(url);
      const { ended } = await deafPeer(port);
      await waitFor(() => manager.size === 2);
      await ended; // one beat marks it, the next one cuts it
      await waitFor(() => manager.size === 1);
      expect(healthy.readyState).toBe(WebSocket.OPEN);
      if (registry) expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "heartbeat_timeout" })).toBe(1);
    },
  );

  it.each([true, false])(
    "drain(timeoutMs) terminates a peer that never answers the close frame, counts it as a drain timeout, and resolves with no socket left (registry: %s)",
    async (withRegistry) => {
      const registry = withRegistry ? new Registry() : undefined;
      const { port, manager } = await served({ registry });
      const { ended } = await deafPeer(port);
      await waitFor(() => manager.size === 1);
      const timeoutMs = 60;
      const started = performance.now();
      await manager.drain(timeoutMs);
      expect(manager.size).toBe(0);
      expect(performance.now() - started).toBeGreaterThanOrEqual(timeoutMs - 10);
      expect(await ended).toBeLessThan(5_000); // ws alone would wait 30 s for the close handshake
      if (registry) expect(await value(registry, METRIC.wsTerminatedConnectionsTotal, { reason: "drain_timeout" })).toBe(1);
    },
  );

  it("send, broadcast and publish deliver a string as a text frame and a Buffer as a binary frame, bytes unchanged, each counted as sent", async () => {
    const registry = new Registry();
    const { url, manager } = await served({ registry });
    const ws = await client(url);
    await waitFor(() => manager.size === 1);
    const [socket] = manager.sockets();
    manager.subscribe(socket, "t");
    const frames: [string, boolean][] = [];
    ws.on("message", (data: Buffer, isBinary) => frames.push([data.toString("hex"), isBinary]));
    const text = "é"; // two UTF-8 bytes
    const bytes = Buffer.from([0xff, 0x00]); // not valid UTF-8: only a binary frame may carry it
    const sends: (() => unknown)[] = [
      () => manager.send(socket, text),
      () => manager.send(socket, bytes),
      () => manager.broadcast(text),
      () => manager.broadcast(bytes),
      () => manager.publish("t", text),
      () => manager.publish("t", bytes),
    ];
    for (const send of sends) expect([true, 1]).toContain(send()); // one socket reached
    const expected = sends.map((_, i): [string, boolean] =>
      i % 2 === 0 ? [Buffer.from(text).toString("hex"), false] : [bytes.toString("hex"), true],
    );
    await waitFor(() => frames.length === expected.length);
    expect(frames).toEqual(expected);
    expect(await value(registry, METRIC.wsMessagesTotal, { direction: "sent" })).toBe(sends.length);
  });

  it("unsubscribe of a socket that is not one of ours is false, not a TypeError; without a registry every send works", async () => {
    const manager = new WebSocketManager(wsConfig);
    const { manager: other, url } = await served();
    await client(url);
    await waitFor(() => other.size === 1);
    const [socket] = other.sockets();
    expect(manager.unsubscribe(socket, "news")).toBe(false);
    expect(other.subscribe(socket, "news")).toBe(true);
    expect([other.send(socket, "a"), other.broadcast("b"), other.publish("news", "c")]).toEqual([true, 1, 1]);
    await manager.drain(0);
  });
});

describe("WebSocketManager refusals and the backlog limit", () => {
  it("a socket refused over maxConnections is counted under max_connections, and a protocol error from it afterwards is harmless", async () => {
    const registry = new Registry();
    const { port, manager } = await served({ registry, closeTimeoutMs: 5_000 }, { ...wsConfig, maxConnections: 1 });
    await deafPeer(port);
    await waitFor(() => manager.size === 1);
    const { socket, ended } = await deafPeer(port); // handed over, then refused with 1013
    expect(await value(registry, METRIC.wsRejectedConnectionsTotal, { reason: "max_connections" })).toBe(1);
    socket.write(Buffer.from([0x81, 0x01, 0x61])); // an unmasked client frame: ws emits 'error' on the refused socket
    expect(await ended).toBeLessThan(5_000); // closed on the error, not by the kill timer
    expect(manager.size).toBe(1);
  });

  it("a client that resets its connection after a refusal written on the raw socket (404) raises no unhandled error", async () => {
    const l = await listen();
    const manager = new WebSocketManager(wsConfig);
    manager.attach(l.server, { path: "/ws" });
    cleanups.push(
      () => closeServer(l.server),
      () => manager.drain(50),
    );
    const raw = connect(l.port, "127.0.0.1");
    raw.on("error", () => undefined);
    cleanups.push(() => raw.destroy());
    await new Promise((r) => raw.once("connect", r));
    const answer = new Promise<string>((r) => raw.once("data", (d: Buffer) => r(d.toString("latin1"))));
    raw.write(
      "GET /elsewhere HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    expect((await answer).split("\r\n")[0]).toBe("HTTP/1.1 404 Not Found");
    raw.resetAndDestroy(); // RST on the server's socket, which node:http no longer watches after an upgrade
    await new Promise((r) => setTimeout(r, 30));
    expect(manager.size).toBe(0);
  });

  it("a socket whose peer started the closing handshake gets nothing more, though it is still ours until its TCP connection ends", async () => {
    const { port, manager } = await served();
    const { socket: peer } = await deafPeer(port, true);
    await waitFor(() => manager.size === 1);
    const [socket] = manager.sockets();
    manager.subscribe(socket, "t");
    peer.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])); // a masked close frame (1000); the peer then goes silent
    await waitFor(() => socket.readyState === WebSocket.CLOSING);
    expect([manager.size, manager.send(socket, "x"), manager.broadcast("y"), manager.publish("t", "z")]).toEqual([
      1,
      false,
      0,
      0,
    ]);
  });

  it("without a registry: a backlog of exactly maxBufferedBytes is not over it; one more frame is, and that socket is closed as a slow consumer", async () => {
    const MiB = 1024 * 1024;
    const maxBufferedBytes = 32 * MiB;
    const { url, manager } = await served({ maxBufferedBytes, closeTimeoutMs: 20 });
    const ws = await client(url);
    ws.pause(); // reads nothing: what the kernel cannot take stays in the server's buffer
    await waitFor(() => manager.size === 1);
    const [socket] = manager.sockets();
    expect(manager.send(socket, Buffer.alloc(16 * MiB))).toBe(true);
    // Once both kernel buffers are full the backlog stops moving.
    let last = -1;
    for (let steady = 0; steady < 3;) {
      await new Promise((r) => setTimeout(r, 10));
      steady = socket.bufferedAmount === last ? steady + 1 : 0;
      last = socket.bufferedAmount;
    }
    expect(last).toBeGreaterThan(0);
    // A binary frame of 64 KiB or more has a 10-byte header (RFC 6455 5.2, unmasked from a server).
    expect(manager.send(socket, Buffer.alloc(maxBufferedBytes - last - 10))).toBe(true);
    expect(socket.bufferedAmount).toBe(maxBufferedBytes);
    expect(manager.send(socket, "x")).toBe(true); // at the limit, not over it
    expect(manager.send(socket, "y")).toBe(false); // over it: closed with 1008, nothing counted, nothing thrown
    await waitFor(() => manager.size === 0, 5_000, "the kill timer");
  });
});

describe("authorize and paths", () => {
  it("a client whose socket is gone by the time of the verdict is neither accepted nor counted as refused", async () => {
    const registry = new Registry();
    const { url, manager } = await served({
      registry,
      authorize: (req) => {
        req.socket.destroy(); // the client went away while authorize ran
        return false;
      },
    });
    await expect(openClient(url)).rejects.toThrow();
    expect(manager.size).toBe(0);
    const rejected = await registry.getSingleMetric(METRIC.wsRejectedConnectionsTotal)!.get();
    expect(rejected.values.reduce((sum, v) => sum + v.value, 0)).toBe(0);
  });

  it("a refusal carries exactly the authorize headers a client can parse, and the client always reads the refusal", async () => {
    let headers: Record<string, string> = {};
    const { url } = await served({ authorize: () => ({ status: 401, headers }) });
    // Written from RFC 9110, not read from the code: a name is a token (5.6.2); a value holds no control
    // character but HTAB (5.5); Connection, Content-Length and Transfer-Encoding frame the refusal itself.
    const isToken = (n: string) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n);
    const parsable = (v: string) => [...v].every((c) => c === "\t" || (c >= " " && c !== "\x7f"));
    const framing = ["connection", "content-length", "transfer-encoding"];
    const name = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."aZ9-_!~.", " ", ":", "\r", "\n", "("), maxLength: 6 }),
      fc.constantFrom("Content-Length", "transfer-encoding", "CONNECTION", "WWW-Authenticate"),
    );
    const text = fc.string({
      unit: fc.constantFrom(...'aZ9 :;,="', "\t", "\r", "\n", "\0", "\x0b", "\x1f", "\x7f"),
      maxLength: 8,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(name, text), { selector: ([n]) => n.toLowerCase(), maxLength: 4 }),
        async (pairs) => {
          headers = Object.fromEntries(pairs);
          const answer = await upgradeAnswer(url);
          expect(answer.status).toBe(401);
          expect([answer.headers["content-length"], answer.headers.connection]).toEqual(["0", "close"]);
          for (const [n, v] of pairs) {
            const kept = isToken(n) && !framing.includes(n.toLowerCase()) && parsable(v);
            if (!framing.includes(n.toLowerCase()))
              expect([n, answer.headers[n.toLowerCase()]]).toEqual([n, kept ? v.trim() : undefined]);
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it("attach: one upgrade path, no compression, no second socket set; refusals carry the standard reason phrase, also without a registry", async () => {
    const l = await listen();
    const manager = new WebSocketManager(wsConfig);
    cleanups.push(
      () => closeServer(l.server),
      () => manager.drain(50),
    );
    expect(() => manager.attach(l.server, { path: "ws" })).toThrow(
      expect.objectContaining({ key: "path", message: expect.stringContaining("WebSocketManager.attach") }),
    );
    const wss = manager.attach(l.server, { path: "/ws" });
    expect(wss.clients).toBeUndefined(); // the manager's map is the one set of sockets
    const offering = await client(`${l.url}/ws`, { perMessageDeflate: true });
    expect(offering.extensions).toBe(""); // offered permessage-deflate, not granted
    offering.terminate();
    const notFound = await upgradeAnswer(`${l.url}/other`);
    expect([notFound.status, notFound.text]).toEqual([404, STATUS_CODES[404]]);
    const wssClosed = new Promise((r) => wss.once("close", r));
    await manager.drain(50);
    await wssClosed; // drain closes the WebSocketServer it made
    const draining = await upgradeAnswer(`${l.url}/ws`);
    expect([draining.status, draining.text]).toEqual([503, STATUS_CODES[503]]);
  });

  it("a client that resets its connection while authorize runs costs nothing: no unhandled socket error", async () => {
    const { port, manager } = await served({
      authorize: async (req) => {
        await new Promise((r) => req.socket.once("close", r)); // after the ECONNRESET 'error'
        return true;
      },
    });
    const raw = connect(port, "127.0.0.1");
    raw.on("error", () => undefined);
    await new Promise((r) => raw.once("connect", r));
    raw.write(
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    await new Promise((r) => setTimeout(r, 10));
    raw.resetAndDestroy(); // RST, not FIN
    await new Promise((r) => setTimeout(r, 30));
    expect(manager.size).toBe(0);
  });

  it("a synchronous verdict or throw is applied at once: a drain that authorize only queued cannot overtake it", async () => {
    // Each manager, while deciding, queues its own drain(); a verdict deferred by even one microtask would see it.
    const queuingDrain = (verdict: () => boolean) => {
      const box: { manager?: WebSocketManager } = {};
      const authorize = () => {
        queueMicrotask(() => void box.manager!.drain(50));
        return verdict();
      };
      return served({ authorize }).then((s) => ((box.manager = s.manager), s));
    };
    const accepting = await queuingDrain(() => true);
    const ws = await client(accepting.url); // accepted, then closed by the drain
    expect((await closed(ws)).code).toBe(1001);
    const throwing = await queuingDrain(() => {
      throw new Error("auth down");
    });
    expect((await upgradeAnswer(throwing.url)).status).toBe(500); // not the drain's 503
  });

  it("two managers on one server: each serves its path, neither answers 404 for the other's", async () => {
    const l = await listen();
    const a = new WebSocketManager(wsConfig);
    const b = new WebSocketManager(wsConfig);
    a.attach(l.server, { path: "/a" });
    b.attach(l.server, { path: "/b" });
    cleanups.push(
      () => closeServer(l.server),
      () => a.drain(50),
      () => b.drain(50),
    );
    await client(`${l.url}/b`);
    await client(`${l.url}/a?x=1`);
    await waitFor(() => a.size === 1 && b.size === 1);
  });
});

describe("ReconnectingClient's own close", () => {
  it("an open connection outlives connectTimeoutMs and, under the default stableAfterMs, keeps the attempt count; close() without arguments sends 1000 with no reason", async () => {
    const serverCloses: [number, string][] = [];
    let connections = 0;
    const { url, manager } = await served({
      // The first connection is cut at once: the client counts one attempt, then stays connected.
      onConnection: (s) =>
        ++connections === 1 ? s.terminate() : s.once("close", (code, reason) => serverCloses.push([code, reason.toString()])),
    });
    const closes: [number, string, boolean][] = [];
    const c = new ReconnectingClient({
      url,
      reconnectStrategy: settings.ws.reconnectStrategy,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      connectTimeoutMs: 30,
      onClose: (code, reason, again) => closes.push([code, reason, again]),
    });
    cleanups.push(() => c.close());
    await waitFor(() => connections === 2 && c.connected && manager.size === 1);
    expect(manager.broadcast("no onMessage given")).toBe(1); // received and dropped, nothing thrown
    await new Promise((r) => setTimeout(r, 100));
    // Open for 100 ms, far less than the default 5 s: not yet a stable connection.
    expect([c.connected, manager.size, c.attempt, closes]).toEqual([true, 1, 1, [[1006, "", true]]]);
    expect(c.close()).toEqual([]);
    await waitFor(() => serverCloses.length === 1);
    expect(serverCloses).toEqual([[1000, ""]]);
    expect(closes.slice(1)).toEqual([[1000, "", false]]);
  });

  it("close() after a refusal keeps the refusal as the reason it stopped; a refusal plans no reconnect", async () => {
    const { url } = await served({ onConnection: (s) => s.close(4401, "expired") });
    const reconnecting: number[] = [];
    const c = new ReconnectingClient({
      url,
      reconnectStrategy: settings.ws.reconnectStrategy,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      onReconnecting: (attempt) => void reconnecting.push(attempt),
    });
    await waitFor(() => c.stopped !== undefined);
    c.close();
    expect(c.stopped).toBe('server closed with 4401 "expired"');
    expect(reconnecting).toEqual([]);
  });
});

/** A WebSocket constructor that always throws: the client keeps retrying without touching the network. */
const NoNetwork = function () {
  throw new Error("no network");
} as unknown as WebSocketConstructor;

/** The RealtimeOptionsError keys `fn` throws, or [] when it does not throw. */
function refusedKeys(fn: () => unknown): string[] {
  try {
    fn();
    return [];
  } catch (err) {
    if (!(err instanceof RealtimeOptionsError)) throw err;
    return [err.key];
  }
}

describe("ReconnectingClient options and queue", () => {
  const make = (over: Partial<ReconnectingClientOptions>) => () => {
    const c = new ReconnectingClient({
      url: "ws://h",
      reconnectStrategy: settings.ws.reconnectStrategy,
      WebSocket: NoNetwork,
      ...over,
    });
    c.close();
  };

  it("url: ws:// or wss:// (any case) then a host; anything before the scheme or a missing host is refused", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("ws", "wss", "WS", "Wss"),
        fc.domain(),
        fc.constantFrom("", "x", " ", "http+", "/"),
        fc.constantFrom("", "/", " ", "\t"),
        (scheme, host, before, hostStart) => {
          const url = `${before}${scheme}://${hostStart}${host}`;
          const valid = before === "" && hostStart === "";
          expect(refusedKeys(make({ url }))).toEqual(valid ? [] : ["url"]);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("protocols: one RFC 6455 token or a list of them; a space, a comma or an empty one is refused", () => {
    for (const protocols of ["chat", "v2.chat+json", ["a", "b~1"]]) expect(refusedKeys(make({ protocols }))).toEqual([]);
    for (const protocols of ["chat v2", "a,b", "", ["ok", "no pe"], "x\n"])
      expect(refusedKeys(make({ protocols }))).toEqual(["protocols"]);
  });

  it("queues 1000 messages by default while disconnected and refuses the 1001st", () => {
    const c = new ReconnectingClient({ url: "ws://h", reconnectStrategy: settings.ws.reconnectStrategy, WebSocket: NoNetwork });
    try {
      for (let i = 0; i < 1_000; i++) c.send(String(i));
      expect(() => c.send("one too many")).toThrow(ClientQueueFullError);
      expect(c.queued).toBe(1_000);
    } finally {
      c.close();
    }
  });

  it("close() called from onReconnecting stops for good: no attempt after it", async () => {
    let attempts = 0;
    const Counting = function () {
      attempts++;
      throw new Error("no network");
    } as unknown as WebSocketConstructor;
    const c: ReconnectingClient = new ReconnectingClient({
      url: "ws://h",
      reconnectStrategy: { initialDelay: 1, maxDelay: 1, factor: 1 },
      WebSocket: Counting,
      // The first call comes from inside the constructor (the first attempt threw); close on the second.
      onReconnecting: (attempt) => void (attempt === 1 && c.close()),
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(attempts).toBe(2);
    expect(c.stopped).toBe("close() called");
  });
});

describe("the reconnect strategy rule", () => {
  const full = { initialDelay: 10, maxDelay: 100, factor: 2 };
  it("every field is required, all missing ones named at once; maxDelay may equal initialDelay, not go below it", () => {
    const fields = ["initialDelay", "maxDelay", "factor"] as const;
    fc.assert(
      fc.property(fc.subarray([...fields], { minLength: 1 }), (missing) => {
        const strategy = Object.fromEntries(Object.entries(full).filter(([k]) => !(missing as string[]).includes(k)));
        let error: unknown;
        try {
          reconnectCap(0, strategy as never);
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(RealtimeOptionsError);
        for (const f of missing) expect((error as Error).message).toContain(`reconnectStrategy.${f}`);
      }),
      { numRuns: 20 },
    );
    for (const initialDelay of [1, 50, 100]) expect(reconnectCap(0, { ...full, initialDelay })).toBe(initialDelay);
    expect(refusedKeys(() => reconnectCap(0, { ...full, initialDelay: 101 }))).toEqual(["reconnectStrategy.maxDelay"]);
    // The refusal shows both values, so the reader sees which way to move them.
    expect(() => reconnectCap(0, { ...full, initialDelay: 101 })).toThrow(/maxDelay.*\b100\b.*initialDelay.*\b101\b/);
  });
});

describe("realtime metrics", () => {
  it("each upgrade refusal answers its status with the standard reason phrase and is counted under its reason; the histograms resolve a loopback ping and a full default batch", async () => {
    const registry = new Registry();
    const verdicts: [AuthorizeVerdict | "throw", number][] = [
      [false, 403],
      [{ status: 401 }, 401],
      [{ status: 403 }, 403],
      ["throw", 500],
      [null as never, 500],
    ];
    let next: AuthorizeVerdict | "throw" = false;
    const { url } = await served({
      registry,
      authorize: () => {
        if (next === "throw") throw new Error("auth down");
        return next;
      },
    });
    for (const [verdict, status] of verdicts) {
      next = verdict;
      const answer = await upgradeAnswer(url);
      expect([verdict, answer.status, answer.text]).toEqual([verdict, status, STATUS_CODES[status]]);
    }
    expect(await value(registry, METRIC.wsRejectedConnectionsTotal, { reason: "unauthorized" })).toBe(3);
    expect(await value(registry, METRIC.wsRejectedConnectionsTotal, { reason: "authorize_failed" })).toBe(2);

    const bounds = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values
        .map((v) => v.labels.le)
        .filter((le): le is number => typeof le === "number");
    // A loopback round trip is well under a millisecond; a stalled peer takes seconds.
    const ping = await bounds(METRIC.wsPingLatencySeconds);
    expect(ping.some((le) => le < 0.001)).toBe(true);
    expect(ping.some((le) => le >= 5)).toBe(true);
    const defaults = new MessageBatcher({ broadcast: async () => undefined, registry });
    await defaults.close();
    expect(await bounds(METRIC.batchSize)).toContain(defaults.batchSize);
  });

  it("a broadcast that fails without an Error still gives a BatchFlushError naming what it got, and keeps it as the cause", async () => {
    const registry = new Registry();
    for (const thrown of [undefined, null, "plain text"]) {
      const b = new MessageBatcher({ flushInterval: 60_000, broadcast: () => Promise.reject(thrown), registry });
      await b.addMessage(1);
      const error = await b.flush().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(BatchFlushError);
      expect((error as Error).message).toMatch(new RegExp(`failed: ${String(thrown)}$`));
      expect((error as Error).cause).toBe(thrown);
      await b.close();
    }
    // Both results are scraped from the first flush on, the one not seen yet as 0.
    for (const [result, count] of [
      ["error", 3],
      ["success", 0],
    ] as const)
      expect([result, await value(registry, METRIC.batchFlushesTotal, { result })]).toEqual([result, count]);
  });

  it("a closed batcher and a bad topic are refused with errors that say why and show the value given", async () => {
    const b = new MessageBatcher({ flushInterval: 60_000, broadcast: async () => undefined });
    // [topic, how the message shows it]: quoted when a string (an empty one too), as written otherwise.
    for (const [topic, shown] of [
      ["", '""'],
      [7, "7"],
      ["x".repeat(257), `"${"x".repeat(40)}`],
    ] as const) {
      const error = await b.addMessage(1, topic as string).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(WebSocketTopicError);
      expect((error as Error).message).toContain(shown);
    }
    await b.close();
    const closedError = await b.addMessage(1).catch((err: unknown) => err);
    expect(closedError).toBeInstanceOf(BatcherClosedError);
    expect((closedError as Error).message).toMatch(/clos/);
  });
});
