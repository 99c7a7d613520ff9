import { duration, func, integer, validateOptions, type OptionsErrorFactory, type SpecFor } from "../options";
import { UaipError } from "../errors";

/** State of the Redis circuit breaker: closed (Redis in use), open (skipped), half-open (one probe). */
export type BreakerState = "closed" | "open" | "half-open";

/** When the Redis circuit breaker opens (consecutive failures) and how long it stays open before a probe. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  failureThreshold?: number;
  /** Time the breaker stays open before one probe call is let through, in ms. @default 1000 */
  cooldownMs?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

const BREAKER_OPTIONS_SPEC = {
  failureThreshold: integer(1, 1_000_000),
  cooldownMs: duration(0),
  now: func<() => number>("a clock function () => number"),
} satisfies SpecFor<CircuitBreakerOptions>;

/**
 * Consecutive-failure circuit breaker. While open, callers skip Redis entirely, so a dead
 * Redis costs one branch per call instead of a command timeout per call.
 * After the cool-down exactly one probe is allowed (half-open); its outcome closes or re-opens it.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;

  readonly #onChange: ((from: BreakerState, to: BreakerState) => void) | undefined;

  constructor(
    options: CircuitBreakerOptions = {},
    makeError: OptionsErrorFactory = (key, message) => new UaipError("UAIP_BREAKER_OPTIONS_INVALID", `${key}: ${message}`),
    /** Who owns the breaker, for messages ("CacheManager"); its keys are named `breaker.<key>`. */
    where = "CircuitBreaker",
    /** Called after every state change (the cache's `onEvent`). */
    onChange?: (from: BreakerState, to: BreakerState) => void,
  ) {
    const o = validateOptions(where, options, BREAKER_OPTIONS_SPEC, makeError, { prefix: "breaker." });
    this.#threshold = o.failureThreshold ?? 5;
    this.#cooldownMs = o.cooldownMs ?? 1_000;
    this.#now = o.now ?? Date.now;
    this.#onChange = onChange;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** True when a call may go to Redis now. In half-open state only the first caller (the probe) gets true. */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#cooldownMs) {
      this.#move("half-open");
      return true;
    }
    return false;
  }

  success(): void {
    this.#failures = 0;
    if (this.#state !== "closed") this.#move("closed");
  }

  failure(): void {
    this.#failures++;
    if (this.#state === "half-open" || this.#failures >= this.#threshold) {
      this.#openedAt = this.#now();
      if (this.#state !== "open") this.#move("open");
    }
  }

  #move(to: BreakerState): void {
    const from = this.#state;
    this.#state = to;
    this.#onChange?.(from, to);
  }
}
