/**
 * The fault run's schedule syntax and its guarantee checks (the run itself needs a minute of real
 * processes: `npm run load -- --quick --faults default`).
 */
import fc from "fast-check";
import {
  checkGuarantees,
  guaranteesTable,
  HEALTHY_STALE_BOUND_MS,
  OVER_ADMISSION_BOUND,
  PG_RECOVERY_BOUND_MS,
  REDIS_RECOVERY_ALLOWANCE_MS,
  type GuaranteeInputs,
} from "../../load/faults/guarantees";
import { DEFAULT_FAULTS, FaultSpecError, parseFaults } from "../../load/faults/spec";
import { GUARANTEES_END, GUARANTEES_START, replaceSection } from "../../tools/guarantees-doc";

describe("--faults", () => {
  test("the issue's example parses: a Redis kill, a PostgreSQL restart, 200 ms of Redis latency for 10 s, in start order", () => {
    expect(parseFaults("pg-restart@40s,redis-kill@20s,redis-latency=200ms@50s+10s")).toEqual([
      { text: "redis-kill@20s", target: "redis", kind: "kill", atS: 20, forS: 5 },
      { text: "pg-restart@40s", target: "pg", kind: "restart", atS: 40, forS: 0 },
      {
        text: "redis-latency=200ms@50s+10s",
        target: "redis",
        kind: "proxy",
        fault: { kind: "latency", ms: 200 },
        atS: 50,
        forS: 10,
      },
    ]);
    expect(parseFaults(DEFAULT_FAULTS).length).toBe(3);
    expect(parseFaults("pg-latency=0.5s@1s")[0]).toMatchObject({ fault: { kind: "latency", ms: 500 } });
  });

  test("every bad item is reported at once, as written, with the fix", () => {
    let error: unknown;
    try {
      parseFaults("redis-kil@20s,pg-latency@5s,redis-latency=200ms@fast");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FaultSpecError);
    const message = (error as Error).message;
    expect(message).toContain('"redis-kil@20s": unknown fault "redis-kil"');
    expect(message).toContain('"pg-latency@5s": latency needs a value, e.g. pg-latency=200ms@5s');
    expect(message).toContain('"redis-latency=200ms@fast": expected <redis|pg>-<fault>');
  });
});

describe("guarantees", () => {
  const clean: GuaranteeInputs = {
    healthyStaleMaxMs: 10,
    redisFaultStale: [{ fault: "redis-kill@1s", durationMs: 5_000, staleMaxMs: 100 }],
    lostInvalidations: 0,
    outageAdmission: [{ admitted: 100, limit: 100 }],
    pgRecoveryMs: [1_000],
    lostWrites: 0,
    duplicatedWrites: 0,
  };

  test("a run within every bound passes; the table lists each guarantee with its bound and value", () => {
    const rows = checkGuarantees(clean);
    expect(rows.every((r) => r.ok)).toBe(true);
    expect(guaranteesTable(rows)).toContain("| lost writes | 0 | 0 |");
  });

  test("each bound: its value passes, one above fails (values on both sides of every boundary)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 1_000 }), (faultMs, limit) => {
        const at = (inputs: Partial<GuaranteeInputs>) => checkGuarantees({ ...clean, ...inputs }).every((r) => r.ok);
        expect(at({ healthyStaleMaxMs: HEALTHY_STALE_BOUND_MS })).toBe(true);
        expect(at({ healthyStaleMaxMs: HEALTHY_STALE_BOUND_MS + 1 })).toBe(false);
        const bound = faultMs + REDIS_RECOVERY_ALLOWANCE_MS;
        expect(at({ redisFaultStale: [{ fault: "f", durationMs: faultMs, staleMaxMs: bound }] })).toBe(true);
        expect(at({ redisFaultStale: [{ fault: "f", durationMs: faultMs, staleMaxMs: bound + 1 }] })).toBe(false);
        expect(at({ outageAdmission: [{ admitted: OVER_ADMISSION_BOUND * limit, limit }] })).toBe(true);
        expect(at({ outageAdmission: [{ admitted: OVER_ADMISSION_BOUND * limit + 1, limit }] })).toBe(false);
      }),
    );
    const at = (inputs: Partial<GuaranteeInputs>) => checkGuarantees({ ...clean, ...inputs }).every((r) => r.ok);
    expect(at({ pgRecoveryMs: [PG_RECOVERY_BOUND_MS] })).toBe(true);
    expect(at({ pgRecoveryMs: [PG_RECOVERY_BOUND_MS + 1] })).toBe(false);
    expect(at({ lostWrites: 1 })).toBe(false);
    expect(at({ duplicatedWrites: 1 })).toBe(false);
    expect(at({ lostInvalidations: 1 })).toBe(false);
    // A stale probe that never saw a fresh value outside faults is not a pass.
    expect(at({ healthyStaleMaxMs: undefined })).toBe(false);
  });

  test("the README section is replaced between its markers, and missing markers are named", () => {
    const readme = `a\n${GUARANTEES_START}\nold\n${GUARANTEES_END}\nb`;
    expect(replaceSection(readme, `${GUARANTEES_START}\nnew\n${GUARANTEES_END}`)).toBe(
      `a\n${GUARANTEES_START}\nnew\n${GUARANTEES_END}\nb`,
    );
    expect(() => replaceSection("no markers", "x")).toThrow(/guarantees:start/);
  });
});
