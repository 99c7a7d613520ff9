/**
 * The invalidation bus's finer points (issue #22, the survivors of bus-edges.test.ts): a Redis Cluster node
 * leaving the client's pool, ready() on a cluster whose SUBSCRIBE has not answered or whose client has gone,
 * the heartbeat on a healthy subscriber, on one whose PING is refused, and on a cluster, and a re-SUBSCRIBE
 * that Redis refuses. Real redis-servers: ACL users make Redis refuse one command, CLIENT PAUSE holds the
 * cluster's answers, SIGSTOP / SIGKILL stand for a hung or crashed node.
 */
import { Cluster, Redis } from "ioredis";
import { encodeMessage, InvalidationBus, type InvalidationBusOptions } from "../../src/cache/bus";
import { SUBSCRIBER_OVERRIDES } from "../../src/cache/connection";
import { connectRedis } from "../../src/redis/connect";
import { freePort } from "../../../test/helpers/redis";
import { useRedis } from "../../../test/helpers/redis-cluster";
import { useCleanup } from "../helpers/cleanup";
import { timeUntil } from "../helpers/l1";

jest.setTimeout(60_000);

const CHANNEL = "uaip:test:inv";

interface Seen {
  patterns: string[];
  resubscribed: number;
  heartbeatLost: number;
  errors: unknown[];
}

function busOn(subscriber: Redis | Cluster, options: Partial<InvalidationBusOptions> = {}): { bus: InvalidationBus; seen: Seen } {
  const seen: Seen = { patterns: [], resubscribed: 0, heartbeatLost: 0, errors: [] };
  const bus = new InvalidationBus({
    subscriber,
    channel: CHANNEL,
    instanceId: "me",
    onKeys: () => undefined,
    onPattern: (p) => seen.patterns.push(p),
    onResubscribed: () => seen.resubscribed++,
    onError: (e) => seen.errors.push(e),
    onHeartbeatLost: () => seen.heartbeatLost++,
    ...options,
  });
  return { bus, seen };
}

