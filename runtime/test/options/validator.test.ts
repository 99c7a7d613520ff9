/**
 * The one option validator (runtime/src/options.ts) at its edges: each limit on both sides, values
 * shown as written, every bad key at once, and the did-you-mean. Expectations come from the platform
 * (Node's timer limit, V8's heap statistics), not from the validator's own constants.
 */
import { spawnSync } from "node:child_process";
import { getHeapStatistics } from "node:v8";
import fc from "fast-check";
import { CacheManager, MemoryStore, MessageBatcher, RealtimeOptionsError, UaipError, WebSocketManager } from "./public-surface";
import { didYouMean, duration, editDistance, fieldProblem, showValue, size, validateOptions } from "../../src/options";

/** Node's limit, from its own documentation: a delay above 2147483647 ms is set to 1 ms. */
const NODE_TIMER_LIMIT = 2147483647;

const error = (key: string, message: string) => new RealtimeOptionsError(key, message);

describe("Duration: every interval and timeout, 1 (or 0) to 2^31-1 ms", () => {
  it("accepts 2^31-1 ms and refuses 2^31 ms, on a real constructor", () => {
    const ok = new MessageBatcher({ broadcast: async () => undefined, flushInterval: NODE_TIMER_LIMIT });
    expect(ok.flushInterval).toBe(NODE_TIMER_LIMIT);
    void ok.close();
    expect(() => new MessageBatcher({ broadcast: async () => undefined, flushInterval: NODE_TIMER_LIMIT + 1 })).toThrow(
      /flushInterval: expected an integer number of ms from 1 to 2147483647, got 2147483648; Node fires/,
    );
  });

  it("Node really fires a timer of 2^31 ms at once (why the rule exists)", () => {
    // In a child process: the TimeoutOverflowWarning goes to the real process's stderr, which a spy on
    // jest's sandboxed `process` does not reach (CI printed it). The child's stderr is asserted instead.
    const child = spawnSync(
      process.execPath,
      [
        "-e",
        `const t = setTimeout(() => { console.log("fired"); clearTimeout(g); }, ${NODE_TIMER_LIMIT + 1}); const g = setTimeout(() => { clearTimeout(t); console.log("waited"); }, 2000);`,
      ],
      { encoding: "utf8" },
    );
    expect(child.stdout.trim()).toBe("fired");
    expect(child.stderr).toContain("TimeoutOverflowWarning");
  });

  it("0 is refused where 1 is the minimum and accepted where 0 means off", () => {
    expect(fieldProblem("d", 0, duration(1))).toBeDefined();
    expect(fieldProblem("d", 1, duration(1))).toBeUndefined();
    expect(fieldProblem("d", 0, duration(0))).toBeUndefined();
    expect(fieldProblem("d", -1, duration(0))).toBeDefined();
  });

  it("seconds are capped at the same instant: floor((2^31-1) / 1000) s", () => {
    const max = Math.floor(NODE_TIMER_LIMIT / 1000);
    expect(fieldProblem("s", max, duration(1, "s"))).toBeUndefined();
    expect(fieldProblem("s", max + 1, duration(1, "s"))).toBeDefined();
  });

  it("property: an integer is accepted exactly when it lies in [1, 2^31-1]", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (n) => {
        const accepted = fieldProblem("d", n, duration(1)) === undefined;
        expect(accepted).toBe(n >= 1 && n <= NODE_TIMER_LIMIT);
      }),
    );
  });
});

