/**
 * The shared deadline sweep behind every L2 command (runtime/src/cache/deadlines.ts): each guarded
 * command settles exactly once, with its own outcome or with a timeout no earlier than its deadline,
 * whatever mix of fast, failing and hung commands share the sweep; and settled commands are dropped
 * even when the event loop never reaches the sweep (replies that all arrive as microtasks).
 */
import fc from "fast-check";
import { Deadlines } from "../../src/cache/deadlines";

type Kind = "value" | "error" | "hang";

describe("Deadlines", () => {
  it("property: every command settles once, as its own outcome or (hung) as a timeout no earlier than its deadline", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom<Kind>("value", "error", "hang"), ms: fc.integer({ min: 5, max: 40 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (commands) => {
          const d = new Deadlines(2);
          const outcomes = await Promise.all(
            commands.map(async ({ kind, ms }, i) => {
              const started = performance.now();
              const command =
                kind === "value"
                  ? Promise.resolve(i)
                  : kind === "error"
                    ? Promise.reject(new Error(`failed ${i}`))
                    : new Promise<number>(() => undefined);
              try {
                return { kind, ms, result: await d.guard(command, ms), elapsed: performance.now() - started };
              } catch (error) {
                return { kind, ms, result: (error as Error).message, elapsed: performance.now() - started };
              }
            }),
          );
          d.close();
          outcomes.forEach(({ kind, ms, result, elapsed }, i) => {
            if (kind === "value") expect(result).toBe(i);
            if (kind === "error") expect(result).toBe(`failed ${i}`);
            if (kind === "hang") {
              expect(result).toBe("redis command timed out");
              // never early (1 ms for the clocks' rounding); late only by the load, which this test does not bound
              expect(elapsed).toBeGreaterThanOrEqual(ms - 1);
            }
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it("a reply after the timeout is dropped: the caller saw the timeout, and only that", async () => {
    const d = new Deadlines(2);
    let reply!: (v: string) => void;
    const guarded = d.guard(new Promise<string>((r) => (reply = r)), 10);
    await expect(guarded).rejects.toThrow("timed out");
    reply("late");
    await expect(guarded).rejects.toThrow("timed out");
    d.close();
  });

  it("100,000 commands answered without a turn of the event loop: the list stays small, and a hung one still times out", async () => {
    const d = new Deadlines(2);
    const hung = d.guard(new Promise(() => undefined), 20);
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      await d.guard(Promise.resolve(i), 1_000);
      most = Math.max(most, d.tracked);
    }
    // one entry pending at a time (plus the hung one): a list of 100,000 would be a leak until the next sweep
    expect(most).toBeLessThanOrEqual(2_048);
    await expect(hung).rejects.toThrow("timed out");
    expect(d.tracked).toBe(0);
    d.close();
  });

  it("close() stops the sweep; a command guarded afterwards starts it again", async () => {
    const d = new Deadlines(2);
    d.close();
    await expect(d.guard(new Promise(() => undefined), 10)).rejects.toThrow("timed out");
    d.close();
  });
});
