/**
 * MemoryStore against a model (issue #22): a key's usage is whatever its per-window history says, read at the
 * current moment, whatever happened in between (hits of any weight, penalties and rewards, deletes, clock jumps
 * across one or several windows, a window size changed for the key). The model keeps every window's count in a
 * plain map and applies the documented rule itself; the store keeps two counters per key. Plus the
 * sweep and the key cap at their exact edges, and the options on both sides of each bound.
 */
import fc from "fast-check";
import { RateLimitOptionsError } from "../../src/ratelimit/errors";
import { MemoryStore } from "../../src/ratelimit/memory-store";

/** Every window's count per key: the whole history, not a rolling pair. */
class Model {
  readonly keys = new Map<string, { w: number; counts: Map<number, number> }>();

  read(key: string, w: number, now: number) {
    const idx = Math.floor(now / w);
    const elapsed = now - idx * w;
    const k = this.keys.get(key);
    const counts = k && k.w === w ? k.counts : new Map<number, number>();
    return { idx, elapsed, prev: counts.get(idx - 1) ?? 0, curr: counts.get(idx) ?? 0 };
  }

  write(key: string, w: number, idx: number, prev: number, curr: number): void {
    let k = this.keys.get(key);
    if (!k || k.w !== w) this.keys.set(key, (k = { w, counts: new Map() }));
    k.counts.set(idx - 1, prev);
    k.counts.set(idx, curr);
  }

  /** Admitted when the previous window's share (spread evenly) plus the current count, with this hit, fits. */
  hit(key: string, w: number, limit: number, points: number, now: number): boolean {
    const { idx, elapsed, prev, curr } = this.read(key, w, now);
    const allowed = prev * ((w - elapsed) / w) + curr + points <= limit + 1e-9;
    if (allowed) this.write(key, w, idx, prev, curr + points);
    return allowed;
  }

  /** A penalty adds to the current window; a reward takes from the current window, then the previous, never below 0. */
  adjust(key: string, w: number, points: number, now: number): void {
    const { idx, prev, curr } = this.read(key, w, now);
    let [p, c] = [prev, curr + points];
    if (points < 0) {
      let back = -points;
      c = Math.max(0, curr - back);
      back -= curr - c;
      p = Math.max(0, prev - back);
    }
    // A key with no usage left is not kept.
    if (p === 0 && c === 0) this.keys.delete(key);
    else this.write(key, w, idx, p, c);
  }

  /** Hits of one point admitted in a row right now. */
  remaining(key: string, w: number, limit: number, now: number): number {
    const { elapsed, prev, curr } = this.read(key, w, now);
    return Math.max(0, Math.floor(limit - prev * ((w - elapsed) / w) - curr + 1e-9));
  }
}

type Step =
  | { op: "hit"; key: string; points: number }
  | { op: "adjust"; key: string; points: number }
  | { op: "delete"; key: string }
  | { op: "advance"; ms: number }
  | { op: "resize"; key: string };

const key = fc.constantFrom("a", "b");
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("hit" as const), key, points: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("adjust" as const), key, points: fc.integer({ min: -4, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.constantFrom(100, 200, 300, 1)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("resize" as const), key }) },
);

