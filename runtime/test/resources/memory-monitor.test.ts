import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getHeapStatistics } from "node:v8";
import { Registry } from "prom-client";
import fc from "fast-check";
import { memorySettingsSchema, MAX_MIB } from "../../src/config/settings";
import { enforcedHeapLimitBytes, MemoryMonitor, MemoryMonitorOptionsError, PressureGate } from "../../src/resources";
import { HysteresisSwitch } from "../../src/resources/hysteresis";
import { fullGc } from "../helpers/full-gc";
import { maxOldSpaceSizeMiB } from "../../src/resources/memory-monitor";

const MiB = 1024 * 1024;
/** For tests that are not about the heap: the limit V8 enforces, so a jest worker's heap grown by earlier files is not heap pressure. */
const ambientHeapLimit = (): number => getHeapStatistics().heap_size_limit;

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* block the event loop */
  }
}

describe("HysteresisSwitch", () => {
  it.each([
    // enterAt 0.85, exit below 0.765 (10 %)
    [
      [0.5, 0.84, 0.85, 0.8, 0.77, 0.76, 0.84, 0.86],
      [false, false, true, true, true, false, false, true],
    ],
    [
      [0.9, 0.9, 0.7, 0.9],
      [true, true, false, true],
    ],
  ])("samples %j -> %j", (samples, expected) => {
    const s = new HysteresisSwitch(0.85, 0.1);
    expect(samples.map((v) => s.update(v))).toEqual(expected);
  });

  it("a limit of 0 is off: never on", () => {
    const s = new HysteresisSwitch(0, 0.1);
    expect(s.enabled).toBe(false);
    expect(s.update(1e9)).toBe(false);
  });
});

