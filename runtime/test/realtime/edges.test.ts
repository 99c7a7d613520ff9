/**
 * Edges of the realtime rules (issue #22's mutation run on runtime/src/realtime): the topic rule every
 * caller goes through, the close-code classes the client branches on, the manager's bookkeeping around
 * topics, and the reconnecting client's timers (connect timeout, stable reset). Real node:http servers and
 * real `ws` clients.
 */
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import fc from "fast-check";
import { Registry } from "prom-client";
import type { WebSocket as ServerSocket } from "ws";
import { WebSocket } from "ws";
import {
  isApplicationRefusal,
  MessageBatcher,
  RealtimeOptionsError,
  ReconnectingClient,
  reconnectCap,
  reconnectDelay,
  WebSocketManager,
  WebSocketTopicError,
  type WebSocketConstructor,
} from "../../src/realtime";
import { METRIC } from "../../src/metrics/names";
import { closeServer, closed, listen, openClient, waitFor } from "./helpers";

const wsConfig = { maxConnections: 10, heartbeatInterval: 60_000 };

/** Whether `fn` threw WebSocketTopicError (anything else it throws fails the test). */
function refusesTopic(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (err instanceof WebSocketTopicError) return true;
    throw err;
  }
}

// One live manager per test, shared by the topic rule and the topic bookkeeping below.
describe("topics on a live WebSocketManager", () => {
  let server: Server | undefined;
  let manager: WebSocketManager | undefined;
  const clients: WebSocket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await manager?.drain(100);
    if (server) await closeServer(server);
    server = undefined;
    manager = undefined;
  });

  describe("the topic rule: a non-empty string of at most 256 characters, for every caller", () => {
    async function connected(): Promise<ServerSocket> {
      const l = await listen();
      server = l.server;
      manager = new WebSocketManager(wsConfig);
      manager.attach(server);
      clients.push(await openClient(l.url));
      await waitFor(() => manager!.size === 1);
      return manager.sockets()[0];
    }

    it("accepts 1 and 256 characters, refuses 0 and 257, and anything that is not a string, on both sides of each", async () => {
      const socket = await connected();
      const m = manager!;
      const topics = fc.oneof(
        fc.integer({ min: 0, max: 300 }).map((n) => "t".repeat(n)),
        fc.constantFrom<unknown>(undefined, null, 7, ["a"], { topic: "a" }, Symbol.iterator),
      );
      await fc.assert(
        fc.asyncProperty(topics, async (topic) => {
          // Written here, not read from the code: the bound WebSocketTopicError documents.
          const valid = typeof topic === "string" && topic.length >= 1 && topic.length <= 256;
          const t = topic as string;
          expect(refusesTopic(() => m.subscribe(socket, t))).toBe(!valid);
          expect(refusesTopic(() => m.unsubscribe(socket, t))).toBe(!valid);
          expect(refusesTopic(() => m.publish(t, "x"))).toBe(!valid);
          const batcher = new MessageBatcher<string>({ broadcast: async () => undefined, flushInterval: 60_000 });
          // undefined is the batcher's "no topic" (everyone), not a bad topic.
          const batcherValid = valid || topic === undefined;
          let refused = false;
          await batcher.addMessage("m", t).catch((err: unknown) => {
            if (!(err instanceof WebSocketTopicError)) throw err;
            refused = true;
          });
          expect(refused).toBe(!batcherValid);
          await batcher.close();
        }),
        { numRuns: 60 },
      );
      for (const n of [1, 256]) expect(m.subscribe(socket, "x".repeat(n))).toBe(true);
      expect(m.topicsOf(socket).map((t) => t.length)).toEqual([1, 256]);
    });
  });

  describe("topic bookkeeping", () => {
    it("unsubscribe says whether the socket was subscribed; the last one out forgets the topic; a closed socket leaves all", async () => {
      const l = await listen();
      server = l.server;
      manager = new WebSocketManager(wsConfig);
      manager.attach(server);
      const a = await openClient(l.url);
      const b = await openClient(l.url);
      clients.push(a, b);
      await waitFor(() => manager!.size === 2);
      const [sa, sb] = manager.sockets();
      const received: string[] = [];
      a.on("message", (d) => received.push(`a:${d.toString()}`));
      b.on("message", (d) => received.push(`b:${d.toString()}`));

      expect(manager.unsubscribe(sa, "news")).toBe(false); // never subscribed
      expect(manager.subscribe(sa, "news")).toBe(true);
      expect(manager.subscribe(sa, "news")).toBe(true); // idempotent: still one membership
      expect(manager.subscribe(sb, "news")).toBe(true);
      expect(manager.subscribe(sb, "sport")).toBe(true);
      expect(manager.subscribers("news")).toBe(2);
      expect(manager.publish("news", "n1")).toBe(2);
      expect(manager.publish("weather", "w1")).toBe(0); // nobody subscribed
      expect(manager.unsubscribe(sa, "news")).toBe(true);
      expect(manager.unsubscribe(sa, "news")).toBe(false);
      expect(manager.topicsOf(sa)).toEqual([]);
      expect(manager.subscribers("news")).toBe(1);
      expect(manager.publish("news", "n2")).toBe(1);
      await waitFor(() => received.length === 3);
      expect(received.sort()).toEqual(["a:n1", "b:n1", "b:n2"]);

      // b closes: it leaves "news" and "sport", and both topics (now empty) are forgotten.
      const gone = closed(b);
      b.close();
      await gone;
      await waitFor(() => manager!.size === 1);
      expect(manager.subscribers("news")).toBe(0);
      expect(manager.subscribers("sport")).toBe(0);
      expect(manager.topicsOf(sb)).toEqual([]);
      expect(manager.subscribe(sb, "news")).toBe(false); // no longer one of ours
      expect(manager.send(sb, "x")).toBe(false);
    });
  });
});

