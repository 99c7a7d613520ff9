/**
 * Every runtime timer goes through runtime/src/timer.ts: a delay above Node's limit (2^31 − 1 ms)
 * waits the limit instead of firing after 1 ms. The limit here is Node's documented number, not the
 * helper's constant; eslint (no-restricted-globals in eslint.config.mjs) keeps setTimeout/setInterval
 * out of the rest of runtime/src, which the last test checks on the source itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { setRepeating, setTimer, timerDelay } from "../src/timer";
import { UaipError } from "../src/errors";
import { commandOptions } from "../src/cache/connection";

/** Node's documentation: "When delay is larger than 2147483647 or less than 1, the delay will be set to 1." */
const NODE_TIMER_LIMIT = 2147483647;

describe("timerDelay: the delay every runtime timer gets", () => {
  it("property: a delay within [0, 2^31 − 1] is kept, a longer one waits the limit, a negative one is 0", () => {
    fc.assert(
      fc.property(fc.double({ min: -(2 ** 53), max: 2 ** 53, noNaN: true }), (ms) => {
        const expected = ms <= 0 ? 0 : ms > NODE_TIMER_LIMIT ? NODE_TIMER_LIMIT : ms;
        expect(timerDelay(ms)).toBe(expected);
      }),
    );
  });

  it.each([
    [NODE_TIMER_LIMIT - 1, NODE_TIMER_LIMIT - 1],
    [NODE_TIMER_LIMIT, NODE_TIMER_LIMIT],
    [NODE_TIMER_LIMIT + 1, NODE_TIMER_LIMIT],
    [10 * NODE_TIMER_LIMIT, NODE_TIMER_LIMIT],
    [Number.POSITIVE_INFINITY, NODE_TIMER_LIMIT],
    [0, 0],
    [-1, 0],
  ])("%d ms -> %d ms", (ms, expected) => {
    expect(timerDelay(ms)).toBe(expected);
  });

  it("NaN is refused with a typed error, not turned into 1 ms", () => {
    expect(() => timerDelay(Number.NaN)).toThrow(UaipError);
    expect(() => timerDelay(Number.NaN)).toThrow(expect.objectContaining({ code: "UAIP_TIMER_DELAY_INVALID" }));
  });

  it("a real timer of 2^31 ms (or 10 x the limit) does not fire at once, where a raw setTimeout would after 1 ms", async () => {
    let fired = 0;
    const timers = [setTimer(() => fired++, NODE_TIMER_LIMIT + 1), setRepeating(() => fired++, 10 * NODE_TIMER_LIMIT)];
    await new Promise((r) => setTimeout(r, 100));
    timers.forEach((t) => clearTimeout(t));
    expect(fired).toBe(0);
  });

  it("a delay handed to a library's timer is clamped too: ioredis's connect timeout, 10 x a valid command timeout", () => {
    for (const commandTimeoutMs of [NODE_TIMER_LIMIT / 10 - 1, NODE_TIMER_LIMIT / 10 + 1, NODE_TIMER_LIMIT]) {
      const { connectTimeout } = commandOptions({ host: "127.0.0.1", port: 6379, tls: false, commandTimeoutMs });
      expect(connectTimeout).toBe(Math.min(10 * commandTimeoutMs, NODE_TIMER_LIMIT));
    }
  });

  it("no file of runtime/src but timer.ts calls setTimeout or setInterval (eslint refuses them too)", () => {
    const src = join(__dirname, "../src");
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
      );
    const offenders = files(src)
      .filter((f) => f.endsWith(".ts") && relative(src, f) !== "timer.ts")
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ where: `${relative(src, f)}:${i + 1}`, line }))
          .filter(({ line }) => /(?<![\w.])(setTimeout|setInterval)\s*\(/.test(line.replace(/\/\/.*$/, ""))),
      )
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });
});
