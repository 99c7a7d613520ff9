import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import fc from "fast-check";
import { Registry } from "prom-client";
import { HEAP_LIMIT_MISMATCH_WARNING, MemoryMonitor, MemoryMonitorOptionsError, PressureGate } from "../../src/resources";
import { HysteresisSwitch } from "../../src/resources/hysteresis";
import { fullGc } from "../helpers/full-gc";
import { METRIC } from "../../src/metrics/names";

/**
 * The edges of the memory monitor's rules (issue #22's mutation run on runtime/src/resources): the switch at
 * exactly its entry and exit levels, a GC hint when `global.gc` exists, the mismatch warning when a
 * `--max-old-space-size` is set, and the pressure gate on a request without a URL.
 */

const MiB = 1024 * 1024;

/** The largest double below `x` (x > 0): the closest a sample can come to a level without reaching it. */
function below(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
}

describe("HysteresisSwitch at its levels", () => {
  // Levels that are exact in binary (multiples of 1/64), so "exactly at the exit level" is a value the
  // test writes itself: enterAt = n/8, exit fraction = k/8, exit level = n(8-k)/64.
  const levels = fc.record({ n: fc.integer({ min: 1, max: 800 }), k: fc.integer({ min: 0, max: 7 }) });

  it("turns on at the entry level, not just below it", () => {
    fc.assert(
      fc.property(levels, ({ n, k }) => {
        const enterAt = n / 8;
        expect(new HysteresisSwitch(enterAt, k / 8).update(enterAt)).toBe(true);
        expect(new HysteresisSwitch(enterAt, k / 8).update(below(enterAt))).toBe(false);
      }),
    );
  });

  it("once on, stays on at exactly the exit level and turns off just below it", () => {
    fc.assert(
      fc.property(levels, ({ n, k }) => {
        const enterAt = n / 8;
        const exitAt = (n * (8 - k)) / 64;
        const at = new HysteresisSwitch(enterAt, k / 8);
        expect(at.exitAt).toBe(exitAt);
        at.update(enterAt);
        expect(at.update(exitAt)).toBe(true);
        expect(at.update(below(exitAt))).toBe(false);
        // Off again: between the levels it stays off until the entry level.
        if (exitAt < enterAt) expect(at.update(exitAt)).toBe(false);
        expect(at.update(enterAt)).toBe(true);
      }),
    );
  });

  it("a negative entry level is off like 0: never on, whatever the sample", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 0, noNaN: true }), fc.double({ noNaN: true }), (enterAt, value) => {
        const s = new HysteresisSwitch(enterAt, 0.1);
        expect(s.enabled).toBe(false);
        expect(s.update(value)).toBe(false);
        expect(s.on).toBe(false);
      }),
    );
    expect(new HysteresisSwitch(Number.MIN_VALUE, 0.1).enabled).toBe(true);
  });
});

