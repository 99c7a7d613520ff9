import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { requireBinary } from "./binaries";
import { RedisServer } from "./redis-server";

/** How fast a dead primary is noticed: a replica takes over about 2-3 node timeouts after the kill. */
const NODE_TIMEOUT_MS = 1_000;

export interface RedisClusterOptions {
  /** Primaries (each owns an equal share of the 16384 slots). @default 3 */
  primaries?: number;
  /** Replicas of each primary. @default 1 */
  replicasPerPrimary?: number;
}

/** One line of CLUSTER NODES: who serves what. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: "master" | "slave";
  /** The primary's id, for a replica. */
  masterId: string | undefined;
  /** Flags such as fail, fail?, handshake, noaddr. */
  flags: string[];
  /** Slot ranges served, for a primary ("0-5460"). */
  slots: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Adds one node's INFO errorstats (`errorstat_CROSSSLOT:count=N`) into `into`, per error code. */
export function sumErrorStats(text: string, into: Record<string, number>): void {
  for (const m of text.matchAll(/^errorstat_([A-Z]+):count=(\d+)/gm)) into[m[1]] = (into[m[1]] ?? 0) + Number(m[2]);
}

/** Parses CLUSTER NODES (https://redis.io/docs/latest/commands/cluster-nodes/). */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id, address, flagList, master, , , , , ...slots] = line.trim().split(" ");
      const flags = flagList.split(",");
      return {
        id,
        port: Number(address.split("@")[0].split(":").pop()),
        role: flags.includes("master") ? "master" : "slave",
        masterId: master === "-" ? undefined : master,
        flags: flags.filter((f) => f !== "master" && f !== "slave" && f !== "myself"),
        slots: slots.filter((s) => !s.startsWith("[")),
      };
    });
}

/**
 * A real Redis Cluster on loopback (no Docker): N primaries and their replicas, each a redis-server
 * child process with `cluster-enabled yes` and its own nodes.conf in a temporary directory, joined by
 * `redis-cli --cluster create ... --cluster-replicas R --cluster-yes`, as on a real deployment.
 * `kill(node)` / `restart(node)` and `failover(replica)` are the fault injection.
 */
export class RedisClusterServers {
  readonly #dirs: string[];
  /**
   * INFO errorstats of the node lives that ended (a kill, a whole-cluster stop): a killed node's
   * counters die with it and a restarted one starts at 0, so errorStats() adds these back, and a
   * CROSSSLOT just before a kill is still counted.
   */
  readonly #retired: Record<string, number> = {};
  private constructor(
    readonly nodes: readonly RedisServer[],
    dirs: string[],
  ) {
    this.#dirs = dirs;
  }

