import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createMetrics } from "../../src/metrics/http-metrics";
import { SlidingWindow } from "../../src/metrics/window";

function fakeClock(start = 5_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("snapshot() against known request timings (fake clock)", () => {
  it("reports rates, avg/p95/p99/max over the window, then forgets what slid out", () => {
    const clock = fakeClock();
    const m = createMetrics({ serviceName: "svc", collectDefault: false, now: clock.now });
    clock.advance(10_000); // 10 s of uptime: rates are per second of that span
    for (let d = 1; d <= 100; d++) m.observe("GET", "/orders/:id", d <= 95 ? 200 : 503, d);
    const s = m.snapshot();
    expect(s.requestMetrics).toEqual({ totalRequests: 100, activeRequests: 0, requestRate: 10, errorRate: 0.05 });
    expect(s.responseMetrics).toEqual({
      averageResponseTime: 50.5,
      p95ResponseTime: 95,
      p99ResponseTime: 99,
      maxResponseTime: 100,
    });

    clock.advance(60_000); // the whole window has slid past those requests
    const later = m.snapshot();
    expect(later.requestMetrics).toEqual({ totalRequests: 100, activeRequests: 0, requestRate: 0, errorRate: 0 });
    expect(later.responseMetrics).toEqual({ averageResponseTime: 0, p95ResponseTime: 0, p99ResponseTime: 0, maxResponseTime: 0 });
    m.close();
  });

  it("slides bucket by bucket: one request per second, then 10 s later only the last 50 remain", () => {
    const clock = fakeClock(0);
    const m = createMetrics({ serviceName: "svc", collectDefault: false, now: clock.now, window: 60_000 });
    clock.advance(120_000);
    for (let i = 0; i < 60; i++) {
      m.observe("GET", "/x", 200, i < 10 ? 1_000 : 10); // the 10 oldest are slow
      clock.advance(1_000);
    }
    clock.advance(-500); // half-way through the last bucket
    let s = m.snapshot();
    expect(s.requestMetrics.requestRate).toBe(1);
    expect(s.responseMetrics.maxResponseTime).toBe(1_000);
    clock.advance(10_000);
    s = m.snapshot();
    expect(s.requestMetrics.requestRate).toBeCloseTo(50 / 60);
    expect(s.responseMetrics.maxResponseTime).toBe(10); // the slow ones slid out
    expect(s.responseMetrics.p99ResponseTime).toBe(10);
    m.close();
  });

  it("works from a clock origin of 0 (performance.now right after start): unused slots are not read", () => {
    const w = new SlidingWindow(0, { windowMs: 60_000, bucketMs: 1_000 });
    expect(w.summary(0)).toEqual({ count: 0, errors: 0, spanMs: 1_000, avg: 0, p95: 0, p99: 0, max: 0 });
    w.record(500, 7, true);
    expect(w.summary(900)).toMatchObject({ count: 1, errors: 1, p99: 7 });
  });

  it("keeps p95/p99 from a bounded sample when a bucket overflows", () => {
    const w = new SlidingWindow(0, { windowMs: 1_000, bucketMs: 1_000, samplesPerBucket: 100 });
    for (let i = 1; i <= 10_000; i++) w.record(10, i % 100 === 0 ? 1_000 : 1, false);
    const s = w.summary(10);
    expect(s.count).toBe(10_000);
    expect(s.max).toBe(1_000);
    expect(s.avg).toBeCloseTo((9_900 + 100_000) / 10_000);
    expect(s.p95).toBe(1); // 1 % are slow: p95 is fast whatever the sample
  });

  it("measures real requests end to end: in-flight, durations from the injected clock, 5xx", async () => {
    const clock = fakeClock();
    const m = createMetrics({ serviceName: "svc", collectDefault: false, now: clock.now });
    let inFlightSeen = -1;
    const server: Server = createServer(
      m.wrap((req, res) => {
        inFlightSeen = m.snapshot().requestMetrics.activeRequests;
        clock.advance(req.url === "/slow" ? 400 : 20);
        res.statusCode = req.url === "/boom" ? 500 : 200;
        res.end("x");
      }),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const get = (path: string) =>
      new Promise<void>((resolve, reject) => {
        request({ port, host: "127.0.0.1", path, agent: false }, (res) => {
          res.resume();
          res.on("end", resolve);
        })
          .on("error", reject)
          .end();
      });
    for (const p of ["/a", "/a", "/slow", "/boom"]) await get(p);
    await new Promise((r) => setImmediate(r)); // 'close' of the last response
    expect(inFlightSeen).toBe(1);
    const s = m.snapshot();
    expect(s.requestMetrics.totalRequests).toBe(4);
    expect(s.requestMetrics.activeRequests).toBe(0);
    expect(s.requestMetrics.errorRate).toBe(0.25);
    expect(s.responseMetrics).toEqual({
      averageResponseTime: 115,
      p95ResponseTime: 400,
      p99ResponseTime: 400,
      maxResponseTime: 400,
    });
    expect(s.resourceMetrics.networkIO).toBeGreaterThan(4 * 50); // 4 requests + 4 responses went through sockets
    expect(s.resourceMetrics.memoryUsage).toBeGreaterThan(0);
    expect(s.resourceMetrics.cpuUsage).toBeGreaterThanOrEqual(0);
    expect(s.resourceMetrics.diskIO).toBeGreaterThanOrEqual(0);
    await new Promise((r) => server.close(r));
    m.close();
  });
});