describe("close-code classes", () => {
  it("4000-4999 are application refusals (the client stops); every other code is not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70_000 }), (code) => {
        expect(isApplicationRefusal(code)).toBe(Math.floor(code / 1000) === 4);
      }),
    );
    for (const [code, refusal] of [
      [3999, false],
      [4000, true],
      [4999, true],
      [5000, false],
    ] as const)
      expect([code, isApplicationRefusal(code)]).toEqual([code, refusal]);
  });
});

describe("ReconnectingClient edges (real sockets)", () => {
  const strategy = { initialDelay: 5, maxDelay: 20, factor: 2 };
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const Ws = WebSocket as unknown as WebSocketConstructor;

  it("abandons an attempt not open after connectTimeoutMs (a server that accepts TCP and never answers) and retries", async () => {
    const sockets: Socket[] = [];
    const silent = createNetServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanups.push(
      () => new Promise((r) => silent.close(r)),
      () => sockets.forEach((s) => s.destroy()),
    );
    const port = (silent.address() as AddressInfo).port;
    const reconnecting: number[] = [];
    const started = performance.now();
    const client = new ReconnectingClient({
      url: `ws://127.0.0.1:${port}`,
      reconnectStrategy: strategy,
      WebSocket: Ws,
      connectTimeoutMs: 300,
      onReconnecting: (attempt) => reconnecting.push(attempt),
    });
    cleanups.push(() => client.close());
    await waitFor(() => reconnecting.length >= 1, 10_000, "a retry after the connect timeout");
    // Not before the timeout: the handshake never started, only the timer can end the attempt.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(reconnecting[0]).toBe(0);
    expect(client.connected).toBe(false);
    await waitFor(() => sockets.length >= 2, 10_000, "a second TCP connection");
  });

  it("resets the attempt counter only after a connection stayed open stableAfterMs", async () => {
    const l = await listen();
    const manager = new WebSocketManager(wsConfig);
    manager.attach(l.server);
    cleanups.push(
      () => closeServer(l.server),
      () => manager.drain(50),
    );
    const opened: number[] = [];
    const client = new ReconnectingClient({
      url: l.url,
      reconnectStrategy: strategy,
      WebSocket: Ws,
      stableAfterMs: 400,
      onOpen: () => opened.push(client.attempt),
    });
    cleanups.push(() => client.close());
    await waitFor(() => manager.size === 1);
    // Cut it at once, three times: each reconnect counts as one more attempt.
    for (let i = 1; i <= 3; i++) {
      const before = opened.length;
      for (const s of manager.sockets()) s.terminate();
      await waitFor(() => opened.length > before && manager.size === 1, 10_000, `reconnect ${i}`);
    }
    expect(client.attempt).toBe(3);
    // Now let it stay open past stableAfterMs: the counter goes back to 0.
    await waitFor(() => client.attempt === 0, 10_000, "stable reset");
    expect(client.connected).toBe(true);
  });

  it("sends at once while open (nothing queued); close() while open reports a final close and returns nothing", async () => {
    const l = await listen();
    const received: string[] = [];
    const manager = new WebSocketManager(wsConfig, { onMessage: (_s, d) => received.push(d.toString()) });
    manager.attach(l.server);
    cleanups.push(
      () => closeServer(l.server),
      () => manager.drain(50),
    );
    const closes: [number, string, boolean][] = [];
    const client = new ReconnectingClient({
      url: l.url,
      reconnectStrategy: strategy,
      WebSocket: Ws,
      onClose: (code, reason, again) => closes.push([code, reason, again]),
    });
    await waitFor(() => client.connected);
    client.send("now");
    expect(client.queued).toBe(0);
    await waitFor(() => received.length === 1);
    expect(client.close(4000, "bye")).toEqual([]);
    expect(closes).toEqual([[4000, "bye", false]]);
    expect(client.stopped).toBe("close() called");
    await waitFor(() => manager.size === 0);
    // Nothing more happens after close(): no reconnect.
    await new Promise((r) => setTimeout(r, 100));
    expect(manager.size).toBe(0);
    expect(closes).toHaveLength(1);
  });

  it("a WebSocket constructor that throws counts as a failed attempt and is retried", async () => {
    let calls = 0;
    const Throwing = function (this: unknown) {
      calls++;
      throw new Error("no network");
    } as unknown as WebSocketConstructor;
    const attempts: [number, number][] = [];
    const client = new ReconnectingClient({
      url: "ws://127.0.0.1:1",
      reconnectStrategy: strategy,
      WebSocket: Throwing,
      random: () => 0.5,
      onReconnecting: (attempt, delay) => attempts.push([attempt, delay]),
    });
    cleanups.push(() => client.close());
    await waitFor(() => calls >= 3, 10_000, "three attempts");
    // Full jitter at 0.5: half of min(maxDelay, initialDelay × factor^attempt), floored.
    expect(attempts.slice(0, 3)).toEqual([
      [0, Math.floor(0.5 * 5)],
      [1, Math.floor(0.5 * 10)],
      [2, Math.floor(0.5 * 20)],
    ]);
  });

  it("refuses missing options by name", () => {
    let error: unknown;
    try {
      new ReconnectingClient(undefined as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RealtimeOptionsError);
    expect((error as RealtimeOptionsError).key).toBe("options");
    expect((error as Error).message).toContain("ReconnectingClient: options are required: { url, reconnectStrategy }");
  });
});

describe("WebSocketManager edges", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function served(options: ConstructorParameters<typeof WebSocketManager>[1] = {}) {
    const l = await listen();
    const manager = new WebSocketManager(wsConfig, options);
    cleanups.push(
      () => closeServer(l.server),
      () => manager.drain(50),
    );
    return { ...l, manager, wss: manager.attach(l.server) };
  }

  it("refuses a missing wsConfig and a missing reconnectStrategy by name", () => {
    const key = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(RealtimeOptionsError);
        return [(err as RealtimeOptionsError).key, (err as Error).message];
      }
      throw new Error("expected a refusal");
    };
    const [k1, m1] = key(() => new WebSocketManager(undefined as never));
    expect(k1).toBe("wsConfig");
    expect(m1).toContain("wsConfig is required: { maxConnections, heartbeatInterval }");
    const [k2, m2] = key(() => reconnectCap(0, undefined as never));
    expect(k2).toBe("reconnectStrategy");
    expect(m2).toContain("reconnectStrategy is required: { initialDelay, maxDelay, factor }");
  });

  it("send() delivers to an open socket and counts it; a socket being closed (drain) gets nothing and joins no topic", async () => {
    const registry = new Registry();
    const { url, manager } = await served({ registry });
    const client = await openClient(url);
    cleanups.push(() => client.terminate());
    const got: string[] = [];
    client.on("message", (d) => got.push(d.toString()));
    await waitFor(() => manager.size === 1);
    const [socket] = manager.sockets();
    expect(manager.send(socket, "one")).toBe(true);
    expect(manager.send(socket, Buffer.from("two"))).toBe(true);
    await waitFor(() => got.length === 2);
    expect(got).toEqual(["one", "two"]);
    const sent = (await registry.getSingleMetric(METRIC.wsMessagesTotal)!.get()).values.find(
      (v) => v.labels.direction === "sent",
    );
    expect(sent?.value).toBe(2);

    expect(manager.draining).toBe(false);
    const draining = manager.drain(5_000); // closes with 1001; the socket stays ours until the close completes
    expect(manager.draining).toBe(true);
    expect(manager.send(socket, "three")).toBe(false);
    expect(manager.subscribe(socket, "t")).toBe(false);
    expect(manager.broadcast("four")).toBe(0);
    expect(() => manager.attach(createServer())).toThrow(expect.objectContaining({ key: "attach" }));
    expect(() => manager.attach(createServer())).toThrow(/the manager is draining; create a new WebSocketManager/);
    await draining;
    expect(got).toEqual(["one", "two"]);
  });

  it("close() drains like drain(): 1001 to every socket, then resolves", async () => {
    const { url, manager } = await served();
    const client = await openClient(url);
    const code = closed(client);
    await waitFor(() => manager.size === 1);
    await manager.close();
    expect((await code).code).toBe(1001);
    expect(manager.size).toBe(0);
  });

  it("an upgrade authorized after drain() began is refused with 503, not accepted, and counted as draining", async () => {
    let decide!: (v: boolean) => void;
    let asked!: () => void;
    const wasAsked = new Promise<void>((r) => (asked = r));
    const registry = new Registry();
    const { url, manager } = await served({
      registry,
      authorize: () =>
        new Promise<boolean>((r) => {
          decide = r;
          asked();
        }),
    });
    const status = new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once("open", () => resolve("101"));
      ws.once("unexpected-response", (_req, res) => {
        resolve(`${res.statusCode} ${res.statusMessage}`);
        res.resume();
        ws.terminate();
      });
      ws.once("error", () => undefined);
    });
    await wasAsked;
    const draining = manager.drain(100);
    decide(true);
    expect(await status).toBe("503 Service Unavailable");
    await draining;
    expect(manager.size).toBe(0);
    const rejected = (await registry.getSingleMetric(METRIC.wsRejectedConnectionsTotal)!.get()).values;
    expect(rejected.find((v) => v.labels.reason === "draining")?.value).toBe(1);
  });
});

