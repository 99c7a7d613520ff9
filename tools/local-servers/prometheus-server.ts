import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort, requireBinary } from "./binaries";

/**
 * A real Prometheus (Debian's `prometheus` package) on a free loopback port, as a child process.
 * It runs the files it is given (prometheus.yml and the rule files, paths relative to one directory)
 * with its TSDB under the same temporary directory; `stop()` ends it and removes that directory
 * unless `keep` was asked for (then `dir` says where the data is).
 */

/** One series of a range query: its labels and its [unix seconds, value] points, value as Prometheus writes it ("NaN" included). */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export class PrometheusError extends Error {
  readonly code = "UAIP_PROMETHEUS";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PrometheusError";
  }
}

export class PrometheusServer {
  #child: ChildProcess | undefined;
  #log = "";
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly keep: boolean,
  ) {}

  /**
   * Writes `files` (path relative to the config directory → content) and starts Prometheus on
   * `configPath` (one of them), resolving once `/-/ready` answers 200.
   */
  static async start(options: {
    files: Record<string, string>;
    configPath: string;
    keep?: boolean;
    timeoutMs?: number;
  }): Promise<PrometheusServer> {
    const bin = requireBinary("prometheus");
    const dir = mkdtempSync(join(tmpdir(), "uaip-prometheus-"));
    for (const [path, content] of Object.entries(options.files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    const server = new PrometheusServer(await freePort(), dir, options.keep ?? false);
    const child = spawn(
      bin,
      [
        `--config.file=${join(dir, options.configPath)}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        // Loopback only; the admin API and the remote-write receiver stay off (Prometheus' defaults).
        `--web.listen-address=127.0.0.1:${server.port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    server.#child = child;
    child.stdout!.on("data", (d: Buffer) => (server.#log += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (server.#log += d.toString()));
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null) {
        await server.stop();
        throw new PrometheusError(`prometheus exited with ${child.exitCode}:\n${server.#log}`);
      }
      const ready = await fetch(`${server.url}/-/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new PrometheusError(`prometheus not ready on ${server.url}:\n${server.#log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What Prometheus logged (warnings and errors), for a failure message. */
  output(): string {
    return this.#log;
  }

  async #api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}${path}?${new URLSearchParams(params).toString()}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== "success")
      throw new PrometheusError(`${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** `/api/v1/query_range` from `start` to `end` (unix seconds) every `stepS` seconds. */
  async queryRange(query: string, start: number, end: number, stepS: number): Promise<RangeSeries[]> {
    const data = await this.#api<{ resultType: string; result: RangeSeries[] }>("/api/v1/query_range", {
      query,
      start: String(start),
      end: String(end),
      step: String(stepS),
    });
    return data.result;
  }

  /** SIGTERM (Prometheus flushes its head block), then the directory goes unless `keep`. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
