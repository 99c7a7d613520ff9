import fc from "fast-check";
import { familyScopedName } from "../../profile/naming";

describe("familyScopedName at its length limit", () => {
  // "-postgres16" is 11 characters: under a 63-character limit, 52 characters of the base fit.
  const FAMILY = "postgres16";
  const LIMIT = 63;
  const ROOM = LIMIT - (1 + FAMILY.length);

  it("a base of exactly the room left is kept whole (63 characters); one more character is cut, never the family", () => {
    const fits = familyScopedName("a".repeat(ROOM), FAMILY, LIMIT);
    expect(fits).toBe(`${"a".repeat(ROOM)}-${FAMILY}`);
    expect(fits).toHaveLength(LIMIT);
    const over = familyScopedName("a".repeat(ROOM + 1), FAMILY, LIMIT);
    expect(over).toBe(`${"a".repeat(ROOM)}-${FAMILY}`);
  });

  it("a cut that ends on a hyphen drops it (no '--' before the family)", () => {
    const base = `${"a".repeat(ROOM - 1)}-b`;
    expect(familyScopedName(base, FAMILY, LIMIT)).toBe(`${"a".repeat(ROOM - 1)}-${FAMILY}`);
  });

  it("a base starting with a digit gets a letter first, still within the limit", () => {
    const n = familyScopedName("9".repeat(ROOM), FAMILY, LIMIT);
    expect(n).toHaveLength(LIMIT);
    expect(n.startsWith("g-9")).toBe(true);
  });

  it("for any base, family and limit: within the limit, ends with the family, a valid AWS identifier", () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_. -]{1,80}$/).filter((s) => /[a-z0-9]/i.test(s));
    fc.assert(
      fc.property(word, fc.stringMatching(/^[a-z][a-z0-9]{0,12}$/), fc.integer({ min: 16, max: 40 }), (base, family, limit) => {
        const n = familyScopedName(base, family, limit);
        expect(n.length).toBeLessThanOrEqual(limit);
        expect(n.endsWith(`-${family}`)).toBe(true);
        expect(n).toMatch(/^[a-z](?:-?[a-z0-9])*$/);
      }),
    );
  });
});

describe("familyScopedName's slugs and defaults (issue #22: Stryker's survivors in profile/naming.ts)", () => {
  it("base and family are lowercased, runs of other characters become one hyphen, and none is left at either end", () => {
    expect(familyScopedName("My__Cache..Group", "Redis 7.x")).toBe("my-cache-group-redis-7-x");
    expect(familyScopedName("--cache--", "..valkey8..")).toBe("cache-valkey8");
  });

  it("a base that does not start with a letter gets 'g-' first, even when a letter follows", () => {
    expect(familyScopedName("9abc", "postgres16")).toBe("g-9abc-postgres16");
    expect(familyScopedName("...", "postgres16")).toBe("g-postgres16");
  });

  it("without a limit, AWS's 255 for parameter group names: a long base is cut to 255 with the family kept", () => {
    const n = familyScopedName("a".repeat(300), "redis7");
    expect(n).toBe(`${"a".repeat(255 - "-redis7".length)}-redis7`);
    expect(familyScopedName("a".repeat(248), "redis7")).toHaveLength(255);
  });

  it("a family longer than the limit still keeps one letter of the base first", () => {
    expect(familyScopedName("abc", "f".repeat(20), 10)).toBe(`a-${"f".repeat(20)}`);
  });

  it("property: a lowercase base that starts with a letter keeps its longest prefix that fits, then the family", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9]{0,60}$/),
        fc.stringMatching(/^[a-z][a-z0-9]{0,12}$/),
        fc.integer({ min: 16, max: 63 }),
        (base, family, limit) => {
          expect(familyScopedName(base, family, limit)).toBe(`${base.slice(0, limit - family.length - 1)}-${family}`);
        },
      ),
    );
  });
});
