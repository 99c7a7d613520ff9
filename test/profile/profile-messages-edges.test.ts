import fc from "fast-check";
import { z } from "zod";
import { UaipError } from "@uaip/runtime";
import { ComponentArgsError, ProfileError, StackError } from "../../profile/errors";
import { formatPath } from "../../profile/format-path";
import { fromZod, show } from "../../profile/parse";
import { knownKeysAt } from "../../profile/schema-keys";
import { valueAt } from "../../profile/value-at";

/**
 * The helpers every profile message goes through (issue #22, Stryker's survivors): how a key is
 * written (formatPath), how its value is found (valueAt) and shown (show), which keys an object
 * allows (knownKeysAt), how zod's issues become "key: message, got value; fix" (fromZod), and the
 * error classes that carry them. Expectations are computed here, not read from the code under test.
 */

/** A profile key part as users write one: a name, or a list index. */
const keyName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_-]{0,8}$/);
const keyPart = fc.oneof(keyName, fc.nat({ max: 20 }));

/** Reads a written key back into its parts: `a.b[2].c` -> ["a", "b", 2, "c"]; a leading index has no dot. */
function readKey(written: string): (string | number)[] {
  const parts: (string | number)[] = [];
  const token = /\[(\d+)\]|\.?([^.[\]]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = token.exec(written))) parts.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
  expect(token.lastIndex === 0 ? written.length : token.lastIndex).toBe(written.length);
  return parts;
}

describe("formatPath: keys as users write them", () => {
  it("the documented example, a leading index, one name, nothing", () => {
    expect(formatPath(["services", 1, "hpa", "max"])).toBe("services[1].hpa.max");
    expect(formatPath([0, "name"])).toBe("[0].name");
    expect(formatPath(["cdn"])).toBe("cdn");
    expect(formatPath([])).toBe("");
  });

  it("property: names joined by dots, indexes in brackets, no leading dot; reads back to the same parts", () => {
    fc.assert(
      fc.property(fc.array(keyPart, { maxLength: 6 }), (parts) => {
        const written = formatPath(parts);
        expect(written.startsWith(".")).toBe(false);
        expect(written.includes("..")).toBe(false);
        expect(readKey(written)).toEqual(parts);
      }),
      { numRuns: 50 },
    );
  });
});

