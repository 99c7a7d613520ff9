import { RuntimeConfigError } from "../errors";
import { duration, showValue, validateOptions, type SpecFor } from "../options";
import { dbError, ManagedPool } from "./pool";
import { setRepeating } from "../timer";

const CONNECTION_POOL_MANAGER_OPTIONS_SPEC = { intervalMs: duration(1) } satisfies SpecFor<ConnectionPoolManagerOptions>;

/** The seed's PoolMetrics: what optimizePool decides on. */
export interface PoolMetrics {
  activeConnections: number;
  waitingRequests: number;
}

export interface ConnectionPoolManagerOptions {
  /** How often `start()` samples the pool and calls optimizePool (shrinking happens on these ticks). @default 1000 */
  intervalMs?: number;
}

/**
 * The seed's ConnectionPoolManager: grows the pool toward `maxConnections` while requests wait and
 * shrinks it toward `minConnections` when nothing waits. "Pool size" is ManagedPool's concurrency
 * limit (pg.Pool cannot resize; see ManagedPool), clamped to [min, max], so it never exceeds the
 * service's slice of the connection budget.
 *
 * Grow fast, shrink slow: growth happens as soon as a request queues (and on every tick while any
 * wait), by the number waiting; shrinking is one step per tick, never below the connections in use,
 * so a short lull does not close connections a burst will want back.
 */
export class ConnectionPoolManager {
  readonly #pool: ManagedPool;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(pool: ManagedPool, options: ConnectionPoolManagerOptions = {}) {
    if (!(pool instanceof ManagedPool))
      throw new RuntimeConfigError(
        "pool",
        `ConnectionPoolManager: expected the ManagedPool to manage, got ${showValue(pool)}; the seed's PoolConfig goes to createPool: ` +
          "new ConnectionPoolManager(createPool({ pool: poolConfig, database })).start()",
      );
    const o = validateOptions("ConnectionPoolManager", options, CONNECTION_POOL_MANAGER_OPTIONS_SPEC, dbError);
    this.#pool = pool;
    this.#intervalMs = o.intervalMs ?? 1_000;
  }

  /** One decision. Resolves once the new limit is applied (and, on growth, the warm floor restored). */
  async optimizePool(metrics: PoolMetrics): Promise<void> {
    const { activeConnections, waitingRequests } = metrics;
    const pool = this.#pool;
    if (waitingRequests > 0 && pool.limit < pool.max) {
      this.#increasePoolSize(waitingRequests);
    } else if (waitingRequests === 0 && pool.limit > pool.min && pool.limit > activeConnections) {
      this.#decreasePoolSize(activeConnections);
    }
    // After a server restart the idle floor is gone (pg.Pool never refills it): best-effort re-warm.
    if (waitingRequests === 0) await pool.warm();
  }

  /** Samples every `intervalMs`, and reacts at once when a request queues. Timers are unref'd. */
  start(): this {
    if (this.#timer) return this;
    this.#pool.onWaiting(() => {
      const s = this.#pool.stats();
      this.#increasePoolSize(s.waiting);
    });
    this.#timer = setRepeating(() => void this.optimizePool(this.#sample()).catch(() => undefined), this.#intervalMs);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pool.onWaiting(undefined);
  }

  #sample(): PoolMetrics {
    const s = this.#pool.stats();
    return { activeConnections: s.inUse, waitingRequests: s.waiting };
  }

  #increasePoolSize(waiting: number): void {
    this.#pool.setLimit(this.#pool.limit + Math.max(1, waiting));
  }

  #decreasePoolSize(active: number): void {
    this.#pool.setLimit(Math.max(active, this.#pool.limit - 1));
  }
}