describe("MemoryMonitor", () => {
  it("samples memory against min(heapSizeLimit, V8's limit): 64 MiB here, where V8 allows heap_size_limit (no --max-old-space-size)", () => {
    expect(maxOldSpaceSizeMiB()).toBeUndefined();
    const m = new MemoryMonitor({ heapSizeLimit: 64, gcThreshold: 100_000 });
    const s = m.monitor();
    expect(getHeapStatistics().heap_size_limit).toBeGreaterThan(64 * MiB);
    expect(m.heapLimitBytes).toBe(64 * MiB);
    expect(m.heapLimitMismatch).toBe(true);
    expect(s.heapLimit).toBe(m.heapLimitBytes);
    expect(s.heapUsed).toBeGreaterThan(0);
    expect(s.rss).toBeGreaterThan(s.heapUsed);
    expect(s.heapRatio).toBeCloseTo(s.heapUsed / s.heapLimit);
    expect(s.gc).toBe("none");
  });

  it.each([
    [[], undefined, undefined],
    [["--max-old-space-size=384"], undefined, 384],
    [[], "--enable-source-maps --max-old-space-size=576", 576],
    [["--max_old_space_size=64"], "--max-old-space-size=384", 64], // the command line comes after NODE_OPTIONS
    [[], "--max-old-space-size=abc", undefined],
  ])("maxOldSpaceSizeMiB(%j, %j) = %s", (execArgv, nodeOptions, expected) => {
    expect(maxOldSpaceSizeMiB(execArgv, nodeOptions)).toBe(expected);
  });

  it("enters heap pressure at threshold × limit and reports it to listeners, ready false", () => {
    const used = process.memoryUsage().heapUsed;
    // A limit just below what is used: ratio > 1 > threshold.
    const m = new MemoryMonitor({ memoryMonitoring: { threshold: 0.85 } }, { heapLimitBytes: used / 2 });
    const seen: string[][] = [];
    m.onChange((p) => seen.push(p));
    expect(m.ready).toBe(true);
    expect(m.monitor().pressure).toEqual(["heap"]);
    expect(m.ready).toBe(false);
    m.monitor();
    expect(seen).toEqual([["heap"]]); // a change, not every sample
    m.close();
    expect(m.ready).toBe(true);
  });

  it("without --expose-gc a GC hint above gcThreshold is only counted, once per cooldown", async () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const registry = new Registry();
    const m = new MemoryMonitor({ gcThreshold: 1 }, { registry, gcCooldownMs: 60_000 });
    expect(m.monitor().gc).toBe("not_exposed");
    expect(m.monitor().gc).toBe("none");
    const text = await registry.metrics();
    expect(text).toMatch(/^uaip_memory_gc_total\{result="not_exposed"\} 1$/m);
    expect(text).toMatch(/^uaip_memory_gc_total\{result="collected"\} 0$/m);
    m.close();
  });

  it("the hysteresis option sets the recovery level: a heap between the exit and entry levels stays under pressure", () => {
    // A full GC on demand (the test process has no --expose-gc), so the heap can be brought back down.
    const collect = fullGc();
    collect();
    const base = process.memoryUsage().heapUsed;
    // Grow the heap by 60 % with a packed array of doubles (8 bytes each, on the V8 heap).
    const ballast = new Array<number>(Math.ceil((0.6 * base) / 8)).fill(0.5);
    // Collect again before measuring: garbage left in the young generation would be freed by a scavenge
    // between here and monitor(), and a few MiB less could put the heap back under the threshold.
    collect();
    const grown = process.memoryUsage().heapUsed;
    // A limit putting the grown heap at 97 % of it: over the 0.85 threshold with room to spare.
    const heapLimitBytes = grown / 0.97;
    const config = { gcThreshold: 1_000_000, memoryMonitoring: { threshold: 0.85 } };
    const wide = new MemoryMonitor(config, { heapLimitBytes, hysteresis: 0.75 }); // recovers below 0.2125
    const narrow = new MemoryMonitor(config, { heapLimitBytes, hysteresis: 0.05 }); // recovers below 0.8075
    expect(wide.monitor().pressure).toEqual(["heap"]);
    expect(narrow.monitor().pressure).toEqual(["heap"]);
    expect(ballast.length).toBeGreaterThan(0);
    ballast.length = 0; // drops the backing store
    collect();
    const ratio = process.memoryUsage().heapUsed / heapLimitBytes;
    // About 0.97 × base / grown (0.45 to 0.65): between both exit levels, below the entry level.
    expect(ratio).toBeGreaterThan(0.2125);
    expect(ratio).toBeLessThan(0.8075);
    expect(wide.monitor()).toMatchObject({ pressure: ["heap"] });
    expect(narrow.monitor()).toMatchObject({ pressure: [] });
    wide.close();
    narrow.close();
  });

  it("event-loop delay p99 over the limit is pressure; it recovers once the loop is idle again", async () => {
    // A limit well above what a busy shared CI machine adds to an idle loop (tens of ms at worst).
    const m = new MemoryMonitor(
      { memoryMonitoring: { interval: 60_000, eventLoopDelayLimit: 150 } },
      { eventLoopResolutionMs: 1 },
    ).start();
    // Several 250 ms blocks, so the p99 of the interval is one of them (not the mean).
    for (let i = 0; i < 4; i++) {
      busyWait(250);
      await new Promise((r) => setImmediate(r));
    }
    const hot = m.monitor();
    expect(hot.eventLoopDelayP99Ms).toBeGreaterThan(150);
    expect(hot.pressure).toContain("event_loop_delay");
    await new Promise((r) => setTimeout(r, 300));
    const cool = m.monitor();
    expect(cool.eventLoopDelayP99Ms).toBeLessThan(135); // below the exit level, limit × 0.9
    expect(cool.pressure).not.toContain("event_loop_delay");
    m.close();
  });

  it("event-loop utilization over its limit is pressure", async () => {
    const m = new MemoryMonitor(
      { memoryMonitoring: { interval: 60_000, eventLoopUtilizationLimit: 0.5 } },
      { heapLimitBytes: ambientHeapLimit() },
    ).start();
    busyWait(200);
    await new Promise((r) => setImmediate(r));
    const s = m.monitor();
    expect(s.eventLoopUtilization).toBeGreaterThan(0.5);
    expect(s.pressure).toEqual(["event_loop_utilization"]);
    m.close();
  });

  it("start() uses an unref'd timer (it never keeps the process alive) and close() stops it", () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const m = new MemoryMonitor({ memoryMonitoring: { interval: 10 } }).start();
    expect(timers()).toBe(before);
    m.close();
  });

  it("emits its series on the registry and removes them on close()", async () => {
    const registry = new Registry();
    const m = new MemoryMonitor(
      { memoryMonitoring: { eventLoopDelayLimit: 100 } },
      { registry, heapLimitBytes: ambientHeapLimit() },
    );
    m.monitor();
    const text = await registry.metrics();
    expect(text).toMatch(new RegExp(`^uaip_memory_heap_limit_bytes ${m.heapLimitBytes}$`, "m"));
    expect(text).toMatch(/^uaip_memory_pressure\{resource="heap"\} 0$/m);
    expect(text).toMatch(/^uaip_memory_pressure\{resource="event_loop_delay"\} 0$/m);
    // A disabled limit has no series (it could never be 1).
    expect(text).not.toMatch(/resource="event_loop_utilization"/);
    expect(text).toMatch(/^uaip_eventloop_utilization /m);
    expect(text).toMatch(/^uaip_eventloop_delay_p99_seconds /m);
    expect(text).toMatch(/^uaip_pressure_rejected_requests_total 0$/m);
    expect(() => new MemoryMonitor({}, { registry })).toThrow(/already holds uaip_memory_heap_limit_bytes/);
    m.close();
    expect(await registry.metrics()).toBe("\n");
    new MemoryMonitor({}, { registry }).close(); // the registry can take a new monitor
  });

  it.each([
    [{ memoryMonitoring: { threshold: 1.5 } }, {}, "memoryMonitoring.threshold"],
    [{ heapSizeLimit: -1 }, {}, "heapSizeLimit"],
    [{ memoryMonitoring: { eventLoopUtilizationLimit: 2 } }, {}, "memoryMonitoring.eventLoopUtilizationLimit"],
    [{}, { hysteresis: 1 }, "hysteresis"],
    [{}, { gcCooldownMs: -5 }, "gcCooldownMs"],
    [{}, { heapLimitBytes: 0 }, "heapLimitBytes"],
    [{}, { heapLimitBytes: MiB - 1 }, "heapLimitBytes"], // a MiB count given as bytes
    [{ heapSizeLimit: 64 * MiB }, {}, "heapSizeLimit"], // bytes given as MiB
    [{ heapSizeLimit: "64M" }, {}, "heapSizeLimit"], // a decimal unit
    [{ gcThreshold: 256 * MiB }, {}, "gcThreshold"],
  ])("refuses %j %j by naming %s", (config, options, key) => {
    const make = () => new MemoryMonitor(config, options);
    expect(make).toThrow(MemoryMonitorOptionsError);
    expect(make).toThrow(`memory monitor ${key}:`);
  });
});

