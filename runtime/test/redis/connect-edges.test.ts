/**
 * How an endpoint becomes connection options (issue #22), each rule on both sides: defaults when the URL
 * leaves a part out, which password wins, TLS from the scheme or the flag, the slot-refresh timeout's
 * floor, and what stays at the cluster level versus each node's connection. No server: lazy clients.
 */
import { Cluster, Redis } from "ioredis";
import { clusterOptions, connectRedis, duplicateRedis, isCluster, primaryConnections } from "../../src/redis/connect";

const lazy = { lazyConnect: true } as const;

describe("clusterOptions", () => {
  it("reads host, port, TLS and credentials from the URL (percent-decoded), with 127.0.0.1:6379 for what it leaves out", () => {
    const full = clusterOptions({ url: "rediss://us%40r:p%3Ass@node.example:7000" }, {});
    expect(full.redisOptions).toEqual({ tls: {}, password: "p:ss", username: "us@r" });
    const bare = clusterOptions({ url: "redis://node.example" }, {});
    expect(bare.redisOptions).toEqual({});
    expect(clusterOptions({ url: "redis://node.example", tls: true }, {}).redisOptions).toEqual({ tls: {} });
    expect(clusterOptions({ host: "h", port: 1, tls: false }, {}).redisOptions).toEqual({});
    expect(clusterOptions({ host: "h", tls: true }, {}).redisOptions).toEqual({ tls: {} });
  });

  it("password: the endpoint's (auth token) wins over the node options', which win over the URL's", () => {
    const url = "redis://u:fromurl@h:1";
    expect(clusterOptions({ url }, {}).redisOptions?.password).toBe("fromurl");
    expect(clusterOptions({ url }, { password: "node", username: "nodeuser" }).redisOptions).toMatchObject({
      password: "node",
      username: "nodeuser",
    });
    expect(clusterOptions({ url, password: "token" }, { password: "node" }).redisOptions?.password).toBe("token");
  });

  it("TLS options given for the node are kept as given, whatever the scheme", () => {
    const tls = { servername: "x" };
    expect(clusterOptions({ url: "redis://h" }, { tls }).redisOptions?.tls).toBe(tls);
    expect(clusterOptions({ url: "rediss://h" }, { tls }).redisOptions?.tls).toBe(tls);
  });

  it("cluster-level settings leave the node options; absent ones are not set at all", () => {
    const retryStrategy = () => 5;
    const o = clusterOptions(
      { host: "h" },
      { host: "x", port: 2, retryStrategy, enableOfflineQueue: false, lazyConnect: false, commandTimeout: 50 },
    );
    expect(o).toMatchObject({
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: false,
      lazyConnect: false,
      scaleReads: "master",
    });
    expect(o.redisOptions).toEqual({ commandTimeout: 50 });
    const d = clusterOptions({ host: "h" }, {});
    expect(d.enableOfflineQueue).toBe(true);
    expect("clusterRetryStrategy" in d).toBe(false);
    expect("lazyConnect" in d).toBe(false);
  });

  it.each([
    [undefined, 1_000],
    [500, 1_000],
    [999, 1_000],
    [1_000, 1_000],
    [1_001, 1_001],
    [5_000, 5_000],
  ])("connectTimeout %s -> slotsRefreshTimeout %s (never under 1 s)", (connectTimeout, expected) => {
    expect(clusterOptions({ host: "h" }, connectTimeout === undefined ? {} : { connectTimeout }).slotsRefreshTimeout).toBe(
      expected,
    );
  });

  it("passes node names through dnsLookup unchanged", () => {
    const seen: unknown[] = [];
    clusterOptions({ host: "h" }, {}).dnsLookup!("node-1.cache.amazonaws.com", (err, address) => seen.push(err, address));
    expect(seen).toEqual([null, "node-1.cache.amazonaws.com"]);
  });
});

