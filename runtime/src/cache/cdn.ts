import { checkValue, string } from "../options";
import { CacheOptionsError } from "./errors";

export const cdnError = (key: string, message: string): CacheOptionsError => new CacheOptionsError(key, message);

/** What a CDN purge did. */
export interface CdnPurgeResult {
  /** The CDN paths purged (after conversion, de-duplication and coverage pruning). */
  paths: string[];
  /** Provider ids of the invalidations created, one per batch. */
  invalidationIds: string[];
  /** Requests sent, retries included. */
  requests: number;
}

/** Purges cached objects from a CDN. Patterns are cache-key globs; the purger maps them to CDN paths. */
export interface CdnPurger {
  purge(patterns: readonly string[]): Promise<CdnPurgeResult>;
  close?(): Promise<void> | void;
}

/**
 * Maps a cache-key glob to a CDN path. CDNs such as CloudFront accept `*` only as the last character,
 * so the path is cut at the first glob operator and ends in `*`: a broader purge, never a narrower one.
 * `\x` escapes become the literal character. A missing leading `/` is added.
 */
export function patternToPath(pattern: string): string {
  checkValue("patternToPath", "pattern", pattern, string({ what: 'a cache-key glob such as "/items/*"' }), cdnError);
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) out += pattern[++i];
    else if (c === "*" || c === "?" || c === "[") {
      out += "*";
      break;
    } else out += c;
  }
  return out.startsWith("/") ? out : `/${out}`;
}

/**
 * De-duplicates and drops paths already covered by a wildcard path (`/a/*` covers `/a/b` and `/a/b/*`).
 * A wildcard path covers what starts with its prefix, so it is compared by its own prefix: `/**` (prefix
 * `/*`) is covered by `/*`, and does not cover it.
 */
export function prunePaths(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)].sort();
  const prefix = (p: string) => (p.endsWith("*") ? p.slice(0, -1) : p);
  const wildcards = unique.filter((p) => p.endsWith("*")).map(prefix);
  return unique.filter((p) => !wildcards.some((w) => p !== `${w}*` && prefix(p).startsWith(w)));
}

/** Splits paths into batches of at most `maxPaths` paths, of which at most `maxWildcards` end in `*`. */
export function batchPaths(paths: readonly string[], maxPaths: number, maxWildcards: number): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let wildcards = 0;
  for (const path of paths) {
    const wild = path.endsWith("*") ? 1 : 0;
    if (current.length > 0 && (current.length >= maxPaths || wildcards + wild > maxWildcards)) {
      batches.push(current);
      current = [];
      wildcards = 0;
    }
    current.push(path);
    wildcards += wild;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
