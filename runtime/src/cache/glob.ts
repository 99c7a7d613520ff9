/**
 * Redis-style glob patterns (the syntax of SCAN MATCH): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`.
 * L1 must select exactly the keys Redis selects for the same pattern, so both sides share this syntax.
 * Redis matches bytes: `?` is one byte of the key's UTF-8, so `??` selects `é` and `?` does not.
 */

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

function escapeRegex(s: string): string {
  return s.replace(REGEX_SPECIAL, "\\$&");
}

/** A character at or above U+0080 (any non-ASCII). */
const NON_ASCII = /[\u0080-\uffff]/;

/** A string's UTF-8 bytes, one character per byte (the form Redis compares). */
function utf8Bytes(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, "utf8").toString("latin1") : s;
}

/** A RegExp over UTF-8 bytes whose `test` takes the key as written and matches its bytes, as Redis does. */
class Utf8Glob extends RegExp {
  override test(key: string): boolean {
    return super.test(utf8Bytes(key));
  }
}

/** Compiles a Redis glob to an anchored RegExp whose `test` selects the keys Redis selects. */
export function globToRegExp(glob: string): RegExp {
  const pattern = utf8Bytes(glob);
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) out += escapeRegex(pattern[++i]);
    else if (c === "[") {
      const cls = readClass(pattern, i + 1);
      out += cls.source;
      i = cls.last;
    } else out += escapeRegex(c);
  }
  return new Utf8Glob(`^${out}$`);
}

const CLASS_SPECIAL = /[\\\]^[-]/g;

/** Redis orders a range's ends as C `char`s, signed on the platforms it runs on: bytes >= 0x80 come before 0x00. */
function signedByte(ch: string): number {
  const b = ch.charCodeAt(0);
  return b >= 0x80 ? b - 0x100 : b;
}

/**
 * Reads a character class that starts after its `[` the way Redis's stringmatchlen does, so L1 and SCAN
 * MATCH agree on every pattern, malformed ones included: `\x` is a literal x; `a-z` is a range, its ends
 * swapped when reversed (`[z-a]`, which a RegExp would refuse); a `]` right after `[` (or `[^`) closes an
 * empty class, which matches nothing (`[^]` matches any one byte); a class without its `]` runs to
 * the end of the pattern. Its items are bytes (a `é` in a class is two items, each matching one byte). Returns the class as a RegExp fragment and the index of its last character.
 */
function readClass(pattern: string, start: number): { source: string; last: number } {
  let i = start;
  const negate = pattern[i] === "^";
  if (negate) i++;
  let items = "";
  const esc = (ch: string) => ch.replace(CLASS_SPECIAL, "\\$&");
  for (;;) {
    if (pattern[i] === "\\" && i + 1 < pattern.length) {
      items += esc(pattern[i + 1]);
      i += 2;
    } else if (pattern[i] === "]") break;
    else if (i >= pattern.length) {
      i = pattern.length - 1;
      break;
    } else if (i + 2 < pattern.length && pattern[i + 1] === "-") {
      const [lo, hi] =
        signedByte(pattern[i]) <= signedByte(pattern[i + 2]) ? [pattern[i], pattern[i + 2]] : [pattern[i + 2], pattern[i]];
      // From a byte >= 0x80 (negative) to one below: every byte from lo up to 0xff, then 0x00 up to hi.
      items += signedByte(lo) < 0 && signedByte(hi) >= 0 ? `${esc(lo)}-\\xff\\x00-${esc(hi)}` : `${esc(lo)}-${esc(hi)}`;
      i += 3;
    } else {
      items += esc(pattern[i]);
      i++;
    }
  }
  // With no items, `[]` matches nothing and `[^]` any one byte: the same in a RegExp without the u flag.
  return { source: negate ? `[^${items}]` : `[${items}]`, last: i };
}

/** Escapes a literal (e.g. the key prefix) so it matches only itself inside a Redis glob. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, "\\$&");
}

/** True when the pattern has a glob operator, i.e. it can match more than one key. */
export function isGlob(pattern: string): boolean {
  return /(^|[^\\])[*?[]/.test(pattern);
}
