#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runMigrations } from "./migrate";
import type { ServiceRole } from "./roles";

/**
 * `npm run db:migrate -- --url <postgres-url> [--role <name>:<connectionLimit> ...] [--dir <dir>]`
 *
 * The URL may instead come from DATABASE_URL (the migration Job takes it from its Secret, so the
 * master password is never on a command line). Each `--role` takes its password from the env var
 * DB_ROLE_PASSWORD_<NAME> (upper case), e.g. DB_ROLE_PASSWORD_AGENT_INTELLIGENCE. Nothing it prints
 * contains a password or the URL. Safe to run from every replica at once: runs serialize on an
 * advisory lock and the later ones find nothing to do.
 */
export function rolePasswordEnv(name: string): string {
  return `DB_ROLE_PASSWORD_${name.toUpperCase()}`;
}

export function parseRoleArg(arg: string, env: NodeJS.ProcessEnv): ServiceRole {
  const m = /^([a-z_][a-z0-9_]*):(\d+)$/.exec(arg);
  if (!m) throw new Error(`--role "${arg}": expected <name>:<connectionLimit>, e.g. agent_intelligence:30`);
  const [, name, limit] = m;
  const password = env[rolePasswordEnv(name)];
  if (!password) throw new Error(`--role ${name}: set its password in ${rolePasswordEnv(name)}`);
  return { name, connectionLimit: Number(limit), password };
}

/** The command line: each option with what it takes, so `--help` and the parser cannot disagree. */
const OPTIONS = {
  url: {
    type: "string",
    value: "<postgres-url>",
    help: "database to migrate, as a role that may create tables and roles (default: $DATABASE_URL)",
  },
  role: {
    type: "string",
    multiple: true,
    value: "<name>:<connectionLimit>",
    help: "a service role to create or update (repeatable); its password comes from DB_ROLE_PASSWORD_<NAME>",
  },
  dir: { type: "string", value: "<dir>", help: "migrations directory (default: the package's migrations/)" },
  help: { type: "boolean", short: "h", value: "", help: "print this help and exit" },
} as const;

export function usage(): string {
  const lines = Object.entries(OPTIONS).map(([name, o]) => `  --${name}${o.value ? ` ${o.value}` : ""}\n      ${o.help}`);
  return [
    "Usage: uaip-db-migrate [--url <postgres-url>] [--role <name>:<connectionLimit> ...] [--dir <dir>]",
    "",
    "Applies every pending migration of @uaip/runtime, then the service roles. Idempotent; concurrent",
    "runs serialize on an advisory lock. Nothing it prints contains a password or the URL.",
    "",
    "Options:",
    ...lines,
    "",
  ].join("\n");
}

/** Where the command writes: the process's stdout and stderr, or a test's buffers when it runs in-process. */
export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: CliOutput = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/**
 * The command: runs it and resolves with its exit status, 0 when done (or --help), 1 when refused or failed, with
 * the reason on `err`. Never rejects, so the entry point below only turns the status into the process's exit.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliOutput = STDIO): Promise<number> {
  try {
    await main(argv, env, io);
    return 0;
  } catch (err) {
    // Messages are built without secrets; a pg error message never carries the password either.
    io.err(`db:migrate: ${(err as Error).message ?? err}\n`);
    return 1;
  }
}

async function main(argv: string[], env: NodeJS.ProcessEnv, io: CliOutput): Promise<void> {
  let values: { url?: string; role?: string[]; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(OPTIONS).map(([name, o]) => [
          name,
          { type: o.type, multiple: "multiple" in o, ...("short" in o ? { short: o.short } : {}) },
        ]),
      ),
      strict: true,
    }) as { values: typeof values });
  } catch (err) {
    throw new Error(`${(err as Error).message}; see uaip-db-migrate --help`, { cause: err });
  }
  if (values.help) {
    io.out(usage());
    return;
  }
  const url = values.url ?? env.DATABASE_URL;
  if (!url) throw new Error("no database: pass --url postgres://user:password@host:5432/db or set DATABASE_URL");
  const roles = (values.role ?? []).map((r) => parseRoleArg(r, env));
  const report = await runMigrations({
    connection: url,
    dir: values.dir,
    roles,
    log: (line) => io.out(`db:migrate: ${line}\n`),
  });
  io.out(
    `db:migrate: done; applied ${report.applied.length} (${report.applied.join(", ") || "none"}), already applied ${report.alreadyApplied.length}` +
      (report.rebuiltIndexes.length ? `, rebuilt invalid indexes ${report.rebuiltIndexes.join(", ")}` : "") +
      "\n",
  );
}

if (require.main === module) {
  void runCli(process.argv.slice(2), process.env).then((status) => {
    if (status !== 0) process.exit(status);
  });
}