describe("HysteresisSwitch refuses levels it cannot honour", () => {
  /** The error constructing a switch throws, or undefined. */
  function refusal(enterAt: unknown, exitFraction: unknown): MemoryMonitorOptionsError | undefined {
    try {
      new HysteresisSwitch(enterAt as number, exitFraction as number);
    } catch (err) {
      expect(err).toBeInstanceOf(MemoryMonitorOptionsError);
      return err as MemoryMonitorOptionsError;
    }
    return undefined;
  }
  const anyValue = fc.oneof(
    fc.double(),
    fc.constantFrom(0, 1, below(1), -Number.MIN_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN),
    fc.constantFrom("0.5", null, true),
  );

  it("takes an exit fraction exactly in [0, 1) and a finite entry level; the refusal names the class and the argument", () => {
    fc.assert(
      fc.property(anyValue, anyValue, (enterAt, exitFraction) => {
        const enterOk = typeof enterAt === "number" && Number.isFinite(enterAt);
        const exitOk = typeof exitFraction === "number" && exitFraction >= 0 && exitFraction < 1;
        const error = refusal(enterAt, exitFraction);
        if (enterOk && exitOk) expect(error).toBeUndefined();
        else {
          // The entry level is checked first.
          const key = enterOk ? "exitFraction" : "enterAt";
          expect(error?.key).toBe(key);
          expect(error?.message.startsWith(`memory monitor ${key}: HysteresisSwitch: ${key}: expected a finite number`)).toBe(
            true,
          );
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("MemoryMonitor refusals", () => {
  it.each([
    [{}, { hysteresis: 1 }, "hysteresis"],
    [{ memoryMonitoring: { threshold: 2 } }, {}, "memoryMonitoring.threshold"],
    // A timer's delay: the schema's duration rule (Node fires a longer one after 1 ms).
    [{ memoryMonitoring: { interval: 2 ** 31 } }, {}, "memoryMonitoring.interval"],
    [Object.create({ gcThreshold: 1 }) as object, {}, "memoryConfig.__proto__"],
  ])("%j %j names the class and the key: %s", (config, options, key) => {
    let error: unknown;
    try {
      new MemoryMonitor(config, options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MemoryMonitorOptionsError);
    expect((error as Error).message.startsWith(`memory monitor ${key}: MemoryMonitor: ${key}: `)).toBe(true);
  });
});

describe("MemoryMonitor GC hint cooldown", () => {
  it("a hint is due again exactly gcCooldownMs after the last one, not a moment before (property)", () => {
    // The monitor reads the clock from node:perf_hooks: the samples' times are set here.
    let t = 0;
    const clock = jest.spyOn(performance, "now").mockImplementation(() => t);
    const cooldownAndGap = fc
      .integer({ min: 1, max: 3_600_000 })
      .chain((c) => fc.tuple(fc.constant(c), fc.oneof(fc.constantFrom(c - 1, c, c + 1), fc.integer({ min: 0, max: 2 * c }))));
    try {
      fc.assert(
        fc.property(cooldownAndGap, ([cooldown, gap]) => {
          // gcThreshold 1 MiB: this process's heap is above it, so a hint is due whenever the cooldown allows.
          const m = new MemoryMonitor(
            { gcThreshold: 1 },
            { gcCooldownMs: cooldown, heapLimitBytes: getHeapStatistics().heap_size_limit },
          );
          t = 1_000_000;
          expect(m.monitor().gc).toBe("not_exposed");
          t += gap;
          expect(m.monitor().gc).toBe(gap >= cooldown ? "not_exposed" : "none");
          m.close();
        }),
        { numRuns: 12 },
      );
      // Without the option the cooldown is 30 s.
      const m = new MemoryMonitor({ gcThreshold: 1 }, { heapLimitBytes: getHeapStatistics().heap_size_limit });
      t = 5_000_000;
      const hints = [0, 29_999, 30_000, 59_999, 60_000].map((at) => {
        t = 5_000_000 + at;
        return m.monitor().gc;
      });
      expect(hints).toEqual(["not_exposed", "none", "not_exposed", "none", "not_exposed"]);
      m.close();
    } finally {
      clock.mockRestore();
    }
  });
});

describe("MemoryMonitor counters over several scrapes", () => {
  it("the GC-hint and rejection counters grow by what happened between two scrapes, never more", async () => {
    const registry = new Registry();
    // gcCooldownMs 0: every sample above the 1 MiB threshold is a hint (not_exposed: no global.gc here).
    const m = new MemoryMonitor(
      { gcThreshold: 1 },
      { registry, gcCooldownMs: 0, heapLimitBytes: getHeapStatistics().heap_size_limit },
    );
    let hints = 0;
    let rejected = 0;
    for (const [samples, rejections] of [
      [1, 2],
      [3, 0],
      [0, 1],
      [2, 3],
    ]) {
      for (let i = 0; i < samples; i++) m.monitor();
      for (let i = 0; i < rejections; i++) m.recordRejection();
      hints += samples;
      rejected += rejections;
      const text = await registry.metrics();
      expect(text).toMatch(new RegExp(`^uaip_memory_gc_total\\{result="not_exposed"\\} ${hints}$`, "m"));
      expect(text).toMatch(new RegExp(`^uaip_pressure_rejected_requests_total ${rejected}$`, "m"));
    }
    m.close();
  });
});

describe("MemoryMonitor GC hint with global.gc exposed", () => {
  const g = globalThis as { gc?: () => void };
  // Put back what was there (nothing, unless the worker runs with --expose-gc, whose gc cannot be deleted).
  let before: PropertyDescriptor | undefined;
  beforeEach(() => {
    before = Object.getOwnPropertyDescriptor(g, "gc");
  });
  afterEach(() => {
    if (before === undefined) delete g.gc;
    else if (before.configurable) Object.defineProperty(g, "gc", before);
    else g.gc = before.value as () => void;
  });

  it("runs the collection, counts it as collected, and once per cooldown", async () => {
    const collect = fullGc();
    let runs = 0;
    g.gc = () => {
      runs++;
      collect();
    };
    const registry = new Registry();
    // gcThreshold 1 MiB: this process's heap is above it, so every sample is due a hint.
    const m = new MemoryMonitor(
      { gcThreshold: 1 },
      { registry, gcCooldownMs: 60_000, heapLimitBytes: getHeapStatistics().heap_size_limit },
    );
    const first = m.monitor();
    expect(first.gc).toBe("collected");
    expect(runs).toBe(1);
    expect(m.monitor().gc).toBe("none");
    expect(runs).toBe(1);
    const text = await registry.metrics();
    expect(text).toMatch(/^uaip_memory_gc_total\{result="collected"\} 1$/m);
    expect(text).toMatch(/^uaip_memory_gc_total\{result="not_exposed"\} 0$/m);
    m.close();
  });

  it("decides pressure on the heap left after the collection, not on the garbage", () => {
    const collect = fullGc();
    collect();
    const base = process.memoryUsage().heapUsed;
    // Garbage the size of the heap, made just before the sample: only a collection takes it away.
    let garbage: number[] | undefined = new Array<number>(Math.ceil(base / 8)).fill(0.5);
    const heapLimitBytes = (base * 1.5) / 0.85; // the threshold sits at 1.5 × the live heap
    g.gc = () => {
      garbage = undefined;
      collect();
    };
    const m = new MemoryMonitor({ gcThreshold: 1, memoryMonitoring: { threshold: 0.85 } }, { heapLimitBytes, gcCooldownMs: 0 });
    const s = m.monitor();
    expect(garbage).toBeUndefined();
    expect(s.gc).toBe("collected");
    expect(s.heapRatio).toBeCloseTo(s.heapUsed / heapLimitBytes, 12);
    expect(s.heapRatio).toBeLessThan(0.85);
    expect(s.pressure).toEqual([]);
    m.close();
  });
});

describe("MemoryMonitor heap limit mismatch with --max-old-space-size set", () => {
  const saved = process.env.NODE_OPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });

  it("names the flag V8 was given, and measures against the smaller limit", () => {
    const v8Limit = getHeapStatistics().heap_size_limit;
    // A flag above V8's own limit: V8 still enforces its limit, the flag is what the message must name.
    const flag = Math.ceil(v8Limit / MiB) + 1234;
    process.env.NODE_OPTIONS = `--max-old-space-size=${flag}`;
    const warnings: string[] = [];
    // A configured limit (91 MiB + 7 bytes) no other test uses: this process has not reported the pair yet.
    const configured = 91 * MiB + 7;
    const m = new MemoryMonitor({}, { heapLimitBytes: configured, warn: (message) => warnings.push(message) });
    expect(m.heapLimitBytes).toBe(configured);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`(--max-old-space-size=${flag})`);
    expect(warnings[0]).not.toContain("no --max-old-space-size");
    m.close();
  });

  it("limits that agree (the flag and the setting) say nothing, and the mismatch reads false", () => {
    // A flag below V8's own limit is the limit enforced; 97 MiB is a pair no other test uses.
    process.env.NODE_OPTIONS = "--max-old-space-size=97";
    const warnings: string[] = [];
    const m = new MemoryMonitor({}, { heapLimitBytes: 97 * MiB, warn: (message) => warnings.push(message) });
    expect(m.heapLimitBytes).toBe(97 * MiB);
    expect(m.heapLimitMismatch).toBe(false);
    expect(warnings).toEqual([]);
    m.close();
  });

  it("without a warn option it is a process warning with code UAIP_HEAP_LIMIT_MISMATCH", () => {
    // Jest's sandboxed process does not deliver "warning" events to the test: watch the call instead.
    const emit = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      // Another limit no other test uses (93 MiB + 11 bytes): said once per process and pair.
      const m = new MemoryMonitor({}, { heapLimitBytes: 93 * MiB + 11 });
      expect(emit).toHaveBeenCalledTimes(1);
      const [message, options] = emit.mock.calls[0] as unknown as [string, { code?: string }];
      expect(options.code).toBe(HEAP_LIMIT_MISMATCH_WARNING);
      expect(message).toContain("the configured heap limit (memory.heapSizeLimit) is 93 MiB");
      m.close();
    } finally {
      emit.mockRestore();
    }
  });
});

describe("MemoryMonitor.onChange", () => {
  it("an unsubscribed listener hears nothing more; the others still hear the change, once", () => {
    const m = new MemoryMonitor({}, { heapLimitBytes: MiB }); // the first sample is heap pressure
    const heard: string[] = [];
    const unsubscribe = m.onChange((p) => heard.push(`gone:${p.join()}`));
    m.onChange((p) => heard.push(`kept:${p.join()}`));
    unsubscribe();
    m.monitor();
    expect(heard).toEqual(["kept:heap"]); // told at the sample that changed it
    m.monitor(); // no change: nobody is told again
    expect(heard).toEqual(["kept:heap"]);
    m.close();
  });
});

describe("MemoryMonitor registry", () => {
  it("a second monitor on the same registry is refused by name; after close() the registry is free again", () => {
    const registry = new Registry();
    const first = new MemoryMonitor({}, { registry, heapLimitBytes: getHeapStatistics().heap_size_limit });
    let error: unknown;
    try {
      new MemoryMonitor({}, { registry });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MemoryMonitorOptionsError);
    expect((error as MemoryMonitorOptionsError).key).toBe("registry");
    expect((error as Error).message).toContain("use one MemoryMonitor per registry");
    first.close();
    new MemoryMonitor({}, { registry, heapLimitBytes: getHeapStatistics().heap_size_limit }).close();
  });
});

describe("MemoryMonitor event-loop gauges", () => {
  /** The value of an unlabelled gauge as a scrape reads it. */
  async function gauge(registry: Registry, name: string): Promise<number> {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return values[0].value;
  }

  it("read 0 before any sample, then the last sample's p99 delay (seconds) and utilization", async () => {
    const registry = new Registry();
    const m = new MemoryMonitor(
      { memoryMonitoring: { enabled: true, interval: 3_600_000 } },
      { registry, heapLimitBytes: getHeapStatistics().heap_size_limit, eventLoopResolutionMs: 1 },
    );
    expect(await gauge(registry, METRIC.eventLoopDelayP99Seconds)).toBe(0);
    expect(await gauge(registry, METRIC.eventLoopUtilization)).toBe(0);
    m.start();
    // Block the loop a few times, letting it turn in between, so the delay histogram records the stalls.
    for (let i = 0; i < 4; i++) {
      const end = performance.now() + 60;
      while (performance.now() < end) {
        /* block */
      }
      await new Promise((r) => setImmediate(r));
    }
    const s = m.monitor();
    expect(s.eventLoopDelayP99Ms).toBeGreaterThan(0);
    expect(s.eventLoopUtilization).toBeGreaterThan(0);
    expect(await gauge(registry, METRIC.eventLoopDelayP99Seconds)).toBeCloseTo(s.eventLoopDelayP99Ms / 1000, 9);
    expect(await gauge(registry, METRIC.eventLoopUtilization)).toBeCloseTo(s.eventLoopUtilization, 9);
    m.close();
  });
});

describe("MemoryMonitor event-loop delay with no sample in the interval", () => {
  it("reads 0, not the empty histogram's lowest bucket", async () => {
    // A 60 s resolution: the delay histogram takes no sample before this first interval ends.
    const m = new MemoryMonitor(
      { memoryMonitoring: { enabled: true, interval: 3_600_000 } },
      { heapLimitBytes: getHeapStatistics().heap_size_limit, eventLoopResolutionMs: 60_000 },
    ).start();
    await new Promise((r) => setTimeout(r, 40)); // several samples at the default 10 ms resolution
    expect(m.monitor().eventLoopDelayP99Ms).toBe(0);
    m.close();
  });
});

describe("MemoryMonitor start() and close()", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const config = (enabled: boolean) => ({ memoryMonitoring: { enabled, interval: 5 } });
  const options = { heapLimitBytes: getHeapStatistics().heap_size_limit };

  it("samples on its timer; a second start() adds no timer, so after close() nothing samples", async () => {
    const m = new MemoryMonitor(config(true), options).start().start();
    for (let i = 0; i < 200 && m.lastSample === undefined; i++) await sleep(5);
    expect(m.lastSample).toBeDefined();
    m.close();
    const last = m.lastSample;
    await sleep(30);
    expect(m.lastSample).toBe(last);
  });

  it("with monitoring disabled, start() samples nothing", async () => {
    const m = new MemoryMonitor(config(false), options).start();
    await sleep(30);
    expect(m.lastSample).toBeUndefined();
    m.close();
  });
});

describe("PressureGate edges", () => {
  it("a request without a URL is the root path: shed under pressure (it is no probe)", () => {
    const hot = new MemoryMonitor({}, { heapLimitBytes: MiB });
    hot.monitor();
    expect(hot.underPressure).toBe(true);
    const gate = new PressureGate(hot, { random: () => 0.5 });
    const headers: Record<string, string> = {};
    let body = "";
    const res = {
      statusCode: 200,
      setHeader: (name: string, value: string) => void (headers[name] = value),
      end: (text: string) => void (body = text),
    } as unknown as ServerResponse;
    expect(gate.shed({} as IncomingMessage, res)).toBe(true);
    expect(res.statusCode).toBe(503);
    expect(headers["Retry-After"]).toBe("10");
    expect(JSON.parse(body).error.code).toBe("UAIP_OVERLOADED");
    hot.close();
  });

  it("middleware under pressure answers 503 itself and does not call next(); the message names every resource", () => {
    // Two resources over their limits: the heap (limit 1 MiB) and the event-loop utilization (a synchronous
    // stretch of work between construction and the sample keeps the loop busy the whole interval).
    const hot = new MemoryMonitor({ memoryMonitoring: { eventLoopUtilizationLimit: 0.001 } }, { heapLimitBytes: MiB });
    const end = performance.now() + 5;
    while (performance.now() < end) {
      /* busy */
    }
    expect(hot.monitor().pressure).toEqual(["heap", "event_loop_utilization"]);
    let body = "";
    const res = {
      statusCode: 200,
      setHeader: () => undefined,
      end: (text: string) => void (body = text),
    } as unknown as ServerResponse;
    const next = jest.fn();
    new PressureGate(hot).middleware()({ url: "/orders" } as IncomingMessage, res, next);
    expect(next).not.toHaveBeenCalled();
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(body).error.message).toContain("(heap, event_loop_utilization)");
    hot.close();
  });

  it.each([undefined, null, {}, { pressure: "heap" }])("refuses %j as the monitor, by name", (monitor) => {
    let error: unknown;
    try {
      new PressureGate(monitor as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MemoryMonitorOptionsError);
    expect((error as MemoryMonitorOptionsError).key).toBe("monitor");
    expect((error as Error).message).toContain("expected a MemoryMonitor");
  });

  it("refuses a bad option naming the class, the key and the value", () => {
    expect(() => new PressureGate(new MemoryMonitor({}), { retryAfterSeconds: 0 })).toThrow(
      /^memory monitor retryAfterSeconds: PressureGate: retryAfterSeconds: .*got 0$/,
    );
  });

  it("a real server under pressure answers 503 with no-store JSON and counts the rejection", async () => {
    const registry = new Registry();
    const hot = new MemoryMonitor({}, { heapLimitBytes: MiB, registry });
    hot.monitor();
    const gate = new PressureGate(hot, { random: () => 0 });
    const server = createServer(gate.wrap((_req, res) => res.end("ok")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const answer = await new Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>(
        (resolve, reject) => {
          request({ host: "127.0.0.1", port, path: "/orders" }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          })
            .on("error", reject)
            .end();
        },
      );
      expect(answer.status).toBe(503);
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(answer.headers["cache-control"]).toBe("no-store");
      expect(answer.headers["retry-after"]).toBe("5");
      expect(JSON.parse(answer.body).error.message).toContain("(heap)");
      expect(await registry.metrics()).toMatch(/^uaip_pressure_rejected_requests_total 1$/m);
    } finally {
      server.close();
      hot.close();
    }
  });
});
