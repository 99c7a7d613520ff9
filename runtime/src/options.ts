import { inspect } from "node:util";
import { enforcedHeapLimitBytes } from "./heap";

/**
 * The runtime's one option validator. Every public constructor, factory and per-call options
 * object goes through `validateOptions` (or `checkOptions` for the key check alone), so:
 * - an unknown key is refused with the known ones and a did-you-mean, every bad key at once;
 * - each value is checked by a small declarative field spec (type, unit, finiteness, integer-ness,
 *   range), with one Duration kind for every timer and one Size kind capped by the heap;
 * - values are shown as written (BigInt, Symbol, NaN, -0, circular objects): a message is never
 *   built with JSON.stringify, which throws on a BigInt or a cycle and would replace the typed error;
 * - the error is the area's typed class (CacheOptionsError, RealtimeOptionsError, ...) with its
 *   stable `code`, built by the area's factory.
 */

/** Builds the area's typed error (CacheOptionsError, RateLimitOptionsError, ...) for one bad key. */
export type OptionsErrorFactory = (key: string, message: string) => Error;

/** One refused option: its path and what is wrong with it (value as written, and the fix). */
export interface OptionProblem {
  key: string;
  message: string;
}

/**
 * Longest delay a Node timer honours, ms. setTimeout/setInterval with more (2^31 ms, about 24.8
 * days) print a TimeoutOverflowWarning and fire after 1 ms, so a "4294967296 ms" interval becomes a
 * busy loop. Every duration option in the runtime is capped here.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Share of the heap one sized structure (an L1 cache, a send buffer, a frame) may claim. The rest
 * of the service (the pool, sockets, request bodies, a second cache) needs the other three
 * quarters, and a heap held near its limit spends its time in GC before it aborts (the 10 s of
 * thrashing before `FATAL ERROR: Reached heap limit`). A quarter still lets a process of 64 MiB
 * (tsx and the runtime already use 17-40 MiB of it) build a cache at the cap and use it: the
 * child-process property test checks exactly that.
 */
export const HEAP_SHARE = 0.25;

/**
 * The heap limit sizes are capped by, bytes: V8's `heap_size_limit`, or `--max-old-space-size`
 * when that is smaller (heap_size_limit adds the young generation: 112 MiB for a 64 MiB old
 * space, which would let a cache nearly twice too large through).
 */
export function heapLimitBytes(): number {
  return enforcedHeapLimitBytes();
}

const MiB = 1024 * 1024;

/**
 * A value as the caller wrote it, safe for any input: `10n`, `Symbol(x)`, `NaN`, `-Infinity`, `-0`,
 * `"text"`, `[Function: f]`, `<ref *1> { self: [Circular *1] }`. Never throws; long values are cut.
 */
export function showValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      // JSON.stringify of a string never throws and shows escapes the way the caller typed them.
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "undefined":
      return "undefined";
    case "boolean":
      return String(value);
    default:
      try {
        const text = inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 80 });
        return text.length > 200 ? `${text.slice(0, 200)}…` : text;
      } catch {
        // A revoked Proxy or a hostile object: name its kind rather than fail the error path.
        return Object.prototype.toString.call(value);
      }
  }
}

/** Edit distance with transpositions (optimal string alignment): "tll" → "ttl" is 1, "hop" → "hops" is 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known key an unknown one was most likely meant to be: same letters ignoring case, within
 * edit distance 2 (1 for keys of fewer than 6 characters), or one a prefix of the other
 * ("hostname" → "host"). Undefined when nothing is close.
 */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  const lower = key.toLowerCase();
  for (const name of known) {
    const other = name.toLowerCase();
    let distance = editDistance(lower, other);
    const limit = Math.min(2, Math.max(1, Math.floor(key.length / 3)));
    if (distance > limit) {
      const prefix = Math.min(lower.length, other.length) >= 3 && (lower.startsWith(other) || other.startsWith(lower));
      if (!prefix) continue;
      distance = limit + 1;
    }
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}

