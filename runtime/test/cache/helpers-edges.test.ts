/**
 * Edges of the cache's small parts (issue #22): the breaker's thresholds and transitions on both sides of
 * each bound, the deadline sweeper's one shared interval, and the CDN path rules as properties whose
 * expectations are computed here, not by the helpers under test.
 */
import fc from "fast-check";
import { CircuitBreaker, type BreakerState } from "../../src/cache/breaker";
import { batchPaths, patternToPath, prunePaths } from "../../src/cache/cdn";
import { Deadlines } from "../../src/cache/deadlines";
import { CacheOptionsError } from "../../src/cache/errors";
import { eventSink, type CacheEvent } from "../../src/cache/events";

function breaker(options: ConstructorParameters<typeof CircuitBreaker>[0] = {}) {
  const clock = { now: 0 };
  const changes: [BreakerState, BreakerState][] = [];
  const b = new CircuitBreaker({ now: () => clock.now, ...options }, undefined, undefined, (from, to) =>
    changes.push([from, to]),
  );
  return { b, clock, changes };
}

describe("CircuitBreaker edges", () => {
  it("opens at the failureThreshold-th consecutive failure, not one before (property over the threshold)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (threshold) => {
        const { b } = breaker({ failureThreshold: threshold });
        for (let i = 1; i < threshold; i++) b.failure();
        expect(b.state).toBe("closed");
        expect(b.allow()).toBe(true);
        b.failure();
        expect(b.state).toBe("open");
        expect(b.allow()).toBe(false);
      }),
    );
  });

  it("defaults: 5 failures open it, and the probe is allowed 1000 ms after, not 999", () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 4; i++) b.failure();
    expect(b.state).toBe("closed");
    b.failure();
    expect(b.state).toBe("open");
    clock.now = 999;
    expect(b.allow()).toBe(false);
    clock.now = 1_000;
    expect(b.allow()).toBe(true);
    expect(b.state).toBe("half-open");
  });

  it("reports each state change once: no closed->closed on success, no open->open on late failures", () => {
    const { b, clock, changes } = breaker({ failureThreshold: 2, cooldownMs: 10 });
    b.success();
    b.failure();
    expect(changes).toEqual([]);
    b.failure(); // opens
    b.failure(); // a call already in flight fails late: still open, no second event
    expect(b.allow()).toBe(false);
    clock.now = 10;
    expect(b.allow()).toBe(true);
    b.failure(); // the probe fails: open again
    clock.now = 20;
    expect(b.allow()).toBe(true);
    b.success();
    b.success();
    expect(changes).toEqual([
      ["closed", "open"],
      ["open", "half-open"],
      ["half-open", "open"],
      ["open", "half-open"],
      ["half-open", "closed"],
    ]);
  });

  it("a failed probe restarts the cool-down from its own failure, not from the first opening", () => {
    const { b, clock } = breaker({ failureThreshold: 1, cooldownMs: 100 });
    b.failure();
    clock.now = 150;
    expect(b.allow()).toBe(true);
    b.failure();
    clock.now = 249;
    expect(b.allow()).toBe(false);
    clock.now = 250;
    expect(b.allow()).toBe(true);
  });

  it("after closing, the failure count starts again from zero", () => {
    const { b, clock } = breaker({ failureThreshold: 2, cooldownMs: 0 });
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true); // cooldown 0: probe at once
    b.success();
    b.failure();
    expect(b.state).toBe("closed");
    clock.now = 1;
    b.failure();
    expect(b.state).toBe("open");
  });

  it.each([
    [{ failureThreshold: 0 }, "breaker.failureThreshold"],
    [{ failureThreshold: 1.5 }, "breaker.failureThreshold"],
    [{ cooldownMs: -1 }, "breaker.cooldownMs"],
    [{ now: 5 }, "breaker.now"],
  ])("refuses %j by name (%s)", (options, key) => {
    const make = () => new CircuitBreaker(options as never, (k, m) => new CacheOptionsError(k, m));
    expect(make).toThrow(expect.objectContaining({ key }));
    expect(() => new CircuitBreaker(options as never)).toThrow(expect.objectContaining({ code: "UAIP_BREAKER_OPTIONS_INVALID" }));
    // The message names the owner and the key, so a log line says what to fix.
    expect(() => new CircuitBreaker(options as never)).toThrow(new RegExp(`CircuitBreaker: .*${key.replace(".", "\\.")}`));
  });

  it("accepts the lowest values on the other side of each bound", () => {
    expect(() => new CircuitBreaker({ failureThreshold: 1, cooldownMs: 0 })).not.toThrow();
  });
});

