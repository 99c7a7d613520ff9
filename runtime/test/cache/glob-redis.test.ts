import fc from "fast-check";
import { useRedisServer } from "../../../test/helpers/redis";
import { escapeGlob, globToRegExp, isGlob } from "../../src/cache/glob";

// L1 must evict exactly the keys Redis's SCAN MATCH removes for the same pattern: a key Redis drops but L1
// keeps is served stale until its TTL, on every instance (the bus carries the pattern). The oracle here is
// the real redis-server (KEYS uses the same matcher as SCAN MATCH), not a second implementation.
const redis = useRedisServer();

/** The keys (all under "k:", as the cache's keys are all under its prefix) that Redis selects for the pattern. */
async function redisSelects(pattern: string, keys: readonly string[]): Promise<Set<string>> {
  await redis.raw.flushdb();
  await redis.raw.mset(...keys.flatMap((k) => [`k:${k}`, "1"]));
  return new Set((await redis.raw.keys(`k:${pattern}`)).map((k) => k.slice(2)));
}

async function expectSameSelection(pattern: string, keys: readonly string[]): Promise<void> {
  const expected = await redisSelects(pattern, keys);
  const re = globToRegExp(`k:${pattern}`);
  const ours = keys.filter((k) => re.test(`k:${k}`));
  expect({ pattern, selected: ours.sort() }).toEqual({ pattern, selected: [...expected].sort() });
}

// Every character the syntax gives a meaning to, plus plain ones on both sides of the range ends, a newline and
// multi-byte characters (Redis matches UTF-8 bytes; é is c3 a9, € is e2 82 ac).
const CHARS = ["a", "b", "z", "A", "-", "^", "[", "]", "\\", "*", "?", "\n", "é", "€"];
const text = (max: number) => fc.array(fc.constantFrom(...CHARS), { maxLength: max }).map((a) => a.join(""));

describe("globToRegExp selects what Redis selects", () => {
  it("for any pattern over the glob's characters and any keys (property, oracle: redis-server KEYS)", async () => {
    await fc.assert(fc.asyncProperty(text(7), fc.uniqueArray(text(4), { minLength: 1, maxLength: 16 }), expectSameSelection), {
      numRuns: 400,
    });
  });

  it.each([
    // Reversed range: Redis swaps its ends; a RegExp class [z-a] would throw a SyntaxError.
    ["[z-a]", ["a", "m", "z", "A", "-"]],
    ["[b-a]x", ["ax", "bx", "cx"]],
    // A class without its "]" runs to the end of the pattern; "[" alone is an empty class.
    ["[ab", ["a", "b", "[", "[ab", "c"]],
    ["x[", ["x", "x[", "xa"]],
    ["[^", ["a", "^", "", "ab"]],
    // "]" right after "[" closes an empty class (nothing matches); after "[^" any one character.
    ["[]a]", ["]", "a", "]a]", "a]"]],
    ["[^]a", ["xa", "a", "]a"]],
    // Escapes inside a class, and "-" at either end of it.
    ["[\\]a]", ["]", "a", "\\", "]a]"]],
    ["[a-]", ["a", "-", "]", "b"]],
    ["[-a]", ["a", "-", "b"]],
    // "?" is one byte: é is two, € three.
    ["?", ["a", "é", "€"]],
    ["??", ["é", "ab", "€"]],
    ["???", ["€", "é", "abc"]],
    ["[é]", ["é", "e"]],
    ["[é][é]", ["é", "éé"]],
    // A range from a byte >= 0x80 to an ASCII one (Redis orders them as signed chars).
    ["[é-a]*", ["a", "é", "b", "z", "€"]],
    // A range end that is exactly byte 0x80 (Ѐ is d0 80): the lowest byte Redis reads as negative.
    ["[Ѐ-b]", ["a", "b", "c", "Ѐ"]],
    // Ranges in order (each end compared with the other end, not with what precedes the class).
    ["[a-z]", ["a", "m", "z", "A", "-"]],
    ["x[b-z]y", ["xay", "xby", "xzy", "xy"]],
    // A range from byte 0x00: 0x00 is not negative, so it does not wrap round through 0xff.
    ["[\u0000-a]", ["\u0000", "a", "b", "é"]],
    // Both ends >= 0x80 (é's second byte a9 to €'s first e2): no wrap either, so ASCII stays out.
    ["[é-€]", ["a", "é", "€", "ü"]],
    // From a byte >= 0x80 down to 0x00 exactly: wraps, and the 0x00 end is included.
    ["[é-\u0000]", ["\u0000", "a", "é"]],
  ] as [string, string[]][])("%j", async (pattern, keys) => {
    await expectSameSelection(pattern, keys);
  });

  it("escapeGlob makes any literal match only itself (property, oracle: redis-server)", async () => {
    await fc.assert(
      fc.asyncProperty(text(5), fc.uniqueArray(text(5), { maxLength: 8 }), async (literal, others) => {
        const keys = [...new Set([literal, ...others])];
        const expected = await redisSelects(escapeGlob(literal), keys);
        expect([...expected]).toEqual([literal]);
        await expectSameSelection(escapeGlob(literal), keys);
        expect(isGlob(escapeGlob(literal))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});
