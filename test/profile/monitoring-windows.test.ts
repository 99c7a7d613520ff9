import fc from "fast-check";
import { buildRuleGroups } from "../../dashboards/rules";
import { checkMonitoringWindows, formatMs, promDurationMs, rangeWindows, ruleWindows } from "../../profile/monitoring-windows";
import type { Profile } from "../../profile/schema";

// Unit lengths from their definitions (Prometheus' model.Duration: a day is 24 h, a week 7 days, a year 365 days),
// not read from the file under test.
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS = [
  ["y", 365 * DAY],
  ["w", 7 * DAY],
  ["d", DAY],
  ["h", HOUR],
  ["m", MINUTE],
  ["s", SECOND],
  ["ms", 1],
] as const;
/** The rules' shortest and longest range windows, as the alert rules document them: rate(...[5m]) and the 3d burn rate. */
const SHORTEST = 5 * MINUTE;
const LONGEST = 3 * DAY;

/** A Prometheus duration: 1-4 distinct units, longest first, each with a 0-999 count; and its length. */
const duration = fc
  .subarray([...UNITS], { minLength: 1, maxLength: 4 })
  .chain((units) => fc.tuple(...units.map(([unit, ms]) => fc.nat(999).map((n) => [`${n}${unit}`, n * ms] as const))))
  .map((parts) => ({ text: parts.map(([text]) => text).join(""), ms: parts.reduce((sum, [, ms]) => sum + ms, 0) }));

const monitoring = (m: Partial<Profile["monitoring"]>) =>
  ({ monitoring: { scrapeInterval: "15s", retention: "3d", slo: { latencyP95Ms: 500, errorRate: 0.01 }, ...m } }) as Profile;
const check = (m: Partial<Profile["monitoring"]>, name: string) =>
  checkMonitoringWindows(monitoring(m)).find((c) => c.name === `monitoring-${name}-vs-rule-windows`);

describe("promDurationMs", () => {
  it("reads every unit and their sums, the count of each part in full", () => {
    fc.assert(fc.property(duration, ({ text, ms }) => expect(promDurationMs(text)).toBe(ms)));
    expect(promDurationMs("1h30m")).toBe(90 * MINUTE);
    expect(promDurationMs("1500ms")).toBe(1.5 * SECOND);
  });

  it("anything that is not a duration from its first character to its last is undefined", () => {
    const junk = fc.constantFrom(" ", "x", "-", "+", ".5", "M", "1", "1.");
    fc.assert(
      fc.property(duration, junk, fc.boolean(), ({ text }, extra, before) => {
        const written = before ? `${extra}${text}` : `${text}${extra}`;
        // A trailing digit, or "1" or "1." before it, would still leave no unit after it, except "1" in front of a count.
        fc.pre(!(before && extra === "1"));
        expect(promDurationMs(written)).toBeUndefined();
      }),
    );
    for (const text of ["", "5", "m", "1.5h", "-1m", "5M", "5mm", "5 m", "h5"]) expect(promDurationMs(text)).toBeUndefined();
  });
});

describe("ruleWindows", () => {
  it("every range window of the deployed rules, once each, shortest first", () => {
    const windows = ruleWindows(monitoring({}));
    const lengths = windows.map((w) => promDurationMs(w)!);
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]).toBeGreaterThan(lengths[i - 1]!);
    expect([lengths[0], lengths.at(-1)]).toEqual([SHORTEST, LONGEST]);
    const groups = buildRuleGroups({});
    const exprs = [...groups.recording.rules, ...groups.alerts.rules].map((r) => r.expr).join("\n");
    for (const w of windows) expect(exprs).toMatch(new RegExp(`\\[${w}[:\\]]`));
    // Both groups contribute: [5m] only in recording rules' rate()s, the burn-rate windows (e.g. [6h]) in alerts.
    expect(windows.length).toBeGreaterThan(3);
  });
});