describe("MessageBatcher in the seed's shape", () => {
  it("a subclass's own broadcast(batch) method is used when no broadcast option is given", async () => {
    const sent: number[][] = [];
    class Seeded extends MessageBatcher<number> {
      async broadcast(batch: number[]): Promise<void> {
        sent.push(batch);
      }
    }
    const b = new Seeded({ batchSize: 2, flushInterval: 60_000 });
    await b.addMessage(1);
    await b.addMessage(2);
    await b.addMessage(3);
    await b.close();
    expect(sent).toEqual([[1, 2], [3]]);
  });

  it("every full batch goes out as soon as it is full, not only the first (no timer needed)", async () => {
    const sent: number[][] = [];
    const b = new MessageBatcher<number>({
      batchSize: 2,
      flushInterval: 3_600_000,
      broadcast: async (batch) => void sent.push(batch),
    });
    for (let i = 1; i <= 6; i++) await b.addMessage(i);
    expect(sent).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(b.size).toBe(0);
    await b.close();
  });

  it("a bad option is refused naming the class, the key and the value", () => {
    expect(() => new MessageBatcher({ broadcast: async () => undefined, batchSize: 0 })).toThrow(
      /^realtime option batchSize: MessageBatcher: batchSize: expected an integer from 1 to \d+, got 0$/,
    );
  });

  it("without either, broadcast is refused by name with the form that works", () => {
    let error: unknown;
    try {
      new MessageBatcher({ batchSize: 2 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RealtimeOptionsError);
    expect((error as RealtimeOptionsError).key).toBe("broadcast");
    expect((error as Error).message).toContain("new MessageBatcher({ broadcast: async (batch) =>");
  });
});

describe("ReconnectingClient stop reason", () => {
  it("names the refusing close code, with the reason only when the server gave one", async () => {
    const cleanups: (() => unknown)[] = [];
    try {
      for (const [reason, expected] of [
        ["", "server closed with 4403"],
        ["forbidden", 'server closed with 4403 "forbidden"'],
      ] as const) {
        const l = await listen();
        const manager = new WebSocketManager(wsConfig, { onConnection: (s) => s.close(4403, reason) });
        manager.attach(l.server);
        cleanups.push(
          () => closeServer(l.server),
          () => manager.drain(50),
        );
        const client = new ReconnectingClient({
          url: l.url,
          reconnectStrategy: { initialDelay: 5, maxDelay: 20, factor: 2 },
          WebSocket: WebSocket as unknown as WebSocketConstructor,
        });
        cleanups.push(() => client.close());
        await waitFor(() => client.stopped !== undefined, 10_000, "the refusal");
        expect(client.stopped).toBe(expected);
      }
    } finally {
      for (const c of cleanups.reverse()) await c();
    }
  });
});

describe("backoff refusals name the call, the key and the value", () => {
  const strategy = { initialDelay: 10, maxDelay: 100, factor: 2 };
  it.each<[string, () => unknown, string, RegExp]>([
    [
      "a negative attempt",
      () => reconnectCap(-1, strategy),
      "attempt",
      /^realtime option attempt: reconnectCap: attempt: .*got -1$/,
    ],
    [
      "a bad strategy",
      () => reconnectCap(0, { ...strategy, initialDelay: 0 }),
      "reconnectStrategy.initialDelay",
      /: reconnectCap: reconnectStrategy\.initialDelay: .*got 0$/,
    ],
    [
      "a random source that is not a function",
      () => reconnectDelay(0, strategy, 5 as never),
      "random",
      /: reconnectDelay: random: expected a function .*got 5$/,
    ],
  ])("%s", (_what, call, key, message) => {
    let error: unknown;
    try {
      call();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RealtimeOptionsError);
    expect((error as RealtimeOptionsError).key).toBe(key);
    expect((error as Error).message).toMatch(message);
  });
});
