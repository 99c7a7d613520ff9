import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type pg from "pg";
import { DbMigrationError } from "./errors";

/** A service's login role: its own password and its slice of the connection budget. */
export interface ServiceRole {
  /** PostgreSQL role name, e.g. "agent_intelligence". */
  name: string;
  /** Its password (from the service's Pulumi secret); sent only as a SCRAM verifier. */
  password: string;
  /** CONNECTION LIMIT: pool.max × the service's pods during a rollout at hpa.max, so PostgreSQL itself enforces the budget. */
  connectionLimit: number;
}

/** The group role (created by migration 001) that holds the privileges and owns operation_stats. */
export const APP_GROUP_ROLE = "uaip_app";

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const SCRAM_ITERATIONS = 4096;

/** RFC 3454 table C.1.2, non-ASCII space characters: SASLprep maps them to " ". */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
/** RFC 3454 table B.1, "commonly mapped to nothing" (soft hyphen, zero-width joiners, variation selectors...). */
// eslint-disable-next-line no-misleading-character-class -- the table is these combining characters, one by one
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

/**
 * The password as SCRAM hashes it: SASLprep's mapping (RFC 4013 §2.1) then NFKC, as node-postgres and
 * libpq apply it at login and PostgreSQL when it builds a verifier itself. NFKC alone misses the
 * characters mapped to nothing and the zero-width space, so a verifier built from such a password would
 * refuse its own password at login (28P01).
 */
function saslPrep(password: string): string {
  return password.replace(NON_ASCII_SPACE, " ").replace(MAPPED_TO_NOTHING, "").normalize("NFKC");
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677). Sending the verifier
 * instead of the password means the plain password never appears in a statement, so it cannot leak
 * through log_statement or log_min_duration_statement.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** Checks a role before any SQL is built from it; the error names the field and the fix. */
export function validateServiceRole(role: ServiceRole, index = 0): void {
  if (!ROLE_NAME.test(role.name))
    throw new DbMigrationError(
      "(roles)",
      `roles[${index}].name="${role.name}" is not a PostgreSQL role name; use lower-case letters, digits and _`,
    );
  if (role.name === APP_GROUP_ROLE || role.name.startsWith("pg_"))
    throw new DbMigrationError("(roles)", `roles[${index}].name="${role.name}" is reserved; pick the service's own name`);
  if (!Number.isInteger(role.connectionLimit) || role.connectionLimit < 1) {
    throw new DbMigrationError(
      "(roles)",
      `roles[${index}].connectionLimit=${role.connectionLimit} must be a positive integer (pool.max × pods during a rollout at hpa.max)`,
    );
  }
  if (!role.password || role.password.length < 16)
    throw new DbMigrationError("(roles)", `roles[${index}] "${role.name}": password missing or shorter than 16 characters`);
}

/**
 * Creates or updates each service's login role: password, CONNECTION LIMIT = its slice, member of
 * uaip_app. Idempotent: a re-run re-applies the limit (a profile change) and the password (a rotation).
 */
export async function ensureServiceRoles(client: pg.Client, roles: readonly ServiceRole[]): Promise<string[]> {
  roles.forEach(validateServiceRole);
  const names: string[] = [];
  for (const role of roles) {
    const ident = client.escapeIdentifier(role.name);
    const verifier = client.escapeLiteral(scramSha256Verifier(role.password));
    const exists = (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role.name])).rowCount! > 0;
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD ${verifier} CONNECTION LIMIT ${role.connectionLimit}`;
    try {
      await client.query(`${exists ? "ALTER" : "CREATE"} ROLE ${ident} WITH ${attributes}`);
      await client.query(`GRANT ${APP_GROUP_ROLE} TO ${ident}`);
      const db = (await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0].db;
      await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(db)} TO ${ident}`);
    } catch (err) {
      // pg's message may quote the statement; never pass it on (it holds the verifier).
      throw new DbMigrationError(
        "(roles)",
        `role "${role.name}": ${(err as { code?: string }).code ?? "error"} while creating or updating it`,
        { cause: undefined },
      );
    }
    names.push(`${role.name} (CONNECTION LIMIT ${role.connectionLimit})`);
  }
  return names;
}
