/**
 * Issue #21's property: random bad values fed to every public option (the surface table) are always
 * that call's typed error (a UaipError naming the key), never an untyped error, never a hang. Sizes,
 * where a wrong value can abort the process, run in a child process with a small heap
 * (heap-child.ts): the child must exit cleanly, never with V8's "Reached heap limit".
 */
import { fork } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { UaipError } from "./public-surface";
import { closeShared, dispose, ENTRIES, type Kind } from "./surface";

afterAll(closeShared);

/** Longest a refusal may take; a validator that loops or waits on I/O fails here. */
const BOUND_MS = 5_000;

async function bounded(call: () => unknown): Promise<{ error?: unknown; made?: unknown; timedOut?: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ timedOut: true }>((resolve) => (timer = setTimeout(() => resolve({ timedOut: true }), BOUND_MS)));
  const run = (async () => {
    try {
      return { made: await call() };
    } catch (error) {
      return { error };
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const notANumber = fc.oneof(
  fc.bigInt(),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
  fc.string().map((s) => Symbol(s)),
);
const badNumber = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300, -1, -0.5),
  fc.double({ min: -1e308, max: -1, noNaN: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.double({ min: 2 ** 53, max: 1e308, noNaN: true }),
);
const notAnObject = fc.oneof(fc.string(), fc.integer(), fc.bigInt(), fc.constant(null), fc.boolean());

/** Values that are invalid for a field of each kind, whatever its exact range. */
const BAD: Record<Kind, fc.Arbitrary<unknown>> = {
  duration0: fc.oneof(notANumber, badNumber, fc.integer({ min: 2 ** 31, max: 2 ** 52 })),
  duration1: fc.oneof(notANumber, badNumber, fc.integer({ min: 2 ** 31, max: 2 ** 52 }), fc.constant(0)),
  count: fc.oneof(notANumber, badNumber),
  size: fc.oneof(notANumber, badNumber),
  fraction: fc.oneof(
    notANumber,
    fc.double().filter((x) => !(x >= 0 && x < 1)),
  ),
  // `true`, not any boolean: `false` is a valid value of string options that can be turned off (uaipFastify's metricsPath).
  string: fc.oneof(fc.integer(), fc.bigInt(), fc.constant(null), fc.constant(true), fc.array(fc.string(), { maxLength: 2 })),
  bool: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object({ maxDepth: 0 })),
  func: fc.oneof(notAnObject, fc.object({ maxDepth: 1 })),
  object: notAnObject,
  list: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.integer(), { minLength: 1, maxLength: 3 })),
};

const fieldCases = ENTRIES.flatMap((entry) => Object.entries(entry.fields).map(([key, kind]) => ({ entry, key, kind })));

describe("random bad values to every public option", () => {
  it("are each that call's typed error naming the key, within the time bound", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fieldCases).chain((c) => fc.tuple(fc.constant(c), BAD[c.kind])),
        async ([{ entry, key }, value]) => {
          const r = await bounded(() => entry.call({ ...entry.valid, [key]: value }));
          if (r.made !== undefined) await dispose(r.made);
          expect(r.timedOut).toBeUndefined();
          expect(r.error).toBeInstanceOf(UaipError);
          expect((r.error as Error).message).toContain(`${entry.keyPrefix ?? ""}${key}`);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("any value at all as the options object is accepted or refused with a typed error, never an untyped one", async () => {
    const anything = fc.anything({ withBigInt: true, withNullPrototype: true, withObjectString: true, maxDepth: 2 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENTRIES), anything, async (entry, options) => {
        const r = await bounded(() => entry.call(options));
        if (r.made !== undefined) await dispose(r.made);
        expect(r.timedOut).toBeUndefined();
        if (r.error !== undefined) {
          expect(r.error).toBeInstanceOf(UaipError);
          expect(typeof (r.error as UaipError).code).toBe("string");
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("sizes in a child process with a 64 MiB heap", () => {
  it("random sizes never abort the process: each is used or refused with a typed error", async () => {
    const child = fork(join(__dirname, "heap-child.ts"), [], {
      execArgv: ["--max-old-space-size=64", "--import", "tsx"],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("exit", (c, s) => resolve([c, s])),
    );
    expect(stderr).not.toMatch(/heap limit|FATAL ERROR|Invalid array length/);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const report = JSON.parse(stdout.trim().split("\n").pop()!) as {
      untyped: string[];
      refused: number;
      accepted: number;
      atCap: string;
      quoted: Record<string, string>;
    };
    expect(report.untyped).toEqual([]);
    expect(report.refused).toBeGreaterThan(0);
    expect(report.accepted).toBeGreaterThan(0);
    // The largest count the cap allows is built and used; the quoted values are refused by name.
    expect(report.atCap).toBe("built and used");
    expect(report.quoted).toEqual({ "1000000000": "UAIP_CACHE_INVALID_OPTIONS", "10000000000": "UAIP_CACHE_INVALID_OPTIONS" });
  }, 120_000);
});
