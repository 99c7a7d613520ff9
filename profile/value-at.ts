/** The value at a dotted path ("cache.redis.ttl") or a key list (["services", 0, "name"]); undefined where the path leaves the value. */
export function valueAt(source: unknown, path: string | readonly PropertyKey[]): unknown {
  const parts: readonly PropertyKey[] = typeof path === "string" ? path.split(".") : path;
  return parts.reduce<unknown>((node, part) => (node == null ? undefined : (node as Record<PropertyKey, unknown>)[part]), source);
}
