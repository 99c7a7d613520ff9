/**
 * Issue #24, "what peers offer" for WebSockets: an `authorize(req)` hook at upgrade time (refusals are
 * HTTP answers before any WebSocket exists; failures are 500/503, never a crash), and topics, so the
 * batcher sends a topic's messages only to its subscribers. Real node:http server, real `ws` clients.
 */
import type { IncomingMessage, Server } from "node:http";
import { Registry } from "prom-client";
import { WebSocket } from "ws";
import { createRealtime, WebSocketManager, WebSocketTopicError, type AuthorizeVerdict } from "../../src/realtime";
import { METRIC } from "../../src/metrics/names";
import { closeServer, listen, openClient, sleep, waitFor } from "./helpers";

const wsConfig = {
  maxConnections: 50,
  heartbeatInterval: 30_000,
  reconnectStrategy: { initialDelay: 100, maxDelay: 1_000, factor: 2 },
};

/** The HTTP answer to an upgrade request: 101 when it opened (then closed again), else the refusal's status and headers. */
function upgradeAnswer(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage["headers"] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once("open", () => {
      ws.close();
      resolve({ status: 101, headers: {} });
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once("error", (e) => (ws.readyState === WebSocket.CLOSED ? undefined : reject(e)));
  });
}

describe("authorize at upgrade time", () => {
  let server: Server | undefined;
  let manager: WebSocketManager | undefined;
  afterEach(async () => {
    await manager?.drain(100);
    if (server) await closeServer(server);
    server = undefined;
    manager = undefined;
  });

  async function serve(
    authorize: (req: IncomingMessage) => AuthorizeVerdict | Promise<AuthorizeVerdict>,
    authorizeTimeoutMs?: number,
  ) {
    const registry = new Registry();
    const accepted: (string | undefined)[] = [];
    manager = new WebSocketManager(wsConfig, {
      registry,
      authorize,
      ...(authorizeTimeoutMs ? { authorizeTimeoutMs } : {}),
      onConnection: (_socket, req) => accepted.push((req as IncomingMessage & { user?: string })?.user),
    });
    const l = await listen();
    server = l.server;
    manager.attach(server, { path: "/ws" });
    return { url: `${l.url}/ws`, registry, accepted };
  }

  it.each<[string, number, (req: IncomingMessage) => AuthorizeVerdict | Promise<AuthorizeVerdict>]>([
    ["true", 101, () => true],
    ["a promise of true", 101, async () => true],
    ["false", 403, () => false],
    ["a promise of false", 403, () => Promise.resolve(false)],
    ["{ status: 401 }", 401, () => ({ status: 401 })],
    ["{ status: 403 }", 403, async () => ({ status: 403 })],
    [
      "a throw",
      500,
      () => {
        throw new Error("auth backend down");
      },
    ],
    ["a rejection", 500, () => Promise.reject(new Error("auth backend down"))],
    ["an invalid verdict", 500, () => ({ status: 200 }) as never],
    ["undefined", 500, () => undefined as never],
  ])("authorize answering %s gives HTTP %i, before any WebSocket exists", async (_what, status, authorize) => {
    const { url, registry } = await serve(authorize);
    expect((await upgradeAnswer(url)).status).toBe(status);
    if (status !== 101) {
      expect(manager!.size).toBe(0);
      const rejected = await registry.getSingleMetric(METRIC.wsRejectedConnectionsTotal)?.get();
      expect(rejected?.values.reduce((sum, v) => sum + v.value, 0)).toBe(1);
    }
    // The process and the server are unharmed: the next upgrade is still answered.
    expect((await upgradeAnswer(url)).status).toBe(status);
  });

  it("an async verdict sees the request (headers), can hand the identity to onConnection, and sends a 401's headers", async () => {
    const { url, accepted } = await serve(async (req) => {
      await sleep(20);
      const token = req.headers.authorization;
      if (token === undefined)
        return {
          status: 401,
          headers: { "WWW-Authenticate": 'Bearer realm="ws"', "X-Bad\r\nInjected": "x", "X-Split": "a\r\nb: c" },
        };
      if (token !== "Bearer good") return false;
      (req as IncomingMessage & { user?: string }).user = "alice";
      return true;
    });
    const anonymous = await upgradeAnswer(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="ws"');
    expect(anonymous.headers["x-split"]).toBeUndefined(); // a value that would split the response is dropped
    expect(anonymous.headers["b"]).toBeUndefined();
    expect((await upgradeAnswer(url, { authorization: "Bearer bad" })).status).toBe(403);
    expect((await upgradeAnswer(url, { authorization: "Bearer good" })).status).toBe(101);
    await waitFor(() => accepted.length === 1);
    expect(accepted).toEqual(["alice"]);
  });

  it("a verdict later than authorizeTimeoutMs gives 503; its late answer is ignored", async () => {
    let release: (v: boolean) => void = () => undefined;
    const { url } = await serve(() => new Promise<boolean>((r) => (release = r)), 100);
    const started = Date.now();
    expect((await upgradeAnswer(url)).status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    release(true);
    await sleep(50);
    expect(manager!.size).toBe(0);
  });

  it("a client that leaves while authorize runs costs nothing (no crash, no connection)", async () => {
    const { url } = await serve(async () => {
      await sleep(150);
      return true;
    });
    const ws = new WebSocket(url);
    ws.on("error", () => undefined);
    await sleep(30);
    ws.terminate();
    await sleep(250);
    expect(manager!.size).toBe(0);
    expect((await upgradeAnswer(url)).status).toBe(101);
  });

  it("refuses a non-function authorize or a bad authorizeTimeoutMs by name", () => {
    expect(() => new WebSocketManager(wsConfig, { authorize: true as never })).toThrow(
      expect.objectContaining({ key: "authorize" }),
    );
    expect(() => new WebSocketManager(wsConfig, { authorizeTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ key: "authorizeTimeoutMs" }),
    );
  });
});

describe("topics", () => {
  it("the batcher sends each topic's messages to its subscribers only; untopiced ones to everyone", async () => {
    const registry = new Registry();
    const rt = createRealtime({ ws: wsConfig, batching: { batchSize: 7, flushInterval: 20 } }, registry);
    const { server, url } = await listen();
    rt.ws.attach(server);
    const names = ["news-only", "news-and-sport", "none"] as const;
    const subscriptions: Record<(typeof names)[number], string[]> = {
      "news-only": ["news"],
      "news-and-sport": ["news", "sport"],
      none: [],
    };
    const clients = await Promise.all(names.map(() => openClient(url)));
    const received = new Map(names.map((n) => [n, [] as string[]]));
    clients.forEach((c, i) => c.on("message", (data) => received.get(names[i])!.push(...(JSON.parse(String(data)) as string[]))));
    await waitFor(() => rt.ws.size === 3);
    const serverSockets = rt.ws.sockets();
    const byName = new Map<string, WebSocket>();
    // Identify each server socket by the name its client sent.
    await new Promise<void>((resolve) => {
      let seen = 0;
      for (const s of serverSockets)
        s.once("message", (data) => {
          byName.set(String(data), s);
          if (++seen === 3) resolve();
        });
      for (let i = 0; i < 3; i++) clients[i].send(names[i]);
    });
    for (const n of names) for (const t of subscriptions[n]) expect(rt.ws.subscribe(byName.get(n)!, t)).toBe(true);
    expect(rt.ws.subscribers("news")).toBe(2);
    expect(rt.ws.topicsOf(byName.get("news-and-sport")!).sort()).toEqual(["news", "sport"]);

    const topics = [undefined, "news", "sport", "weather"] as const;
    const sent: { message: string; topic: string | undefined }[] = [];
    for (let i = 0; i < 60; i++) {
      const topic = topics[(i * 7 + (i >> 2)) % 4];
      const message = `${topic ?? "all"}-${i}`;
      sent.push({ message, topic });
      await rt.batcher.addMessage(message, topic);
    }
    await rt.batcher.flush();
    // Expected per client from the subscription table: its topics' messages and the untopiced ones, each in order.
    for (const n of names) {
      const expected = sent.filter((s) => s.topic === undefined || subscriptions[n].includes(s.topic)).map((s) => s.message);
      await waitFor(() => received.get(n)!.length >= expected.length, 5_000, `${n} messages`);
      await sleep(30);
      expect([...received.get(n)!].sort()).toEqual([...expected].sort());
      for (const t of [undefined, ...subscriptions[n]]) {
        const inTopic = (m: string) => m.startsWith(`${t ?? "all"}-`);
        expect(received.get(n)!.filter(inTopic)).toEqual(expected.filter(inTopic)); // order kept within a topic
      }
    }

    // Unsubscribe, and a closed socket leaves its topics.
    expect(rt.ws.unsubscribe(byName.get("news-only")!, "news")).toBe(true);
    expect(rt.ws.unsubscribe(byName.get("news-only")!, "news")).toBe(false);
    expect(rt.ws.publish("news", JSON.stringify(["after"]))).toBe(1);
    clients[1].close();
    await waitFor(() => rt.ws.subscribers("news") === 0 && rt.ws.subscribers("sport") === 0);
    expect(rt.ws.publish("sport", "x")).toBe(0);

    for (const bad of ["", "x".repeat(257), 5 as never]) {
      expect(() => rt.ws.subscribe(byName.get("none")!, bad)).toThrow(WebSocketTopicError);
      expect(() => rt.ws.publish(bad, "x")).toThrow(WebSocketTopicError);
      await expect(rt.batcher.addMessage("m", bad)).rejects.toBeInstanceOf(WebSocketTopicError);
    }
    expect(rt.ws.subscribe(byName.get("none")!, "x".repeat(256))).toBe(true);
    for (const c of clients) c.close();
    await rt.close();
    await closeServer(server);
  });
});