describe("MemoryMonitor heap limit: min(configured, enforced by V8), sizes with their unit", () => {
  const enforced = enforcedHeapLimitBytes();

  it("measures against the smaller of memory.heapSizeLimit and V8's limit, for any size on both sides of it", () => {
    const enforcedMiB = Math.floor(enforced / MiB);
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: enforcedMiB + 2 }), fc.constantFrom(enforcedMiB - 1, enforcedMiB, enforcedMiB + 1)),
        (mib) => {
          const m = new MemoryMonitor({ heapSizeLimit: mib });
          expect(m.heapLimitBytes).toBe(Math.min(mib * MiB, enforced));
          expect(m.heapLimitMismatch).toBe(mib * MiB !== enforced);
          expect(m.monitor().heapRatio).toBeCloseTo(m.lastSample!.heapUsed / Math.min(mib * MiB, enforced));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("a size is MiB, or a string with its binary unit; bytes where MiB are expected are refused, on both sides of 1 TiB", () => {
    const unit = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.constantFrom(...(Object.keys(unit) as (keyof typeof unit)[])),
        (n, u) => {
          const mib = n * unit[u];
          const ok = Number.isInteger(mib) && mib >= 1 && mib <= MAX_MIB;
          const parsed = memorySettingsSchema.safeParse({ heapSizeLimit: `${n}${u}` });
          expect(parsed.success).toBe(ok);
          if (ok) expect(parsed.data!.heapSizeLimit).toBe(mib);
          const plain = memorySettingsSchema.safeParse({ gcThreshold: n });
          expect(plain.success).toBe(n >= 1 && n <= MAX_MIB);
        },
      ),
    );
    for (const [value, ok] of [
      [MAX_MIB, true],
      [MAX_MIB + 1, false],
      ["1Ti", true],
      [`${MAX_MIB + 1}Mi`, false],
      [1, true],
      [0, false],
      ["1024Ki", true],
      ["1023Ki", false],
    ] as const)
      expect([value, memorySettingsSchema.safeParse({ heapSizeLimit: value }).success]).toEqual([value, ok]);
    const bytes = memorySettingsSchema.safeParse({ heapSizeLimit: 402_653_184 });
    expect(bytes.error?.issues[0].message).toContain('the value is in MiB, not bytes; write 384 or "384Mi"');
  });

  it("says a mismatch once per process (a process warning by default) and on a metric", async () => {
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    // A limit no other test uses (not a whole MiB), so this process has not reported it yet.
    const mib = 77;
    const bytes = mib * MiB + 12_345;
    const registry = new Registry();
    const m = new MemoryMonitor({}, { registry, heapLimitBytes: bytes, warn });
    new MemoryMonitor({}, { heapLimitBytes: bytes, warn }).close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`is ${mib} MiB but the limit V8 enforces is ${Math.round((enforced / MiB) * 10) / 10} MiB`);
    expect(warnings[0]).toContain(`--max-old-space-size=${mib}`);
    expect(await registry.metrics()).toMatch(/^uaip_memory_heap_limit_mismatch 1$/m);
    m.close();
    // Agreement: nothing said, 0 on the metric.
    const agree = new MemoryMonitor({}, { registry, heapLimitBytes: enforced, warn });
    expect(agree.heapLimitMismatch).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(await registry.metrics()).toMatch(/^uaip_memory_heap_limit_mismatch 0$/m);
    agree.close();
  });
});

