/**
 * The invalidation bus on its own (issue #22): which messages reach the handlers and which are dropped, when a
 * restored subscription counts as a resubscribe (and when it does not), the heartbeat that finds a silent
 * subscriber, ready()'s answer on both sides of its timeout, and what detach() stops. A real redis-server;
 * faults come from the fault proxy between the subscriber and Redis (standalone: the Redis Cluster side is
 * bus.test.ts's).
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { decodeMessage, encodeMessage, InvalidationBus, type InvalidationBusOptions } from "../../src/cache/bus";
import { SUBSCRIBER_OVERRIDES } from "../../src/cache/connection";
import { freePort } from "../../../test/helpers/redis";
import { useRedis } from "../../../test/helpers/redis-cluster";
import { connectRedis } from "../../src/redis/connect";
import { FaultProxy } from "../../../tools/fault-proxy/proxy";
import { useCleanup } from "../helpers/cleanup";
import { timeUntil } from "../helpers/l1";

jest.setTimeout(30_000);

describe("decodeMessage", () => {
  it.each([
    ['{"i":"a","k":["x","y"]}', { i: "a", k: ["x", "y"] }],
    ['{"i":"a","k":[]}', { i: "a", k: [] }],
    ['{"i":"","p":"x*"}', { i: "", p: "x*" }],
    // keys win over a pattern; a bad key list falls back to the pattern
    ['{"i":"a","k":["x"],"p":"y*"}', { i: "a", k: ["x"] }],
    ['{"i":"a","k":["x",1],"p":"y*"}', { i: "a", p: "y*" }],
    ['{"i":"a","k":"x","p":"y*"}', { i: "a", p: "y*" }],
    ['{"i":"a","k":["x",1]}', undefined],
    ['{"i":"a","p":""}', undefined],
    ['{"i":"a","p":5}', undefined],
    ['{"i":"a","p":["x*"]}', undefined],
    ['{"i":"a"}', undefined],
    ['{"i":1,"k":["x"]}', undefined],
    ['{"k":["x"]}', undefined],
    ['["a",["x"]]', undefined],
    ["null", undefined],
    ['"i"', undefined],
    ["7", undefined],
    ["{not json", undefined],
    ["", undefined],
  ])("%s -> %j", (raw, expected) => {
    expect(decodeMessage(raw)).toEqual(expected);
  });

  it("reads back what encodeMessage wrote, and never throws on any other text (property)", () => {
    const message = fc.oneof(
      fc.record({ i: fc.string(), k: fc.array(fc.string()) }),
      fc.record({ i: fc.string(), p: fc.string({ minLength: 1 }) }),
    );
    fc.assert(fc.property(message, (m) => expect(decodeMessage(encodeMessage(m))).toEqual(m)));
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (raw) => void decodeMessage(raw)));
  });
});

describe("InvalidationBus", () => {
  const CHANNEL = "uaip:test:inv";
  const server = useRedis("standalone");
  const defer = useCleanup();
  /** The fixture's own client, for PUBLISH and admin commands. */
  const pub = (): Redis => server.admin as Redis;

  interface Seen {
    keys: string[][];
    patterns: string[];
    resubscribed: number;
    heartbeatLost: number;
    errors: unknown[];
  }

  /** A subscriber connection as the cache opens it (SUBSCRIBER_OVERRIDES), to `url`. */
  function subscriber(url: string): Redis {
    const sub = new Redis(url, { ...SUBSCRIBER_OVERRIDES, retryStrategy: () => 20 });
    defer(() => sub.disconnect());
    return sub;
  }

  function bus(sub: Redis, options: Partial<InvalidationBusOptions> = {}): { bus: InvalidationBus; seen: Seen } {
    const seen: Seen = { keys: [], patterns: [], resubscribed: 0, heartbeatLost: 0, errors: [] };
    const b = new InvalidationBus({
      subscriber: sub,
      channel: CHANNEL,
      instanceId: "me",
      onKeys: (k) => seen.keys.push(k),
      onPattern: (p) => seen.patterns.push(p),
      onResubscribed: () => seen.resubscribed++,
      onError: (e) => seen.errors.push(e),
      onHeartbeatLost: () => seen.heartbeatLost++,
      ...options,
    });
    defer(() => b.detach());
    return { bus: b, seen };
  }

  async function proxy(): Promise<FaultProxy> {
    const p = await FaultProxy.start({ port: server.port });
    defer(() => p.close());
    return p;
  }

  /** Publishes until the bus hands `marker` to onPattern (a restored subscription is not instant). */
  async function delivered(seen: Seen, marker: string, limitMs = 5_000): Promise<boolean> {
    const ms = await timeUntil(async () => {
      await pub().publish(CHANNEL, encodeMessage({ i: "other", p: marker }));
      await new Promise((r) => setTimeout(r, 20));
      return seen.patterns.includes(marker);
    }, limitMs);
    return ms < limitMs;
  }

  it("hands other instances' keys and patterns to the handlers; drops its own, malformed ones and other channels'", async () => {
    const sub = subscriber(server.url);
    const { bus: b, seen } = bus(sub);
    expect(await b.ready(5_000)).toBe(true);
    await sub.subscribe("another-channel");
    await pub().publish(CHANNEL, encodeMessage({ i: "me", k: ["own"] }));
    await pub().publish(CHANNEL, "{malformed");
    await pub().publish("another-channel", encodeMessage({ i: "other", k: ["elsewhere"] }));
    await pub().publish(CHANNEL, encodeMessage({ i: "other", k: ["a", "b"] }));
    await pub().publish(CHANNEL, encodeMessage({ i: "other", p: "item:*" }));
    expect(await timeUntil(() => seen.patterns.length > 0)).toBeLessThan(2_000);
    expect(seen.keys).toEqual([["a", "b"]]);
    expect(seen.patterns).toEqual(["item:*"]);
    expect(seen.resubscribed).toBe(0);
    expect(seen.errors).toEqual([]);
  });

  it("ready() answers false once its timeout has passed when Redis cannot be reached, true as soon as it answers", async () => {
    const sub = subscriber(`redis://127.0.0.1:${await freePort()}`);
    const { bus: b } = bus(sub);
    const start = performance.now();
    expect(await b.ready(300)).toBe(false);
    expect(performance.now() - start).toBeGreaterThanOrEqual(299);
    const up = bus(subscriber(server.url)).bus;
    expect(await up.ready(5_000)).toBe(true);
  });

  it("a subscription restored after a reset counts as a resubscribe (also for a connection ready before the bus), and messages flow again", async () => {
    for (const readyFirst of [false, true]) {
      const p = await proxy();
      const sub = subscriber(p.redisUrl);
      if (readyFirst) await new Promise((r) => sub.once("ready", r));
      const { bus: b, seen } = bus(sub);
      expect(await b.ready(5_000)).toBe(true);
      expect(await delivered(seen, `before-${readyFirst}`)).toBe(true);
      expect(seen.resubscribed).toBe(0);
      p.resetConnections();
      expect(await timeUntil(() => seen.resubscribed > 0, 5_000)).toBeLessThan(5_000);
      expect(await delivered(seen, `after-${readyFirst}`)).toBe(true);
      expect(seen.resubscribed).toBe(1);
      // The reset itself is the one error the connection reports.
      expect(seen.errors.map((e) => (e as { code?: string }).code)).toEqual(["ECONNRESET"]);
    }
  });

  it("a connection that failed before it was ever ready is a first subscription, not a resubscribe", async () => {
    const p = await proxy();
    p.enable({ kind: "reset" });
    const sub = subscriber(p.redisUrl);
    const closed = new Promise((r) => sub.once("close", r));
    const { bus: b, seen } = bus(sub);
    await closed;
    p.disable("reset");
    expect(await b.ready(5_000)).toBe(true);
    expect(await delivered(seen, "first")).toBe(true);
    expect(seen.resubscribed).toBe(0);
  });

  it("the heartbeat drops a subscriber whose answers stopped and resubscribes; without it the silence goes unnoticed", async () => {
    const HEARTBEAT_MS = 100;
    for (const heartbeatMs of [0, HEARTBEAT_MS]) {
      const p = await proxy();
      const sub = subscriber(p.redisUrl);
      const { bus: b, seen } = bus(sub, { heartbeatMs });
      expect(await b.ready(5_000)).toBe(true);
      p.enable({ kind: "blackhole" });
      // Two beats find it (one PING out, still unanswered at the next); give the loaded machine ten.
      await timeUntil(() => seen.heartbeatLost > 0, HEARTBEAT_MS * 10);
      p.disable("blackhole");
      if (heartbeatMs === 0) {
        expect(seen.heartbeatLost).toBe(0);
        expect(seen.resubscribed).toBe(0);
        continue;
      }
      expect(seen.heartbeatLost).toBe(1);
      expect(await timeUntil(() => seen.resubscribed > 0, 5_000)).toBeLessThan(5_000);
      expect(await delivered(seen, "after-heartbeat")).toBe(true);
      // A healthy connection answers each PING before the next beat: no further loss.
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 5));
      expect(seen.heartbeatLost).toBe(1);
    }
  });

  it("the heartbeat stays quiet while the subscriber is reconnecting, and after it is back", async () => {
    const HEARTBEAT_MS = 50;
    const p = await proxy();
    const sub = subscriber(p.redisUrl);
    const { bus: b, seen } = bus(sub, { heartbeatMs: HEARTBEAT_MS });
    expect(await b.ready(5_000)).toBe(true);
    // Every connection is reset at once: the subscriber keeps reconnecting and is never ready meanwhile.
    p.enable({ kind: "reset" });
    p.resetConnections();
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 8));
    expect(seen.heartbeatLost).toBe(0);
    p.disable("reset");
    expect(await timeUntil(() => seen.resubscribed > 0, 5_000)).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 8));
    expect(seen.heartbeatLost).toBe(0);
  });

  it("a half-open subscriber is dropped once and its replacement kept (also without an onHeartbeatLost listener)", async () => {
    const HEARTBEAT_MS = 300;
    for (const listener of [true, false]) {
      const p = await proxy();
      const sub = subscriber(p.redisUrl);
      const { bus: b, seen } = bus(sub, { heartbeatMs: HEARTBEAT_MS, ...(listener ? {} : { onHeartbeatLost: undefined }) });
      expect(await b.ready(5_000)).toBe(true);
      // Only the connection open now goes silent (no FIN, no answers); the reconnect gets a healthy one at once.
      p.enable({ kind: "half-open" }, { said: /SUBSCRIBE/i });
      expect(await timeUntil(() => seen.resubscribed > 0, HEARTBEAT_MS * 10)).toBeLessThan(HEARTBEAT_MS * 10);
      expect(await delivered(seen, `after-half-open-${listener}`)).toBe(true);
      // The new connection answers every PING: no second drop over several beats.
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 4));
      expect(seen.heartbeatLost).toBe(listener ? 1 : 0);
      expect(seen.resubscribed).toBe(1);
    }
  });

  it("detach() stops delivery and the heartbeat but keeps answering connection errors", async () => {
    const p = await proxy();
    const sub = subscriber(p.redisUrl);
    const { bus: b, seen } = bus(sub, { heartbeatMs: 50 });
    expect(await b.ready(5_000)).toBe(true);
    b.detach();
    await pub().publish(CHANNEL, encodeMessage({ i: "other", k: ["late"] }));
    // The message reaches the (still subscribed) connection; the bus no longer hands it on.
    await new Promise((r) => setTimeout(r, 200));
    p.enable({ kind: "blackhole" });
    await new Promise((r) => setTimeout(r, 400));
    p.disable("blackhole");
    expect(seen.keys).toEqual([]);
    expect(seen.heartbeatLost).toBe(0);
    const error = new Error("socket trouble");
    sub.emit("error", error);
    expect(seen.errors).toEqual([error]);
    // A reconnect after detach() is no longer the bus's to answer: no resubscribe.
    p.resetConnections();
    expect(await timeUntil(() => sub.status === "ready", 5_000)).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.resubscribed).toBe(0);
  });

  it("a SUBSCRIBE that fails is told to onError", async () => {
    const sub = subscriber(server.url);
    await new Promise((r) => sub.once("ready", r));
    sub.disconnect();
    const { seen } = bus(sub);
    expect(await timeUntil(() => seen.errors.length > 0, 2_000)).toBeLessThan(2_000);
  });
});

describe("InvalidationBus on a Redis Cluster subscriber", () => {
  const redis = useRedis("cluster");
  const opened: { detach(): void }[] = [];
  const subs: { disconnect(): void }[] = [];
  afterEach(() => {
    opened.splice(0).forEach((b) => b.detach());
    subs.splice(0).forEach((s) => s.disconnect());
  });

  function clusterBus(port: number): InvalidationBus {
    const sub = connectRedis({ mode: "cluster", host: "127.0.0.1", port }, SUBSCRIBER_OVERRIDES);
    subs.push(sub);
    const b = new InvalidationBus({
      subscriber: sub,
      channel: "uaip:test:inv",
      instanceId: "me",
      onKeys: () => undefined,
      onPattern: () => undefined,
      onResubscribed: () => undefined,
      onError: () => undefined,
    });
    opened.push(b);
    return b;
  }

  it("ready() waits for the first SUBSCRIBE: true on a live cluster, false once its timeout has passed on none", async () => {
    expect(await clusterBus(redis.port).ready(10_000)).toBe(true);
    const start = performance.now();
    expect(await clusterBus(await freePort()).ready(300)).toBe(false);
    expect(performance.now() - start).toBeGreaterThanOrEqual(299);
  });
});
