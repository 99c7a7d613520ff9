import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export const SYSTEM_PACKAGES_INSTALL = "apt-get update && apt-get install -y redis-server prometheus";

/** Stops with the exact install line when a system binary the tests need is missing. */
export function requireBinary(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error(`${name} is not installed. Run: ${SYSTEM_PACKAGES_INSTALL}`);
  }
  return path;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A real redis-server on a free loopback port, started as a child process (no systemd here).
 * `stop()` kills it (fault injection), `start()` brings it back on the same port.
 */
export class RedisServer {
  #child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const bin = requireBinary("redis-server");
    const child = spawn(
      bin,
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${this.port}: ${out}`)), 10_000);
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, as with a hung Redis. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Thaws a paused server (SIGCONT); it answers again with its data intact. */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Kills the server (SIGKILL: no graceful shutdown, as in a crash) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }
}

/**
 * Lua script calls (EVALSHA + EVAL) the server behind `client` has run so far, from INFO commandstats:
 * take it before and after to count the round trips a piece of code cost.
 */
export async function scriptCalls(client: { info(section: "commandstats"): Promise<string> }): Promise<number> {
  const stats = await client.info("commandstats");
  return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}