describe("connectRedis / duplicateRedis", () => {
  const clients: (Redis | Cluster)[] = [];
  afterAll(() => clients.forEach((c) => c.disconnect()));
  const keep = <T extends Redis | Cluster>(c: T): T => (clients.push(c), c);

  it("standalone from host/port with defaults 127.0.0.1:6379; TLS and the password from the endpoint", () => {
    const plain = keep(connectRedis({}, lazy)) as Redis;
    expect([plain.options.host, plain.options.port, plain.options.tls, plain.options.password ?? null]).toEqual([
      "127.0.0.1",
      6379,
      undefined,
      null,
    ]);
    const secure = keep(connectRedis({ host: "h", port: 7, tls: true, password: "pw" }, lazy)) as Redis;
    expect([secure.options.host, secure.options.port, secure.options.tls, secure.options.password]).toEqual(["h", 7, {}, "pw"]);
    const fromUrl = keep(connectRedis({ url: "redis://u:x@h2:8", password: "token" }, lazy)) as Redis;
    // The endpoint's password (auth token) wins over the URL's, as in cluster mode; the URL's user name stays.
    expect([fromUrl.options.host, fromUrl.options.port, fromUrl.options.username, fromUrl.options.password]).toEqual([
      "h2",
      8,
      "u",
      "token",
    ]);
    const urlOnly = keep(connectRedis({ url: "redis://u%40x:p%3Aw@h3:9/2" }, lazy)) as Redis;
    expect([urlOnly.options.username, urlOnly.options.password, urlOnly.options.db]).toEqual(["u@x", "p:w", 2]);
    const tokenOnly = keep(connectRedis({ url: "redis://h4:9/3", password: "token" }, lazy)) as Redis;
    expect([
      tokenOnly.options.host,
      tokenOnly.options.db,
      tokenOnly.options.username ?? null,
      tokenOnly.options.password,
    ]).toEqual(["h4", 3, null, "token"]);
    expect(isCluster(plain)).toBe(false);
    expect(primaryConnections(plain)).toEqual([plain]);
  });

  it("cluster mode seeds a Cluster with the endpoint's address (defaults included)", () => {
    const c = keep(connectRedis({ mode: "cluster", url: "redis://seed.example" }, lazy)) as Cluster;
    expect(isCluster(c)).toBe(true);
    expect((c as unknown as { startupNodes: unknown[] }).startupNodes).toEqual([{ host: "seed.example", port: 6379 }]);
    const d = keep(connectRedis({ mode: "cluster" }, lazy)) as Cluster;
    expect((d as unknown as { startupNodes: unknown[] }).startupNodes).toEqual([{ host: "127.0.0.1", port: 6379 }]);
  });

  it("a duplicate keeps the kind and the node options, with the overrides mapped to the cluster level", () => {
    const retryStrategy = () => null;
    const c = keep(connectRedis({ mode: "cluster", host: "h", password: "pw" }, { ...lazy, commandTimeout: 40 })) as Cluster;
    const dup = keep(
      duplicateRedis(c, { retryStrategy, enableOfflineQueue: false, lazyConnect: true, connectionName: "sub" }),
    ) as Cluster;
    expect(isCluster(dup)).toBe(true);
    expect(dup.options).toMatchObject({ clusterRetryStrategy: retryStrategy, enableOfflineQueue: false, lazyConnect: true });
    expect(dup.options.redisOptions).toMatchObject({ password: "pw", commandTimeout: 40, connectionName: "sub" });
    expect(dup.options.redisOptions).not.toHaveProperty("retryStrategy");
    const bare = keep(duplicateRedis(c, {})) as Cluster;
    expect(bare.options.enableOfflineQueue).toBe(c.options.enableOfflineQueue);
    const s = keep(connectRedis({ host: "h" }, lazy)) as Redis;
    const sd = keep(duplicateRedis(s, { connectionName: "sub" })) as Redis;
    expect(isCluster(sd)).toBe(false);
    expect([sd.options.host, sd.options.connectionName]).toEqual(["h", "sub"]);
  });
});
