import fc from "fast-check";
import { codeOf, pinningReasons, PINNING_REASONS, type PinningReason } from "../../src/db/pinning";

/**
 * The pinning classifier: AWS's PostgreSQL pinning conditions (vendor/aws/data-tier-limits.json),
 * each with statements on both sides of the line, and generated text around them.
 */

/** Statements that pin, by reason (the expectation is written here, not computed by the classifier). */
const PINNING: Record<PinningReason, readonly string[]> = {
  set: [
    "SET statement_timeout = 5000",
    "set search_path to app",
    "SET LOCAL work_mem = '64MB'",
    "RESET ALL",
    "SET SESSION x.y = 1",
  ],
  prepared_statement: ["PREPARE q (int) AS SELECT $1", "EXECUTE q(1)", "DEALLOCATE q", "DEALLOCATE ALL", "DISCARD ALL"],
  temporary_object: [
    "CREATE TEMP TABLE t (n int)",
    "create temporary table t as select 1",
    "CREATE TEMPORARY SEQUENCE s",
    "CREATE TEMP VIEW v AS SELECT 1",
    "CREATE OR REPLACE TEMP VIEW v AS SELECT 1",
    "SELECT 1 INTO TEMP TABLE t",
  ],
  cursor: ["DECLARE c CURSOR FOR SELECT 1", "declare c scroll cursor with hold for select 1"],
  listen: ["LISTEN events", "UNLISTEN *"],
  load: ["LOAD 'auto_explain'"],
  sequence_function: [
    "SELECT nextval('s')",
    "INSERT INTO t VALUES (nextval ('s'))",
    "SELECT setval('s', 1)",
    "SELECT currval('s')",
  ],
  advisory_lock: [
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_lock(1, 2)",
    "SELECT pg_advisory_xact_lock(1)",
    "SELECT pg_try_advisory_xact_lock_shared(1)",
    "SELECT pg_advisory_unlock(1)",
    "SELECT pg_advisory_unlock_all()",
  ],
};

/** Statements that do not pin, some containing the words above in places that do not count. */
const NOT_PINNING = [
  "SELECT 1",
  "UPDATE t SET n = 1 WHERE id = $1",
  "INSERT INTO t (n) VALUES (1) ON CONFLICT (n) DO UPDATE SET n = excluded.n",
  "SELECT 'SET x = 1' AS text",
  'SELECT "nextval" FROM t',
  "SELECT 1 -- SET x = 1",
  "SELECT /* pg_advisory_lock(1) */ 1",
  "SELECT $$LISTEN x$$",
  "SELECT $tag$ DECLARE c CURSOR $tag$",
  "CREATE TABLE settings (n int)",
  "SELECT * FROM listeners",
  "BEGIN",
  "COMMIT",
  "SELECT my_nextval_count FROM t",
];

const rows = Object.entries(PINNING).flatMap(([reason, statements]) => statements.map((s) => [reason, s] as const));

describe("pinningReasons", () => {
  it.each(rows)("%s: %s", (reason, statement) => expect(pinningReasons(statement)).toEqual([reason]));

  it.each(NOT_PINNING)("does not pin: %s", (statement) => expect(pinningReasons(statement)).toEqual([]));

  it("a named QueryConfig is a named prepared statement; an unnamed one is judged by its text", () => {
    expect(pinningReasons({ name: "q", text: "SELECT 1" })).toEqual(["prepared_statement"]);
    expect(pinningReasons({ text: "SELECT 1" })).toEqual([]);
    expect(pinningReasons({ name: "", text: "SET x = 1" })).toEqual(["set"]);
  });

  const pinning = fc.constantFrom(...rows);
  const neutral = fc.constantFrom(...NOT_PINNING);
  const blank = fc.constantFrom("", " ", "\n\t", "-- note\n", "/* c */ ", "\n  /* multi\nline */\n");
  const caseOf = (s: string, flips: boolean[]) =>
    [...s].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch.toLowerCase())).join("");

  it("whatever comes before a pinning statement (space, comments) and however its keywords are cased, it is flagged", () => {
    fc.assert(
      fc.property(pinning, blank, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), ([reason, statement], lead, flips) => {
        // Case changes only outside quotes: identifiers and literals keep their spelling.
        const cased = statement.replace(/^[A-Za-z ]+/, (head) => caseOf(head, flips));
        expect(pinningReasons(`${lead}${cased}`)).toContain(reason);
      }),
    );
  });

  it("a pinning statement inside a literal or a comment of a neutral one is not flagged", () => {
    fc.assert(
      fc.property(pinning, neutral, fc.constantFrom("literal", "dollar", "line", "block"), ([, statement], base, where) => {
        const hidden =
          where === "literal"
            ? `SELECT '${statement.replaceAll("'", "''")}'`
            : where === "dollar"
              ? `SELECT $q$${statement}$q$`
              : where === "line"
                ? `SELECT 1 -- ${statement.replaceAll("\n", " ")}`
                : `SELECT /* ${statement} */ 1`;
        expect(pinningReasons(`${base}; ${hidden}`)).toEqual([]);
      }),
    );
  });

  it("a text of several statements pins for each of them (the union, in the fixed order)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            pinning,
            neutral.map((s) => [undefined, s] as const),
          ),
          { maxLength: 5 },
        ),
        (parts) => {
          const expected = PINNING_REASONS.filter((r) => parts.some(([reason]) => reason === r));
          // The separator starts on a line of its own: a part may end in a -- comment, which would swallow a ";" on its line.
          expect(pinningReasons(parts.map(([, s]) => s).join("\n;\n"))).toEqual(expected);
        },
      ),
    );
  });

  it("codeOf blanks comments and quoted text, keeps the code around them", () => {
    expect(codeOf("SELECT 'a;b' /* c */, \"d\" -- e\nFROM t").replace(/\s+/g, " ").trim()).toBe("SELECT , FROM t");
  });
});
