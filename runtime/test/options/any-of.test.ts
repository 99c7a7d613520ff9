import fc from "fast-check";
import { anyOf, integer, object, string, validateOptions } from "../../src/options";

describe("anyOf: a value any one of its fields accepts", () => {
  const fields = [string(), object("an object"), integer(1, 10)];

  it("property: accepts exactly the values at least one field accepts, whichever order the fields come in", () => {
    fc.assert(
      fc.property(fc.anything(), fc.shuffledSubarray(fields, { minLength: 1 }), (value, some) => {
        const expected = some.some((f) => f.problem(value) === undefined);
        expect(anyOf("x", ...some).problem(value) === undefined).toBe(expected);
      }),
    );
  });

  it("on both sides of a member's bounds, and names what it expects in the refusal", () => {
    const f = anyOf<string | number>("a name or a count from 1 to 10", string(), integer(1, 10));
    for (const v of ["", "a", 1, 10]) expect(f.problem(v)).toBeUndefined();
    for (const v of [0, 11, null, {}, []]) expect(f.problem(v)).toBe("");
    expect(() => validateOptions("Thing", { f: 11 }, { f }, (key, m) => new Error(`${key}: ${m}`))).toThrow(
      /a name or a count from 1 to 10/,
    );
  });
});
