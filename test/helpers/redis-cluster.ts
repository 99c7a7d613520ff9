import { Cluster, Redis } from "ioredis";
import { RedisClusterServers } from "../../tools/local-servers/redis-cluster";
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
  /** A raw client of the same kind the runtime uses (Redis or Cluster). */
  readonly admin: Redis | Cluster;
  /** Set for the cluster topology: its servers (fault injection). */
  readonly cluster: RedisClusterServers | undefined;
  /** Every key matching `match` on every primary (SCAN per node), sorted. */
  keys(match: string): Promise<string[]>;
  /** Per node: [port, the keys it holds matching `match`]. */
  keysPerPrimary(match: string): Promise<[number, string[]][]>;
  /** INFO errorstats summed over every node (CROSSSLOT, MOVED, ASK, ERR, ...). */
  errorStats(): Promise<Record<string, number>>;
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

function sumErrorStats(text: string, into: Record<string, number>): void {
  for (const m of text.matchAll(/^errorstat_([A-Z]+):count=(\d+)/gm)) into[m[1]] = (into[m[1]] ?? 0) + Number(m[2]);
}

/**
 * Starts one Redis of `topology` in beforeAll and stops it in afterAll (one per describe block, so
 * `describe.each(REDIS_TOPOLOGIES)` runs the same test bodies on both). Read the fixture's fields
 * inside tests and hooks only.
 */
export function useRedis(topology: RedisTopology): RedisFixture {
  let server: RedisServer | undefined;
  let cluster: RedisClusterServers | undefined;
  let admin: Redis | Cluster | undefined;
  const ready = () => {
    if (!admin) throw new Error("useRedis: read the fixture inside tests (after beforeAll)");
    return admin;
  };
  const primaries = async (): Promise<Redis[]> => {
    const a = ready();
    return a instanceof Cluster ? a.nodes("master") : [a];
  };
  beforeAll(async () => {
    if (topology === "standalone") {
      server = await RedisServer.start();
      admin = new Redis(server.url);
    } else {
      cluster = await RedisClusterServers.start();
      admin = new Cluster(cluster.startupNodes, { scaleReads: "master" });
      await new Promise<void>((resolve, reject) => {
        (admin as Cluster).once("ready", resolve);
        (admin as Cluster).once("error", reject);
      });
    }
  }, 60_000);
  afterAll(async () => {
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
    get admin() {
      return ready();
    },
    get cluster() {
      return cluster;
    },
    async keys(match) {
      const perNode = await Promise.all((await primaries()).map((n) => scanAll(n, match)));
      return perNode.flat().sort();
    },
    async keysPerPrimary(match) {
      return Promise.all((await primaries()).map(async (n) => [n.options.port!, await scanAll(n, match)] as [number, string[]]));
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
    async errorStats() {
      if (cluster) return cluster.errorStats();
      const totals: Record<string, number> = {};
      sumErrorStats(await (ready() as Redis).info("errorstats"), totals);
      return totals;
    },
  };
}
