import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UaipError } from "../errors";
import { checkValue, duration, integer, string, validateOptions, type SpecFor } from "../options";
import { setTimer } from "../timer";

/** The seed's default profile length. */
export const DEFAULT_PROFILE_DURATION_MS = 30_000;

export interface CPUProfilerOptions {
  /** Where `.cpuprofile` files go (created if missing). @default `<os.tmpdir()>/uaip-profiles` (an emptyDir in the pods) */
  directory?: string;
  /** Longest profile allowed, ms; longer requests are refused, not shortened. @default 120000 */
  maxDurationMs?: number;
  /** V8 sampling interval, µs. @default 1000 */
  samplingIntervalUs?: number;
}

/** Base class of the profiler's errors; branch on `code`. */
export class ProfilerError extends UaipError {}

/** A profile is already running in this process; only one at a time. */
export class ProfileInProgressError extends ProfilerError {
  static readonly CODE = "UAIP_PROFILE_IN_PROGRESS";
  constructor(readonly startedAt: Date) {
    super(
      ProfileInProgressError.CODE,
      `a CPU profile is already running (started ${startedAt.toISOString()}); wait for it to finish`,
    );
  }
}

/** A duration or profiler option is out of range; `key` names it. */
export class ProfileOptionsError extends ProfilerError {
  static readonly CODE = "UAIP_PROFILE_OPTIONS_INVALID";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(ProfileOptionsError.CODE, `CPU profiler ${key}: ${message}`);
  }
}

/** The profiler was closed while a profile ran; nothing was written. */
export class ProfileAbortedError extends ProfilerError {
  static readonly CODE = "UAIP_PROFILE_ABORTED";
  constructor() {
    super(ProfileAbortedError.CODE, "the CPU profile was aborted by close()");
  }
}

const profileError = (key: string, message: string) => new ProfileOptionsError(key, message);

const CPU_PROFILER_OPTIONS_SPEC = {
  directory: string({ nonEmpty: true, what: "a directory path" }),
  maxDurationMs: duration(1),
  // V8 samples at most every 1 µs; a sampling interval of more than a second samples nothing useful.
  samplingIntervalUs: integer(1, 1_000_000, "µs"),
} satisfies SpecFor<CPUProfilerOptions>;

interface Running {
  startedAt: Date;
  session: Session;
  timer: NodeJS.Timeout;
  abort: () => void;
}

/** The profile running in this process, whichever CPUProfiler started it: one per process. */
let running: Running | undefined;

/**
 * The seed's CPUProfiler on `node:inspector` (no native module such as v8-profiler-next):
 * `startProfiling(ms)` samples this process for `ms` and resolves to the written `.cpuprofile`
 * (loadable in Chrome DevTools or speedscope). One profile at a time per process (profiling
 * costs CPU, and two would skew each other); a second call while one runs, from this or another
 * CPUProfiler, is refused with ProfileInProgressError.
 */
export class CPUProfiler {
  readonly directory: string;
  readonly maxDurationMs: number;
  readonly #samplingIntervalUs: number;
  #mine: Running | undefined;

  constructor(options: CPUProfilerOptions = {}) {
    const o = validateOptions("CPUProfiler", options, CPU_PROFILER_OPTIONS_SPEC, profileError);
    this.directory = o.directory ?? join(tmpdir(), "uaip-profiles");
    this.maxDurationMs = o.maxDurationMs ?? 120_000;
    this.#samplingIntervalUs = o.samplingIntervalUs ?? 1_000;
  }

  /** Whether a profile is running in this process now. */
  get busy(): boolean {
    return running !== undefined;
  }

  /** Profiles for `durationMs` and resolves to the path of the written `.cpuprofile`. */
  async startProfiling(durationMs = DEFAULT_PROFILE_DURATION_MS): Promise<string> {
    checkValue(
      "CPUProfiler.startProfiling",
      "durationMs",
      durationMs,
      integer(1, this.maxDurationMs, "ms (maxDurationMs)"),
      profileError,
    );
    if (running) throw new ProfileInProgressError(running.startedAt);
    // Claim the slot before any await, so a concurrent call sees it.
    const session = new Session();
    const startedAt = new Date();
    let aborted = false;
    let wake: () => void = () => {};
    const elapsed = new Promise<void>((resolve) => (wake = resolve));
    const current: Running = {
      startedAt,
      session,
      timer: setTimer(() => wake(), durationMs),
      abort: () => ((aborted = true), wake()),
    };
    // A pending profile must not keep a shutting-down process alive.
    current.timer.unref();
    running = this.#mine = current;
    try {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: this.#samplingIntervalUs });
      await session.post("Profiler.start");
      await elapsed;
      const { profile } = await session.post("Profiler.stop");
      if (aborted) throw new ProfileAbortedError();
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      const file = join(this.directory, `cpu-${startedAt.toISOString().replace(/[:.]/g, "-")}-${process.pid}.cpuprofile`);
      // Profiles show code paths and may hold names from the heap: owner-only.
      await writeFile(file, JSON.stringify(profile), { mode: 0o600, flag: "wx" });
      return file;
    } finally {
      clearTimeout(current.timer);
      session.disconnect();
      if (running === current) running = undefined;
      if (this.#mine === current) this.#mine = undefined;
    }
  }

  /** Stops the profile this profiler started, if any (its promise rejects with ProfileAbortedError). */
  close(): void {
    this.#mine?.abort();
  }
}
