import { isCluster, type RedisClient } from "./connect";

/**
 * The part of a key Redis Cluster hashes to pick its slot: the text between the first "{" and the
 * first "}" after it when that text is not empty, else the whole key (the cluster specification's
 * hash-tag rule). Keys with equal hash tags are always in one slot; that is what lets a multi-key
 * command or a Lua script touch them together on a cluster.
 */
export function hashTag(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** Braces in a prefix would move (or empty) the hash tag of every key built on it: refused with this reason. */
export const PREFIX_BRACES_PROBLEM =
  'must not contain "{" or "}": the runtime puts the hash tag around prefix + key itself, and a brace in the prefix would put every key of the service in one Redis Cluster slot';

/**
 * `{<prefix><key>}`: the key of a client's state, hash-tagged so that every key derived from it by a
 * suffix (`{...}:prev`) lives in its slot, while different clients (and the same client under another
 * service's prefix) hash to different slots, which spreads them over the primaries.
 */
export function slotKey(prefix: string, key: string): string {
  return `{${prefix}${key}}`;
}

/**
 * Splits items so that each part can go in one multi-key command: in cluster mode by hash tag (one
 * slot per part; a key without a tag is its own part), else everything together. Order within a part is kept.
 */
export function groupBySlot<T>(cluster: boolean, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!cluster) return items.length === 0 ? [] : [[...items]];
  const parts = new Map<string, T[]>();
  for (const item of items) {
    const tag = hashTag(keyOf(item));
    const part = parts.get(tag);
    if (part) part.push(item);
    else parts.set(tag, [item]);
  }
  return [...parts.values()];
}

/** UNLINK of any set of keys: one command on a single node, one per slot group on a cluster (never CROSSSLOT). */
export async function unlinkKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
  const parts = groupBySlot(isCluster(client), keys, (k) => k);
  const counts = await Promise.all(parts.map((part) => client.unlink(...part)));
  return counts.reduce((a, b) => a + b, 0);
}
