import { UaipError } from "../errors";
import { DbConnectionLimitError, DbPoolTimeoutError, DbTlsVerificationError, DbUnavailableError } from "./errors";

/** SQLSTATEs that mean "the session is gone", not "the statement is wrong". */
const SESSION_GONE = new Set(["57P01", "57P02", "57P03", "53300"]);
/** Socket-level failures Node reports as `err.code`. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** Node's TLS verification failures (err.code), e.g. SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID. */
const TLS_VERIFY_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
/** pg's own messages for a dead or never-established connection (pg sets no code on them). */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/;

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when the error means the connection itself is broken (it must be destroyed, not pooled). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof DbUnavailableError || err instanceof DbPoolTimeoutError) return true;
  const code = codeOf(err);
  if (code && (SESSION_GONE.has(code) || code.startsWith("08") || SOCKET_CODES.has(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  return err instanceof Error && PG_CONNECTION_MESSAGES.test(err.message);
}

/**
 * Maps pg's errors to the runtime's typed errors: 53300 -> DbConnectionLimitError, a failed
 * certificate check -> DbTlsVerificationError, a dead
 * connection -> DbUnavailableError, pg's connect timeout -> DbPoolTimeoutError. Anything else (a
 * SQL error) is returned unchanged: the caller's query was wrong, not the database.
 */
export function translateDbError(err: unknown, user: string, timeoutMs?: number, host = ""): unknown {
  if (err instanceof UaipError) return err;
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code && TLS_VERIFY_CODE.test(code)) return new DbTlsVerificationError(host, `${code}: ${message}`, { cause: err });
  if (code === "53300") return new DbConnectionLimitError(user, message, { cause: err });
  if (/timeout exceeded when trying to connect|connection timeout/i.test(message) && timeoutMs !== undefined) {
    return new DbPoolTimeoutError(timeoutMs, `the server did not complete the connection handshake (${message})`, { cause: err });
  }
  if (isConnectionError(err))
    return new DbUnavailableError(code ? `${message} (${code})` : message || "connection failed", { cause: err });
  return err;
}
