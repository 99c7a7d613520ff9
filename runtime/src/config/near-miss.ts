/**
 * The near-miss rule: when is an unknown name a typo of a known one (and so refused with a
 * did-you-mean), and when is it just someone else's name (and so left alone)?
 *
 * A name is a near miss of a known name when, after a shared prefix (`UAIP_`, `aws:`) is dropped,
 * - the edit distance (insertions, deletions, substitutions, adjacent swaps) is at most one per
 *   five characters of the known name, and at least 1 (`UAIP_RATE_LIMIT_MAX_REQUEST`, `aws:regoin`); or
 * - the two share at least two `_`/`.`/`-`/camelCase tokens making up at least 60 % of their combined
 *   tokens (`UAIP_DB_POOL_MAX` → `UAIP_POOL_MAX`).
 * Anything else is unrelated (`UAIP_STACK`, `UAIP_REPORT`): a shared namespace is not a typo.
 * Used by loadRuntimeConfig, the stack-file reader and the profile parser, so a typo is caught the
 * same way in every layer.
 */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function tokens(name: string): Set<string> {
  return new Set(
    name
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .toLowerCase()
      .split(/[_.\-:]+/)
      .filter(Boolean),
  );
}

/** Edits allowed for a known name of this length: one per five characters, at least one. */
export function allowedEdits(knownLength: number): number {
  return Math.max(1, Math.floor(knownLength / 5));
}

/** Whether `candidate` is a near miss of `known` (both without their shared prefix), per the rule above. */
export function isNearMiss(candidate: string, known: string): boolean {
  if (candidate === known) return false;
  if (editDistance(candidate.toLowerCase(), known.toLowerCase()) <= allowedEdits(known.length)) return true;
  const a = tokens(candidate);
  const b = tokens(known);
  const shared = [...a].filter((t) => b.has(t)).length;
  const union = new Set([...a, ...b]).size;
  return shared >= 2 && shared / union >= 0.6;
}

/**
 * The known name `candidate` most likely meant, or undefined when it is no near miss of any.
 * `prefix` is stripped from both sides first (e.g. "UAIP_").
 */
export function closestName(candidate: string, known: readonly string[], prefix = ""): string | undefined {
  const strip = (s: string) => (prefix && s.startsWith(prefix) ? s.slice(prefix.length) : s);
  const c = strip(candidate);
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const k = strip(name);
    if (!isNearMiss(c, k)) continue;
    const distance = editDistance(c.toLowerCase(), k.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}
