import type Redis from "ioredis";

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
 */
export async function unlinkMatching(client: Redis, match: string, options: UnlinkMatchingOptions = {}): Promise<number> {
  const count = options.count ?? 1_000;
  const guard = options.guard ?? (<T>(p: Promise<T>) => p);
  let cursor = "0";
  let removed = 0;
  let pending: Promise<number> | undefined;
  do {
    const [next, keys] = await guard(client.scan(cursor, "MATCH", match, "COUNT", count));
    cursor = next;
    if (pending) removed += await pending;
    pending = keys.length > 0 ? guard(client.unlink(...keys)) : undefined;
    // If the next SCAN fails first, this UNLINK's own failure must not surface as an unhandled rejection.
    pending?.catch(() => undefined);
  } while (cursor !== "0");
  if (pending) removed += await pending;
  return removed;
}
