/**
 * Issue #21, "one option validator for the whole runtime": every export of @uaip/runtime that takes
 * an options object gets the same battery of bad values, and each must be that call's typed error
 * (a UaipError with a stable code) naming the key and showing the value as written. An export that
 * is in neither the surface table nor the justified allow-list fails the first test, so a new class
 * cannot skip the validator.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as rt from "./public-surface";
import { ENTRY_POINTS } from "./public-surface";
import { closeShared, dispose, ENTRIES, NO_OPTIONS, VALUE_CALL_ACCEPTS, VALUE_CALLS, type Entry, type Kind } from "./surface";

afterAll(closeShared);

/** The outcome of one call: its typed error, or what it built (then disposed). Never lets an untyped error through. */
async function outcome(call: () => unknown): Promise<{ error?: rt.UaipError & { key?: string }; made?: unknown }> {
  let made: unknown;
  try {
    made = await call();
  } catch (err) {
    expect(err).toBeInstanceOf(rt.UaipError);
    expect(typeof (err as rt.UaipError).code).toBe("string");
    return { error: err as rt.UaipError };
  }
  await dispose(made);
  return { made };
}

function circular(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

/** A bad value and how a message must show it (written independently of showValue). */
interface Bad {
  label: string;
  value: () => unknown;
  shown: string;
}
const bad = (label: string, value: () => unknown, shown: string): Bad => ({ label, value, shown });

const NOT_A_NUMBER = [
  bad("BigInt", () => 10n, "10n"),
  bad("Symbol", () => Symbol("s"), "Symbol(s)"),
  bad("circular object", circular, "[Circular"),
  bad("string", () => "5", '"5"'),
  bad("null", () => null, "null"),
  bad("list", () => [5], "[ 5 ]"),
];
const NOT_FINITE = [
  bad("NaN", () => Number.NaN, "NaN"),
  bad("Infinity", () => Number.POSITIVE_INFINITY, "Infinity"),
  bad("-Infinity", () => Number.NEGATIVE_INFINITY, "-Infinity"),
  bad("1e300", () => 1e300, "1e+300"),
  bad("-1", () => -1, "-1"),
];

/** Values that are wrong for each kind of field. */
export const BAD_VALUES: Record<Kind, Bad[]> = {
  duration0: [...NOT_A_NUMBER, ...NOT_FINITE, bad("2**31", () => 2 ** 31, "2147483648"), bad("1.5", () => 1.5, "1.5")],
  duration1: [
    ...NOT_A_NUMBER,
    ...NOT_FINITE,
    bad("2**31", () => 2 ** 31, "2147483648"),
    bad("0", () => 0, "0"),
    bad("1.5", () => 1.5, "1.5"),
  ],
  count: [...NOT_A_NUMBER, ...NOT_FINITE, bad("1.5", () => 1.5, "1.5")],
  size: [...NOT_A_NUMBER, ...NOT_FINITE, bad("1.5", () => 1.5, "1.5"), bad("2**53", () => 2 ** 53, "9007199254740992")],
  fraction: [...NOT_A_NUMBER, ...NOT_FINITE, bad("1", () => 1, "1")],
  string: [
    bad("number", () => 5, "5"),
    bad("BigInt", () => 10n, "10n"),
    bad("Symbol", () => Symbol("s"), "Symbol(s)"),
    bad("circular object", circular, "[Circular"),
    bad("null", () => null, "null"),
  ],
  bool: [
    bad("string", () => "true", '"true"'),
    bad("number", () => 1, "1"),
    bad("BigInt", () => 1n, "1n"),
    bad("null", () => null, "null"),
  ],
  func: [
    bad("string", () => "f", '"f"'),
    bad("number", () => 1, "1"),
    bad("object", () => ({}), "{}"),
    bad("null", () => null, "null"),
  ],
  object: [
    bad("string", () => "o", '"o"'),
    bad("number", () => 1, "1"),
    bad("BigInt", () => 1n, "1n"),
    bad("null", () => null, "null"),
  ],
  list: [
    bad("string instead of list", () => "10.0.0.0/8", '"10.0.0.0/8"'),
    bad("number", () => 1, "1"),
    bad("null", () => null, "null"),
    bad("list of a number", () => [1], "[ 1 ]"),
  ],
};

const expectedKey = (entry: Entry, key: string): string => `${entry.keyPrefix ?? ""}${key}`;

describe("the export list is covered", () => {
  it("every function or class export is in the surface table, takes one checked value, or is allow-listed with a reason", () => {
    const covered = new Set([
      ...ENTRIES.map((e) => e.name.split(/[ #]/)[0]),
      ...Object.keys(VALUE_CALLS).map((n) => n.split(/[ #]/)[0]),
      ...Object.keys(NO_OPTIONS),
    ]);
    const callable = Object.entries(rt)
      .filter(([, v]) => typeof v === "function")
      // Error classes take a message, not options.
      .filter(([, v]) => !((v as { prototype?: unknown }).prototype instanceof Error) && v !== rt.UaipError)
      .map(([k]) => k);
    expect(callable.filter((name) => !covered.has(name))).toEqual([]);
    // And the table names only real exports (a renamed export must not leave a dead row).
    expect([...covered].filter((name) => !(name in rt))).toEqual([]);
  });

  it("the surface enumerates every entry point the package exports", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8")) as { exports: Record<string, unknown> };
    const subpaths = Object.keys(pkg.exports)
      .filter((k) => k !== "." && k !== "./package.json")
      .map((k) => k.slice(2));
    expect([...ENTRY_POINTS].sort()).toEqual(subpaths.sort());
  });
});

describe.each(ENTRIES.map((e) => [e.name, e] as const))("%s", (_name, entry) => {
  it("accepts its valid example", async () => {
    const { error } = await outcome(() => entry.call({ ...entry.valid }));
    expect(error?.code).toBe(entry.validFailsWith);
  });

  it.each([
    ["null", null],
    ["a string", "options"],
    ["a number", 5],
    ["a list", [entry.valid]],
    ["a BigInt", 10n],
    ["a Symbol", Symbol("o")],
  ])("refuses %s as the options object", async (_label, options) => {
    const { error } = await outcome(() => entry.call(options));
    expect(error).toBeDefined();
  });

  it("refuses an unknown key and a near miss, all at once, with a did-you-mean", async () => {
    const field = Object.keys(entry.fields)[0];
    // The near miss swaps the last two letters ("ttl" -> "tlt"): within edit distance 1 of the real key.
    const nearMiss = `${field.slice(0, -2)}${field.at(-1)}${field.at(-2)}`;
    const { error } = await outcome(() => entry.call({ ...entry.valid, zzUnknownOption: 1, [nearMiss]: 1 }));
    expect(error).toBeDefined();
    expect(error!.message).toContain("zzUnknownOption");
    expect(error!.message).toContain(`did you mean "${field}"`);
  });

  it("refuses __proto__, as an own key (JSON.parse) and as a replaced prototype", async () => {
    const own = JSON.parse(`{"__proto__": {"x": 1}}`) as object;
    expect((await outcome(() => entry.call(Object.assign(own, entry.valid)))).error).toBeDefined();
    const inherited = Object.assign(Object.create({ [Object.keys(entry.fields)[0]]: 1 }) as object, entry.valid);
    expect((await outcome(() => entry.call(inherited))).error).toBeDefined();
  });

  const cases = Object.entries(entry.fields).flatMap(([key, kind]) =>
    BAD_VALUES[kind].map((b) => [key, kind, b.label, b] as const),
  );
  it.each(cases)("refuses %s (%s) = %s by name, value as written", async (key, _kind, _label, b) => {
    const { error } = await outcome(() => entry.call({ ...entry.valid, [key]: b.value() }));
    expect(error).toBeDefined();
    expect(error!.message).toContain(expectedKey(entry, key));
    // Nested options are checked by their own rule (a wrong type is named; its value may be summarised).
    if (!["object", "list"].includes(entry.fields[key])) expect(error!.message).toContain(b.shown);
  });
});

describe.each(Object.entries(VALUE_CALLS))("%s", (name, call) => {
  const accepted = VALUE_CALL_ACCEPTS[name]?.labels ?? [];
  it.each(
    (
      [
        ["BigInt", 10n],
        ["Symbol", Symbol("v")],
        ["circular object", circular()],
        ["NaN", Number.NaN],
        ["null", null],
      ] as const
    ).filter(([label]) => !accepted.includes(label)),
  )("refuses %s with a typed error", async (_label, value) => {
    const { error } = await outcome(() => call(value));
    expect(error).toBeDefined();
  });
});
