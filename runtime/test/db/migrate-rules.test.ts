import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { directConnection, loadMigrations, runMigrations, splitStatements, MIGRATIONS_DIR } from "../../src/db/migrate";
import { DbMigrationError } from "../../src/db/errors";
import { RuntimeConfigError } from "../../src/errors";
import { showValue } from "../../src/options";

/**
 * The migration runner's rules that need no server (issue #22's mutation run on runtime/src/db): which files
 * are migrations and in what order, which run outside a transaction, how a no-transaction file is split,
 * which host session-level work goes to, and what is refused before a connection is tried. migrate.test.ts
 * and read-replica.test.ts run the migrations on a real PostgreSQL.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "uaip-migrations-"));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe("loadMigrations", () => {
  it("takes <digits>_<name>.sql files only, in name order, each with the SHA-256 of its text", () => {
    const files = {
      "2_b.sql": "SELECT 2;",
      "010_c-d.sql": "SELECT 10;",
      "1_a.sql": "SELECT 1;",
      "README.md": "x",
      "3_.sql": "x",
      "x_4.sql": "x",
      "5_e.sql.bak": "x",
      "6_bad name.sql": "x",
      "7_f.SQL": "x",
      "_8_g.sql": "x",
    };
    const ms = loadMigrations(dirWith(files));
    expect(ms.map((m) => m.name)).toEqual(["010_c-d.sql", "1_a.sql", "2_b.sql"]);
    for (const m of ms) {
      expect(m.sql).toBe(files[m.name as keyof typeof files]);
      expect(m.checksum).toBe(sha256(m.sql));
    }
  });

  it("runs a file outside a transaction only when its first line is the uaip:no-transaction marker", () => {
    const cases: Record<string, boolean> = {
      "-- uaip:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);": false,
      "--uaip:no-transaction\nSELECT 1;": false,
      "--   uaip:no-transaction -- why\nSELECT 1;": false,
      "-- uaip:no-transactional\nSELECT 1;": true,
      "SELECT 1;\n-- uaip:no-transaction\n": true,
      " -- uaip:no-transaction\nSELECT 1;": true,
      "-- uaip: no-transaction\nSELECT 1;": true,
      "SELECT 1;": true,
    };
    const names = Object.keys(cases).map((_, i) => `${String(i).padStart(3, "0")}_m.sql`);
    const ms = loadMigrations(dirWith(Object.fromEntries(Object.keys(cases).map((sql, i) => [names[i], sql]))));
    expect(ms.map((m) => [m.sql, m.transactional])).toEqual(Object.entries(cases));
  });

  it("reads the package's own migrations by default", () => {
    const shipped = readdirSync(join(__dirname, "..", "..", "migrations"))
      .filter((f) => f.endsWith(".sql"))
      .sort();
    expect(MIGRATIONS_DIR).toBe(join(__dirname, "..", "..", "migrations"));
    expect(loadMigrations().map((m) => m.name)).toEqual(shipped);
    expect(shipped.length).toBeGreaterThan(0);
  });
});

describe("splitStatements", () => {
  /** A statement: no ";" at a line end, no line that starts as a comment. */
  const statement = fc
    .array(fc.constantFrom("SELECT", "1", "'--'", "x--y", "a;b", "(", ")", "CREATE INDEX CONCURRENTLY i", "\n  ON t"), {
      minLength: 1,
      maxLength: 6,
    })
    .map((words) => words.join(" ").trim());

  const statementAfter = "SELECT 'last'";

  it("gives back every statement in order, whatever the comments and the blank space around them", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sql: statement,
            before: fc.constantFrom("", "-- a comment\n", "   -- indented; comment;\n", "--;\n", "\n\n"),
            end: fc.constantFrom(";\n", ";  \n", ";\t\n\n", ";\r\n"),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.constantFrom("", ";", ";\n", "\n-- trailing comment\n"),
        (parts, last) => {
          // A ";" ends a statement at the end of a line only; the last one may have none, or end the file.
          const sql = parts.map((p) => `${p.before}${p.sql}${p.end}`).join("") + `${statementAfter}${last}`;
          expect(splitStatements(sql)).toEqual([...parts.map((p) => p.sql), statementAfter]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("keeps a ';' or '--' inside a line, and gives nothing for a file of comments", () => {
    expect(splitStatements("SELECT 'a;b' AS x, 1 -- not split\n;\nSELECT '--'")).toEqual([
      "SELECT 'a;b' AS x, 1 -- not split",
      "SELECT '--'",
    ]);
    expect(splitStatements("-- only\n  -- comments;\n\n")).toEqual([]);
  });
});

describe("directConnection", () => {
  it("session-level work goes to directHost when set, else host; TLS names the host it connects to", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("db.example", "10.0.0.1", "proxy.rds.example"),
        fc.constantFrom("", undefined, "writer.example"),
        fc.boolean(),
        fc.integer({ min: 1, max: 65535 }),
        (host, directHost, ssl, port) => {
          const c = directConnection({
            host,
            directHost,
            port,
            name: "uaip",
            user: "svc",
            password: "pw",
            ssl,
            sslCaFile: "",
          });
          const expected = directHost ? directHost : host;
          expect(c).toEqual({
            host: expected,
            port,
            database: "uaip",
            user: "svc",
            password: "pw",
            ssl: ssl ? { rejectUnauthorized: true, servername: expected } : false,
          });
        },
      ),
    );
  });
});