/** A field of an options spec: what a valid value is, and a check run on every value that is not undefined. */
export interface Field<T = unknown> {
  /** What a valid value is, e.g. "an integer number of ms from 1 to 2147483647". */
  readonly expected: string;
  /** Undefined when `value` is valid; otherwise "" or a sentence with the fix, shown after `expected` and the value. */
  readonly problem: (value: unknown) => string | undefined;
  /** A missing (undefined) value is refused. */
  readonly required?: boolean;
  /** Phantom: the type a valid value has (for `Parsed`). */
  readonly __type?: T;
}

export type Spec = Readonly<Record<string, Field>>;

/**
 * The spec of the options type T: a rule for every key T declares and for no other. Declared as
 * `const SPEC = { ... } satisfies SpecFor<XOptions>`, a key the type offers can never be refused as unknown at run
 * time, nor a key the check accepts be missing from the type (createRealtime's type once offered `authorize`, which
 * its check refused).
 */
export type SpecFor<T> = { readonly [K in keyof Required<T>]: Field };
/** The options a spec accepts, typed from its fields; absent (undefined) where not required. */
export type Parsed<S extends Spec> = { [K in keyof S]?: S[K] extends Field<infer T> ? T : never };

const field = <T>(expected: string, problem: (value: unknown) => string | undefined): Field<T> => ({ expected, problem });
const ok = (valid: boolean): string | undefined => (valid ? undefined : "");

/** The same field, refused when missing. */
export function required<T>(f: Field<T>): Field<T> {
  return { ...f, required: true };
}

/** An integer in [min, max] (safe integers only). */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER, unit = ""): Field<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return field(`an integer${unit ? ` number of ${unit}` : ""} ${range}`, (v) =>
    ok(typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max),
  );
}

/** A finite number within the bounds (`gt`/`lt` exclusive, `min`/`max` inclusive). */
export function number(bounds: { min?: number; max?: number; gt?: number; lt?: number }, unit = ""): Field<number> {
  const parts = [
    bounds.gt !== undefined ? `> ${bounds.gt}` : undefined,
    bounds.min !== undefined ? `>= ${bounds.min}` : undefined,
    bounds.lt !== undefined ? `< ${bounds.lt}` : undefined,
    bounds.max !== undefined ? `<= ${bounds.max}` : undefined,
  ].filter(Boolean);
  return field(`a finite number${unit ? ` of ${unit}` : ""} ${parts.join(" and ")}`.trim(), (v) =>
    ok(
      typeof v === "number" &&
        Number.isFinite(v) &&
        (bounds.gt === undefined || v > bounds.gt) &&
        (bounds.min === undefined || v >= bounds.min) &&
        (bounds.lt === undefined || v < bounds.lt) &&
        (bounds.max === undefined || v <= bounds.max),
    ),
  );
}

/**
 * A duration: an integer number of ms (or s) from `min` (1, or 0 where 0 means "off" or "at once")
 * to MAX_TIMER_MS. Every interval, timeout, delay and TTL of the runtime uses it.
 */
export function duration(min: 0 | 1 = 1, unit: "ms" | "s" = "ms"): Field<number> {
  const max = unit === "ms" ? MAX_TIMER_MS : Math.floor(MAX_TIMER_MS / 1000);
  return field(`an integer number of ${unit} from ${min} to ${max}`, (v) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) return "";
    if (v > max)
      return `Node fires a timer longer than ${MAX_TIMER_MS} ms (about 24.8 days) after 1 ms; use at most ${max} ${unit}`;
    return undefined;
  });
}

/**
 * A size that lives in this process's heap: an integer count of `unit`s, each costing at least
 * `bytesEach` bytes, refused when `value × bytesEach` is more than HEAP_SHARE of the heap limit
 * (read when the options are checked). A cache sized beyond the heap does not fail at start: it
 * aborts the process minutes later with `Reached heap limit`, or throws `Invalid array length`.
 */
