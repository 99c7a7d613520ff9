/**
 * The one Redis factory's cluster options (ioredis#754): node names pass through dnsLookup unchanged,
 * TLS and credentials reach every node through redisOptions, fail-fast stays at the cluster level.
 */
import { Cluster, Redis } from "ioredis";
import { clusterOptions, connectRedis, duplicateRedis, isCluster } from "../../src/redis/connect";

const FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 50,
  retryStrategy: () => 100,
  lazyConnect: true,
};

describe("clusterOptions", () => {
  it("passes every node name through dnsLookup unchanged (a TLS certificate is for the name, not the IP)", async () => {
    const { dnsLookup } = clusterOptions({ mode: "cluster", host: "clustercfg.uaip.abc.use1.cache.amazonaws.com" }, FAIL_FAST);
    for (const name of ["clustercfg.uaip.abc.use1.cache.amazonaws.com", "10.0.1.7", "localhost"]) {
      const resolved = await new Promise<string>((resolve, reject) =>
        dnsLookup!(name, (err, address) => (err ? reject(err) : resolve(address))),
      );
      expect(resolved).toBe(name);
    }
  });

  it.each([
    [{ tls: true, host: "h" }, true],
    [{ url: "rediss://h:6380" }, true],
    [{ url: "redis://h:6380" }, false],
    [{ tls: false, host: "h" }, false],
  ])("%j: TLS for every node = %s, through redisOptions", (endpoint, tls) => {
    const o = clusterOptions({ mode: "cluster", ...endpoint }, FAIL_FAST);
    expect(o.redisOptions?.tls !== undefined).toBe(tls);
    expect((o as { tls?: unknown }).tls).toBeUndefined();
  });

  it("puts the password in redisOptions (the URL's, or the auth token, which wins)", () => {
    expect(clusterOptions({ mode: "cluster", url: "rediss://:fromurl@h:6379" }, FAIL_FAST).redisOptions?.password).toBe(
      "fromurl",
    );
    expect(
      clusterOptions({ mode: "cluster", url: "rediss://:fromurl@h:6379", password: "token" }, FAIL_FAST).redisOptions?.password,
    ).toBe("token");
  });

  it("keeps fail-fast at the cluster level and the node connections' offline queue on", () => {
    const o = clusterOptions({ mode: "cluster", host: "h" }, FAIL_FAST);
    expect(o.enableOfflineQueue).toBe(false);
    expect(o.clusterRetryStrategy).toBe(FAIL_FAST.retryStrategy);
    expect(o.redisOptions).toMatchObject({ maxRetriesPerRequest: 0, commandTimeout: 50 });
    expect(o.redisOptions).not.toHaveProperty("enableOfflineQueue");
    expect(o.redisOptions).not.toHaveProperty("retryStrategy");
    expect(o.scaleReads).toBe("master");
  });
});

describe("connectRedis", () => {
  it("builds a Cluster for mode cluster and a Redis otherwise; a duplicate keeps the kind", () => {
    const options = { ...FAIL_FAST, lazyConnect: true };
    const cluster = connectRedis({ mode: "cluster", host: "127.0.0.1", port: 1 }, options);
    const single = connectRedis({ host: "127.0.0.1", port: 1 }, options);
    const standalone = connectRedis({ mode: "standalone", url: "redis://127.0.0.1:1" }, options);
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect(isCluster(cluster)).toBe(true);
      expect(single).toBeInstanceOf(Redis);
      expect(isCluster(single)).toBe(false);
      expect(isCluster(standalone)).toBe(false);
      const dup = duplicateRedis(cluster, { enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: true });
      expect(isCluster(dup)).toBe(true);
      expect((dup as Cluster).options.enableOfflineQueue).toBe(true);
      expect((dup as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
      dup.disconnect();
    } finally {
      for (const c of [cluster, single, standalone]) c.disconnect();
    }
  });
});
