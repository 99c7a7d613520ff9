import fc from "fast-check";
import { parseRoleArg, rolePasswordEnv, runCli, usage } from "../../src/db/migrate-cli";
import { REFUSED_DATABASE } from "../helpers/refused-database";

/**
 * `npm run db:migrate` in-process (issue #22's mutation run on runtime/src/db): what the command line takes, its
 * exit status and what it prints, for everything refused before or at the connection. migrate.test.ts runs it
 * against a real PostgreSQL, and once as a process (the entry point's exit status).
 */

/** runCli with its output captured. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const status = await runCli(argv, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

const PASSWORD = "cli-secret-password-0123456789";
const REFUSED_URL = `postgres://${REFUSED_DATABASE.user}:${PASSWORD}@${REFUSED_DATABASE.host}:${REFUSED_DATABASE.port}/x`;

describe("the command line", () => {
  it("--help and -h print the usage, which names every option the parser takes, and exit 0", async () => {
    for (const flag of ["--help", "-h"]) expect(await cli([flag])).toEqual({ status: 0, out: usage(), err: "" });
    const named = [...usage().matchAll(/^ {2}--([a-z]+)/gm)].map((m) => m[1]);
    expect(named).toEqual(["url", "role", "dir", "help"]);
    // Every option the usage names is one the parser knows: with --help after it, nothing is refused.
    for (const name of named) {
      const args = name === "help" ? ["--help"] : [`--${name}`, "x", "--help"];
      expect(await cli(args)).toMatchObject({ status: 0, err: "" });
    }
  });

  it("the usage: the synopsis with every option, what the command does, then each option with its value and what it is for", () => {
    const [synopsis, gap, does, more, gap2, heading, ...options] = usage().split("\n");
    expect(synopsis).toBe("Usage: uaip-db-migrate [--url <postgres-url>] [--role <name>:<connectionLimit> ...] [--dir <dir>]");
    expect([gap, gap2, heading]).toEqual(["", "", "Options:"]);
    expect(`${does} ${more}`).toMatch(
      /^Applies every pending migration .*then the service roles\. Idempotent; concurrent runs serialize on an advisory lock\. Nothing it prints contains a password or the URL\.$/,
    );
    expect(options).toEqual([
      "  --url <postgres-url>",
      expect.stringMatching(/^ {6}database to migrate, .*\(default: \$DATABASE_URL\)$/),
      "  --role <name>:<connectionLimit>",
      expect.stringMatching(/^ {6}a service role .*\(repeatable\); its password comes from DB_ROLE_PASSWORD_<NAME>$/),
      "  --dir <dir>",
      expect.stringMatching(/^ {6}migrations directory \(default: the package's migrations\/\)$/),
      "  --help",
      "      print this help and exit",
      "",
    ]);
  });

  it("writes to the process's stdout and stderr unless told otherwise", async () => {
    const written: string[] = [];
    const spy = (stream: NodeJS.WriteStream, name: string) =>
      jest
        .spyOn(stream, "write")
        .mockImplementation((chunk: string | Uint8Array) => written.push(`${name}:${String(chunk)}`) > 0);
    const spies = [spy(process.stdout, "stdout"), spy(process.stderr, "stderr")];
    try {
      expect(await runCli(["--help"], {})).toBe(0);
      expect(await runCli([], {})).toBe(1);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    expect(written).toEqual([`stdout:${usage()}`, expect.stringMatching(/^stderr:db:migrate: no database: /)]);
  });

  it("refuses an unknown option or a stray argument with exit 1, naming it and the help", async () => {
    for (const [args, named] of [
      [["--hostname", "db"], "--hostname"],
      [["--url"], "--url"],
      [["migrate"], "migrate"],
      [["--help=yes"], "--help"],
    ] as const) {
      const r = await cli([...args]);
      expect(r.status).toBe(1);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^db:migrate: .*; see uaip-db-migrate --help\n$/);
      expect(r.err).toContain(named);
    }
  });

  it("without --url or DATABASE_URL: exit 1 with both ways to name the database", async () => {
    const r = await cli([], { DATABASE_URL: "" });
    expect(r).toEqual({
      status: 1,
      out: "",
      err: "db:migrate: no database: pass --url postgres://user:password@host:5432/db or set DATABASE_URL\n",
    });
  });

  it("--url wins over DATABASE_URL, DATABASE_URL serves without it; neither is printed, nor the password", async () => {
    // A database nothing listens on: the run gets as far as the connection, which names where it went.
    const elsewhere = "postgres://u:other-password@127.0.0.2:1/y";
    for (const [args, env] of [
      [["--url", REFUSED_URL], { DATABASE_URL: elsewhere }],
      [[], { DATABASE_URL: REFUSED_URL }],
    ] as const) {
      const r = await cli([...args], env);
      expect(r.status).toBe(1);
      expect(r.err).toMatch(/^db:migrate: \(connect\): cannot connect to PostgreSQL: .*127\.0\.0\.1:1\b/);
      expect(r.err).not.toContain("127.0.0.2");
      for (const text of [r.out, r.err]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(REFUSED_URL);
      }
    }
  });
});

describe("--role <name>:<connectionLimit>", () => {
  it("takes a PostgreSQL role name and a limit, its password from DB_ROLE_PASSWORD_<NAME>", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/),
        fc.nat({ max: 10_000 }),
        fc.string({ minLength: 1 }),
        (name, limit, password) => {
          const env = { [`DB_ROLE_PASSWORD_${name.toUpperCase()}`]: password };
          expect(rolePasswordEnv(name)).toBe(`DB_ROLE_PASSWORD_${name.toUpperCase()}`);
          expect(parseRoleArg(`${name}:${limit}`, env)).toEqual({ name, connectionLimit: limit, password });
        },
      ),
      { numRuns: 50 },
    );
  });

  it.each(["Svc:3", "1svc:3", "svc-a:3", "svc:", ":3", "svc:3x", "svc:-1", " svc:3", "svc:3 ", "svc", "svc:3:4"])(
    "refuses %j with the form that works",
    (arg) => {
      expect(() => parseRoleArg(arg, { DB_ROLE_PASSWORD_SVC: PASSWORD })).toThrow(
        `--role "${arg}": expected <name>:<connectionLimit>, e.g. agent_intelligence:30`,
      );
    },
  );

  it("refuses a role whose password variable is unset or empty, naming the variable; every --role is read", async () => {
    for (const env of [{}, { DB_ROLE_PASSWORD_SVC: "" }, { DB_ROLE_PASSWORD_svc: PASSWORD }]) {
      expect(() => parseRoleArg("svc:3", env)).toThrow("--role svc: set its password in DB_ROLE_PASSWORD_SVC");
    }
    // The second --role is read too: its missing password stops the run before any connection.
    const r = await cli(["--url", REFUSED_URL, "--role", "svc:3", "--role", "other_svc:2"], { DB_ROLE_PASSWORD_SVC: PASSWORD });
    expect(r).toEqual({
      status: 1,
      out: "",
      err: "db:migrate: --role other_svc: set its password in DB_ROLE_PASSWORD_OTHER_SVC\n",
    });
  });
});