export function size(unit: "bytes" | "entries", bytesEach = 1, min = 1): Field<number> {
  return field(`an integer number of ${unit} >= ${min}`, (v) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return "";
    const heap = heapLimitBytes();
    const cap = Math.floor((heap * HEAP_SHARE) / bytesEach);
    if (v <= cap) return undefined;
    const each = bytesEach > 1 ? ` at >= ${bytesEach} bytes each` : "";
    return (
      `${v} ${unit}${each} need ${((v * bytesEach) / MiB).toFixed(0)} MiB, more than ${HEAP_SHARE * 100}% of this process's ` +
      `heap limit (${(heap / MiB).toFixed(0)} MiB, --max-old-space-size or v8 heap_size_limit); use at most ${cap}, or give Node a larger --max-old-space-size`
    );
  });
}

/** A string; `nonEmpty` refuses "", `pattern` (with its description) refuses what does not match. */
export function string(opts: { nonEmpty?: boolean; pattern?: RegExp; what?: string } = {}): Field<string> {
  const what = opts.what ?? (opts.nonEmpty ? "a non-empty string" : "a string");
  return field(what, (v) => ok(typeof v === "string" && (!opts.nonEmpty || v !== "") && (!opts.pattern || opts.pattern.test(v))));
}

export const boolean: Field<boolean> = field("true or false", (v) => ok(typeof v === "boolean"));

/** One of the listed strings. */
export function oneOf<T extends string>(values: readonly T[]): Field<T> {
  return field(`one of ${values.map((x) => JSON.stringify(x)).join(" | ")}`, (v) =>
    ok((values as readonly unknown[]).includes(v)),
  );
}

/** A function (callbacks, hooks, injected implementations). */
export function func<T = (...args: never[]) => unknown>(what = "a function"): Field<T> {
  return field(what, (v) => ok(typeof v === "function"));
}

/** A non-null, non-array object that passes `test` (e.g. an injected client or registry). */
export function object<T = Record<string, unknown>>(what: string, test: (v: object) => boolean = () => true): Field<T> {
  return field(what, (v) => ok(typeof v === "object" && v !== null && !Array.isArray(v) && test(v)));
}

/** A value any one of `fields` accepts (e.g. a URL string or an options object), described as `expected`. */
export function anyOf<T>(expected: string, ...fields: readonly Field[]): Field<T> {
  return field(expected, (v) => ok(fields.some((f) => f.problem(v) === undefined)));
}

/** An array whose items each satisfy `item`; a lone item (e.g. a string for a list of strings) is refused with the fix. */
export function listOf<T>(item: Field<T>): Field<T[]> {
  return field(`a list of ${item.expected}`, (v) => {
    if (!Array.isArray(v)) return item.problem(v) === undefined ? `wrap it in a list: [${showValue(v)}]` : "";
    const bad = v.findIndex((x) => x === undefined || item.problem(x) !== undefined);
    return bad === -1 ? undefined : `item [${bad}] is ${showValue(v[bad])}`;
  });
}

/** One item or a list of items (e.g. WebSocket sub-protocols). */
export function oneOrListOf<T>(item: Field<T>): Field<T | T[]> {
  const list = listOf(item);
  return field(`${item.expected} or a list of them`, (v) => (Array.isArray(v) ? list.problem(v) : item.problem(v)));
}

/** Any value (opaque pass-through such as a serializer's input); still subject to the unknown-key check. */
export const anything: Field = field("any value", () => undefined);

/**
 * Throws one error listing every problem: the area's typed error, keyed by the first bad option,
 * with each key, its value as written and the fix in the message.
 */
export function throwProblems(where: string, problems: readonly OptionProblem[], makeError: OptionsErrorFactory): void {
  if (problems.length === 0) return;
  const lines = problems.map((p) => `${p.key}: ${p.message}`);
  const message =
    problems.length === 1 ? `${where}: ${lines[0]}` : `${where}: ${problems.length} invalid options: ${lines.join("; ")}`;
  const error = makeError(problems[0].key, message);
  // Every problem, for callers that report them one by one (the plan does).
  Object.defineProperty(error, "problems", { value: problems, enumerable: false });
  throw error;
}

/** The problems of one value against one field (none when valid). */
export function fieldProblem(key: string, value: unknown, f: Field): OptionProblem | undefined {
  if (value === undefined) return f.required ? { key, message: `is required: ${f.expected}` } : undefined;
  const why = f.problem(value);
  if (why === undefined) return undefined;
  return { key, message: `expected ${f.expected}, got ${showValue(value)}${why ? `; ${why}` : ""}` };
}

