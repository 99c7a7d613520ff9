import { setTimer } from "../timer";
/**
 * Logs a dependency's failure once per episode instead of once per request: the first failure opens
 * the episode (one line, with the error), later failures are only counted, and the episode closes
 * with one line giving how many calls failed open and for how long, either when the caller reports
 * recovery or after `quietMs` without a failure. The per-call count lives on a metric; this is the log.
 */
export class EpisodeLog {
  #since: number | undefined;
  #failures = 0;
  #quiet: NodeJS.Timeout | undefined;

  constructor(
    /** What failed open, e.g. "rate limiter (Redis store)". */
    readonly subject: string,
    /** Where the lines go. */
    readonly log: (line: string) => void,
    /** The metric that counts every failed-open call, named in the first line. */
    readonly metric: string,
    readonly quietMs = 10_000,
    readonly now: () => number = Date.now,
  ) {}

  /** True while an episode is open. */
  get open(): boolean {
    return this.#since !== undefined;
  }

  /** One call failed open (answered without the dependency). Logs only the first of an episode. */
  failed(how: string, error?: unknown): void {
    this.#failures++;
    if (this.#since === undefined) {
      this.#since = this.now();
      const cause = error instanceof Error ? error.message : error === undefined ? "" : String(error);
      this.log(`${this.subject}: degraded (${how})${cause ? `: ${cause}` : ""}; each call counted on ${this.metric}`);
    }
    clearTimeout(this.#quiet);
    this.#quiet = setTimer(() => this.recovered(`no failure for ${this.quietMs} ms`), this.quietMs);
    this.#quiet.unref();
  }

  /** The dependency answers again: closes the episode with one line. A no-op when none is open. */
  recovered(why = "it answers again"): void {
    if (this.#since === undefined) return;
    clearTimeout(this.#quiet);
    this.log(`${this.subject}: recovered (${why}) after ${this.now() - this.#since} ms; ${this.#failures} calls failed open`);
    this.#since = undefined;
    this.#failures = 0;
  }

  /** Stops the quiet timer (on close). */
  stop(): void {
    clearTimeout(this.#quiet);
  }
}
