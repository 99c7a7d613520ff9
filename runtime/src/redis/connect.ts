import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

import type { RedisMode } from "./mode";
import { setTimer } from "../timer";

export { REDIS_MODES, type RedisMode } from "./mode";

/** A connection of either kind: both run the same commands; only a Cluster routes them by slot. */
export type RedisClient = Redis | Cluster;

/** Where to connect: a URL, or host/port, plus the mode and the credentials. */
export interface RedisEndpoint {
  /** @default "standalone" */
  mode?: RedisMode;
  /** `redis://` or `rediss://` URL (rediss: TLS); wins over host/port. In cluster mode: any one node, or the configuration endpoint. */
  url?: string;
  host?: string;
  /** @default 6379 */
  port?: number;
  /** Connect with TLS. @default false (true for a rediss:// URL) */
  tls?: boolean;
  /** AUTH password / ElastiCache auth token. */
  password?: string;
}

/** Host, port and TLS of an endpoint, from its URL when it has one. */
function address(endpoint: RedisEndpoint): { host: string; port: number; tls: boolean; password?: string; username?: string } {
  if (endpoint.url) {
    const url = new URL(endpoint.url);
    return {
      host: url.hostname || "127.0.0.1",
      port: url.port ? Number(url.port) : 6379,
      tls: endpoint.tls === true || url.protocol === "rediss:",
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    };
  }
  return { host: endpoint.host ?? "127.0.0.1", port: endpoint.port ?? 6379, tls: endpoint.tls === true };
}

/**
 * The options of a Cluster built from the options one node connection would get.
 *
 * - `dnsLookup: (address, cb) => cb(null, address)`: a cluster client learns the other nodes from
 *   CLUSTER SLOTS and connects to them by the names given there. With TLS, ElastiCache's nodes must be
 *   reached by their DNS names (the certificate is for them), but ioredis resolves names to IPs first
 *   by default, so the TLS handshake fails or the cluster never becomes ready (ioredis#754). Passing the
 *   name through unchanged fixes that and is harmless without TLS.
 * - TLS and the password go in `redisOptions`: a Cluster applies them to every node connection it
 *   opens, including the nodes it discovers; options at the top level would only reach nothing.
 * - Fail fast is a cluster-level setting (`enableOfflineQueue: false`); node connections keep their
 *   offline queue, because ioredis opens them lazily on the first command routed to them, which an
 *   offline queue turned off would refuse.
 * - The reconnect strategy is the cluster's (`clusterRetryStrategy`); a lost node is not retried on its
 *   own but dropped until CLUSTER SLOTS lists it again (ioredis' design).
 */
export function clusterOptions(endpoint: RedisEndpoint, options: RedisOptions): ClusterOptions {
  const { host: _host, port: _port, retryStrategy, enableOfflineQueue, lazyConnect, tls, ...perNode } = options;
  const at = address(endpoint);
  const secure = tls ?? (at.tls ? {} : undefined);
  return {
    dnsLookup: (name, callback) => callback(null, name),
    enableOfflineQueue: enableOfflineQueue ?? true,
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    // Reads go to primaries: a replica may lag, and a cache read or a limiter check must see the last write.
    scaleReads: "master",
    slotsRefreshTimeout: Math.max(1_000, options.connectTimeout ?? 1_000),
    redisOptions: {
      ...perNode,
      ...(secure ? { tls: secure } : {}),
      ...(at.password !== undefined && perNode.password === undefined ? { password: at.password } : {}),
      ...(at.username !== undefined && perNode.username === undefined ? { username: at.username } : {}),
      ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    },
  };
}

/**
 * The one place the runtime opens a Redis connection (cache, its bus subscriber, rate limiter):
 * a Redis for `mode: "standalone"`, a Cluster seeded with the endpoint for `mode: "cluster"`.
 * `options` are the node connection's ioredis options (timeouts, retry strategy, offline queue).
 */
export function connectRedis(endpoint: RedisEndpoint, options: RedisOptions): RedisClient {
  if (endpoint.mode === "cluster") {
    const at = address(endpoint);
    return new Cluster([{ host: at.host, port: at.port }], clusterOptions(endpoint, options));
  }
  const secure = {
    ...(endpoint.tls ? { tls: {} } : {}),
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
  };
  if (endpoint.url) {
    const target = standaloneUrl(endpoint.url, endpoint.password);
    return new Redis(target.url, { ...options, ...secure, ...target.credentials });
  }
  return new Redis({ ...options, host: endpoint.host ?? "127.0.0.1", port: endpoint.port ?? 6379, ...secure });
}

/**
 * The URL handed to ioredis, and the credentials to add to its options. ioredis applies a URL's own
 * credentials before (and so over) the options': when the endpoint names a password (the auth token),
 * the credentials are taken out of the URL and passed as options, so the token wins, as it does in
 * cluster mode (clusterOptions); the URL's user name is kept.
 */
function standaloneUrl(url: string, password: string | undefined): { url: string; credentials: RedisOptions } {
  if (password === undefined) return { url, credentials: {} };
  const parsed = new URL(url);
  const username = decodeURIComponent(parsed.username);
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.toString(), credentials: { ...(username ? { username } : {}), password } };
}

/** A second connection like `client` (the bus subscriber): a Cluster gets the cluster-level overrides mapped. */
export function duplicateRedis(client: RedisClient, overrides: RedisOptions): RedisClient {
  if (!isCluster(client)) return client.duplicate(overrides);
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = overrides;
  const current = client.options;
  return client.duplicate([], {
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    redisOptions: { ...current.redisOptions, ...perNode },
  } satisfies ClusterOptions);
}

export function isCluster(client: RedisClient): client is Cluster {
  return typeof (client as Cluster).nodes === "function" && (client as Cluster).isCluster === true;
}

/**
 * The connections that hold keys: every primary of a cluster, or the client itself. Commands that
 * work on one node's keyspace (SCAN) must run on each of these; on a Cluster, SCAN goes to one node.
 */
export function primaryConnections(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes("master") : [client];
}

/**
 * Opens the connection to every primary of a cluster (a PING each), so that "ready" means what it
 * means on one node. A Cluster is ready once CLUSTER SLOTS has answered, but ioredis opens each node's
 * connection lazily, on the first command routed there (ConnectionPool: lazyConnect), and that
 * command then pays the TCP connect and the node's ready check inside its commandTimeout: at the
 * runtime's 50 ms default, the first write to a node timed out on a loaded host (reported incomplete).
 * Resolves false if a primary did not answer within `timeoutMs`; a single node has nothing to do.
 */
export async function connectPrimaries(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (!isCluster(client)) return true;
  const pings = client.nodes("master").map((node) =>
    node.ping().then(
      () => true,
      () => false,
    ),
  );
  const timeout = new Promise<boolean>((resolve) => setTimer(() => resolve(false), timeoutMs).unref());
  return Promise.race([Promise.all(pings).then((ok) => ok.every(Boolean)), timeout]);
}
