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
