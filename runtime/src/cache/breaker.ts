import { checkOptions, type OptionsErrorFactory } from "../options";
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

  constructor(
    options: CircuitBreakerOptions = {},
    makeError: OptionsErrorFactory = (key, message) => new UaipError("UAIP_BREAKER_OPTIONS_INVALID", `${key}: ${message}`),
  ) {
    checkOptions("breaker", options, ["failureThreshold", "cooldownMs", "now"], makeError);
    this.#threshold = options.failureThreshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 1_000;
    this.#now = options.now ?? Date.now;
    if (!Number.isInteger(this.#threshold) || this.#threshold < 1)
      throw makeError("failureThreshold", `expected a positive integer, got ${JSON.stringify(options.failureThreshold)}`);
    if (!Number.isFinite(this.#cooldownMs) || this.#cooldownMs < 0)
      throw makeError("cooldownMs", `expected a non-negative number of ms, got ${JSON.stringify(options.cooldownMs)}`);
    if (typeof this.#now !== "function") throw makeError("now", "expected a clock function () => number");
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** True when a call may go to Redis now. In half-open state only the first caller (the probe) gets true. */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#cooldownMs) {
      this.#state = "half-open";
      return true;
    }
    return false;
  }

  success(): void {
    this.#failures = 0;
    this.#state = "closed";
  }

  failure(): void {
    this.#failures++;
    if (this.#state === "half-open" || this.#failures >= this.#threshold) {
      this.#state = "open";
      this.#openedAt = this.#now();
    }
  }
}