/** Checks one value (a per-call argument such as a TTL or a timeout) and returns it typed; throws the area's error. */
export function checkValue<T>(where: string, key: string, value: unknown, f: Field<T>, makeError: OptionsErrorFactory): T {
  const problem = fieldProblem(key, value, f);
  if (problem) throwProblems(where, [problem], makeError);
  return value as T;
}

/**
 * The own keys of `options` after checking it is a plain object (or undefined): refuses null, arrays,
 * primitives and a replaced prototype (`{ __proto__: {...} }`, whose keys would be read unseen).
 */
export function asRecord(
  where: string,
  options: unknown,
  prefix: string,
  makeError: OptionsErrorFactory,
): Record<string, unknown> {
  const key = prefix ? prefix.slice(0, -1) : "options";
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throwProblems(where, [{ key, message: `expected an options object { ... }, got ${showValue(options)}` }], makeError);
  }
  const proto = Object.getPrototypeOf(options) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throwProblems(
      where,
      [
        {
          key: `${prefix}__proto__`,
          message: `unknown option "__proto__"; pass a plain object literal (its prototype is ignored, so options set through it would be lost)`,
        },
      ],
      makeError,
    );
  }
  return options as Record<string, unknown>;
}

/** Problems for every own key of `record` not in `known`, with did-you-mean (or the caller's hint). */
export function unknownKeyProblems(
  record: object,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
  prefix = "",
): OptionProblem[] {
  const keys: (string | symbol)[] = [...Object.getOwnPropertyNames(record), ...Object.getOwnPropertySymbols(record)];
  const unknown = keys.filter((k) => typeof k === "symbol" || !known.includes(k));
  return unknown.map((k, i) => {
    const name = typeof k === "symbol" ? k.toString() : k;
    const hint = typeof k === "string" ? (Object.hasOwn(hints, k) ? hints[k] : undefined) : undefined;
    const guess = typeof k === "string" && hint === undefined ? didYouMean(k, known) : undefined;
    const knownList = i === unknown.length - 1 ? `; known options are ${known.join(", ")}` : "";
    const why = hint !== undefined ? `; ${hint}` : `${guess ? ` (did you mean "${guess}"?)` : ""}${knownList}`;
    return { key: `${prefix}${name}`, message: `unknown option ${JSON.stringify(name)}${why}` };
  });
}