describe("rangeWindows", () => {
  it("reads plain ranges and subqueries' ranges, each once, by length; brackets holding no duration are not windows", () => {
    const exprs = [
      "rate(a[1h])",
      "max_over_time(rate(a[5m])[3d:1m]) / rate(b[5m])",
      "avg_over_time(x[90s:]) + y[label] + z[5m1s]",
      'label_replace(q, "d", "[7]", "s", "[]")',
    ];
    expect(rangeWindows(exprs)).toEqual(["90s", "5m", "5m1s", "1h", "3d"]);
    expect(rangeWindows([])).toEqual([]);
  });
});

describe("checkMonitoringWindows", () => {
  it(`the scrape interval passes up to a quarter of the shortest window, on both sides`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 900 }), (seconds) => {
        const c = check({ scrapeInterval: `${seconds}s` }, "scrape")!;
        const ok = 4 * seconds * SECOND <= SHORTEST;
        expect(c.ok).toBe(ok);
        expect(c.detail).toContain(ok ? "[5m] >= 4 × monitoring.scrapeInterval" : "[5m] < 4 × monitoring.scrapeInterval");
        if (!ok) expect(c.detail).toContain(`set monitoring.scrapeInterval to at most "${SHORTEST / 4 / SECOND}s"`);
        else expect(c.detail).toBe(`the rules' shortest window [5m] >= 4 × monitoring.scrapeInterval ${seconds}s`);
      }),
      { numRuns: 40, examples: [[75], [76], [1]] },
    );
  });

  it("the retention passes from the longest window up, on both sides", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (hours) => {
        const c = check({ retention: `${hours}h` }, "retention")!;
        const ok = hours * HOUR >= LONGEST;
        expect(c.ok).toBe(ok);
        expect(c.detail).toContain(`monitoring.retention ${hours}h ${ok ? ">=" : "<"} the rules' longest window [3d]`);
        if (!ok) expect(c.detail).toContain('set monitoring.retention to at least "3d"');
        else expect(c.detail).toBe(`monitoring.retention ${hours}h >= the rules' longest window [3d]`);
      }),
      { numRuns: 40, examples: [[72], [71], [1]] },
    );
    expect(check({ retention: "2d23h59m59s999ms" }, "retention")!.ok).toBe(false);
    expect(check({ retention: "2d24h" }, "retention")!.ok).toBe(true);
  });

  it("a value that is not a duration gives no check on it (nothing to compare), the other one still", () => {
    expect(checkMonitoringWindows(monitoring({ scrapeInterval: "often" })).map((c) => c.name)).toEqual([
      "monitoring-retention-vs-rule-windows",
    ]);
    expect(checkMonitoringWindows(monitoring({ retention: "10GB" })).map((c) => c.name)).toEqual([
      "monitoring-scrape-vs-rule-windows",
    ]);
  });
});

describe("formatMs (the suggested duration)", () => {
  const WHOLE = UNITS.filter(([u]) => ["d", "h", "m", "s"].includes(u));
  it("a whole number of seconds is written in the longest of d, h, m, s that divides it, and reads back as the same length", () => {
    fc.assert(
      fc.property(fc.constantFrom(...WHOLE), fc.integer({ min: 1, max: 10_000 }), ([, unitMs], n) => {
        const ms = n * unitMs;
        const [unit, length] = WHOLE.find(([, l]) => ms % l === 0)!;
        expect(formatMs(ms)).toBe(`"${ms / length}${unit}"`);
        expect(promDurationMs(formatMs(ms).slice(1, -1))).toBe(ms);
      }),
    );
  });

  it("a fraction of a second is rounded down to whole seconds; exactly one unit uses that unit", () => {
    expect(formatMs(75_500)).toBe('"75s"');
    expect([formatMs(999), formatMs(0)]).toEqual(['"0s"', '"0s"']);
    expect([formatMs(DAY), formatMs(HOUR), formatMs(MINUTE), formatMs(SECOND)]).toEqual(['"1d"', '"1h"', '"1m"', '"1s"']);
  });
});
