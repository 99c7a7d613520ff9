import { Cluster, Redis } from "ioredis";
import { RedisClusterServers, sumErrorStats } from "../../tools/local-servers/redis-cluster";
import { RedisServer } from "../../tools/local-servers/redis-server";

// The cluster lives under tools/local-servers (npm run bench starts one too).
export { RedisClusterServers, parseClusterNodes, type ClusterNodeInfo } from "../../tools/local-servers/redis-cluster";

/** The two shapes the runtime must work on: one redis-server, or a 3-primary/3-replica Redis Cluster. */
export const REDIS_TOPOLOGIES = ["standalone", "cluster"] as const;
export type RedisTopology = (typeof REDIS_TOPOLOGIES)[number];

/** One Redis of either topology for a test file, and what tests need to look at it from outside. */
export interface RedisFixture {
  readonly topology: RedisTopology;
  /** The runtime's `mode` setting for this topology (cache.redis.mode, RedisStore `mode`). */
  readonly mode: RedisTopology;
  /** A URL of the server, or of one cluster node (the runtime discovers the rest). */
  readonly url: string;
  /** The port of that server or node (for `{ host: "127.0.0.1", port }` settings). */
  readonly port: number;
  /** A raw client of the same kind the runtime uses (Redis or Cluster). */
  readonly admin: Redis | Cluster;
  /** Set for the cluster topology: its servers (fault injection). */
  readonly cluster: RedisClusterServers | undefined;
  /** Every key matching `match` on every primary (SCAN per node), sorted. */
  keys(match: string): Promise<string[]>;
  /** Per node: [port, the keys it holds matching `match`]. */
  keysPerPrimary(match: string): Promise<[number, string[]][]>;
  /** INFO errorstats summed over every node (CROSSSLOT, MOVED, ASK, ERR, ...); a cluster's killed nodes included. */
  errorStats(): Promise<Record<string, number>>;
  /** errorStats() as it was once the Redis had started (beforeAll). */
  readonly errorsAtStart: Readonly<Record<string, number>>;
  /** A connection to each node holding keys: every primary of the cluster, or the one server. */
  primaries(): Promise<Redis[]>;
  /** FLUSHALL on every primary (a FLUSHALL through a Cluster client reaches one node only). */
  flush(): Promise<void>;
  /** Keys stored, summed over the primaries (DBSIZE per node). */
  dbsize(): Promise<number>;
  /** Client connections open, summed over every node (INFO clients' connected_clients; replication links excluded). */
  connectedClients(): Promise<number>;
  /** A new raw client of this topology's kind (the caller closes it); on a cluster, reads go to primaries. */
  client(options?: { lazyConnect?: boolean; enableOfflineQueue?: boolean }): Redis | Cluster;
  /** The whole Redis down (SIGKILL), as in a crash: the server, or every node of the cluster (their errorstats kept). */
  stop(): Promise<void>;
  /** Back on the same port(s), empty; a cluster once every node agrees it is healthy again. */
  start(): Promise<void>;
  /** The whole Redis hung (SIGSTOP on the server, or on every node): connections open, nothing answers. */
  pause(): void;
  resume(): void;
  /**
   * Calls per command, summed over the primaries (INFO commandstats; lower case: "get", "evalsha", ...).
   * Replicas are left out: they run their primary's replication stream, which carries a SELECT 0.
   */
  commandCalls(): Promise<Map<string, number>>;
}

async function scanAll(node: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await node.scan(cursor, "MATCH", match, "COUNT", 1_000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== "0");
  return keys;
}

/**
 * Starts one Redis of `topology` in beforeAll and stops it in afterAll (one per describe block, so
 * `describeEachTopology` runs the same test bodies on both). Read the fixture's fields inside tests
 * and hooks only.
 */
