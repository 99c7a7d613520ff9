/**
 * The fault proxy, each fault observed by a real client: ioredis against a real redis-server, and pg
 * against a real PostgreSQL, both through the proxy.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import pg from "pg";
import { FaultProxy } from "../../tools/fault-proxy/proxy";
import { checkFault, faultProblems, FaultProxyError } from "../../tools/fault-proxy/faults";
import { useRedisServer } from "../helpers/redis";
import { PostgresServer } from "../helpers/postgres";

jest.setTimeout(60_000);

const redis = useRedisServer();
let proxy: FaultProxy;
const clients: Redis[] = [];

/** An ioredis client through the proxy that fails fast: no retries, a short command timeout. */
function client(commandTimeout = 2_000): Redis {
  const c = new Redis(proxy.redisUrl, { commandTimeout, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

beforeEach(async () => {
  proxy = await FaultProxy.start({ port: redis.server.port });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await proxy.close();
});

test("without a fault the proxy is transparent", async () => {
  const c = client();
  await c.connect();
  await c.set("k", "v");
  expect(await c.get("k")).toBe("v");
  expect(proxy.bytes.up).toBeGreaterThan(0);
  expect(proxy.bytes.down).toBeGreaterThan(0);
});

test("latency (fixed + jitter): every round trip takes at least the fixed delay, and none once it is off", async () => {
  const c = client(5_000);
  await c.connect();
  // Large enough that a loaded machine's own delays stay below it once the fault is off.
  const ms = 400;
  const jitterMs = 100;
  proxy.enable({ kind: "latency", ms, jitterMs });
  const rtts: number[] = [];
  for (let i = 0; i < 5; i++) rtts.push((await timed(() => c.ping())).ms);
  // A timer never fires early: each round trip pays at least `ms` (1 ms slack for timer rounding).
  for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(ms - 1);
  proxy.disable("latency");
  const after = (await timed(() => c.ping())).ms;
  expect(after).toBeLessThan(ms);
});

test("reset: open connections get ECONNRESET, and new ones are reset while the fault is on", async () => {
  const c = client();
  await c.connect();
  const seen = new Promise<NodeJS.ErrnoException>((resolve) => c.once("error", resolve));
  proxy.enable({ kind: "reset" });
  expect((await seen).code).toBe("ECONNRESET");

  const fresh = client();
  const freshError = new Promise<NodeJS.ErrnoException>((resolve) => fresh.once("error", resolve));
  fresh.connect().catch(() => undefined);
  expect((await freshError).code).toBe("ECONNRESET");

  proxy.disable("reset");
  const again = client();
  await again.connect();
  expect(await again.ping()).toBe("PONG");
});

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

test("blackhole: a command times out, and the held bytes are delivered once the partition heals", async () => {
  const c = client(300);
  await c.connect();
  await c.set("bh", "before");
  proxy.enable({ kind: "blackhole" });
  const write = c.set("bh", "during").catch((e: Error) => e);
  await expect(c.get("bh")).rejects.toThrow(/timed out/i);
  expect(await write).toBeInstanceOf(Error);
  // The server saw nothing: the write is held, as TCP keeps retransmitting it during a partition.
  expect(await redis.raw.get("bh")).toBe("before");
  // A new connection is accepted but its handshake is never answered either.
  const fresh = client(300);
  await expect(fresh.connect().then(() => fresh.ping())).rejects.toThrow();
  proxy.disable("blackhole");
  expect(await until(async () => (await redis.raw.get("bh")) === "during")).toBe(true);
});

test("half-open (down): the server gets the writes, the client gets no answer and no FIN, and the connection stays dead after the fault is cleared", async () => {
  const c = client(300);
  await c.connect();
  let closed = false;
  c.on("close", () => (closed = true));
  proxy.enable({ kind: "half-open" });
  await expect(c.set("ho", "written")).rejects.toThrow(/timed out/i);
  // Up is open: the write reached Redis; only its answer was dropped.
  expect(await redis.raw.get("ho")).toBe("written");
  proxy.disable("half-open");
  await expect(c.get("ho")).rejects.toThrow(/timed out/i);
  // The server closes its side (CLIENT KILL): the FIN is dropped too, so the client still believes it is connected.
  await redis.raw.client("KILL", "TYPE", "normal");
  await new Promise((r) => setTimeout(r, 200));
  expect(closed).toBe(false);
  expect(c.status).toBe("ready");
  // A new connection is a new path: it works.
  const fresh = client();
  await fresh.connect();
  expect(await fresh.get("ho")).toBe("written");
});

test("half-open (up): the client's writes never reach the server", async () => {
  const c = client(300);
  await c.connect();
  proxy.enable({ kind: "half-open", direction: "up" });
  await expect(c.set("hu", "lost")).rejects.toThrow(/timed out/i);
  expect(await redis.raw.get("hu")).toBeNull();
});

test("bandwidth: a large reply takes at least size / rate, and bytes/s stays under the limit", async () => {
  const size = 60_000;
  const rate = 40_000;
  await redis.raw.set("big", "x".repeat(size));
  const c = client(20_000);
  await c.connect();
  proxy.enable({ kind: "bandwidth", bytesPerSecond: rate });
  const before = proxy.bytes.down;
  const { ms, value } = await timed(() => c.get("big"));
  const bytes = proxy.bytes.down - before;
  expect(value).toHaveLength(size);
  expect(bytes).toBeGreaterThanOrEqual(size);
  // Expected from the rate alone, not from the proxy's pacing code.
  expect(ms).toBeGreaterThanOrEqual((bytes / rate) * 1000 - 2);
  expect(bytes / (ms / 1000)).toBeLessThanOrEqual(rate * 1.01);
  proxy.disable("bandwidth");
  expect((await timed(() => c.get("big"))).ms).toBeLessThan((size / rate) * 1000);
});

test("schedule: faults go on and off at their times, recorded on the timeline", async () => {
  const c = client(5_000);
  await c.connect();
  const start = Date.now();
  proxy.schedule([{ atMs: 300, forMs: 1_000, fault: { kind: "latency", ms: 400 } }]);
  await new Promise((r) => setTimeout(r, 400));
  expect(proxy.isOn("latency")).toBe(true);
  expect((await timed(() => c.ping())).ms).toBeGreaterThanOrEqual(399);
  await new Promise((r) => setTimeout(r, 1_000));
  expect(proxy.isOn("latency")).toBe(false);
  expect((await timed(() => c.ping())).ms).toBeLessThan(400);
  const [on, off] = proxy.timeline;
  expect(on!.action).toBe("on");
  expect(off!.action).toBe("off");
  // Node may fire a timer up to 1 ms before Date.now() shows the delay elapsed.
  expect(on!.at - start).toBeGreaterThanOrEqual(298);
  expect(off!.at - on!.at).toBeGreaterThanOrEqual(998);
});

describe("fault validation", () => {
  test("every problem at once, each with the key, the value as written and the fix", () => {
    const problems = faultProblems({ kind: "latency", ms: -1, jitterMs: "5" });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/latency\.ms: got -1; give a delay/);
    expect(problems[1]).toMatch(/latency\.jitterMs: got "5"/);
    expect(() => checkFault({ kind: "slow" })).toThrow(FaultProxyError);
    expect(faultProblems({ kind: "slow" })[0]).toMatch(/use one of latency, bandwidth, reset, blackhole, half-open/);
  });

  test("latency ms and bandwidth rate: accepted exactly at and above their minimum, refused below", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (v) => {
        expect(faultProblems({ kind: "latency", ms: v }).length === 0).toBe(Number.isFinite(v) && v >= 0);
        expect(faultProblems({ kind: "bandwidth", bytesPerSecond: v }).length === 0).toBe(Number.isFinite(v) && v >= 1);
      }),
    );
    expect(faultProblems({ kind: "latency", ms: 0 })).toEqual([]);
    expect(faultProblems({ kind: "latency", ms: -Number.MIN_VALUE })).toHaveLength(1);
    expect(faultProblems({ kind: "bandwidth", bytesPerSecond: 1 })).toEqual([]);
    expect(faultProblems({ kind: "bandwidth", bytesPerSecond: 0.999 })).toHaveLength(1);
  });

  test("enable refuses a bad fault and leaves the proxy as it was", () => {
    expect(() => proxy.enable({ kind: "latency", ms: Number.NaN })).toThrow(FaultProxyError);
    expect(proxy.active).toEqual([]);
  });
});

describe("through PostgreSQL (pg)", () => {
  let server: PostgresServer;
  let pgProxy: FaultProxy;
  beforeAll(async () => {
    server = await PostgresServer.start();
  });
  afterAll(async () => {
    await pgProxy?.close();
    await server?.destroy();
  });

  test("latency slows each query by at least the delay; a reset fails the query with ECONNRESET", async () => {
    pgProxy = await FaultProxy.start({ port: server.port });
    const db = new pg.Client({ connectionString: server.url().replace(`:${server.port}/`, `:${pgProxy.port}/`) });
    db.on("error", () => undefined);
    await db.connect();
    pgProxy.enable({ kind: "latency", ms: 100 });
    const { ms } = await timed(() => db.query("SELECT 1"));
    expect(ms).toBeGreaterThanOrEqual(99);
    pgProxy.disable("latency");
    const slow = db.query("SELECT pg_sleep(1)").catch((e: NodeJS.ErrnoException) => e);
    await new Promise((r) => setTimeout(r, 100));
    pgProxy.enable({ kind: "reset" });
    expect(((await slow) as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    await db.end().catch(() => undefined);
  });
});
