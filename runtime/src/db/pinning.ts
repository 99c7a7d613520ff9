/**
 * RDS Proxy pins a client session to one server connection, for the rest of the session, when a
 * statement changes session state (AWS's list for PostgreSQL, vendor/aws/data-tier-limits.json
 * `rdsProxyPinningPostgres`). A pinned session holds its server connection even while idle, so a few
 * pinning statements on pooled connections can use up the proxy's server connections.
 *
 * `pinningReasons` classifies a statement by its text (comments and quoted literals removed first, so
 * `SELECT 'SET x'` is not a SET); the pool counts what it finds when `pool.detectPinning` (UAIP_POOL_DETECT_PINNING) is on.
 * It errs on the side of flagging: `SET LOCAL` is flagged with `SET` (it changes session state for
 * the transaction; what the proxy does with it is not documented as safe).
 */

/** Why a statement pins, in AWS's terms. */
export const PINNING_REASONS = [
  "set",
  "prepared_statement",
  "temporary_object",
  "cursor",
  "listen",
  "load",
  "sequence_function",
  "advisory_lock",
] as const;
/** Why a statement pins its server connection under RDS Proxy: one of PINNING_REASONS. */
export type PinningReason = (typeof PINNING_REASONS)[number];

/** Statement-leading keywords and what they are (the first word of each `;`-separated statement). */
const LEADING: readonly [RegExp, PinningReason][] = [
  [/^(SET|RESET)\b/i, "set"],
  [/^(PREPARE|EXECUTE|DEALLOCATE|DISCARD)\b/i, "prepared_statement"],
  [/^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(TEMP|TEMPORARY)\s+(?:UNLOGGED\s+)?(TABLE|SEQUENCE|VIEW)\b/i, "temporary_object"],
  [/^CREATE\s+(?:OR\s+REPLACE\s+)?(TEMP|TEMPORARY)\s+(?:RECURSIVE\s+)?VIEW\b/i, "temporary_object"],
  [/^DECLARE\b/i, "cursor"],
  [/^(LISTEN|UNLISTEN)\b/i, "listen"],
  [/^LOAD\b/i, "load"],
];

/** Functions anywhere in a statement: sequence manipulation and advisory locks. */
const FUNCTIONS: readonly [RegExp, PinningReason][] = [
  [/\b(nextval|setval|currval|lastval)\s*\(/i, "sequence_function"],
  [/\bpg_(try_)?advisory_(xact_)?(lock|unlock)(_shared)?\s*\(|\bpg_advisory_unlock_all\s*\(/i, "advisory_lock"],
  // SELECT ... INTO TEMP creates a temporary table too.
  [/\bINTO\s+(TEMP|TEMPORARY)\s+(TABLE\s+)?\w/i, "temporary_object"],
];

/** The statement with comments and quoted literals (strings, quoted identifiers, dollar quotes) blanked out. */
export function codeOf(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"|\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, " ");
}

/**
 * The reasons a statement (its text, or pg's QueryConfig with `text` and an optional `name`) would pin
 * an RDS Proxy session; empty when it would not. A named QueryConfig is a named prepared statement.
 */
export function pinningReasons(statement: string | { text?: unknown; name?: unknown }): PinningReason[] {
  const text = typeof statement === "string" ? statement : typeof statement?.text === "string" ? statement.text : "";
  const reasons = new Set<PinningReason>();
  if (typeof statement === "object" && statement !== null && typeof statement.name === "string" && statement.name !== "")
    reasons.add("prepared_statement");
  const code = codeOf(text);
  for (const part of code.split(";")) {
    const head = part.trim();
    for (const [pattern, reason] of LEADING) if (pattern.test(head)) reasons.add(reason);
  }
  for (const [pattern, reason] of FUNCTIONS) if (pattern.test(code)) reasons.add(reason);
  return PINNING_REASONS.filter((r) => reasons.has(r));
}
