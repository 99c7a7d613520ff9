/**
 * An options type and its run-time check cannot part (createRealtime's type once offered `authorize`, which its check
 * refused as unknown). Every spec is declared `satisfies SpecFor<XOptions>` and every key list built with
 * `keysOf<XOptions>()`, so the compiler refuses either side drifting. These lines are that rule's own test:
 * `npm run typecheck` fails if any `@ts-expect-error` below stops being an error.
 */
import { duration, keysOf, string, type SpecFor } from "../../src/options";

interface Options {
  a?: number;
  b: string;
}

describe("SpecFor and keysOf: the compiler checks a spec or key list against its options type, both ways", () => {
  it("accepts exactly the type's keys", () => {
    const spec = { a: duration(1), b: string() } satisfies SpecFor<Options>;
    expect(Object.keys(spec)).toEqual(["a", "b"]);
    expect(keysOf<Options>()("a", "b")).toEqual(["a", "b"]);
  });

  it("refuses a spec or list that misses a key, or names one the type lacks", () => {
    // @ts-expect-error: b, a key of Options, has no rule
    const missing = { a: duration(1) } satisfies SpecFor<Options>;
    // @ts-expect-error: c is no key of Options
    const extra = { a: duration(1), b: string(), c: duration(1) } satisfies SpecFor<Options>;
    // @ts-expect-error: b is missing
    const listMissing = keysOf<Options>()("a");
    // @ts-expect-error: c is no key of Options
    const listExtra = keysOf<Options>()("a", "b", "c");
    // At run time they are plain values: the check above is the compiler's.
    expect([missing, extra, listMissing, listExtra].every((v) => v !== undefined)).toBe(true);
  });
});
