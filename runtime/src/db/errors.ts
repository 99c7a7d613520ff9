import { UaipError } from "../errors";

/** No connection could be had within `pool.connectionTimeoutMillis` (pool saturated, or the server does not answer). */
export class DbPoolTimeoutError extends UaipError {
  static readonly CODE = "UAIP_DB_POOL_TIMEOUT";
  readonly timeoutMs: number;
  constructor(timeoutMs: number, detail: string, options?: { cause?: unknown }) {
    super(
      DbPoolTimeoutError.CODE,
      `no PostgreSQL connection within ${timeoutMs} ms (UAIP_POOL_CONNECTION_TIMEOUT_MS): ${detail}; the pool is saturated (raise UAIP_POOL_MAX within the connection budget) or the database is slow`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The server is unreachable, restarting or terminated the session (SQLSTATE class 08, 57P0x, socket errors). */
export class DbUnavailableError extends UaipError {
  static readonly CODE = "UAIP_DB_UNAVAILABLE";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      DbUnavailableError.CODE,
      `PostgreSQL is unavailable: ${detail}; the query was not completed, retry once the database is back`,
      options,
    );
  }
}

/** PostgreSQL refused the session: the role is at its CONNECTION LIMIT, or the server at max_connections (SQLSTATE 53300). */
export class DbConnectionLimitError extends UaipError {
  static readonly CODE = "UAIP_DB_CONNECTION_LIMIT";
  readonly user: string;
  constructor(user: string, serverMessage: string, options?: { cause?: unknown }) {
    super(
      DbConnectionLimitError.CODE,
      `PostgreSQL refused a connection for role "${user}": ${serverMessage}. A service role's CONNECTION LIMIT is its slice of the connection budget ` +
        `(pool.max × pods during a rollout at hpa.max): more processes than that, or pools larger than pool.max, are connected; lower UAIP_POOL_MAX or raise the service's slice in the profile`,
      options,
    );
    this.user = user;
  }
}

/** The pool was used after `close()`. */
export class DbPoolClosedError extends UaipError {
  static readonly CODE = "UAIP_DB_POOL_CLOSED";
  constructor() {
    super(DbPoolClosedError.CODE, "the PostgreSQL pool is closed; create a new one with createPool()");
  }
}

/** A migration failed, was edited after it was applied, or left an invalid index. `migration` names the file. */
export class DbMigrationError extends UaipError {
  static readonly CODE = "UAIP_DB_MIGRATION_FAILED";
  readonly migration: string;
  constructor(migration: string, message: string, options?: { cause?: unknown }) {
    super(DbMigrationError.CODE, `${migration}: ${message}`, options);
    this.migration = migration;
  }
}

/** TLS verification of the PostgreSQL server failed: untrusted chain or a host name the certificate does not name. */
export class DbTlsVerificationError extends UaipError {
  static readonly CODE = "UAIP_DB_TLS_UNVERIFIED";
  constructor(host: string, detail: string, options?: { cause?: unknown }) {
    super(
      DbTlsVerificationError.CODE,
      `the certificate of PostgreSQL at "${host}" failed verification (${detail}); UAIP_DB_SSL_CA_FILE must hold the CA that signed it (RDS: the global bundle) and UAIP_DB_HOST must be a name the certificate lists (the RDS endpoint, not an IP)`,
      options,
    );
  }
}