describe("Deadlines edges", () => {
  afterEach(() => jest.restoreAllMocks());

  it("shares one interval among pending commands, stops it when none is left, and starts a new one for the next", async () => {
    const setSpy = jest.spyOn(global, "setInterval");
    const clearSpy = jest.spyOn(global, "clearInterval");
    const d = new Deadlines(2);
    const never = new Promise<never>(() => undefined);
    const all = [d.guard(never, 5), d.guard(never, 5), d.guard(Promise.resolve(1), 5)];
    expect(setSpy).toHaveBeenCalledTimes(1);
    const results = await Promise.allSettled(all);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    const timer = setSpy.mock.results[0].value;
    expect(clearSpy).toHaveBeenCalledWith(timer);
    // After the interval stopped, a new command still times out (a new interval is started for it).
    await expect(d.guard(never, 5)).rejects.toThrow("redis command timed out");
    expect(setSpy).toHaveBeenCalledTimes(2);
    d.close();
  });

  it("keeps sweeping while a command is still pending after another one timed out", async () => {
    const d = new Deadlines(2);
    const never = new Promise<never>(() => undefined);
    const early = d.guard(never, 5);
    const late = d.guard(never, 60);
    await expect(early).rejects.toThrow("timed out");
    const t = performance.now();
    await expect(late).rejects.toThrow("timed out");
    expect(performance.now() - t).toBeGreaterThan(0);
    d.close();
  });

  it("never rejects a command before its time: one that settles well within it resolves, on the finest tick", async () => {
    const d = new Deadlines(1);
    const slow = new Promise((resolve) => setTimeout(() => resolve("late but in time"), 50));
    await expect(d.guard(slow, 10_000)).resolves.toBe("late but in time");
    d.close();
  });

  it("a tick of 0 still sweeps (raised to 1 ms)", async () => {
    const d = new Deadlines(0);
    await expect(d.guard(new Promise<never>(() => undefined), 3)).rejects.toThrow("timed out");
    d.close();
  });
});

/**
 * True when the CDN path `covering` purges everything `path` purges (CloudFront: `*` only at the end, a prefix
 * match): a literal path is covered by a wildcard whose prefix it starts with; a wildcard path by a wildcard
 * whose prefix its own prefix starts with.
 */
function covers(covering: string, path: string): boolean {
  if (covering === path) return true;
  if (!covering.endsWith("*")) return false;
  const purged = path.endsWith("*") ? path.slice(0, -1) : path;
  return purged.startsWith(covering.slice(0, -1));
}

const pathChars = fc.constantFrom("/", "a", "b", "*");
const cdnPath = fc.array(pathChars, { minLength: 1, maxLength: 5 }).map((a) => `/${a.join("")}`);

describe("CDN path rules (properties)", () => {
  it("patternToPath: a path that starts with /, cut at the first glob operator into one trailing *, escapes made literal", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("/", "a", "*", "?", "[", "\\"), { maxLength: 8 }).map((a) => a.join("")),
        (pattern) => {
          // Independent reading: the literal characters before the first unescaped operator.
          let literal = "";
          let cut = false;
          for (let i = 0; i < pattern.length; i++) {
            if (pattern[i] === "\\" && i + 1 < pattern.length) literal += pattern[++i];
            else if ("*?[".includes(pattern[i])) {
              cut = true;
              break;
            } else literal += pattern[i];
          }
          const expected = (literal.startsWith("/") ? literal : `/${literal}`) + (cut ? "*" : "");
          expect(patternToPath(pattern)).toBe(expected);
        },
      ),
    );
  });

  it("patternToPath refuses a non-string pattern by name", () => {
    expect(() => patternToPath(42 as never)).toThrow(expect.objectContaining({ code: CacheOptionsError.CODE, key: "pattern" }));
  });

  it("prunePaths keeps every path purged, each once, sorted, and none covered by another kept path", () => {
    fc.assert(
      fc.property(fc.array(cdnPath, { maxLength: 10 }), (paths) => {
        const kept = prunePaths(paths);
        for (const p of paths) expect(kept.some((k) => covers(k, p))).toBe(true);
        expect(new Set(kept).size).toBe(kept.length);
        expect(kept).toEqual([...kept].sort());
        for (const k of kept) expect(kept.filter((other) => other !== k && covers(other, k))).toEqual([]);
        for (const k of kept) expect(paths).toContain(k);
      }),
    );
  });

  it("prunePaths keeps /* when /** is also asked for (a wildcard is compared by its prefix)", () => {
    expect(prunePaths(["/**", "/*"])).toEqual(["/*"]);
    expect(prunePaths(["/a/b**", "/a/b*", "/a/bc"])).toEqual(["/a/b*"]);
  });

  it("batchPaths: order kept, both limits held, and each batch full (the next path would break a limit)", () => {
    fc.assert(
      fc.property(
        fc.array(cdnPath, { maxLength: 14 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        (paths, maxPaths, maxWild) => {
          const wild = (p: string) => (p.endsWith("*") ? 1 : 0);
          const batches = batchPaths(paths, maxPaths, maxWild);
          expect(batches.flat()).toEqual(paths);
          batches.forEach((batch, i) => {
            expect(batch.length).toBeGreaterThan(0);
            const w = batch.reduce((n, p) => n + wild(p), 0);
            expect(batch.length).toBeLessThanOrEqual(maxPaths);
            // A lone wildcard path goes alone when the wildcard limit is 0 (the provider then refuses it by name).
            if (batch.length > 1 || maxWild > 0) expect(w).toBeLessThanOrEqual(Math.max(maxWild, wild(batch[0])));
            const next = batches[i + 1]?.[0];
            if (next !== undefined) expect(batch.length === maxPaths || w + wild(next) > maxWild).toBe(true);
          });
        },
      ),
    );
  });
});

describe("eventSink", () => {
  const event: CacheEvent = { type: "stale", key: "k", ageMs: 5 };

  it("delivers each event to the listener, synchronously, as given", () => {
    const seen: CacheEvent[] = [];
    eventSink((e) => seen.push(e))(event);
    expect(seen).toEqual([event]);
    expect(seen[0]).toBe(event);
  });

  it("a listener that throws stays its own failure; no listener is a no-op", () => {
    let calls = 0;
    const sink = eventSink(() => {
      calls++;
      throw new Error("logger down");
    });
    expect(() => sink(event)).not.toThrow();
    expect(calls).toBe(1);
    expect(eventSink(undefined)(event)).toBeUndefined();
  });
});
