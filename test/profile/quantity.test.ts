/**
 * profile/quantity.ts: Kubernetes quantities as numbers (issue #22: no test called it directly). Expectations are
 * Kubernetes's unit definitions written out here, not the module's table.
 */
import fc from "fast-check";
import { cpuToCores, cpuToMillicores, memoryToMiB } from "../../profile/quantity";

const MiB = 1024 * 1024;
/** Bytes per unit, from the Kubernetes quantity docs (binary Ki..Ti, decimal k..G). */
const BYTES: [string, number][] = [
  ["", 1],
  ["Ki", 1024],
  ["Mi", 1024 ** 2],
  ["Gi", 1024 ** 3],
  ["Ti", 1024 ** 4],
  ["k", 1e3],
  ["M", 1e6],
  ["G", 1e9],
];

const amount = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }).map((n) => ({ text: String(n), value: n })),
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 999 }))
    .map(([i, f]) => ({ text: `${i}.${String(f).padStart(3, "0")}`, value: i + f / 1000 })),
);

/** Equal up to floating-point rounding (relative), whatever the magnitude. */
function expectNear(actual: number | undefined, expected: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
}

describe("memoryToMiB", () => {
  it("property: every unit is its bytes over 2^20, for whole and decimal amounts", () => {
    fc.assert(
      fc.property(amount, fc.constantFrom(...BYTES), ({ text, value }, [unit, bytes]) => {
        expectNear(memoryToMiB(`${text}${unit}`), (value * bytes) / MiB);
      }),
    );
  });

  it("the units at 1, side by side", () => {
    expect(memoryToMiB("1Mi")).toBe(1);
    expect(memoryToMiB("1Gi")).toBe(1024);
    expect(memoryToMiB("1Ki")).toBe(1 / 1024);
    expect(memoryToMiB("1Ti")).toBe(1024 * 1024);
    expect(memoryToMiB("1")).toBe(1 / MiB);
    expect(memoryToMiB("1G")).toBeCloseTo(953.674, 3);
  });

  it.each(["", "Mi", "1.Mi", ".5Gi", "1 Gi", " 1Gi", "1Gi ", "1Gix", "x1Gi", "1e3", "-1Gi", "1mi", "1Ei", "1m", "1.5.2Gi"])(
    "%j is malformed: undefined, never a number",
    (text) => {
      expect(memoryToMiB(text)).toBeUndefined();
    },
  );
});

describe("cpuToCores", () => {
  it("property: millicores are thousandths of a core, a bare amount is cores", () => {
    fc.assert(
      fc.property(amount, ({ text, value }) => {
        expectNear(cpuToCores(text), value);
        expectNear(cpuToCores(`${text}m`), value / 1000);
      }),
    );
  });

  it.each(["", "m", "1 m", "1M", "-1", "1mm", "1c", " 2", "2 ", ".5", "1.", "x250m"])("%j is malformed", (text) => {
    expect(cpuToCores(text)).toBeUndefined();
  });
});

describe("cpuToMillicores: whole millicores as the scheduler counts them (rounded up)", () => {
  it("property: an amount in micro-cores, written as cores or as millicores, takes ⌈micro / 1000⌉ m", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64_000_000 }), (micro) => {
        // Integer ceiling, independent of floating point: ⌈a / b⌉ = ⌊(a + b − 1) / b⌋.
        const expected = Math.floor((micro + 999) / 1000);
        const cores = `${Math.floor(micro / 1e6)}.${String(micro % 1e6).padStart(6, "0")}`;
        const millis = `${Math.floor(micro / 1000)}.${String(micro % 1000).padStart(3, "0")}m`;
        expect(cpuToMillicores(cores)).toBe(expected);
        // As people write it: "2.5", not "2.500000" (a fraction shorter than a millicore's three digits).
        expect(cpuToMillicores(cores.replace(/\.?0+$/, ""))).toBe(expected);
        expect(cpuToMillicores(millis)).toBe(expected);
      }),
    );
  });

  it.each([
    ["0.0004", 1], // under half a millicore: still 1 m of the node
    ["1.5m", 2],
    ["2.007", 2007], // 2.007 × 1000 is 2007.0000000000002 in floating point
    ["1.0000000001", 1001],
    ["250m", 250],
    ["2", 2000],
    ["2.5", 2500],
    ["0.05", 50],
    ["0", 0],
  ])("%s -> %i m", (text, m) => expect(cpuToMillicores(text)).toBe(m));

  it.each(["", "m", "1 m", "1M", "-1", ".5", "1.", "x250m"])("%j is malformed", (text) => {
    expect(cpuToMillicores(text)).toBeUndefined();
  });
});
