/**
 * The cache's connections at their edges (issue #22): the reconnect backoff as a rule over every attempt,
 * fail-fast commands while Redis is away, the injected client kept as given, the command timeout on both
 * sides, and release() against a Redis that answers, one that hangs and one that is gone. A real
 * redis-server (paused with SIGSTOP for the hang).
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import {
  commandOptions,
  openCommandClient,
  reconnectDelay,
  release,
  SUBSCRIBER_OVERRIDES,
  withTimeout,
  type RedisTarget,
} from "../../src/cache/connection";
import { MAX_TIMER_MS } from "../../src/options";
import { RedisServer, freePort } from "../../../test/helpers/redis";
import { timeUntil } from "../helpers/l1";
import { FaultProxy } from "../../../tools/fault-proxy/proxy";

jest.setTimeout(30_000);

const target = (over: Partial<RedisTarget> = {}): RedisTarget => ({
  host: "127.0.0.1",
  port: 6379,
  tls: false,
  commandTimeoutMs: 50,
  ...over,
});

describe("reconnectDelay", () => {
  it("starts at 50 ms, doubles each attempt and stays at 2 s from there on (property over the attempt)", () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), (attempt) => {
        // Computed by doubling, not by the formula under test.
        let expected = 50;
        for (let i = 0; i < attempt && expected < 2_000; i++) expected *= 2;
        expect(reconnectDelay(attempt)).toBe(Math.min(expected, 2_000));
      }),
    );
    expect([0, 1, 5, 6, 7].map(reconnectDelay)).toEqual([50, 100, 1_600, 2_000, 2_000]);
  });
});

describe("commandOptions", () => {
  it("gives the connect ten command timeouts, at least 1 s and at most the longest timer", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_TIMER_MS }), (ms) => {
        const expected = ms * 10 < 1_000 ? 1_000 : Math.min(ms * 10, MAX_TIMER_MS);
        expect(commandOptions(target({ commandTimeoutMs: ms })).connectTimeout).toBe(expected);
      }),
    );
    for (const [ms, connect] of [
      [99, 1_000],
      [100, 1_000],
      [101, 1_010],
    ]) {
      expect(commandOptions(target({ commandTimeoutMs: ms })).connectTimeout).toBe(connect);
    }
  });
});

describe("the command and subscriber connections against a real Redis", () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(() => {
    server.resume();
    clients.splice(0).forEach((c) => c.disconnect());
  });
  afterAll(() => server.stop());

  const clientCount = async (): Promise<number> => {
    const admin = new Redis(server.url);
    try {
      return ((await admin.client("LIST")) as string).trim().split("\n").length - 1;
    } finally {
      admin.disconnect();
    }
  };

  it("a command client fails fast while Redis is away (no offline queue, no retries) and reconnects on its own", async () => {
    const port = await freePort();
    const { client, owned } = openCommandClient(target({ port }));
    clients.push(client as Redis);
    expect(owned).toBe(true);
    const start = performance.now();
    await expect(client.get("k")).rejects.toThrow();
    expect(performance.now() - start).toBeLessThan(500);
    const up = openCommandClient(target({ port: server.port })).client as Redis;
    clients.push(up);
    await new Promise((r) => up.once("ready", r));
    // A command cut off by the connection's loss is not retried: it fails, the caller's breaker decides.
    server.pause();
    const pending = up.get("k");
    up.stream.destroy();
    await expect(pending).rejects.toThrow();
    server.resume();
    expect(await timeUntil(() => up.status === "ready", 5_000)).toBeLessThan(5_000);
  });

  it("a command sent while the connection is still opening fails at once rather than waiting in a queue", async () => {
    // TCP connects but nothing answers (the handshake's INFO is held): the client is not ready for its connect timeout.
    const proxy = await FaultProxy.start({ port: server.port });
    try {
      proxy.enable({ kind: "blackhole" });
      const { client } = openCommandClient(target({ port: proxy.port, commandTimeoutMs: 200 }));
      clients.push(client as Redis);
      await new Promise((r) => setTimeout(r, 50));
      const start = performance.now();
      await expect(client.get("k")).rejects.toThrow();
      // A queued command would wait for the 2 s connect timeout (10 x 200 ms).
      expect(performance.now() - start).toBeLessThan(1_000);
    } finally {
      await proxy.close();
    }
  });

  it("a subscriber connection queues SUBSCRIBE until Redis answers", async () => {
    const sub = new Redis(server.url, SUBSCRIBER_OVERRIDES);
    clients.push(sub);
    expect(sub.status).not.toBe("ready");
    await expect(sub.subscribe("ch")).resolves.toBe(1);
  });

  it("the endpoint goes to the factory as given; an empty password sends no AUTH; an injected client is used as is", async () => {
    const secured = await RedisServer.start(["--requirepass", "s3cret"]);
    try {
      const good = openCommandClient(target({ url: secured.url, password: "s3cret" })).client as Redis;
      const none = openCommandClient(target({ port: server.port, password: "" })).client as Redis;
      clients.push(good, none);
      await Promise.all([good, none].map((c) => new Promise((r) => c.once("ready", r))));
      expect(await good.ping()).toBe("PONG");
      expect(none.options.password ?? null).toBeNull();
      expect(await none.ping()).toBe("PONG");
    } finally {
      await secured.stop();
    }
    const mine = new Redis(server.url, { lazyConnect: true });
    clients.push(mine);
    expect(openCommandClient(target({ client: mine }))).toEqual({ client: mine, owned: false });
  });

  it("withTimeout: the value or the error when the command settles in time, a timeout error naming the ms after", async () => {
    await expect(withTimeout(Promise.resolve(7), 50)).resolves.toBe(7);
    const boom = new Error("boom");
    await expect(withTimeout(Promise.reject(boom), 50)).rejects.toBe(boom);
    const start = performance.now();
    await expect(withTimeout(new Promise(() => undefined), 60)).rejects.toThrow("redis command timed out after 60 ms");
    expect(performance.now() - start).toBeGreaterThanOrEqual(59);
    // A late settle after the timeout changes nothing.
    let settle!: (v: number) => void;
    const late = withTimeout(new Promise<number>((r) => (settle = r)), 20);
    await expect(late).rejects.toThrow("20 ms");
    settle(1);
  });

  it("release() quits a Redis that answers (server sees the client go), gives up on a hung one within 500 ms, and never throws", async () => {
    const before = await clientCount();
    const live = new Redis(server.url);
    await new Promise((r) => live.once("ready", r));
    expect(await clientCount()).toBe(before + 1);
    const quit = jest.spyOn(live, "quit");
    await release(live);
    expect(quit).toHaveBeenCalledTimes(1);
    expect(await timeUntil(() => live.status === "end", 2_000)).toBeLessThan(2_000);
    expect(await timeUntil(async () => (await clientCount()) === before, 2_000)).toBeLessThan(2_000);

    const hung = new Redis(server.url);
    clients.push(hung);
    await new Promise((r) => hung.once("ready", r));
    server.pause();
    const start = performance.now();
    await release(hung);
    const took = performance.now() - start;
    expect(took).toBeGreaterThanOrEqual(499);
    expect(took).toBeLessThan(3_000);
    // Its socket is being closed from our side (a paused server never answers, so the status changes later).
    expect(hung.stream.writableEnded).toBe(true);
    server.resume();

    const gone = new Redis(`redis://127.0.0.1:${await freePort()}`, { lazyConnect: true, retryStrategy: () => null });
    const quitGone = jest.spyOn(gone, "quit");
    await release(gone);
    expect(quitGone).not.toHaveBeenCalled();
    expect(await timeUntil(() => gone.status === "end", 2_000)).toBeLessThan(2_000);
  });
});