describe("valueAt: the value a key names", () => {
  const stack = { cache: { redis: { ttl: 300 } }, services: [{ name: "a" }, { name: "b", hpa: null }], zero: 0 };

  it("a dotted key and a key list reach the same value", () => {
    expect(valueAt(stack, "cache.redis.ttl")).toBe(300);
    expect(valueAt(stack, ["cache", "redis", "ttl"])).toBe(300);
    expect(valueAt(stack, ["services", 1, "name"])).toBe("b");
    expect(valueAt(stack, "zero")).toBe(0);
    expect(valueAt("abc", ["length"])).toBe(3);
  });

  it("a key that leaves the value (through null, undefined or a missing key) is undefined, never a TypeError", () => {
    expect(valueAt(stack, ["services", 1, "hpa", "max"])).toBeUndefined();
    expect(valueAt(stack, "cache.memory.ttl")).toBeUndefined();
    expect(valueAt(undefined, ["a"])).toBeUndefined();
    expect(valueAt(null, "a.b")).toBeUndefined();
  });

  it("property: every leaf of a nested value is found under its key, by list and by dotted string", () => {
    const leaf = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, leaf, fc.dictionary(keyName, tie("node"), { maxKeys: 3 })),
    })).node;
    const leaves = (node: unknown, at: string[] = []): [string[], unknown][] =>
      node !== null && typeof node === "object" ? Object.entries(node).flatMap(([k, v]) => leaves(v, [...at, k])) : [[at, node]];
    fc.assert(
      fc.property(tree, (root) => {
        for (const [at, value] of leaves(root)) {
          expect(valueAt(root, at)).toBe(value);
          if (at.length > 0) expect(valueAt(root, at.join("."))).toBe(value);
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe("show: a value as the stack file wrote it", () => {
  it.each<[string, unknown, string]>([
    ["nothing for undefined", undefined, "nothing"],
    ["a string quoted", "2", '"2"'],
    ["a number", 5, "5"],
    ["NaN", NaN, "NaN"],
    ["Infinity", Infinity, "Infinity"],
    ["-Infinity", -Infinity, "-Infinity"],
    ["a BigInt with its n", 12n, "12n"],
    ["null", null, "null"],
    ["a list", [1, "a"], '[1,"a"]'],
    ["an object", { a: 1 }, '{"a":1}'],
    ["a symbol (JSON has none)", Symbol.for("x"), "Symbol(x)"],
  ])("%s", (_case, value, written) => {
    expect(show(value)).toBe(written);
  });

  it("a value JSON cannot write (a cycle) is still shown, not thrown", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(show(cycle)).toBe("[object Object]");
  });
});

describe("knownKeysAt: the keys a schema allows at a key", () => {
  const inner = z.strictObject({ a: z.string(), b: z.number() });
  const wrappers: [string, (s: z.ZodType) => z.ZodType][] = [
    ["optional", (s) => s.optional()],
    ["default", (s) => (s as typeof inner).default({ a: "x", b: 1 })],
    ["prefault", (s) => (s as typeof inner).prefault({ a: "x", b: 1 })],
    ["nullable", (s) => s.nullable()],
    ["readonly", (s) => s.readonly()],
    ["catch", (s) => (s as typeof inner).catch({ a: "x", b: 1 })],
    ["pipe (a transform)", (s) => s.transform((v) => v)],
  ];

  it.each(wrappers)("sees through %s, at the top and under a list, a map and an object", (_kind, wrap) => {
    expect(knownKeysAt(wrap(inner), []).sort()).toEqual(["a", "b"]);
    expect(knownKeysAt(z.array(wrap(inner)), [3]).sort()).toEqual(["a", "b"]);
    expect(knownKeysAt(z.record(z.string(), wrap(inner)), ["any"]).sort()).toEqual(["a", "b"]);
    expect(knownKeysAt(z.object({ outer: wrap(inner) }), ["outer"]).sort()).toEqual(["a", "b"]);
  });

  it("a union allows the keys of every shape, each once", () => {
    const union = z.union([inner, z.strictObject({ b: z.number(), c: z.boolean() })]);
    expect(knownKeysAt(union, []).sort()).toEqual(["a", "b", "c"]);
  });

  it("no object at the key: a scalar, a key the schema lacks, a key inside a scalar", () => {
    expect(knownKeysAt(z.string(), [])).toEqual([]);
    expect(knownKeysAt(inner, ["zz"])).toEqual([]);
    expect(knownKeysAt(inner, ["a", "deeper"])).toEqual([]);
    expect(knownKeysAt(z.string(), ["a"])).toEqual([]);
  });
});

describe("fromZod: zod's issues as key, message, value as written and fix", () => {
  const issuesOf = (schema: z.ZodType, input: unknown, prefix?: readonly PropertyKey[]) => {
    const parsed = schema.safeParse(input);
    if (parsed.success) throw new Error("expected a refusal");
    return fromZod(parsed.error, input, schema, prefix);
  };
  const schema = z.strictObject({
    enabled: z.boolean(),
    nested: z.strictObject({ port: z.number() }),
    empty: z.strictObject({}),
  });
  const ok = { enabled: true, nested: { port: 1 }, empty: {} };

  it("a wrong type: the key, what was expected, the value as written, without zod's 'Invalid input' and 'received'", () => {
    expect(issuesOf(schema, { ...ok, nested: { port: "80" } })).toEqual([
      { path: "nested.port", message: 'expected number, got "80"' },
    ]);
  });

  it("every unknown key is its own issue, each with its value and the fix", () => {
    expect(issuesOf(schema, { ...ok, enabeld: false, zzzzzz: [1] })).toEqual([
      { path: "enabeld", message: "unknown key, got false; did you mean enabled?" },
      { path: "zzzzzz", message: "unknown key, got [1]; remove it or use one of: enabled, nested, empty" },
    ]);
  });

  it("an unknown key where the schema allows none says only to remove it", () => {
    expect(issuesOf(schema, { ...ok, empty: { x: 1 } })).toEqual([{ path: "empty.x", message: "unknown key, got 1; remove it" }]);
  });

  it("a prefix puts the issue under the key the input came from", () => {
    expect(issuesOf(schema, { ...ok, nested: { port: null } }, ["services", 2, "runtime"])).toEqual([
      { path: "services[2].runtime.nested.port", message: "expected number, got null" },
    ]);
    expect(issuesOf(schema, { ...ok, nested: { port: 1, prot: 2 } }, ["services", 0, "runtime"])).toEqual([
      { path: "services[0].runtime.nested.prot", message: "unknown key, got 2; did you mean port?" },
    ]);
  });

  describe("a value no shape of a union fits is reported by the shape it came closest to", () => {
    const x = z.strictObject({ x: z.number() });
    const y = z.strictObject({ y: z.strictObject({ z: z.number() }) });

    it("fewest issues wins, whatever the order of the shapes", () => {
      for (const union of [z.union([x, y]), z.union([y, x])])
        expect(issuesOf(z.strictObject({ u: union }), { u: { y: { z: "s" } } }).map((i) => i.path)).toEqual(["u.y.z"]);
    });

    it("fewer issues win over a deeper shape, whatever the order", () => {
      const scalar = z.strictObject({ k: z.number() });
      const pair = z.strictObject({ k: z.strictObject({ m: z.number(), n: z.number() }) });
      for (const union of [z.union([scalar, pair]), z.union([pair, scalar])])
        expect(issuesOf(union, { k: { m: "a", n: "b" } })).toEqual([
          { path: "k", message: 'expected number, got {"m":"a","n":"b"}' },
        ]);
    });

    it("on as many issues, the shape that got deeper into the value, whatever the order", () => {
      for (const union of [z.union([x, y]), z.union([y, x])])
        expect(
          issuesOf(z.strictObject({ u: union }), { u: { y: { z: "s" }, w: 1 } })
            .map((i) => i.path)
            .sort(),
        ).toEqual(["u.w", "u.y.z"]);
    });

    it("on a full tie, the first shape listed", () => {
      const a = z.strictObject({ a: z.number() });
      const b = z.strictObject({ b: z.number() });
      expect(issuesOf(z.union([a, b]), {}).map((i) => i.path)).toEqual(["a"]);
      expect(issuesOf(z.union([b, a]), {}).map((i) => i.path)).toEqual(["b"]);
    });

    it("a union inside a union's shape is resolved too", () => {
      const deep = z.union([x, z.strictObject({ v: z.union([x, y]) })]);
      expect(issuesOf(deep, { v: { y: { z: "s" } } }).map((i) => i.path)).toEqual(["v.y.z"]);
    });

    it("a union with no shape to compare (no discriminator matched) is reported as it is", () => {
      const kinds = z.discriminatedUnion("kind", [
        z.strictObject({ kind: z.literal("a") }),
        z.strictObject({ kind: z.literal("b") }),
      ]);
      const issues = issuesOf(z.strictObject({ k: kinds }), { k: { kind: "c" } });
      expect(issues.map((i) => i.path)).toEqual(["k.kind"]);
      expect(issues[0]!.message).toMatch(/'a' \| 'b'.*, got "c"$/);
    });
  });
});

describe("the error classes: a stable code, every issue key first, the cause kept", () => {
  it("ProfileError lists every issue on its own line, key first", () => {
    const cause = new Error("zod");
    const issues = [
      { path: "a.b", message: "expected number, got 'x'" },
      { path: "services[1].name", message: "duplicate" },
    ];
    const err = new ProfileError(issues, { cause });
    expect(err).toBeInstanceOf(StackError);
    expect(err).toBeInstanceOf(UaipError);
    expect(err.code).toBe("UAIP_PROFILE_INVALID");
    expect(err.name).toBe("ProfileError");
    expect(err.message.split("\n")).toEqual(["a.b: expected number, got 'x'", "services[1].name: duplicate"]);
    expect(err.issues).toBe(issues);
    expect(err.cause).toBe(cause);
  });

  it("ComponentArgsError keeps the key and the message apart, to restate it under another key", () => {
    const err = new ComponentArgsError("RedisArgs.replicas", "expected >= 1, got 0", { cause: "why" });
    expect(err).toBeInstanceOf(StackError);
    expect(err.code).toBe("UAIP_COMPONENT_ARGS_INVALID");
    expect(err.message).toBe("RedisArgs.replicas: expected >= 1, got 0");
    expect([err.key, err.detail, err.cause]).toEqual(["RedisArgs.replicas", "expected >= 1, got 0", "why"]);
  });
});
