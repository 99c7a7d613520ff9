/**
 * Redis-style glob patterns (the syntax of SCAN MATCH): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`.
 * L1 must select exactly the keys Redis selects for the same pattern, so both sides share this syntax.
 */

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

function escapeRegex(s: string): string {
  return s.replace(REGEX_SPECIAL, "\\$&");
}

/** Compiles a Redis glob to an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) out += escapeRegex(pattern[++i]);
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) {
        out += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      // Keep ranges (a-z) but escape everything else that is special inside a character class.
      const cls = body.replace(/[\\\]^[]/g, "\\$&");
      out += negate ? `[^${cls}]` : `[${cls}]`;
      i = end;
    } else out += escapeRegex(c);
  }
  return new RegExp(`^${out}$`);
}

/** Escapes a literal (e.g. the key prefix) so it matches only itself inside a Redis glob. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, "\\$&");
}

/** True when the pattern has a glob operator, i.e. it can match more than one key. */
export function isGlob(pattern: string): boolean {
  return /(^|[^\\])[*?[]/.test(pattern);
}