  /** The version line of the redis-server binary ("Redis server v=7.0.15 ..."): cluster mode and SSUBSCRIBE need 7.0+. */
  static version(): string {
    return spawnSync(requireBinary("redis-server"), ["--version"], { encoding: "utf8" }).stdout.trim();
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisClusterServers> {
    const primaries = options.primaries ?? 3;
    const replicas = options.replicasPerPrimary ?? 1;
    const major = Number(/v=(\d+)\./.exec(RedisClusterServers.version())?.[1] ?? 0);
    if (major < 7) throw new Error(`Redis Cluster tests need redis-server 7.0+, found: ${RedisClusterServers.version()}`);
    const cli = requireBinary("redis-cli");
    const dirs: string[] = [];
    const nodes: RedisServer[] = [];
    const count = primaries * (1 + replicas);
    try {
      for (let i = 0; i < count; i++) {
        const dir = mkdtempSync(join(tmpdir(), "uaip-redis-cluster-"));
        dirs.push(dir);
        nodes.push(
          await RedisServer.start([
            "--cluster-enabled",
            "yes",
            "--dir",
            dir,
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            String(NODE_TIMEOUT_MS),
          ]),
        );
      }
      const create = spawnSync(
        cli,
        [
          "--cluster",
          "create",
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          "--cluster-replicas",
          String(replicas),
          "--cluster-yes",
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      const cluster = new RedisClusterServers(nodes, dirs);
      await cluster.waitHealthy();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((n) => n.stop()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Where a cluster client starts (it discovers the rest with CLUSTER SLOTS). */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  }

  /** Runs one command on one node over a short-lived connection. */
  async #on<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      return await run(client);
    } finally {
      client.disconnect();
    }
  }

  /** The cluster as the given node (default: the first one that answers) sees it. */
  async topology(port?: number): Promise<ClusterNodeInfo[]> {
    for (const node of port === undefined ? this.nodes : this.nodes.filter((n) => n.port === port)) {
      try {
        return parseClusterNodes((await this.#on(node.port, (c) => c.call("CLUSTER", "NODES"))) as string);
      } catch {
        // a killed node: ask the next one
      }
    }
    throw new Error("no cluster node answers CLUSTER NODES");
  }

  /** The servers currently acting as primaries (those holding slots). */
  async primaries(): Promise<RedisServer[]> {
    const ports = new Set(
      (await this.topology())
        .filter((n) => n.role === "master" && n.slots.length > 0 && !n.flags.includes("fail"))
        .map((n) => n.port),
    );
    return this.nodes.filter((n) => ports.has(n.port));
  }

  /** The replicas of `primary`, per the current topology. */
  async replicasOf(primary: RedisServer): Promise<RedisServer[]> {
    const topology = await this.topology();
    const id = topology.find((n) => n.port === primary.port)?.id;
    const ports = new Set(topology.filter((n) => n.role === "slave" && n.masterId === id).map((n) => n.port));
    return this.nodes.filter((n) => ports.has(n.port));
  }

  /**
   * Waits until every running node says cluster_state:ok, agrees on the primaries, and every replica
   * has finished its sync (master_link_status:up), so a failover can be asked for at once.
   */
  async waitHealthy(timeoutMs = 30_000, down: readonly RedisServer[] = []): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const running = this.nodes.filter((n) => !down.includes(n));
        const views = await Promise.all(
          running.map((n) =>
            this.#on(n.port, async (c) => ({
              info: (await c.call("CLUSTER", "INFO")) as string,
              nodes: parseClusterNodes((await c.call("CLUSTER", "NODES")) as string),
              replication: await c.info("replication"),
            })),
          ),
        );
        const primariesOf = (v: (typeof views)[number]) =>
          v.nodes
            .filter((n) => n.role === "master" && n.slots.length > 0 && !n.flags.some((f) => f.startsWith("fail")))
            .map((n) => n.port)
            .sort()
            .join(",");
        const ok = views.every((v) => v.info.includes("cluster_state:ok"));
        const agreed = new Set(views.map(primariesOf)).size === 1;
        const synced = views.every(
          (v) => !v.replication.includes("role:slave") || v.replication.includes("master_link_status:up"),
        );
        const known = views.every((v) => v.nodes.filter((n) => !n.flags.includes("handshake")).length === this.nodes.length);
        if (ok && agreed && synced && known) return;
        last = `ok=${ok} agreed=${agreed} synced=${synced} known=${known}`;
      } catch (error) {
        last = String(error);
      }
      await sleep(100);
    }
    throw new Error(`redis cluster not healthy after ${timeoutMs} ms: ${last}`);
  }

  /** CLUSTER FAILOVER on a replica: it becomes the primary of its slots, its old primary a replica (no data lost). */
  async failover(replica: RedisServer): Promise<void> {
    await this.#on(replica.port, (c) => c.call("CLUSTER", "FAILOVER"));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const me = (await this.topology(replica.port)).find((n) => n.port === replica.port);
      if (me?.role === "master") break;
      await sleep(50);
    }
    await this.waitHealthy();
  }

  /** Kills a node (SIGKILL, as in a crash); for a primary, waits until a replica has taken its slots. */
  async kill(node: RedisServer): Promise<void> {
    await this.#retire([node]);
    await node.stop();
    await this.waitHealthy(30_000, [node]);
  }

  /** Kills every node (SIGKILL): the whole cluster is down, as one killed redis-server is for a single node. */
  async stopAll(): Promise<void> {
    await this.#retire(this.nodes);
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Starts every node again on its port (empty: no persistence); they rejoin from nodes.conf. */
  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
    await this.waitHealthy();
  }

  /** Freezes every node (SIGSTOP), as a hung Redis: sockets stay open, nothing answers, and no node can vote a failover. */
  pauseAll(): void {
    for (const n of this.nodes) n.pause();
  }

  resumeAll(): void {
    for (const n of this.nodes) n.resume();
  }

  /** Adds the nodes' current errorstats to #retired before their process ends. */
  async #retire(nodes: readonly RedisServer[]): Promise<void> {
    for (const text of await this.info("errorstats", nodes)) sumErrorStats(text, this.#retired);
  }

  /** Starts a killed node again on its port: it rejoins from its nodes.conf (a former primary as a replica). */
  async restart(node: RedisServer): Promise<void> {
    await node.start();
    await this.waitHealthy();
  }

  /** One INFO section of every running node, or of `nodes` (a killed node is left out). */
  async info(section: string, nodes: readonly RedisServer[] = this.nodes): Promise<string[]> {
    const texts: string[] = [];
    for (const node of nodes) {
      try {
        texts.push(await this.#on(node.port, (c) => c.info(section)));
      } catch {
        // killed
      }
    }
    return texts;
  }

  /**
   * INFO errorstats summed per error code (CROSSSLOT, MOVED, ASK, ...) over every node since the
   * cluster started: the running nodes' counters plus those of node lives ended by kill()/stopAll().
   */
  async errorStats(): Promise<Record<string, number>> {
    const totals: Record<string, number> = { ...this.#retired };
    for (const text of await this.info("errorstats")) sumErrorStats(text, totals);
    return totals;
  }

  /** Kills every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}