/** Every problem of a plain-object `record` against `spec` (unknown keys, then fields), without throwing. */
export function specProblems(
  record: Record<string, unknown>,
  spec: Spec,
  hints: Readonly<Record<string, string>> = {},
  prefix = "",
): OptionProblem[] {
  const problems = unknownKeyProblems(record, Object.keys(spec), hints, prefix);
  for (const [key, f] of Object.entries(spec)) {
    const problem = fieldProblem(`${prefix}${key}`, Object.hasOwn(record, key) ? record[key] : undefined, f);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** Whether any field of `spec` is required; specs are module constants, so this is computed once per spec. */
const specsWithRequired = new WeakMap<Spec, boolean>();
function hasRequiredField(spec: Spec): boolean {
  let has = specsWithRequired.get(spec);
  if (has === undefined) {
    has = Object.values(spec).some((f) => f.required === true);
    specsWithRequired.set(spec, has);
  }
  return has;
}

/**
 * Checks `options` against `spec`: a plain object (or undefined: no options), no unknown keys, and
 * every field valid. Collects every problem and throws one typed error listing them all. Returns
 * the options typed by the spec. `prefix` names nested objects ("reconnectStrategy.").
 */
export function validateOptions<S extends Spec>(
  where: string,
  options: unknown,
  spec: S,
  makeError: OptionsErrorFactory,
  settings: { hints?: Readonly<Record<string, string>>; prefix?: string; more?: (o: Parsed<S>) => OptionProblem[] } = {},
): Parsed<S> {
  // Absent per-call options (a getOrSet without a TTL, on every request) have nothing to check unless
  // the spec requires a field or has a cross-field rule: skip building the problem lists.
  if (options === undefined && settings.more === undefined && !hasRequiredField(spec)) return {} as Parsed<S>;
  const prefix = settings.prefix ?? "";
  const record = options === undefined ? {} : asRecord(where, options, prefix, makeError);
  const problems = specProblems(record, spec, settings.hints, prefix);
  // Cross-field rules run only on fields that are each valid, so they never see a wrong type.
  if (problems.length === 0 && settings.more) problems.push(...settings.more(record as Parsed<S>));
  throwProblems(where, problems, makeError);
  return record as Parsed<S>;
}

/**
 * The keys of T as the list checkOptions takes, checked by the compiler both ways (the key-list form of SpecFor):
 * `keysOf<CreateRuntimeOptions>()("config", ...)` does not compile if it misses a key of T or names another.
 */
export function keysOf<T>() {
  return <const L extends readonly (keyof T & string)[]>(
    ...keys: L & ([Exclude<keyof T, L[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, L[number]> })
  ): L => keys;
}

/**
 * The key check alone, for options whose values are checked elsewhere (zod settings, nested parts):
 * `options` is a plain object (or undefined) whose own keys are all in `known`. Every unknown key is
 * reported at once with a did-you-mean, or with the caller's hint for that key.
 */
export function checkOptions(
  where: string,
  options: unknown,
  known: readonly string[],
  makeError: OptionsErrorFactory,
  hints: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  if (options === undefined) return {};
  const record = asRecord(where, options, "", makeError);
  throwProblems(where, unknownKeyProblems(record, known, hints), makeError);
  return record;
}

/** A zod (v4) schema's object shape at `path`, through default/prefault/optional wrappers; undefined when none. */
function zodShapeKeys(schema: unknown, path: readonly PropertyKey[]): string[] | undefined {
  type Node = { shape?: Record<string, unknown>; _zod?: { def?: { innerType?: unknown } } } | undefined;
  const unwrap = (n: Node): Node => {
    while (n?._zod?.def?.innerType) n = n._zod.def.innerType as Node;
    return n;
  };
  let node = unwrap(schema as Node);
  for (const part of path) node = unwrap(node?.shape?.[String(part)] as Node);
  return node?.shape ? Object.keys(node.shape) : undefined;
}

/**
 * A nested plain-data value (a settings block zod will parse) whose objects have a replaced
 * prototype: zod reads inherited keys, so `Object.create({ maxSize: 1e9 })` would pass unseen.
 */
export function prototypeProblems(value: unknown, path: string, depth = 0): OptionProblem[] {
  if (typeof value !== "object" || value === null || depth > 8) return [];
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
    return [
      {
        key: `${path}.__proto__`,
        message: "pass a plain object literal (settings set through a prototype would be read unseen)",
      },
    ];
  return Object.entries(value).flatMap(([k, v]) => prototypeProblems(v, `${path}.${k}`, depth + 1));
}

/**
 * Problems of a zod (v4) parse, all of them, each with its path under `prefix`, the value as written
 * (read from `input`, since zod's issues do not carry it) and zod's message. With `schema`, an
 * unknown key gets the known ones and a did-you-mean, as everywhere else.
 */
export function zodProblems(
  issues: readonly { path: readonly PropertyKey[]; message: string; code: string; keys?: readonly string[] }[],
  input: unknown,
  prefix: string,
  schema?: unknown,
): OptionProblem[] {
  return issues.flatMap((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
    if (issue.code === "unrecognized_keys" && issue.keys) {
      const known = zodShapeKeys(schema, issue.path) ?? [];
      const record = Object.fromEntries(issue.keys.map((k) => [k, true]));
      return unknownKeyProblems(record, known, {}, path.length ? `${path.join(".")}.` : "").map((p) =>
        known.length ? p : { ...p, message: p.message.replace(/; known options are $/, "") },
      );
    }
    let value: unknown = input;
    for (const part of issue.path) value = value == null ? undefined : (value as Record<PropertyKey, unknown>)[part];
    return [{ key: path.join(".") || "options", message: `${issue.message}, got ${showValue(value)}` }];
  });
}