describe("PressureGate", () => {
  function call(port: number, path: string): Promise<{ status: number; retryAfter?: string }> {
    return new Promise((resolve, reject) => {
      request({ host: "127.0.0.1", port, path }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined }));
      })
        .on("error", reject)
        .end();
    });
  }

  it("sheds non-exempt requests only while under pressure, with Retry-After spread over [0.5, 1.5] × base", async () => {
    // A limit far below what is used: the first sample is pressure.
    const hot = new MemoryMonitor({}, { heapLimitBytes: MiB });
    hot.monitor();
    const randoms = [0, 0.999, 0.5];
    const gate = new PressureGate(hot, { retryAfterSeconds: 10, random: () => randoms.shift() ?? 0.5 });
    const server = createServer(gate.wrap((_req: IncomingMessage, res: ServerResponse) => res.end("ok")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await call(port, "/x")).toEqual({ status: 503, retryAfter: "5" });
      expect(await call(port, "/x")).toEqual({ status: 503, retryAfter: "15" });
      expect(await call(port, "/x?y=1")).toEqual({ status: 503, retryAfter: "10" });
      for (const probe of ["/healthz", "/readyz", "/metrics", "/healthz?verbose=1"])
        expect((await call(port, probe)).status).toBe(200);
      hot.close(); // close() clears pressure
      expect((await call(port, "/x")).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it("Express-style middleware calls next() when healthy", () => {
    const m = new MemoryMonitor({});
    const next = jest.fn();
    new PressureGate(m).middleware()({ url: "/x" } as IncomingMessage, {} as ServerResponse, next);
    expect(next).toHaveBeenCalledWith();
  });

  it("refuses a Retry-After below 1 s by name", () => {
    expect(() => new PressureGate(new MemoryMonitor({}), { retryAfterSeconds: 0 })).toThrow("memory monitor retryAfterSeconds:");
  });
});
