import type { Redis } from "ioredis";
import { primaryConnections, type RedisClient } from "../redis/connect";
import { unlinkKeys } from "../redis/hash-tag";

export interface UnlinkMatchingOptions {
  /** SCAN COUNT hint: keys examined per round trip; also bounds each UNLINK batch. @default 1000 */
  count?: number;
  /** Wraps each command (e.g. a timeout for injected clients). @default identity */
  guard?: <T>(command: Promise<T>) => Promise<T>;
}

/**
 * Deletes every key matching a Redis glob without blocking the server: SCAN walks the keyspace in
 * small steps and each page is removed with UNLINK (memory is reclaimed off the main thread), so other
 * clients' commands interleave between steps. KEYS would hold the server for the whole keyspace.
 * The next SCAN is sent while the previous UNLINK is in flight, so a page costs about one round trip.
 *
 * SCAN walks one server's keyspace, so on a Redis Cluster it runs on every primary (a plain
 * `cluster.scan` would see one random node's keys only); each page is unlinked through the cluster
 * client, one UNLINK per slot (a multi-key UNLINK across slots is refused with CROSSSLOT even when one
 * node owns both slots). A primary that cannot be reached fails the whole call, so the caller retries it.
 */
export async function unlinkMatching(client: RedisClient, match: string, options: UnlinkMatchingOptions = {}): Promise<number> {
  const primaries = primaryConnections(client);
  // A cluster that has not loaded its slot map yet knows no primary: that is a failure, not "nothing matched".
  if (primaries.length === 0) throw new Error("no Redis Cluster primary is known yet (slots not loaded)");
  const counts = await Promise.all(primaries.map((node) => unlinkOnNode(client, node, match, options)));
  return counts.reduce((a, b) => a + b, 0);
}

/** SCAN + UNLINK over one server's keyspace (`node`), the UNLINKs sent through `client`. */
async function unlinkOnNode(client: RedisClient, node: Redis, match: string, options: UnlinkMatchingOptions): Promise<number> {
  const count = options.count ?? 1_000;
  const guard = options.guard ?? (<T>(p: Promise<T>) => p);
  let cursor = "0";
  let removed = 0;
  let pending: Promise<number> | undefined;
  do {
    const [next, keys] = await guard(node.scan(cursor, "MATCH", match, "COUNT", count));
    cursor = next;
    if (pending) removed += await pending;
    pending = keys.length > 0 ? guard(unlinkKeys(client, keys)) : undefined;
    // If the next SCAN fails first, this UNLINK's own failure must not surface as an unhandled rejection.
    pending?.catch(() => undefined);
  } while (cursor !== "0");
  if (pending) removed += await pending;
  return removed;
}
