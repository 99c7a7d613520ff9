import fc from "fast-check";
import { UaipError } from "../../src/errors";
import {
  DbConnectionLimitError,
  DbPoolClosedError,
  DbPoolTimeoutError,
  DbTlsVerificationError,
  DbUnavailableError,
} from "../../src/db/errors";
import { isConnectionError, translateDbError } from "../../src/db/translate";

/**
 * Which pg errors mean "the connection is gone" (destroy it, fall back to the writer) and which mean "the
 * statement is wrong" (hand it back unchanged). The lists below are written from PostgreSQL's SQLSTATE table
 * (Appendix A) and Node's error codes, not read from translate.ts.
 */

/** An error as pg or Node's net/tls raise it: a message and a `code`. */
function coded(code: unknown, message = "boom"): Error {
  return Object.assign(new Error(message), { code });
}

/** Class 08 (connection exception), every code PostgreSQL 16 defines in it. */
const CLASS_08 = ["08000", "08003", "08006", "08001", "08004", "08007", "08P01"];
/** Sessions the server ended: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections. */
const SESSION_ENDED = ["57P01", "57P02", "57P03", "53300"];
/** Socket failures Node reports on a pg connection. */
const SOCKET = ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"];
/**
 * SQL errors: the statement was wrong, the session is fine. Chosen next to the connection codes: "22008" and
 * "42808" end in 08, "57014" (statement timeout) and "57P04" share class 57, "53200" and "53400" class 53,
 * "ECONNABORTED"/"EPIPEX" look like socket codes without being in Node's list for a pg connection.
 */
const STATEMENT = ["42601", "23505", "40001", "22008", "42808", "57014", "57P04", "53200", "53400", "0A000", "X0800"];

/** Node's TLS verification failures (err.code) a pg connection with verify-full can report. */
const TLS_VERIFY = [
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_CRL",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
];

/** pg's own messages for a dead connection (it sets no code on them). */
const PG_DEAD_MESSAGES = [
  "Connection terminated unexpectedly",
  "Connection terminated due to connection timeout",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
];

describe("isConnectionError: the connection is gone, not the statement wrong", () => {
  it.each([...CLASS_08, ...SESSION_ENDED, ...SOCKET])("%s is a connection error", (code) => {
    expect(isConnectionError(coded(code))).toBe(true);
  });

  it.each(STATEMENT)("%s is a statement error", (code) => {
    expect(isConnectionError(coded(code))).toBe(false);
  });

  it("every class-08 code is a connection error, any other five-character SQLSTATE outside the lists is not", () => {
    const rest = fc.stringMatching(/^[0-9A-Z]{3}$/);
    // Half the draws in class 08, so both sides of the rule are exercised.
    const sqlstate = fc.oneof(
      rest.map((r) => `08${r}`),
      fc.stringMatching(/^[0-9A-Z]{5}$/),
      fc.tuple(fc.stringMatching(/^[0-9A-Z]{3}$/), fc.constantFrom("08", "80", "0", "8")).map(([a, b]) => `${a}${b}`.slice(0, 5)),
    );
    fc.assert(
      fc.property(sqlstate, (code) => {
        const expected = code.slice(0, 2) === "08" || SESSION_ENDED.includes(code);
        expect(isConnectionError(coded(code))).toBe(expected);
      }),
    );
  });

  it.each(PG_DEAD_MESSAGES)("pg's message %j (no code) is a connection error", (message) => {
    expect(isConnectionError(new Error(message))).toBe(true);
    // The message decides only on an Error: a plain object or a string saying the same is not pg's error.
    expect(isConnectionError({ message })).toBe(false);
    expect(isConnectionError(message)).toBe(false);
  });

  it("the runtime's own unavailable and timeout errors are connection errors; closed and limit errors are not", () => {
    expect(isConnectionError(new DbUnavailableError("down"))).toBe(true);
    expect(isConnectionError(new DbPoolTimeoutError(100, "slow"))).toBe(true);
    expect(isConnectionError(new DbPoolClosedError())).toBe(false);
    // Not a connection error to destroy: the session was never opened (the pool reads it as "reader full").
    expect(isConnectionError(new DbConnectionLimitError("svc", "too many"))).toBe(false);
  });

  it("an AggregateError (pg's connect to every address of a host) is one when any of its errors is", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...STATEMENT), { maxLength: 4 }),
        fc.option(fc.constantFrom(...SOCKET, ...CLASS_08), { nil: undefined }),
        fc.nat(),
        (statementCodes, connectionCode, at) => {
          const errors = statementCodes.map((c) => coded(c));
          if (connectionCode !== undefined) errors.splice(at % (errors.length + 1), 0, coded(connectionCode));
          expect(isConnectionError(new AggregateError(errors, "connect failed"))).toBe(connectionCode !== undefined);
        },
      ),
    );
  });

  it("a code that is not a string is ignored (the message still decides)", () => {
    expect(isConnectionError(coded(8))).toBe(false);
    expect(isConnectionError(coded(undefined, "Connection terminated"))).toBe(true);
    expect(isConnectionError(null)).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
});