/** Publishes until the bus hands `marker` to onPattern (a restored subscription is not instant). */
async function delivered(pub: Redis | Cluster, seen: Seen, marker: string, limitMs = 10_000): Promise<boolean> {
  const ms = await timeUntil(async () => {
    await pub.publish(CHANNEL, encodeMessage({ i: "other", p: marker }));
    await new Promise((r) => setTimeout(r, 20));
    return seen.patterns.includes(marker);
  }, limitMs);
  return ms < limitMs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("InvalidationBus on one redis-server: heartbeat and re-SUBSCRIBE answers", () => {
  const server = useRedis("standalone");
  const defer = useCleanup();
  /** The fixture's own client, for PUBLISH and admin commands. */
  const admin = (): Redis => server.admin as Redis;

  /** A subscriber as the cache opens it, logged in as `username` (an ACL user) when given. */
  function subscriber(username?: string): Redis {
    const auth = username ? { username, password: "pw" } : {};
    const sub = new Redis(server.url, { ...SUBSCRIBER_OVERRIDES, ...auth, retryStrategy: () => 20 });
    defer(() => sub.disconnect());
    return sub;
  }
  function bus(sub: Redis, options: Partial<InvalidationBusOptions> = {}): { bus: InvalidationBus; seen: Seen } {
    const made = busOn(sub, options);
    defer(() => made.bus.detach());
    return made;
  }

  it("a healthy subscriber answers every PING: no beat drops it, from the first one on", async () => {
    const HEARTBEAT_MS = 50;
    const sub = subscriber();
    const { bus: b, seen } = bus(sub, { heartbeatMs: HEARTBEAT_MS });
    expect(await b.ready(5_000)).toBe(true);
    let closes = 0;
    sub.on("close", () => closes++);
    await sleep(HEARTBEAT_MS * 10);
    expect(seen.heartbeatLost).toBe(0);
    expect(seen.resubscribed).toBe(0);
    // Still the same connection: nothing dropped it behind onHeartbeatLost's back.
    expect(closes).toBe(0);
  });

  it("a PING that Redis refuses is an answer: the subscriber is alive and kept", async () => {
    const HEARTBEAT_MS = 50;
    await admin().call("ACL", "SETUSER", "noping", "on", ">pw", "~*", "&*", "+@all", "-ping");
    const sub = subscriber("noping");
    const { seen } = bus(sub, { heartbeatMs: HEARTBEAT_MS });
    expect(await delivered(admin(), seen, "noping-up")).toBe(true);
    await expect(sub.ping()).rejects.toThrow(/NOPERM/);
    await sleep(HEARTBEAT_MS * 10);
    expect(seen.heartbeatLost).toBe(0);
    expect(seen.resubscribed).toBe(0);
    expect(await delivered(admin(), seen, "noping-still")).toBe(true);
  });

  it("a re-SUBSCRIBE that Redis refuses after a reconnect is told to onError, not counted as a resubscribe", async () => {
    await admin().call("ACL", "SETUSER", "nosub", "on", ">pw", "~*", "&*", "+@all");
    const sub = subscriber("nosub");
    const { bus: b, seen } = bus(sub);
    expect(await b.ready(5_000)).toBe(true);
    expect(await delivered(admin(), seen, "nosub-up")).toBe(true);
    await admin().call("ACL", "SETUSER", "nosub", "-subscribe");
    const reconnected = new Promise((r) => sub.once("ready", r));
    await admin().call("CLIENT", "KILL", "USER", "nosub");
    await reconnected;
    expect(await timeUntil(() => seen.errors.length > 0, 5_000)).toBeLessThan(5_000);
    expect(seen.errors.map(String)).toEqual([expect.stringMatching(/NOPERM/)]);
    expect(seen.resubscribed).toBe(0);
  });
});

describe("InvalidationBus on a Redis Cluster subscriber: ready(), node loss, heartbeat", () => {
  const redis = useRedis("cluster");
  const defer = useCleanup();

  function clusterSubscriber(): Cluster {
    const sub = connectRedis({ mode: "cluster", host: "127.0.0.1", port: redis.port }, SUBSCRIBER_OVERRIDES) as Cluster;
    defer(() => sub.disconnect());
    return sub;
  }
  function bus(sub: Cluster, options: Partial<InvalidationBusOptions> = {}): { bus: InvalidationBus; seen: Seen } {
    const made = busOn(sub, options);
    defer(() => made.bus.detach());
    return made;
  }

  it("ready() is false while the first SUBSCRIBE has not answered, though the client is ready; true once it has", async () => {
    const sub = clusterSubscriber();
    await new Promise((r) => sub.once("ready", r));
    // Every node holds every client's commands for a while (the cluster bus between the nodes goes on).
    const PAUSE_MS = 3_000;
    await Promise.all(
      redis.cluster!.nodes.map(async (n) => {
        const c = new Redis(n.port);
        await c.call("CLIENT", "PAUSE", String(PAUSE_MS), "ALL");
        c.disconnect();
      }),
    );
    const paused = performance.now();
    const { bus: b } = bus(sub);
    expect(await b.ready(300)).toBe(false);
    // The answer came from the timeout, inside the pause (else this test proves nothing).
    expect(sub.status).toBe("ready");
    expect(performance.now() - paused).toBeLessThan(PAUSE_MS);
    expect(await b.ready(PAUSE_MS + 15_000)).toBe(true);
  });

  it("ready() is false once the cluster client has gone, though its SUBSCRIBE had answered", async () => {
    const sub = clusterSubscriber();
    const { bus: b } = bus(sub);
    expect(await b.ready(10_000)).toBe(true);
    sub.disconnect();
    expect(await timeUntil(() => sub.status !== "ready", 5_000)).toBeLessThan(5_000);
    expect(await b.ready(300)).toBe(false);
  });

  it("a node leaving the pool before the first ready is not a resubscribe", async () => {
    // A dead startup node: the client drops it from its pool ("-node") while it connects.
    const dead = await freePort();
    const sub = new Cluster(
      [
        { host: "127.0.0.1", port: dead },
        { host: "127.0.0.1", port: redis.port },
      ],
      { redisOptions: SUBSCRIBER_OVERRIDES },
    );
    defer(() => sub.disconnect());
    let nodesLostBeforeReady = 0;
    const countLoss = () => nodesLostBeforeReady++;
    sub.on("-node", countLoss);
    sub.once("ready", () => sub.off("-node", countLoss));
    const { bus: b, seen } = bus(sub);
    expect(await b.ready(10_000)).toBe(true);
    expect(nodesLostBeforeReady).toBeGreaterThan(0);
    expect(await delivered(redis.admin, seen, "after-dead-startup-node")).toBe(true);
    expect(seen.resubscribed).toBe(0);
  });

  it("the heartbeat drops a cluster subscriber whose nodes stopped answering, and the subscription comes back", async () => {
    const HEARTBEAT_MS = 100;
    const sub = clusterSubscriber();
    const { bus: b, seen } = bus(sub, { heartbeatMs: HEARTBEAT_MS });
    expect(await b.ready(10_000)).toBe(true);
    expect(await delivered(redis.admin, seen, "cluster-hb-up")).toBe(true);
    redis.cluster!.pauseAll();
    try {
      // Two beats find it; give the loaded machine twenty.
      await timeUntil(() => seen.heartbeatLost > 0, HEARTBEAT_MS * 20);
    } finally {
      redis.cluster!.resumeAll();
    }
    expect(seen.heartbeatLost).toBeGreaterThan(0);
    expect(await timeUntil(() => seen.resubscribed > 0, 15_000)).toBeLessThan(15_000);
    expect(await delivered(redis.admin, seen, "cluster-hb-after", 15_000)).toBe(true);
  });

  // Last: it crashes a primary, whose replica takes over.
  it("a node leaving the pool after ready (a crashed primary, failed over) counts as a lost subscription (onResubscribed)", async () => {
    const sub = clusterSubscriber();
    const { bus: b, seen } = bus(sub);
    expect(await b.ready(10_000)).toBe(true);
    expect(seen.resubscribed).toBe(0);
    // Not the node the subscription lives on: losing that one also reconnects the subscriber, which would count
    // without the pool's "-node" this test is about. (ioredis keeps the subscriber's connection private.)
    const subscribedOn = (sub as unknown as { subscriber: { getInstance(): Redis | undefined } }).subscriber.getInstance()
      ?.options.port;
    const primary = (await redis.cluster!.primaries()).find((p) => p.port !== subscribedOn)!;
    // A crashed primary leaves the slot table for good once its replica has taken over (kill() waits for that):
    // a failed node holding no slots is not listed. The pool drops it at the client's next look at the slots (or at
    // once, if its lazily opened connection to that node was open). A CLUSTER FAILOVER instead leaves the old
    // primary listed as a replica, so it left the pool only if a refresh caught it mid-sync, and in a loaded
    // .ci/run 10 s of refreshes never did.
    await redis.cluster!.kill(primary);
    const dropped = await timeUntil(async () => {
      await new Promise<void>((resolve) => sub.refreshSlotsCache(() => resolve()));
      return seen.resubscribed > 0;
    }, 10_000);
    expect(dropped).toBeLessThan(10_000);
    expect(await delivered(redis.admin, seen, "after-failover", 15_000)).toBe(true);
  });
});
