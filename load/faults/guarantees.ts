/**
 * The guarantees a fault run checks, each with its stated bound. One table: the fault run fails when
 * a measured value exceeds its bound, and the README's table is generated from the last run's values
 * (tools/guarantees-doc.ts), so the published numbers are the ones a run kept.
 */

/** Added to a Redis fault's duration for the stale-read bound: bus heartbeat detection (2 x 1 s) + reconnect (<= 2 s) + 1 s slack. */
export const REDIS_RECOVERY_ALLOWANCE_MS = 5_000;
/** Stale window with no fault: the bus delivers in milliseconds; 1 s leaves room for a loaded machine. */
export const HEALTHY_STALE_BOUND_MS = 1_000;
/** Writes fail for at most this long after PostgreSQL is back (the pool drops dead connections and reconnects). */
export const PG_RECOVERY_BOUND_MS = 10_000;
/** Across all replicas, during a Redis outage, one client is admitted at most this multiple of its limit. */
export const OVER_ADMISSION_BOUND = 1;

export interface Guarantee {
  guarantee: string;
  /** The bound as stated, e.g. "<= 1000 ms". */
  bound: string;
  /** What the run measured, e.g. "212 ms". */
  measured: string;
  ok: boolean;
}

export interface GuaranteeInputs {
  /** Max stale window outside any fault, ms (undefined: no sample). */
  healthyStaleMaxMs: number | undefined;
  /** Per Redis fault: its text, its duration and the max stale window from its start until 10 s after it, ms. */
  redisFaultStale: { fault: string; durationMs: number; staleMaxMs: number | undefined }[];
  lostInvalidations: number;
  /** admitted / limit of the admission probes run during a Redis outage. */
  outageAdmission: { admitted: number; limit: number }[];
  /** Per PostgreSQL restart: ms from the server being back to the last failed write. */
  pgRecoveryMs: number[];
  lostWrites: number;
  duplicatedWrites: number;
}

const ms = (v: number | undefined) => (v === undefined ? "no sample" : `${Math.round(v)} ms`);

export function checkGuarantees(m: GuaranteeInputs): Guarantee[] {
  const rows: Guarantee[] = [
    {
      guarantee: "stale read after a committed write (no fault)",
      bound: `<= ${HEALTHY_STALE_BOUND_MS} ms`,
      measured: ms(m.healthyStaleMaxMs),
      ok: m.healthyStaleMaxMs !== undefined && m.healthyStaleMaxMs <= HEALTHY_STALE_BOUND_MS,
    },
    ...m.redisFaultStale.map((f) => ({
      guarantee: `stale read after a committed write (${f.fault})`,
      bound: `<= fault + ${REDIS_RECOVERY_ALLOWANCE_MS} ms = ${Math.round(f.durationMs + REDIS_RECOVERY_ALLOWANCE_MS)} ms`,
      measured: ms(f.staleMaxMs),
      ok: f.staleMaxMs === undefined || f.staleMaxMs <= f.durationMs + REDIS_RECOVERY_ALLOWANCE_MS,
    })),
    {
      guarantee: "lost invalidations after a bus reconnect",
      bound: "0",
      measured: String(m.lostInvalidations),
      ok: m.lostInvalidations === 0,
    },
  ];
  const worst = Math.max(0, ...m.outageAdmission.map((a) => a.admitted / a.limit));
  rows.push({
    guarantee: "admitted during a Redis outage, across replicas",
    bound: `<= ${OVER_ADMISSION_BOUND}x the limit`,
    measured: m.outageAdmission.length
      ? `${worst.toFixed(2)}x (${m.outageAdmission.map((a) => `${a.admitted}/${a.limit}`).join(", ")})`
      : "no Redis outage in this run",
    ok: worst <= OVER_ADMISSION_BOUND,
  });
  if (m.pgRecoveryMs.length)
    rows.push({
      guarantee: "pool recovery after a PostgreSQL restart",
      bound: `<= ${PG_RECOVERY_BOUND_MS} ms`,
      measured: ms(Math.max(...m.pgRecoveryMs)),
      ok: Math.max(...m.pgRecoveryMs) <= PG_RECOVERY_BOUND_MS,
    });
  rows.push(
    { guarantee: "lost writes", bound: "0", measured: String(m.lostWrites), ok: m.lostWrites === 0 },
    { guarantee: "duplicated writes", bound: "0", measured: String(m.duplicatedWrites), ok: m.duplicatedWrites === 0 },
  );
  return rows;
}

export function guaranteesTable(rows: readonly Guarantee[]): string {
  return [
    "| guarantee | bound | measured |",
    "| --- | --- | --- |",
    ...rows.map((r) => `| ${r.guarantee} | ${r.bound} | ${r.measured}${r.ok ? "" : " (EXCEEDED)"} |`),
  ].join("\n");
}