describe("MemoryStore agrees with the window-history model", () => {
  it("for any sequence of hits, adjustments, deletes, clock steps and window changes (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(step, { maxLength: 40 }),
        async (start, limit, steps) => {
          let now = start;
          const store = new MemoryStore({ now: () => now });
          const model = new Model();
          const windowOf = new Map<string, number>([
            ["a", 100],
            ["b", 100],
          ]);
          try {
            for (const s of steps) {
              if (s.op === "advance") now += s.ms;
              else if (s.op === "resize") windowOf.set(s.key, windowOf.get(s.key) === 100 ? 50 : 100);
              else if (s.op === "delete") {
                expect(await store.delete(s.key)).toBe(model.keys.delete(s.key));
              } else if (s.op === "adjust") {
                const w = windowOf.get(s.key)!;
                await store.adjust(s.key, w, limit, s.points);
                model.adjust(s.key, w, s.points, now);
              } else {
                const w = windowOf.get(s.key)!;
                const points = Math.min(s.points, limit);
                expect({ step: s, now, allowed: store.hitSync(s.key, w, limit, points).allowed }).toEqual({
                  step: s,
                  now,
                  allowed: model.hit(s.key, w, limit, points, now),
                });
              }
              for (const k of ["a", "b"]) {
                const w = windowOf.get(k)!;
                expect({ key: k, now, remaining: (await store.peek(k, w, limit)).remaining }).toEqual({
                  key: k,
                  now,
                  remaining: model.remaining(k, w, limit, now),
                });
              }
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("MemoryStore memory bounds at their edges", () => {
  it("a key is swept once its window and the next have both passed, not 1 ms before", () => {
    let now = 1_250; // window 12 of 100 ms
    const store = new MemoryStore({ now: () => now });
    store.hitSync("k", 100, 5);
    now = 1_399; // window 13 still counts window 12 as its previous one
    store.sweep();
    expect(store.size).toBe(1);
    now = 1_400;
    store.sweep();
    expect(store.size).toBe(0);
    void store.close();
  });

  it("holds exactly maxKeys keys; one more drops the first inserted, not the one just used", async () => {
    const store = new MemoryStore({ now: () => 0, maxKeys: 3 });
    for (const k of ["k1", "k2", "k3"]) store.hitSync(k, 1_000, 10);
    expect(store.size).toBe(3);
    store.hitSync("k1", 1_000, 10); // used again (2 hits): still the first inserted
    store.hitSync("k4", 1_000, 10);
    expect(store.size).toBe(3);
    // k1 was dropped (it would have 8 left, not 10); k2 and k3 kept their hit.
    expect((await store.peek("k1", 1_000, 10)).remaining).toBe(10);
    expect((await store.peek("k2", 1_000, 10)).remaining).toBe(9);
    expect((await store.peek("k3", 1_000, 10)).remaining).toBe(9);
    await store.close();
  });

  it("when full, expired keys are swept before any live key is dropped", () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now, maxKeys: 2 });
    store.hitSync("old", 100, 10);
    now = 150;
    store.hitSync("live", 100, 10);
    now = 200; // "old" (window 0) has expired; "live" (window 1) has not
    store.hitSync("new", 100, 10);
    expect(store.size).toBe(2);
    expect(store.hitSync("live", 100, 10).remaining).toBe(10 - 2);
  });

  it("a refused hit stores nothing for a new key, and a reward to zero forgets the key", async () => {
    const store = new MemoryStore({ now: () => 0 });
    expect(store.hitSync("heavy", 1_000, 2, 3).allowed).toBe(false);
    expect(store.size).toBe(0);
    store.hitSync("k", 1_000, 5, 2);
    await store.adjust("k", 1_000, 5, -2);
    expect(store.size).toBe(0);
    await store.close();
  });

  it("close() clears the keys", async () => {
    const store = new MemoryStore({ now: () => 0 });
    store.hitSync("k", 1_000, 5);
    await store.close();
    expect(store.size).toBe(0);
  });
});

describe("MemoryStore options", () => {
  it.each([
    ["maxKeys", 0, 1],
    ["maxKeys", 1.5, 2],
    ["sweepIntervalMs", 0, 1],
    ["now", 5, () => 0],
  ] as [string, unknown, unknown][])("%s: %j refused by name, %j accepted", async (k, bad, good) => {
    expect(() => new MemoryStore({ [k]: bad } as never)).toThrow(expect.objectContaining({ key: k }));
    expect(() => new MemoryStore({ [k]: bad } as never)).toThrow(RateLimitOptionsError);
    expect(() => new MemoryStore({ [k]: bad } as never)).toThrow("MemoryStore: ");
    const store = new MemoryStore({ [k]: good } as never);
    await store.close();
  });

  it("sweeps on its own every sweepIntervalMs", async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now, sweepIntervalMs: 5 });
    store.hitSync("k", 10, 5);
    now = 20;
    await new Promise((r) => setTimeout(r, 60));
    expect(store.size).toBe(0);
    await store.close();
  });

  it("its sweep timer keeps no process alive, and close() stops it (the clock is read no more)", async () => {
    const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = refTimers();
    let reads = 0;
    const store = new MemoryStore({ now: () => (reads++, 0), sweepIntervalMs: 5 });
    expect(refTimers()).toBe(before);
    await new Promise((r) => setTimeout(r, 40));
    expect(reads).toBeGreaterThan(0); // swept meanwhile
    await store.close();
    const atClose = reads;
    await new Promise((r) => setTimeout(r, 40));
    expect(reads).toBe(atClose);
  });

  it("hit and hitNow answer like hitSync", async () => {
    const now = 0;
    const a = new MemoryStore({ now: () => now });
    expect(await a.hit("k", 1_000, 3, 2)).toEqual({ allowed: true, remaining: 1, resetMs: 2_000, retryAfterMs: 0 });
    expect(a.hitNow("k", 1_000, 3)).toMatchObject({ allowed: true, remaining: 0 });
    expect(a.hitNow("k", 1_000, 3)).toMatchObject({ allowed: false });
    await a.close();
  });
});