describe("runMigrations refuses before connecting", () => {
  /** A port nothing listens on: a connection attempt fails at once with ECONNREFUSED. */
  const refused = "postgres://master:s3cret-pw@127.0.0.1:1/uaip";

  async function failure(options: unknown): Promise<Error> {
    return runMigrations(options as Parameters<typeof runMigrations>[0]).then(
      () => {
        throw new Error("resolved");
      },
      (e: Error) => e,
    );
  }

  it("lists every bad option at once, each with its key", async () => {
    const err = await failure({ connection: "mysql://x", dir: "", lockTimeoutMs: 0, log: "yes", roles: "svc", lockTimeout: 5 });
    expect(err).toBeInstanceOf(RuntimeConfigError);
    const keys = (err as RuntimeConfigError).problems!.map((p) => p.key).sort();
    expect(keys).toEqual(["connection", "dir", "lockTimeout", "lockTimeoutMs", "log", "roles"]);
    expect(err.message).toMatch(/^runMigrations: 6 invalid options: /);
    expect(err.message).toContain('lockTimeout: unknown option "lockTimeout" (did you mean "lockTimeoutMs"?)');
  });

  it.each([
    undefined,
    {},
    { connection: "" },
    { connection: [] },
    { connection: null },
    { connection: 5432 },
    { connection: "//h/db" },
    { connection: "jdbc:postgres://127.0.0.1:1/x" },
    { connection: ["postgres://127.0.0.1:1/x"] },
  ])("a connection that is neither a postgres:// URL nor a config object is refused by name: %p", async (options) => {
    const err = await failure(options);
    expect(err).toBeInstanceOf(RuntimeConfigError);
    expect((err as RuntimeConfigError).key).toBe("connection");
    const given = (options as { connection?: unknown } | undefined)?.connection;
    expect(err.message).toBe(
      given === undefined
        ? "runMigrations: connection: is required: a postgres:// URL or a pg ClientConfig object"
        : `runMigrations: connection: expected a postgres:// URL or a pg ClientConfig object, got ${showValue(given)}`,
    );
  });

  it.each([refused, refused.replace("postgres:", "postgresql:"), refused.replace("postgres:", "POSTGRES:")])(
    "a postgres:// or postgresql:// URL (any case) is tried: %s",
    async (connection) => {
      const err = await failure({ connection });
      expect(err).toBeInstanceOf(DbMigrationError);
      expect((err as DbMigrationError).migration).toBe("(connect)");
      // The URL's own host and port (a dropped URL would fall back to pg's defaults, localhost:5432).
      expect(err.message).toMatch(/^\(connect\): cannot connect to PostgreSQL: .*ECONNREFUSED 127\.0\.0\.1:1$/);
      expect(err.message).not.toContain("s3cret-pw");
      expect((err as Error & { cause?: unknown }).cause).toHaveProperty("code", "ECONNREFUSED");
    },
  );

  it("a config object is tried as well, and nothing is logged before the connection", async () => {
    const lines: string[] = [];
    const err = await failure({
      connection: { host: "127.0.0.1", port: 1, user: "m", password: "pw", database: "d" },
      log: (l: string) => lines.push(l),
    });
    expect((err as DbMigrationError).migration).toBe("(connect)");
    expect(err.message).toMatch(/ECONNREFUSED 127\.0\.0\.1:1$/);
    expect(lines).toEqual([]);
  });

  it("a bad role fails before the connection is tried, naming its index", async () => {
    const roles = [
      { name: "good_svc", password: "p".repeat(16), connectionLimit: 2 },
      { name: "Bad", password: "p".repeat(16), connectionLimit: 2 },
    ];
    const err = await failure({ connection: refused, roles });
    expect(err).toBeInstanceOf(DbMigrationError);
    expect(err.message).toContain('roles[1].name="Bad"');
  });
});
