/**
 * The Redis factory's remaining edges (issue #22): what is left unset when nothing names it, the default
 * host for a URL without one, and, on a real 3-primary Redis Cluster, the primaries the runtime works on
 * (SCAN, the connection warm-up) and multi-slot UNLINKs, each on both sides (a cluster and a single node).
 */
import { Cluster, Redis } from "ioredis";
import { useRedis } from "../../../test/helpers/redis-cluster";
import { clusterOptions, connectPrimaries, connectRedis, duplicateRedis, primaryConnections } from "../../src/redis/connect";
import { unlinkKeys } from "../../src/redis/hash-tag";

jest.setTimeout(60_000);

describe("what the factory leaves unset", () => {
  it("no credentials named anywhere: no password or username key, so each node keeps ioredis's own defaults", () => {
    const o = clusterOptions({ url: "redis://h:1" }, { commandTimeout: 5 });
    expect(Object.keys(o.redisOptions ?? {}).sort()).toEqual(["commandTimeout"]);
  });

  it("a password given in the node options stays when the endpoint names none (standalone and cluster)", () => {
    const standalone = connectRedis({ host: "h" }, { lazyConnect: true, password: "from-options" }) as Redis;
    const cluster = clusterOptions({ host: "h" }, { password: "from-options" });
    try {
      expect(standalone.options.password).toBe("from-options");
      expect(cluster.redisOptions?.password).toBe("from-options");
    } finally {
      standalone.disconnect();
    }
  });

  it("a URL without a host seeds the cluster at 127.0.0.1", () => {
    const c = connectRedis({ mode: "cluster", url: "redis://" }, { lazyConnect: true }) as Cluster;
    try {
      expect((c as unknown as { startupNodes: unknown[] }).startupNodes).toEqual([{ host: "127.0.0.1", port: 6379 }]);
    } finally {
      c.disconnect();
    }
  });
});

describe("duplicateRedis of a cluster", () => {
  it("keeps the startup nodes and every cluster-level setting the overrides leave out; takes the ones they give", () => {
    const failFast = connectRedis(
      { mode: "cluster", host: "127.0.0.1", port: 1 },
      { lazyConnect: true, enableOfflineQueue: false },
    ) as Cluster;
    const kept = duplicateRedis(failFast, { connectionName: "sub" }) as Cluster;
    const eager = duplicateRedis(failFast, { lazyConnect: false, enableOfflineQueue: true }) as Cluster;
    try {
      const startup = (c: Cluster) => (c as unknown as { startupNodes: unknown[] }).startupNodes;
      expect(startup(kept)).toEqual([{ host: "127.0.0.1", port: 1 }]);
      expect([kept.options.lazyConnect, kept.options.enableOfflineQueue]).toEqual([true, false]);
      expect([eager.options.lazyConnect, eager.options.enableOfflineQueue]).toEqual([false, true]);
    } finally {
      for (const c of [failFast, kept, eager]) c.disconnect();
    }
  });
});

describe("on a real Redis Cluster", () => {
  const redis = useRedis("cluster");
  const clients: (Redis | Cluster)[] = [];
  afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));

  async function clusterClient(): Promise<Cluster> {
    const c = redis.client({ lazyConnect: true }) as Cluster;
    clients.push(c);
    await c.connect();
    return c;
  }

  it("primaryConnections: one connection per primary (the cluster's own primaries, no replica); a single node is itself", async () => {
    const c = await clusterClient();
    const ports = (await redis.primaries()).map((n) => n.options.port).sort();
    expect(ports).toHaveLength(3);
    expect(
      primaryConnections(c)
        .map((n) => n.options.port)
        .sort(),
    ).toEqual(ports);
    const single = new Redis({ lazyConnect: true });
    clients.push(single);
    expect(primaryConnections(single)).toEqual([single]);
  });

  it("connectPrimaries opens every primary's connection; a hung primary makes it false once timeoutMs has passed", async () => {
    const c = await clusterClient();
    // ioredis opens a node's connection on its first command: none has been sent yet.
    expect(primaryConnections(c).every((n) => n.status === "ready")).toBe(false);
    expect(await connectPrimaries(c, 5_000)).toBe(true);
    expect(primaryConnections(c).map((n) => n.status)).toEqual(["ready", "ready", "ready"]);

    const cold = await clusterClient();
    redis.pause();
    try {
      const start = performance.now();
      expect(await connectPrimaries(cold, 300)).toBe(false);
      expect(performance.now() - start).toBeGreaterThanOrEqual(299);
    } finally {
      redis.resume();
    }
  });

  it("connectPrimaries is false as soon as one primary's PING fails (the others answering), before its own timeout", async () => {
    const c = new Cluster(redis.cluster!.startupNodes, { lazyConnect: true, redisOptions: { commandTimeout: 100 } });
    clients.push(c);
    await c.connect();
    const onePrimary = (await redis.primaries())[0].options.port;
    const node = redis.cluster!.nodes.find((n) => n.port === onePrimary)!;
    node.pause();
    try {
      const start = performance.now();
      expect(await connectPrimaries(c, 20_000)).toBe(false);
      expect(performance.now() - start).toBeLessThan(10_000);
    } finally {
      node.resume();
    }
  });

  it("connectPrimaries on a single node is true at once and sends nothing", async () => {
    const single = new Redis({ lazyConnect: true, port: 1 });
    clients.push(single);
    expect(await connectPrimaries(single, 10)).toBe(true);
    expect(single.status).toBe("wait");
  });

  it("unlinkKeys removes keys spread over every slot group without CROSSSLOT, and counts only those that existed", async () => {
    const c = await clusterClient();
    const keys = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `{tag}:${i}` : `spread:${i}`));
    await Promise.all(keys.filter((_, i) => i % 2 === 0).map((k) => c.set(k, "1")));
    const crossslotBefore = (await redis.errorStats()).CROSSSLOT ?? 0;
    expect(await unlinkKeys(c, keys)).toBe(30);
    expect(await redis.keys("*")).toEqual([]);
    expect(await unlinkKeys(c, [])).toBe(0);
    expect((await redis.errorStats()).CROSSSLOT ?? 0).toBe(crossslotBefore);
  });
});
