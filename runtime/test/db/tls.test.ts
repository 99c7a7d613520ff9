import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PostgresServer } from "../../../test/helpers/postgres";
import { createPool, type DbSettings } from "../../src/db/pool";
import { DbMigrationError, DbTlsVerificationError } from "../../src/db/errors";
import { loadMigrations, runMigrations } from "../../src/db/migrate";
import { RuntimeConfigError } from "../../src/errors";

const FIXTURES = join(__dirname, "..", "..", "..", "test", "fixtures", "pg-tls");
let server: PostgresServer;

beforeAll(async () => {
  server = await PostgresServer.start(
    {},
    { cert: readFileSync(join(FIXTURES, "server.crt"), "utf8"), key: readFileSync(join(FIXTURES, "server.key"), "utf8") },
  );
}, 60_000);
afterAll(async () => {
  await server?.destroy();
});

function settings(database: Partial<DbSettings["database"]>): DbSettings {
  return {
    pool: { minConnections: 0, maxConnections: 1, idleTimeoutMillis: 1_000, connectionTimeoutMillis: 3_000 },
    database: {
      host: "localhost",
      port: server.port,
      name: "postgres",
      user: PostgresServer.USER,
      password: PostgresServer.PASSWORD,
      ssl: true,
      sslCaFile: join(FIXTURES, "ca.pem"),
      statsRefreshIntervalMs: 0,
      ...database,
    },
  };
}

async function attempt(database: Partial<DbSettings["database"]>): Promise<unknown> {
  const pool = createPool(settings(database));
  try {
    return await pool.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").then(
      (r) => r.rows[0].ssl,
      (e: unknown) => e,
    );
  } finally {
    await pool.close();
  }
}

describe("TLS to PostgreSQL: verify-full against the CA bundle (UAIP_DB_SSL_CA_FILE)", () => {
  it("connects over TLS when the certificate chains to the CA file and names the host", async () => {
    expect(await attempt({})).toBe(true);
  });

  it("refuses a server whose certificate does not chain to the CA file", async () => {
    const err = await attempt({ sslCaFile: join(FIXTURES, "other-ca.pem") });
    expect(err).toBeInstanceOf(DbTlsVerificationError);
    expect((err as Error).message).toMatch(
      /"localhost" failed verification \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT).*UAIP_DB_SSL_CA_FILE must hold/,
    );
  });

  it("refuses a host name the certificate does not name (verify-full, not verify-ca)", async () => {
    const err = await attempt({ host: "127.0.0.1" });
    expect(err).toBeInstanceOf(DbTlsVerificationError);
    expect((err as Error).message).toMatch(/"127.0.0.1" failed verification \(ERR_TLS_CERT_ALTNAME_INVALID.*not an IP/);
  });

  it("names the variable when the CA file is missing or not PEM", () => {
    expect(() => createPool(settings({ sslCaFile: "/nonexistent/global-bundle.pem" }))).toThrow(RuntimeConfigError);
    expect(() => createPool(settings({ sslCaFile: "/nonexistent/global-bundle.pem" }))).toThrow(
      /UAIP_DB_SSL_CA_FILE: cannot read the CA bundle "\/nonexistent\/global-bundle.pem"/,
    );
    expect(() => createPool(settings({ sslCaFile: join(FIXTURES, "README.md") }))).toThrow(/holds no PEM certificate/);
  });

  it("the migration Job's URL form (sslmode=verify-full&sslrootcert=<bundle>) verifies the same way", async () => {
    const url = (ca: string, host = "localhost") =>
      `postgres://${PostgresServer.USER}:${PostgresServer.PASSWORD}@${host}:${server.port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(join(FIXTURES, ca))}`;
    expect((await runMigrations({ connection: url("ca.pem") })).applied).toHaveLength(loadMigrations().length);
    const untrusted = await runMigrations({ connection: url("other-ca.pem") }).catch((e: unknown) => e);
    expect(untrusted).toBeInstanceOf(DbMigrationError);
    expect((untrusted as Error).message).toMatch(
      /^\(connect\): cannot connect to PostgreSQL: .*(self[- ]signed|unable to verify)/i,
    );
    await expect(runMigrations({ connection: url("ca.pem", "127.0.0.1") })).rejects.toThrow(
      /cannot connect to PostgreSQL: Hostname\/IP does not match/,
    );
  });
});