export function useRedis(topology: RedisTopology): RedisFixture {
  let server: RedisServer | undefined;
  let cluster: RedisClusterServers | undefined;
  let admin: Redis | Cluster | undefined;
  let errorsAtStart: Record<string, number> = {};
  const ready = () => {
    if (!admin) throw new Error("useRedis: read the fixture inside tests (after beforeAll)");
    return admin;
  };
  /**
   * On a cluster, the admin client's connections to the nodes that hold slots per CLUSTER NODES now:
   * after a failover or a restart its own view may lag (a former primary, now a replica, would still
   * be listed), so it is refreshed until it agrees.
   */
  const primaries = async (): Promise<Redis[]> => {
    const a = ready();
    if (!(a instanceof Cluster)) return [a];
    const ports = new Set((await cluster!.primaries()).map((n) => n.port));
    for (let attempt = 0; ; attempt++) {
      const nodes = a.nodes("master");
      if (nodes.length === ports.size && nodes.every((n) => ports.has(n.options.port!))) return nodes;
      if (attempt === 50)
        throw new Error(
          `the admin client's primaries ${nodes.map((n) => n.options.port).join(",")} != CLUSTER NODES' ${[...ports].join(",")}`,
        );
      await new Promise<void>((resolve) => a.refreshSlotsCache(() => resolve()));
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const client = (options: { lazyConnect?: boolean; enableOfflineQueue?: boolean } = {}): Redis | Cluster => {
    if (cluster) return new Cluster(cluster.startupNodes, { scaleReads: "master", ...options });
    return new Redis(server!.url, options);
  };
  /** The single server's errorstats of its lives that stop() ended (a restarted server counts from 0). */
  const retired: Record<string, number> = {};
  const errorStats = async (): Promise<Record<string, number>> => {
    if (cluster) return cluster.errorStats();
    const totals: Record<string, number> = { ...retired };
    sumErrorStats(await (ready() as Redis).info("errorstats"), totals);
    return totals;
  };
  beforeAll(async () => {
    if (topology === "standalone") {
      server = await RedisServer.start();
      admin = new Redis(server.url);
    } else {
      cluster = await RedisClusterServers.start();
      admin = client();
      await new Promise<void>((resolve, reject) => {
        (admin as Cluster).once("ready", resolve);
        (admin as Cluster).once("error", reject);
      });
    }
    errorsAtStart = await errorStats();
  }, 60_000);
  afterAll(async () => {
    server?.resume();
    cluster?.resumeAll();
    admin?.disconnect();
    await server?.stop();
    await cluster?.stop();
  });
  return {
    topology,
    mode: topology,
    get url() {
      if (server) return server.url;
      if (cluster) return `redis://127.0.0.1:${cluster.nodes[0].port}`;
      throw new Error("useRedis: read the fixture inside tests (after beforeAll)");
    },
    get port() {
      return Number(new URL(this.url).port);
    },
    get admin() {
      return ready();
    },
    get cluster() {
      return cluster;
    },
    get errorsAtStart() {
      return errorsAtStart;
    },
    primaries,
    client,
    async keys(match) {
      const perNode = await Promise.all((await primaries()).map((n) => scanAll(n, match)));
      return perNode.flat().sort();
    },
    async keysPerPrimary(match) {
      return Promise.all((await primaries()).map(async (n) => [n.options.port!, await scanAll(n, match)] as [number, string[]]));
    },
    async flush() {
      await Promise.all((await primaries()).map((n) => n.flushall()));
    },
    async dbsize() {
      const sizes = await Promise.all((await primaries()).map((n) => n.dbsize()));
      return sizes.reduce((sum, n) => sum + n, 0);
    },
    async connectedClients() {
      const a = ready();
      const texts = await Promise.all((a instanceof Cluster ? a.nodes("all") : [a]).map((n) => n.info("clients")));
      return texts.reduce((sum, t) => sum + Number(/^connected_clients:(\d+)/m.exec(t)?.[1] ?? 0), 0);
    },
    async commandCalls() {
      const texts = cluster
        ? await cluster.info("commandstats", await cluster.primaries())
        : [await (ready() as Redis).info("commandstats")];
      const calls = new Map<string, number>();
      for (const t of texts)
        for (const m of t.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) calls.set(m[1], (calls.get(m[1]) ?? 0) + Number(m[2]));
      return calls;
    },
    errorStats,
    async stop() {
      if (cluster) return cluster.stopAll();
      sumErrorStats(await (ready() as Redis).info("errorstats"), retired);
      await server!.stop();
    },
    async start() {
      if (cluster) await cluster.startAll();
      else await server!.start();
    },
    pause() {
      if (cluster) cluster.pauseAll();
      else server!.pause();
    },
    resume() {
      if (cluster) cluster.resumeAll();
      else server!.resume();
    },
  };
}

/**
 * The topology matrix: `body` runs once on a single redis-server and once on a 3-primary/3-replica
 * Redis Cluster (one Redis per topology per file, started once). On the cluster, a last test checks
 * that nothing in the file's tests drew a CROSSSLOT from any node (INFO errorstats since the start,
 * nodes killed meanwhile included): a script or command whose keys span slots fails there alone.
 */
export function describeEachTopology(title: string, body: (redis: RedisFixture) => void): void {
  describe.each(REDIS_TOPOLOGIES)(`${title} (%s Redis)`, (topology) => {
    const redis = useRedis(topology);
    body(redis);
    if (topology === "cluster")
      it("drew no CROSSSLOT from any node over this file's tests (INFO errorstats, killed nodes included), and the count does see one", async () => {
        const now = await redis.errorStats();
        expect((now.CROSSSLOT ?? 0) - (redis.errorsAtStart.CROSSSLOT ?? 0)).toBe(0);
        // The control: a multi-slot MGET is refused, and errorstats counts it.
        await expect(redis.admin.mget("{a}1", "{b}2")).rejects.toThrow(/CROSSSLOT/);
        expect(((await redis.errorStats()).CROSSSLOT ?? 0) - (now.CROSSSLOT ?? 0)).toBe(1);
      });
  });
}
