import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { RuntimeConfigError } from "../errors";

/**
 * TLS options for pg: verify-full. The server certificate must chain to the CA bundle the stack
 * mounts (RDS's global bundle at UAIP_DB_SSL_CA_FILE) and its name must match the host
 * (`rejectUnauthorized` keeps Node's host-name check). Without a CA file Node's own CAs are used:
 * still verified, never `rejectUnauthorized: false`.
 */
export function postgresTlsOptions(database: { ssl: boolean; sslCaFile: string; host: string }): ConnectionOptions | false {
  if (!database.ssl) return false;
  const options: ConnectionOptions = { rejectUnauthorized: true, servername: database.host };
  if (database.sslCaFile) {
    try {
      options.ca = readFileSync(database.sslCaFile, "utf8");
    } catch (err) {
      throw new RuntimeConfigError(
        "UAIP_DB_SSL_CA_FILE",
        `UAIP_DB_SSL_CA_FILE: cannot read the CA bundle "${database.sslCaFile}" (${(err as Error).message}); mount the rds-ca ConfigMap there or unset the variable`,
        { cause: err },
      );
    }
    if (!options.ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new RuntimeConfigError(
        "UAIP_DB_SSL_CA_FILE",
        `UAIP_DB_SSL_CA_FILE: "${database.sslCaFile}" holds no PEM certificate; expected the RDS CA bundle (global-bundle.pem)`,
      );
    }
  }
  return options;
}
