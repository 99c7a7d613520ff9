/**
 * What a cross-layer check returns, shared by checks.ts and the capacity checks (capacity-checks.ts)
 * so neither imports the other.
 */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /**
   * Passed, but the plan prints it as a warning: something it could not check (a missing or stale
   * capacity file). Absent on every other check.
   */
  warning?: true;
}

/** One check's result: `detail` says what was compared; a failed check adds how to fix it, after "; ". */
export function result(name: string, ok: boolean, compared: string, fix: string): Check {
  return { name, ok, detail: ok ? compared : `${compared}; ${fix}` };
}

/** A passing check the plan prints as a warning. */
export function warning(name: string, detail: string): Check {
  return { name, ok: true, detail, warning: true };
}
