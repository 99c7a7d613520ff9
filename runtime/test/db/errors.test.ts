import fc from "fast-check";
import {
  DbConnectionLimitError,
  DbMigrationError,
  DbPoolClosedError,
  DbPoolTimeoutError,
  DbTlsVerificationError,
  DbUnavailableError,
} from "../../src/db/errors";
import { UaipError } from "../../src/errors";

/**
 * The database errors' contract (issue #22's mutation run on runtime/src/db): a stable code per class, the
 * values a caller branches on as fields, the message naming what failed and the fix, and the cause kept.
 */

const text = fc.string({ minLength: 1, maxLength: 20 });

describe("database errors", () => {
  it("each has its stable code and name, keeps its cause, and carries its values in fields and message", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), text, text, (ms, detail, who) => {
        const cause = new Error("underlying");
        const cases: [UaipError, string, string, string[]][] = [
          [
            new DbPoolTimeoutError(ms, detail, { cause }),
            "DbPoolTimeoutError",
            "UAIP_DB_POOL_TIMEOUT",
            [`within ${ms} ms`, `: ${detail}; `, "UAIP_POOL_MAX"],
          ],
          [
            new DbUnavailableError(detail, { cause }),
            "DbUnavailableError",
            "UAIP_DB_UNAVAILABLE",
            [`unavailable: ${detail}; `, "retry"],
          ],
          [
            new DbConnectionLimitError(who, detail, { cause }),
            "DbConnectionLimitError",
            "UAIP_DB_CONNECTION_LIMIT",
            [`role "${who}": ${detail}. `, "UAIP_POOL_MAX"],
          ],
          [new DbMigrationError(who, detail, { cause }), "DbMigrationError", "UAIP_DB_MIGRATION_FAILED", [`${who}: ${detail}`]],
          [
            new DbTlsVerificationError(who, detail, { cause }),
            "DbTlsVerificationError",
            "UAIP_DB_TLS_UNVERIFIED",
            [`at "${who}" failed verification (${detail})`, "UAIP_DB_SSL_CA_FILE"],
          ],
        ];
        for (const [err, name, code, parts] of cases) {
          expect(err).toBeInstanceOf(UaipError);
          expect([err.name, err.code, (err.constructor as unknown as { CODE: string }).CODE]).toEqual([name, code, code]);
          expect(err.cause).toBe(cause);
          for (const part of parts) expect(err.message).toContain(part);
        }
        expect(new DbPoolTimeoutError(ms, detail).timeoutMs).toBe(ms);
        expect(new DbConnectionLimitError(who, detail).user).toBe(who);
        expect(new DbMigrationError(who, detail).migration).toBe(who);
        expect(new DbMigrationError(who, detail).message).toBe(`${who}: ${detail}`);
      }),
      { numRuns: 20 },
    );
    const closed = new DbPoolClosedError();
    expect([closed.name, closed.code, DbPoolClosedError.CODE]).toEqual([
      "DbPoolClosedError",
      "UAIP_DB_POOL_CLOSED",
      "UAIP_DB_POOL_CLOSED",
    ]);
    expect(closed.message).toBe("the PostgreSQL pool is closed; create a new one with createPool()");
  });
});
