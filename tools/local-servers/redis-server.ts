import { spawn, type ChildProcess } from "node:child_process";
import { freePort, requireBinary } from "./binaries";

/**
 * A real redis-server on a free loopback port, started as a child process (no systemd here).
 * `stop()` kills it (fault injection), `start()` brings it back on the same port.
 */
export class RedisServer {
  #child: ChildProcess | undefined;
  /**
   * @param extraArgs more redis-server arguments, e.g. the cluster settings (RedisClusterServers):
   *   they survive stop()/start(), so a restarted cluster node rejoins from its nodes.conf.
   */
  private constructor(
    readonly port: number,
    readonly extraArgs: readonly string[] = [],
  ) {}

  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
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
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        ...this.extraArgs,
      ],
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
