import fc from "fast-check";
import { ConnectionPoolManager } from "../../src/db/manager";
import { createPool, type ManagedPool } from "../../src/db/pool";
import { RuntimeConfigError } from "../../src/errors";
import { REFUSED_DATABASE } from "../helpers/refused-database";

/**
 * ConnectionPoolManager's decision rule over every (min, max, limit, in use, waiting), on both sides of each
 * comparison: grow by the number waiting while any wait, shrink one step when none wait, never below the
 * connections in use nor outside [max(1, min), max]. The pool points at a port nothing listens on: the rule
 * needs no connection (the warm-up after a decision fails, which is counted, never thrown), so the decisions
 * are observed on a real ManagedPool without a server; pool.test.ts checks the same rule against
 * PostgreSQL's own session count.
 */

const pools: ManagedPool[] = [];
afterEach(async () => {
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});

function poolOf(min: number, max: number): ManagedPool {
  const pool = createPool({
    pool: { minConnections: min, maxConnections: max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 1_000 },
    // A port nothing listens on: the rule never needs a connection.
    database: REFUSED_DATABASE,
  });
  pools.push(pool);
  return pool;
}

/** The rule as the class documents it, written independently of manager.ts. */
function expectedLimit(min: number, max: number, limit: number, active: number, waiting: number): number {
  const floor = Math.max(1, min);
  if (waiting > 0) return Math.min(max, limit + waiting);
  if (limit > min && limit > active) return Math.max(floor, active, limit - 1);
  return limit;
}

describe("ConnectionPoolManager.optimizePool: one rule over every state", () => {
  it("grows by the number waiting, shrinks one step, stays within [max(1, min), max] and at or above the connections in use", async () => {
    const state = fc
      .record({ min: fc.integer({ min: 0, max: 4 }), extra: fc.integer({ min: 0, max: 8 }) })
      .map(({ min, extra }) => ({ min, max: Math.max(1, min) + extra }))
      .chain(({ min, max }) =>
        fc.record({
          min: fc.constant(min),
          max: fc.constant(max),
          limit: fc.integer({ min: Math.max(1, min), max }),
          active: fc.integer({ min: 0, max: max + 2 }),
          waiting: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 20 })),
        }),
      );
    await fc.assert(
      fc.asyncProperty(state, async ({ min, max, limit, active, waiting }) => {
        const pool = poolOf(min, max);
        expect(pool.setLimit(limit)).toBe(limit);
        await new ConnectionPoolManager(pool).optimizePool({ activeConnections: active, waitingRequests: waiting });
        expect([min, max, limit, active, waiting, pool.limit]).toEqual([
          min,
          max,
          limit,
          active,
          waiting,
          expectedLimit(min, max, limit, active, waiting),
        ]);
        await pool.close();
      }),
      { numRuns: 200 },
    );
  });

  it("at the edges: at max it does not grow, at the floor it does not shrink, one waiting request grows by one", async () => {
    const pool = poolOf(0, 4);
    const manager = new ConnectionPoolManager(pool);
    pool.setLimit(4);
    await manager.optimizePool({ activeConnections: 4, waitingRequests: 3 });
    expect(pool.limit).toBe(4);
    pool.setLimit(1);
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 0 });
    expect(pool.limit).toBe(1);
    await manager.optimizePool({ activeConnections: 1, waitingRequests: 1 });
    expect(pool.limit).toBe(2);
    // In use equal to the limit: no step down (it would take a connection from a running query).
    await manager.optimizePool({ activeConnections: 2, waitingRequests: 0 });
    expect(pool.limit).toBe(2);
    await manager.optimizePool({ activeConnections: 1, waitingRequests: 0 });
    expect(pool.limit).toBe(1);
  });

  it("setLimit clamps any number to [max(1, min), max] and floors fractions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.double({ min: -50, max: 50, noNaN: true }), (max, wanted) => {
        const pool = poolOf(0, max);
        const applied = pool.setLimit(wanted);
        expect(applied).toBe(Math.min(max, Math.max(1, Math.floor(wanted))));
        expect(pool.limit).toBe(applied);
        void pool.close();
      }),
      { numRuns: 100 },
    );
  });

  it("refuses anything but a ManagedPool, naming the form that works", () => {
    for (const pool of [undefined, {}, { limit: 1, max: 2 }]) {
      let error: unknown;
      try {
        new ConnectionPoolManager(pool as never);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(RuntimeConfigError);
      expect((error as RuntimeConfigError).key).toBe("pool");
      expect((error as Error).message).toContain("ConnectionPoolManager: expected the ManagedPool to manage, got");
      expect((error as Error).message).toContain("new ConnectionPoolManager(createPool({ pool: poolConfig, database })).start()");
    }
  });

  it("refuses a bad intervalMs naming the class, the key and the value", () => {
    const pool = poolOf(0, 2);
    expect(() => new ConnectionPoolManager(pool, { intervalMs: 0 })).toThrow(
      /^ConnectionPoolManager: intervalMs: expected an integer number of ms .*got 0$/,
    );
  });

  it("ticks every second by default: no decision in the first 300 ms, one within a few seconds", async () => {
    const pool = poolOf(0, 6);
    pool.setLimit(6);
    const manager = new ConnectionPoolManager(pool).start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(pool.limit).toBe(6);
      const deadline = Date.now() + 10_000;
      while (pool.limit === 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(pool.limit).toBe(5);
    } finally {
      manager.stop();
    }
  });

  it("start() is idempotent and stop() ends the ticks (no decision after stop)", async () => {
    const pool = poolOf(0, 6);
    pool.setLimit(6);
    const manager = new ConnectionPoolManager(pool, { intervalMs: 5 });
    expect(manager.start()).toBe(manager);
    expect(manager.start()).toBe(manager);
    // Idle ticks step the limit down, one per tick.
    const deadline = Date.now() + 10_000;
    while (pool.limit > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(pool.limit).toBe(1);
    manager.stop();
    pool.setLimit(6);
    await new Promise((r) => setTimeout(r, 60));
    expect(pool.limit).toBe(6);
  });
});
