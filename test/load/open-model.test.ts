/**
 * The open-model sender against real loopback HTTP servers whose latency the test controls.
 * Every expectation is derived from the schedule and the server's own behaviour, not from the
 * sender's output: a request meant to leave at t cannot be answered before the server releases it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { combinedGeneratorCounts, runOpenModel, type GeneratorCounts, type OpenModelResult } from "../../load/runner/open-model";
import type { PreparedRequest } from "../../load/runner/scenario";

jest.setTimeout(60_000);

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: http.Server[] = [];
async function serve(handler: Handler): Promise<URL> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

const get = (): PreparedRequest => ({ name: "get", method: "GET", path: "/", headers: {} });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Each sample's intended time is on the schedule: intended[i] = i × 1000 / rate after the first. */
function expectOnSchedule(r: OpenModelResult) {
  const intended = r.samples.map((s) => s.intendedAtMs).sort((a, b) => a - b);
  const interval = 1000 / r.rateRps;
  for (let i = 1; i < intended.length; i++)
    expect((intended[i] - intended[0]) / interval).toBeCloseTo(Math.round((intended[i] - intended[0]) / interval), 6);
}

describe("open-model sender", () => {
  it("sends the whole schedule to a fast server, every sample 2xx, intended times exactly 1000 / rate apart", async () => {
    const origin = await serve((_req, res) => res.end("ok"));
    const r = await runOpenModel({ origin, rateRps: 200, durationS: 1, next: get });
    expect(r.scheduled).toBe(200);
    expect(r.sent + r.dropped).toBe(r.scheduled);
    expect(r.dropped).toBe(0);
    expect(r.samples).toHaveLength(r.sent);
    expect(r.samples.every((s) => s.ok && s.status === 200)).toBe(true);
    expectOnSchedule(r);
    // Latency is measured from the intended time, so it is never below the send's own lag.
    for (const s of r.samples) expect(s.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("a server that stalls for 1 s: every request meant to leave during the stall waits until its end, not one per connection", async () => {
    const STALL_MS = 1000;
    let releaseAt: number | undefined;
    const held: http.ServerResponse[] = [];
    const origin = await serve((_req, res) => {
      releaseAt ??= performance.now() + STALL_MS;
      if (performance.now() < releaseAt) {
        held.push(res);
        if (held.length === 1) setTimeout(() => held.splice(0).forEach((h) => h.end("late")), STALL_MS);
      } else res.end("ok");
    });
    const runStart = performance.now();
    const r = await runOpenModel({ origin, rateRps: 100, durationS: 2, next: get, runStart });
    const stallEnd = releaseAt! - runStart;
    const duringStall = r.samples.filter((s) => s.intendedAtMs < stallEnd);
    // About a second's worth of sends (100 req/s) fell in the stall, not a handful.
    expect(duringStall.length).toBeGreaterThanOrEqual(70);
    // None was answered before the stall ended: latency from the intended time covers the wait.
    for (const s of duringStall) expect(s.latencyMs).toBeGreaterThanOrEqual(stallEnd - s.intendedAtMs - 1);
    // So the tail is the stall, for many requests: more than 1 % of the run waited over half a second.
    expect(r.samples.filter((s) => s.latencyMs > STALL_MS / 2).length).toBeGreaterThanOrEqual(30);
  });

  it("a server slower than the rate: latency from the intended time grows along the run (the queue), it does not stay flat", async () => {
    // One request at a time, 20 ms each: 50 req/s of capacity against 100 req/s offered.
    const SERVICE_MS = 20;
    const queue: http.ServerResponse[] = [];
    let busy = false;
    const work = () => {
      const res = queue.shift();
      if (!res) return void (busy = false);
      busy = true;
      setTimeout(() => (res.end("ok"), work()), SERVICE_MS);
    };
    const origin = await serve((_req, res) => {
      queue.push(res);
      if (!busy) work();
    });
    const r = await runOpenModel({ origin, rateRps: 100, durationS: 2, next: get });
    const byIntended = [...r.samples].sort((a, b) => a.intendedAtMs - b.intendedAtMs);
    const quarter = Math.floor(byIntended.length / 4);
    const first = mean(byIntended.slice(0, quarter).map((s) => s.latencyMs));
    const last = mean(byIntended.slice(-quarter).map((s) => s.latencyMs));
    // 200 requests × 20 ms = 4 s of work offered in 2 s: the last quarter waits about 1.5 s more than the first.
    expect(last - first).toBeGreaterThan(1000);
    // The responses came no faster than the server's capacity.
    const span = Math.max(...r.samples.map((s) => s.atMs)) - Math.min(...r.samples.map((s) => s.atMs));
    expect(r.samples.length / (span / 1000)).toBeLessThanOrEqual(1000 / SERVICE_MS + 1);
  });

  it("counts dropped sends when the in-flight cap is reached, and measures only what it sent", async () => {
    const origin = await serve((_req, res) => setTimeout(() => res.end("ok"), 500));
    const r = await runOpenModel({ origin, rateRps: 100, durationS: 1, next: get, maxInFlight: 5 });
    // At most 5 at once, each held at least 500 ms: a slot frees once per 500 ms, so of the 100 scheduled over 1 s
    // at most 5 per started 500 ms went out (15), counting the run as long as the generator's own worst lag
    // stretched it on a loaded machine (its sends left that much later, when more slots were free).
    expect(r.maxInFlight).toBeLessThanOrEqual(5);
    expect(r.sent).toBeLessThanOrEqual(5 * (Math.floor((1000 + r.maxLagMs) / 500) + 1));
    expect(r.sent + r.dropped).toBe(r.scheduled);
    expect(r.samples).toHaveLength(r.sent);
    // And the same server with room to spare drops nothing.
    const roomy = await runOpenModel({ origin, rateRps: 100, durationS: 1, next: get, maxInFlight: 100 });
    expect(roomy.dropped).toBe(0);
  });

  it("counts late sends when the generator's own event loop is blocked, and charges the lag to their latency", async () => {
    const origin = await serve((_req, res) => res.end("ok"));
    const BLOCK_MS = 200;
    const runStart = performance.now();
    let blockedFrom = 0;
    // Block this process (the generator) for 200 ms, 300 ms into the run.
    setTimeout(() => {
      blockedFrom = performance.now() - runStart;
      while (performance.now() - runStart < blockedFrom + BLOCK_MS) {
        /* busy: the generator cannot send */
      }
    }, 300);
    const r = await runOpenModel({ origin, rateRps: 200, durationS: 1, next: get, runStart, lateToleranceMs: 20 });
    // Sends meant for the block's span, minus its first 20 ms (the tolerance), left late: ≥ 180 ms × 200 req/s.
    const meantDuringBlock = r.samples.filter(
      (s) => s.intendedAtMs >= blockedFrom + 20 && s.intendedAtMs < blockedFrom + BLOCK_MS,
    );
    expect(meantDuringBlock.length).toBeGreaterThanOrEqual(30);
    expect(r.late).toBeGreaterThanOrEqual(meantDuringBlock.length);
    expect(r.maxLagMs).toBeGreaterThanOrEqual(BLOCK_MS - 20);
    // Each waited at least until the block ended, and its latency says so.
    for (const s of meantDuringBlock) expect(s.latencyMs).toBeGreaterThanOrEqual(blockedFrom + BLOCK_MS - s.intendedAtMs - 1);
    // A run without a block is not late beyond a few timer slips.
    const calm = await runOpenModel({ origin, rateRps: 200, durationS: 1, next: get, lateToleranceMs: 20 });
    expect(calm.late).toBeLessThan(r.late);
  });

  it("a request the server never answers fails at the timeout, counted from its intended time", async () => {
    const origin = await serve(() => undefined);
    const r = await runOpenModel({ origin, rateRps: 10, durationS: 0.5, next: get, timeoutMs: 300 });
    expect(r.samples).toHaveLength(5);
    for (const s of r.samples) {
      expect(s).toMatchObject({ ok: false, status: 0 });
      expect(s.latencyMs).toBeGreaterThanOrEqual(300 - 1);
    }
  });
});

describe("combinedGeneratorCounts (a step's senders, one per target, as one generator)", () => {
  const counts = fc.record({
    scheduled: fc.nat(10_000),
    sent: fc.nat(10_000),
    late: fc.nat(10_000),
    dropped: fc.nat(10_000),
    maxLagMs: fc.double({ min: 0, max: 1e5, noNaN: true }),
  });

  it("no sender is a generator that did nothing", () => {
    expect(combinedGeneratorCounts([])).toEqual({ scheduled: 0, sent: 0, late: 0, dropped: 0, maxLagMs: 0 });
  });

  it("one sender is itself, and splitting the senders in two groups and combining the groups changes nothing", () => {
    fc.assert(fc.property(counts, (one) => expect(combinedGeneratorCounts([one])).toEqual(one)));
    fc.assert(
      fc.property(fc.array(counts, { maxLength: 6 }), fc.array(counts, { maxLength: 6 }), (a, b) => {
        const whole = combinedGeneratorCounts([...a, ...b]);
        expect(combinedGeneratorCounts([combinedGeneratorCounts(a), combinedGeneratorCounts(b)])).toEqual(whole);
        // Adding a sender never lowers a count nor the worst lag.
        const keys: (keyof GeneratorCounts)[] = ["scheduled", "sent", "late", "dropped", "maxLagMs"];
        for (const key of keys) expect(whole[key]).toBeGreaterThanOrEqual(combinedGeneratorCounts(a)[key]);
      }),
    );
  });

  it("sums the sends and keeps the worst lag, not the sum of the lags", () => {
    const a = { scheduled: 100, sent: 90, late: 3, dropped: 10, maxLagMs: 40 };
    const b = { scheduled: 50, sent: 50, late: 1, dropped: 0, maxLagMs: 25 };
    expect(combinedGeneratorCounts([a, b])).toEqual({ scheduled: 150, sent: 140, late: 4, dropped: 10, maxLagMs: 40 });
  });
});