describe("translateDbError: pg's errors as the runtime's typed errors", () => {
  it("returns the runtime's own errors unchanged", () => {
    for (const err of [new DbUnavailableError("x"), new DbPoolClosedError(), new UaipError("UAIP_X", "x")])
      expect(translateDbError(err, "svc", 100, "db")).toBe(err);
  });

  it.each(TLS_VERIFY)("a failed certificate check (%s) names the host and the code", (code) => {
    const cause = coded(code, "certificate problem");
    const err = translateDbError(cause, "svc", 100, "db.internal");
    expect(err).toBeInstanceOf(DbTlsVerificationError);
    expect((err as Error).message).toContain("db.internal");
    expect((err as Error).message).toContain(`${code}: certificate problem`);
    expect((err as Error).cause).toBe(cause);
  });

  it("53300 is the connection limit, naming the role and the server's message", () => {
    const cause = coded("53300", 'too many connections for role "svc"');
    const err = translateDbError(cause, "svc", 100);
    expect(err).toBeInstanceOf(DbConnectionLimitError);
    expect((err as DbConnectionLimitError).user).toBe("svc");
    expect((err as Error).message).toContain('too many connections for role "svc"');
    expect((err as Error).cause).toBe(cause);
  });

  it.each([
    ["timeout exceeded when trying to connect", DbUnavailableError],
    ["Connection terminated due to connection timeout", DbUnavailableError],
    ["CONNECTION TIMEOUT", undefined],
  ])("pg's connect timeout (%j) is a pool timeout when the budget is known", (message, withoutBudget) => {
    const cause = new Error(message);
    const timed = translateDbError(cause, "svc", 1234);
    expect(timed).toBeInstanceOf(DbPoolTimeoutError);
    expect((timed as DbPoolTimeoutError).timeoutMs).toBe(1234);
    expect((timed as Error).message).toContain(message);
    expect((timed as Error).cause).toBe(cause);
    // Without the budget: unavailable when pg's message says the connection died, else the error itself.
    const untimed = translateDbError(cause, "svc");
    if (withoutBudget === undefined) expect(untimed).toBe(cause);
    else expect(untimed).toBeInstanceOf(withoutBudget);
  });

  it("a dead connection is unavailable, with the code after the message when there is one", () => {
    for (const code of [...CLASS_08, ...SOCKET, "57P01"]) {
      const cause = coded(code, "gone");
      const err = translateDbError(cause, "svc", 100);
      expect(err).toBeInstanceOf(DbUnavailableError);
      expect((err as Error).message).toContain(`gone (${code})`);
      expect((err as Error).cause).toBe(cause);
    }
    const noCode = translateDbError(new Error("Connection terminated unexpectedly"), "svc", 100);
    expect((noCode as Error).message).toContain("Connection terminated unexpectedly;");
    // An AggregateError may carry no message of its own: the error still says what happened.
    const empty = translateDbError(new AggregateError([coded("ECONNREFUSED")], ""), "svc", 100);
    expect(empty).toBeInstanceOf(DbUnavailableError);
    expect((empty as Error).message).toContain("connection failed");
  });

  it("a statement error is returned unchanged: the query was wrong, not the database", () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATEMENT), fc.string(), (code, message) => {
        const cause = coded(code, `syntax ${message}`);
        expect(translateDbError(cause, "svc", 100, "db")).toBe(cause);
      }),
    );
    expect(translateDbError("not an error", "svc")).toBe("not an error");
  });
});
