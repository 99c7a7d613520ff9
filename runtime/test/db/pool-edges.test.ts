import { connect, createServer, type Socket } from "node:net";
import type pg from "pg";
import { Registry } from "prom-client";
import { PostgresServer } from "../../../test/helpers/postgres";
import { DbPoolClosedError, DbPoolTimeoutError, DbUnavailableError } from "../../src/db/errors";
import { ConnectionPoolManager } from "../../src/db/manager";
import { createPool, type CreatePoolOptions, type DbSettings, type ManagedPool } from "../../src/db/pool";
import { METRIC } from "../../src/metrics/names";

/**
 * ManagedPool at its edges (issue #22's mutation run on runtime/src/db), on a real PostgreSQL: the limit
 * as a ceiling on connections under any burst, the queue's timeout, close() with requests queued, the warm
 * floor, and the pinning hook that must never fail the query it watches.
 */

let server: PostgresServer;
const pools: ManagedPool[] = [];

beforeAll(async () => {
  server = await PostgresServer.start({ max_connections: 40 });
}, 60_000);
afterEach(async () => {
  await Promise.allSettled(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await server?.destroy();
});

function poolOf(
  pool: Partial<DbSettings["pool"]>,
  options: CreatePoolOptions = {},
  database: Partial<DbSettings["database"]> = {},
): ManagedPool {
  const p = createPool(
    {
      pool: { minConnections: 0, maxConnections: 6, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000, ...pool },
      database: { ...server.database(), ...database },
    },
    options,
  );
  pools.push(p);
  return p;
}

describe("ManagedPool limit", () => {
  it.each([1, 2, 4])(
    "a burst of 24 statements never holds more than the limit (%i) of connections, and every statement runs",
    async (limit) => {
      const pool = poolOf({ maxConnections: 6 });
      pool.setLimit(limit);
      let peakInUse = 0;
      let peakTotal = 0;
      let peakWaiting = 0;
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          pool.withClient(async (client) => {
            const s = pool.stats();
            peakInUse = Math.max(peakInUse, s.inUse);
            peakTotal = Math.max(peakTotal, s.total);
            peakWaiting = Math.max(peakWaiting, s.waiting);
            const r = await client.query<{ n: number }>("SELECT $1::int AS n, pg_sleep(0.005)", [i]);
            return r.rows[0].n;
          }),
        ),
      );
      expect(results).toEqual([...Array(24).keys()]);
      expect(peakInUse).toBe(limit);
      expect(peakTotal).toBeLessThanOrEqual(limit);
      expect(peakWaiting).toBeGreaterThan(0);
      const after = pool.stats();
      expect([after.inUse, after.waiting, after.limit]).toEqual([0, 0, limit]);
    },
  );

  it("a request queued longer than connectionTimeoutMillis fails with DbPoolTimeoutError naming the queue and the limit", async () => {
    const pool = poolOf({ connectionTimeoutMillis: 300 });
    pool.setLimit(1);
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const held = pool.withClient(
      () =>
        new Promise<void>((r) => {
          release = r;
          entered();
        }),
    );
    await inside;
    const queued = [pool.query("SELECT 1"), pool.query("SELECT 2")];
    const started = performance.now();
    const errors = await Promise.all(
      queued.map((q) =>
        q.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    for (const err of errors) {
      expect(err).toBeInstanceOf(DbPoolTimeoutError);
      expect((err as DbPoolTimeoutError).timeoutMs).toBe(300);
      expect((err as Error).message).toMatch(/for one of 1 connections/);
    }
    // The first to time out still had the other behind it; the second had nobody.
    expect((errors as Error[]).map((e) => /waited behind (\d+) other/.exec(e.message)?.[1]).sort()).toEqual(["0", "1"]);
    release();
    await held;
    expect((await pool.query<{ n: number }>("SELECT 3 AS n")).rows[0].n).toBe(3);
  });
});

/** `promise`, or a rejection naming `what` after `ms`: a test waits on a pool boundedly, never until jest's timeout. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A withClient that holds its connection until `release()`: `inside` gives the client once it holds one. Each hold
 * owns its release (connections open in any order), and releasing early or twice is harmless, so cleanup can.
 */
function holdOn(
  pool: ManagedPool,
  last?: (client: pg.PoolClient) => Promise<unknown>,
): { inside: Promise<pg.PoolClient>; done: Promise<void>; release: () => void } {
  let entered!: (client: pg.PoolClient) => void;
  let release!: () => void;
  const inside = new Promise<pg.PoolClient>((r) => (entered = r));
  const gate = new Promise<void>((r) => (release = r));
  const done = pool.withClient(async (client) => {
    entered(client);
    await gate;
    await last?.(client);
  });
  done.catch(() => undefined); // awaited by the test; a failed assertion must not leave it unhandled
  return { inside, done, release };
}

/** A query that may still be queued when a test fails: its rejection (the pool closed) is not left unhandled. */
function queuedQuery<R extends pg.QueryResultRow>(pool: ManagedPool, text: string): Promise<pg.QueryResult<R>> {
  const q = pool.query<R>(text);
  q.catch(() => undefined);
  return q;
}

describe("ManagedPool: the connection given back", () => {
  it("after a shrink serves the queue only once those checked out are within the new limit", async () => {
    const pool = poolOf({ connectionTimeoutMillis: 20_000 });
    pool.setLimit(2);
    const [a, b] = [holdOn(pool), holdOn(pool)];
    try {
      await within(Promise.all([a.inside, b.inside]), 15_000, "two connections checked out");
      const queued = queuedQuery<{ n: number }>(pool, "SELECT 9 AS n");
      expect(pool.stats().waiting).toBe(1);
      pool.setLimit(1);
      // Two out, limit 1: the first one back closes the gap; handing it to the queue would keep 2 in use.
      a.release();
      await within(a.done, 10_000, "the first hold");
      expect(pool.stats()).toMatchObject({ inUse: 1, waiting: 1, limit: 1 });
      // One out, limit 1: the next one back goes to the queue.
      b.release();
      await within(b.done, 10_000, "the second hold");
      expect((await within(queued, 10_000, "the queued query")).rows[0].n).toBe(9);
      // Neither connection broke, so neither was destroyed: both are pooled again.
      expect(pool.stats()).toMatchObject({ total: 2, idle: 2, inUse: 0, waiting: 0, limit: 1 });
    } finally {
      a.release();
      b.release();
      await Promise.allSettled([a.done, b.done]);
    }
  });

  it.each([
    ["returns", undefined, undefined],
    ["throws", (c: pg.PoolClient) => c.query("SELECT 1"), DbUnavailableError],
  ] as const)(
    "broken while checked out (its work %s) is destroyed, never handed to the request waiting for it, which gets a fresh one",
    async (_, last, thrown) => {
      const registry = new Registry();
      const pool = poolOf({ connectionTimeoutMillis: 20_000 }, { registry }); // limit 1 (min 0)
      const admin = poolOf({});
      const a = holdOn(pool, last);
      try {
        const client = await within(a.inside, 15_000, "the first connection");
        const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
        const ended = new Promise<void>((r) => client.once("end", () => r()));
        const queued = queuedQuery<{ pid: number }>(pool, "SELECT pg_backend_pid() AS pid");
        expect(pool.stats().waiting).toBe(1);
        await admin.query("SELECT pg_terminate_backend($1)", [pid]);
        await within(ended, 10_000, "the terminated session's end");
        a.release();
        const outcome = await within(
          a.done.then(
            () => undefined,
            (e: unknown) => e,
          ),
          10_000,
          "the hold",
        );
        if (thrown) expect(outcome).toBeInstanceOf(thrown);
        else expect(outcome).toBeUndefined();
        expect((await within(queued, 10_000, "the queued query")).rows[0].pid).not.toBe(pid);
        expect(pool.stats()).toMatchObject({ total: 1, idle: 1, inUse: 0, waiting: 0 });
        // One connection broke once: one error, however many `error` events pg emitted for it.
        expect((await registry.getSingleMetric(METRIC.dbPoolErrorsTotal)!.get()).values[0].value).toBe(1);
      } finally {
        a.release();
        await Promise.allSettled([a.done]);
      }
    },
  );

  it("cut mid-statement (the statement fails; the client emits no error of its own) is destroyed, never handed to the request waiting", async () => {
    const pool = poolOf({ connectionTimeoutMillis: 20_000 }); // limit 1 (min 0)
    const admin = poolOf({});
    const a = holdOn(pool, (c) => c.query("SELECT pg_sleep(30)"));
    try {
      const client = await within(a.inside, 15_000, "the first connection");
      const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const queued = queuedQuery<{ pid: number }>(pool, "SELECT pg_backend_pid() AS pid");
      a.release();
      const sleeping = async () =>
        (
          await admin.query(
            "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'",
            [pid],
          )
        ).rowCount === 1;
      for (let tries = 0; !(await sleeping()); tries++) {
        if (tries > 500) throw new Error("the statement never started");
        await new Promise((r) => setTimeout(r, 10));
      }
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      const outcome = await within(
        a.done.then(
          () => undefined,
          (e: unknown) => e,
        ),
        10_000,
        "the hold",
      );
      expect(outcome).toBeInstanceOf(DbUnavailableError);
      expect((await within(queued, 10_000, "the queued query")).rows[0].pid).not.toBe(pid);
      expect(pool.stats()).toMatchObject({ total: 1, idle: 1, inUse: 0, waiting: 0 });
    } finally {
      a.release();
      await Promise.allSettled([a.done]);
    }
  });

  it("after a statement error (a SQL error, not a broken connection) goes to the request waiting, the same session", async () => {
    const pool = poolOf({ connectionTimeoutMillis: 20_000 }); // limit 1 (min 0)
    const a = holdOn(pool, (c) => c.query("SELECT * FROM no_such_table"));
    try {
      const client = await within(a.inside, 15_000, "the connection");
      const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const queued = queuedQuery<{ pid: number }>(pool, "SELECT pg_backend_pid() AS pid");
      a.release();
      await expect(within(a.done, 10_000, "the hold")).rejects.toMatchObject({ code: "42P01" });
      expect((await within(queued, 10_000, "the queued query")).rows[0].pid).toBe(pid);
      expect(pool.stats()).toMatchObject({ total: 1, idle: 1, inUse: 0, waiting: 0 });
    } finally {
      a.release();
      await Promise.allSettled([a.done]);
    }
  });
});

/**
 * A TCP relay to the test's PostgreSQL on a port of its own. `hold()` makes the connections accepted from then on
 * wait (their bytes buffered) until `open()`: a connect that finishes exactly when the test says.
 */
async function gatedRelay(): Promise<{ port: number; hold: () => void; open: () => void; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let gate: Promise<void> = Promise.resolve();
  let open = (): void => undefined;
  const relay = createServer((inbound) => {
    sockets.add(inbound);
    inbound.pause();
    inbound.on("error", () => undefined);
    void gate.then(() => {
      if (inbound.destroyed) return;
      const outbound = connect(server.port, "127.0.0.1");
      sockets.add(outbound);
      outbound.on("error", () => undefined);
      inbound.on("close", () => outbound.destroy());
      outbound.on("close", () => inbound.destroy());
      inbound.pipe(outbound).pipe(inbound);
    });
  });
  await new Promise<void>((res) => relay.listen(0, "127.0.0.1", () => res()));
  return {
    port: (relay.address() as { port: number }).port,
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    open: () => open(),
    close: () => {
      open();
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((res) => relay.close(() => res()));
    },
  };
}

describe("ManagedPool: a new connection's time budget", () => {
  it("a connect that finishes after the budget is given back to the pool; one held longer than the budget stays checked out", async () => {
    const timeoutMs = 200;
    const relay = await gatedRelay();
    const pool = poolOf({ connectionTimeoutMillis: timeoutMs }, {}, { port: relay.port }); // limit 1 (min 0)
    const a = holdOn(pool);
    try {
      await within(a.inside, 5_000, "the first connection");
      relay.hold();
      const queued = pool.query("SELECT 1").then(
        () => "ran",
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, timeoutMs / 2));
      // One more permit: the queued request opens a connection with the half of its budget that is left, while
      // pg.Pool's own connect timer gets the whole budget. Ours gives up first; the connect goes on.
      pool.setLimit(2);
      const err = (await within(queued, 5_000, "the late connect's request")) as DbPoolTimeoutError;
      expect(err).toBeInstanceOf(DbPoolTimeoutError);
      expect(err.message).toContain("opening a new connection did not finish in time");
      expect(pool.stats()).toMatchObject({ total: 2, idle: 0, inUse: 2 }); // the first, and the connect under way
      relay.open();
      // The late connection is no one's: back in the pool (or, if pg.Pool's own timer won under load, destroyed).
      // The first one, held past its own connect's budget by now, stays checked out.
      for (let tries = 0; pool.stats().inUse !== 1; tries++) {
        if (tries > 200) throw new Error(`the late connection stays checked out: ${JSON.stringify(pool.stats())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(pool.stats()).toMatchObject({ inUse: 1, waiting: 0 });
      a.release();
      await within(a.done, 5_000, "the first hold");
      expect(pool.stats()).toMatchObject({ inUse: 0, idle: pool.stats().total });
    } finally {
      a.release();
      await Promise.allSettled([a.done]);
      await relay.close();
    }
  });
});

describe("ManagedPool.close", () => {
  it("fails queued requests with DbPoolClosedError, lets the running one finish, and refuses later ones", async () => {
    const pool = poolOf({});
    pool.setLimit(1);
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const running = pool.withClient(async (client) => {
      await new Promise<void>((r) => {
        release = r;
        entered();
      });
      return (await client.query<{ n: number }>("SELECT 7 AS n")).rows[0].n;
    });
    await inside;
    const queued = pool.query("SELECT 1").then(
      () => "ran",
      (e: unknown) => e,
    );
    const closing = pool.close();
    expect(await queued).toBeInstanceOf(DbPoolClosedError);
    await expect(pool.query("SELECT 1")).rejects.toBeInstanceOf(DbPoolClosedError);
    release();
    expect(await running).toBe(7);
    await closing;
    await pool.close(); // idempotent
  });
});

describe("ManagedPool.warm", () => {
  it("opens connections up to min (never above the limit), and nothing when they are there", async () => {
    const pool = poolOf({ minConnections: 3, maxConnections: 6 });
    expect(pool.stats().total).toBe(0); // pg.Pool never prefills
    await pool.warm();
    expect(pool.stats()).toMatchObject({ total: 3, idle: 3, inUse: 0 });
    await pool.warm();
    expect(pool.stats().total).toBe(3);
  });
});

describe("ConnectionPoolManager re-warms the floor", () => {
  it("only on a tick where nothing waits: the idle floor comes back, a busy tick opens nothing extra", async () => {
    const pool = poolOf({ minConnections: 2, maxConnections: 6 });
    const manager = new ConnectionPoolManager(pool);
    // A request waits: growing is the answer, not opening idle connections.
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 1 });
    expect(pool.stats().total).toBe(0);
    await manager.optimizePool({ activeConnections: 0, waitingRequests: 0 });
    expect(pool.stats()).toMatchObject({ total: 2, idle: 2 });
  });
});

describe("pinning detection", () => {
  it("counts each reason, tells onPinning the statement, and a throwing onPinning never fails the query", async () => {
    const registry = new Registry();
    const seen: string[] = [];
    const pool = poolOf(
      {},
      {
        registry,
        detectPinning: true,
        onPinning: (e) => {
          seen.push(`${e.reasons.join("+")}:${e.text}`);
          throw new Error("listener bug");
        },
      },
    );
    expect((await pool.query<{ n: number }>("SELECT 1 AS n")).rows[0].n).toBe(1);
    await pool.query("SET statement_timeout = 5000");
    await pool.withClient((c) => c.query({ text: "SELECT pg_advisory_lock(1), pg_advisory_unlock(1)" }));
    // A named statement run again by its name alone (pg sends no text): the event has the name's reason and no text.
    await pool.withClient(async (c) => {
      await c.query({ name: "probe", text: "SELECT 1" });
      await c.query({ name: "probe" } as unknown as pg.QueryConfig);
    });
    expect(seen).toEqual([
      "set:SET statement_timeout = 5000",
      "advisory_lock:SELECT pg_advisory_lock(1), pg_advisory_unlock(1)",
      "prepared_statement:SELECT 1",
      "prepared_statement:",
    ]);
    const counted = (await registry.getSingleMetric(METRIC.dbPinningStatementsTotal)!.get()).values;
    const byReason = Object.fromEntries(counted.map((v) => [v.labels.reason, v.value]));
    expect(byReason).toEqual({ set: 1, advisory_lock: 1, prepared_statement: 2 });
  });

  it("off (the default): pinning statements run as any other, nothing is counted and onPinning is never called", async () => {
    const registry = new Registry();
    const seen: string[] = [];
    const pool = poolOf({}, { registry, onPinning: (e) => seen.push(e.text) });
    await pool.query("SET statement_timeout = 5000");
    const r = await pool.withClient((c) => c.query<{ n: number }>({ name: "probe", text: "SELECT 2 AS n" }));
    expect(r.rows[0].n).toBe(2);
    expect(seen).toEqual([]);
    expect(registry.getSingleMetric(METRIC.dbPinningStatementsTotal)).toBeUndefined();
  });
});
