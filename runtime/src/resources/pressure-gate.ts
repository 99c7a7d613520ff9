import type { IncomingMessage, ServerResponse } from "node:http";
import { duration, func, validateOptions, type SpecFor } from "../options";
import { MemoryMonitorOptionsError, type MemoryMonitor } from "./memory-monitor";

/** Code in the JSON body of a 503 answered under pressure. */
export const OVERLOADED_CODE = "UAIP_OVERLOADED";

/** Paths the gate lets through by default: probes and the scrape must work while shedding load. */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = ["/healthz", "/livez", "/readyz", "/metrics"];

export interface PressureGateOptions {
  /**
   * Mean Retry-After, seconds. Each 503 gets a value drawn uniformly from [0.5, 1.5] × this
   * (at least 1), so refused clients do not all come back in the same second. @default 10
   */
  retryAfterSeconds?: number;
  /** Requests that always pass (probes, scrape). @default path in DEFAULT_EXEMPT_PATHS */
  exempt?: (req: IncomingMessage) => boolean;
  /** Random source in [0, 1) for the jitter (tests inject one). @default Math.random */
  random?: () => number;
}

const PRESSURE_GATE_OPTIONS_SPEC = {
  // Seconds, for a header; capped like every duration (a day-long Retry-After is a mistake anyway).
  retryAfterSeconds: duration(1, "s"),
  exempt: func<(req: IncomingMessage) => boolean>("a function (req) => boolean"),
  random: func<() => number>("a function () => number in [0, 1)"),
} satisfies SpecFor<PressureGateOptions>;

type Next = (err?: unknown) => void;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Load shedding for any node:http server (under-pressure does this for Fastify only): while the
 * monitor reports pressure, NEW requests get 503 with a jittered Retry-After; requests already
 * admitted were not stopped and finish normally. Recovery is automatic when the monitor recovers.
 * Pair it with `monitor.ready` on the readiness probe (not the liveness probe), so the load balancer
 * moves traffic away instead of Kubernetes restarting a process that is only busy.
 */
export class PressureGate {
  readonly #monitor: MemoryMonitor;
  readonly #retryAfter: number;
  readonly #exempt: (req: IncomingMessage) => boolean;
  readonly #random: () => number;

  constructor(monitor: MemoryMonitor, options: PressureGateOptions = {}) {
    const o = validateOptions(
      "PressureGate",
      options,
      PRESSURE_GATE_OPTIONS_SPEC,
      (key, message) => new MemoryMonitorOptionsError(key, message),
    );
    if (typeof (monitor as { pressure?: unknown } | undefined)?.pressure !== "object")
      throw new MemoryMonitorOptionsError(
        "monitor",
        "PressureGate: monitor: expected a MemoryMonitor: new PressureGate(monitor, options)",
      );
    const retry = o.retryAfterSeconds ?? 10;
    this.#monitor = monitor;
    this.#retryAfter = retry;
    this.#exempt = o.exempt ?? ((req) => DEFAULT_EXEMPT_PATHS.includes(pathOf(req)));
    this.#random = o.random ?? Math.random;
  }

  /** The Retry-After value of the next 503, seconds. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.round(this.#retryAfter * (0.5 + this.#random())));
  }

  /** Answers 503 and returns true when the request must be shed; returns false to let it through. */
  shed(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.#monitor.underPressure || this.#exempt(req)) return false;
    this.#monitor.recordRejection();
    res.statusCode = 503;
    res.setHeader("Retry-After", String(this.retryAfterSeconds()));
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.end(
      JSON.stringify({
        error: { code: OVERLOADED_CODE, message: `service under pressure (${this.#monitor.pressure.join(", ")}); retry later` },
      }),
    );
    return true;
  }

  /** Express-style middleware; mount it early (after metrics, so the 503s are counted). */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
    return (req, res, next) => {
      if (!this.shed(req, res)) next();
    };
  }

  /** Wraps a node:http handler: `createServer(gate.wrap(handler))`. */
  wrap(handler: Handler): Handler {
    return (req, res) => {
      if (!this.shed(req, res)) handler(req, res);
    };
  }
}