describe("Size: capped at a quarter of the heap limit, on both sides of the cap", () => {
  // The limit V8 enforces: --max-old-space-size when given (the last one wins), else heap_size_limit.
  const flags = [process.env.NODE_OPTIONS ?? "", ...process.execArgv].join(" ").match(/--max[-_]old[-_]space[-_]size=(\d+)/g);
  const flagBytes = flags ? Number(flags[flags.length - 1].split("=")[1]) * 2 ** 20 : Number.POSITIVE_INFINITY;
  const heap = Math.min(flagBytes, getHeapStatistics().heap_size_limit);

  it("bytes: a quarter of the heap is accepted, one byte more is refused with the numbers and the fix", () => {
    const cap = Math.floor(heap / 4);
    expect(fieldProblem("maxBytes", cap, size("bytes"))).toBeUndefined();
    const over = fieldProblem("maxBytes", cap + 1, size("bytes"));
    expect(over?.message).toContain(`use at most ${cap}`);
    expect(over?.message).toContain(`${Math.round(heap / 2 ** 20)} MiB`);
    expect(over?.message).toContain("--max-old-space-size");
  });

  it("entries of the L1 cache: a quarter of the heap over the documented 64-byte floor; CacheManager refuses one more, before allocating", () => {
    const cap = Math.floor(heap / 4 / 64);
    expect(fieldProblem("maxSize", cap, size("entries", 64))).toBeUndefined();
    expect(fieldProblem("maxSize", cap + 1, size("entries", 64))).toBeDefined();
    expect(() => new CacheManager({ memory: { maxSize: cap + 1 } })).toThrow(
      expect.objectContaining({ key: "config.memory.maxSize" }),
    );
    // The quoted cases: 1e9 aborted the process after 10 s, 1e10 threw RangeError: Invalid array length.
    for (const maxSize of [1e9, 1e10]) {
      expect(() => new CacheManager({ memory: { maxSize } })).toThrow(new RegExp(`got ${maxSize}; .*use at most ${cap}`));
    }
  });

  it("a rate-limit MemoryStore's maxKeys is capped the same way (128 bytes a key)", () => {
    const cap = Math.floor(heap / 4 / 128);
    const store = new MemoryStore({ maxKeys: cap });
    void store.close();
    expect(() => new MemoryStore({ maxKeys: cap + 1 })).toThrow(UaipError);
  });

  it("WebSocket frame and buffer sizes too", () => {
    const cap = Math.floor(heap / 4);
    expect(() => new WebSocketManager({ maxConnections: 1, heartbeatInterval: 1_000 }, { maxPayload: cap + 1 })).toThrow(
      /maxPayload: .*use at most/,
    );
  });
});

describe("values are shown as written, and showing never throws", () => {
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  it.each([
    [10n, "10n"],
    [Symbol("s"), "Symbol(s)"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
    [Number.NEGATIVE_INFINITY, "-Infinity"],
    [-0, "-0"],
    [1e300, "1e+300"],
    ["text", '"text"'],
    [undefined, "undefined"],
    [null, "null"],
  ])("%p is shown as %s", (value, shown) => {
    expect(showValue(value)).toBe(shown);
  });

  it("a circular object, a function and a revoked proxy", () => {
    expect(showValue(loop)).toContain("[Circular");
    expect(showValue(function named() {})).toContain("named");
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(typeof showValue(proxy)).toBe("string");
  });

  it("property: any value at all is shown without throwing, in at most ~200 characters", () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }),
        (v) => {
          expect(showValue(v).length).toBeLessThanOrEqual(202);
        },
      ),
    );
  });
});

describe("unknown keys: all at once, each with the known ones and a did-you-mean", () => {
  const spec = { heartbeatInterval: duration(1), maxConnections: duration(1) };

  it("two typos and a wrong value in one object are three problems in one error", () => {
    let err: UaipError | undefined;
    try {
      validateOptions("Thing", { heartbeatIntervall: 1, maxConection: 2, maxConnections: -5 }, spec, error);
    } catch (e) {
      err = e as UaipError;
    }
    expect(err).toBeInstanceOf(RealtimeOptionsError);
    expect(err!.problems!.map((p) => p.key)).toEqual(["heartbeatIntervall", "maxConection", "maxConnections"]);
    expect(err!.message).toContain('did you mean "heartbeatInterval"');
    expect(err!.message).toContain('did you mean "maxConnections"');
    expect(err!.message).toContain("got -5");
    expect(err!.message).toContain("known options are heartbeatInterval, maxConnections");
  });

  it("symbol keys and __proto__ are unknown keys too", () => {
    expect(() => validateOptions("T", { [Symbol("k")]: 1 }, spec, error)).toThrow(/Symbol\(k\)/);
    expect(() => validateOptions("T", JSON.parse('{"__proto__": {}}'), spec, error)).toThrow(/__proto__/);
  });

  it("did-you-mean: transpositions, one missing letter, a case slip, a prefix; nothing for unrelated words", () => {
    const known = ["ttl", "hops", "host", "maxConnections"];
    expect(didYouMean("tll", known)).toBe("ttl");
    expect(didYouMean("hop", known)).toBe("hops");
    expect(didYouMean("MaxConnections", known)).toBe("maxConnections");
    expect(didYouMean("hostname", known)).toBe("host");
    expect(didYouMean("banana", known)).toBeUndefined();
  });

  it("edit distance is a metric with transpositions (checked against its definition on small strings)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (a, b) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
      }),
    );
  });
});
