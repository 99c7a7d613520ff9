import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from "node:perf_hooks";
import { Counter, Gauge, Registry } from "prom-client";
import { z } from "zod";
import { memorySettingsSchema } from "../config/settings";
import { LABEL, LABEL_VALUE, METRIC } from "../metrics/names";
import { enforcedHeapLimitBytes, maxOldSpaceSizeMiB } from "../heap";
import {
  duration,
  func,
  number,
  object,
  prototypeProblems,
  throwProblems,
  validateOptions,
  zodProblems,
  type SpecFor,
} from "../options";
import { MemoryMonitorOptionsError } from "./errors";
import { HysteresisSwitch } from "./hysteresis";
import { setRepeating } from "../timer";

export { MemoryMonitorOptionsError } from "./errors";
// The heap limit is read in one place (heap.ts): the option validator caps sizes by it too.
export { enforcedHeapLimitBytes, maxOldSpaceSizeMiB } from "../heap";

const MiB = 1024 * 1024;

/** The seed's MemoryConfig (sizes in MiB, interval in ms), plus the optional event-loop limits. */
export type MemoryConfig = z.input<typeof memorySettingsSchema>;

/** What can put the process under pressure. */
export type PressureResource =
  typeof LABEL_VALUE.heap | typeof LABEL_VALUE.eventLoopDelay | typeof LABEL_VALUE.eventLoopUtilization;

export interface MemoryMonitorOptions {
  /** Registry for the monitor's metrics (the runtime's, so one /metrics serves all). @default none: no metrics */
  registry?: Registry;
  /**
   * Hysteresis: once under pressure, a resource recovers only below its limit × (1 − hysteresis),
   * e.g. heap 0.85 → recovers below 0.765 of the limit. @default 0.1
   */
  hysteresis?: number;
  /** Minimum time between two GC hints, ms (a full GC pauses the process). @default 30000 */
  gcCooldownMs?: number;
  /**
   * The configured heap limit in bytes, instead of `memory.heapSizeLimit` (MiB). At least 1 MiB: a
   * smaller value is a MiB count given as bytes, and is refused. Pressure is measured against the
   * smaller of this and the limit V8 enforces (see enforcedHeapLimitBytes). @default memory.heapSizeLimit
   */
  heapLimitBytes?: number;
  /** Event-loop delay histogram resolution, ms. @default 10 */
  eventLoopResolutionMs?: number;
  /**
   * Where the monitor says that the configured and the enforced heap limits disagree (once per
   * process and pair). @default a process warning with code UAIP_HEAP_LIMIT_MISMATCH (stderr)
   */
  warn?: (message: string) => void;
}

/** One sample: bytes, ms and fractions. */
export interface MemorySample {
  /** process.memoryUsage() at the sample. */
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** The limit the ratio is taken against, bytes. */
  heapLimit: number;
  /** heapUsed / heapLimit, after a GC hint if one ran. */
  heapRatio: number;
  /** Event-loop delay p99 since the previous sample, ms (0 before start()). */
  eventLoopDelayP99Ms: number;
  /** Event-loop utilization since the previous sample, 0–1. */
  eventLoopUtilization: number;
  /** What a GC hint did at this sample. */
  gc: "none" | typeof LABEL_VALUE.gcCollected | typeof LABEL_VALUE.gcNotExposed;
  /** Resources over their limit after this sample (empty: no pressure). */
  pressure: PressureResource[];
}

const monitorError = (key: string, message: string) => new MemoryMonitorOptionsError(key, message);

/** Mismatches already reported by this process: each is said once, however many monitors see it. */
const reportedMismatches = new Set<string>();

/** Code of the process warning a heap limit mismatch emits (`process.on("warning")`, stderr by default). */
export const HEAP_LIMIT_MISMATCH_WARNING = "UAIP_HEAP_LIMIT_MISMATCH";

const MEMORY_MONITOR_OPTIONS_SPEC = {
  registry: object<Registry>("a prom-client Registry"),
  hysteresis: number({ min: 0, lt: 1 }),
  gcCooldownMs: duration(0),
  // At least 1 MiB: a smaller value is a MiB count given as bytes (use memory.heapSizeLimit for MiB).
  heapLimitBytes: number({ min: MiB }, "bytes (a MiB count belongs in memory.heapSizeLimit)"),
  eventLoopResolutionMs: duration(1),
  warn: func<(message: string) => void>("a function (message) => void"),
} satisfies SpecFor<MemoryMonitorOptions>;

/**
 * The seed's MemoryMonitor: samples memory, heap statistics and the event loop every
 * `memoryMonitoring.interval`, hints a GC above `gcThreshold`, and reports pressure when heap used
 * crosses `threshold` of the heap limit (or the event loop crosses its optional limits), with
 * hysteresis. `pressureGate()` (pressure-gate.ts) turns pressure into 503s and readiness.
 */
export class MemoryMonitor {
  readonly config: z.output<typeof memorySettingsSchema>;
  readonly #gcThresholdBytes: number;
  readonly #gcCooldownMs: number;
  readonly #heapLimitBytes: number;
  readonly #configuredHeapLimitBytes: number;
  readonly #enforcedHeapLimitBytes: number;
  readonly #resolutionMs: number;
  readonly #switches: Record<PressureResource, HysteresisSwitch>;
  readonly #registry: Registry | undefined;
  readonly #metricNames: string[] = [];
  readonly #listeners = new Set<(pressure: PressureResource[]) => void>();
  #timer: NodeJS.Timeout | undefined;
  #delay: IntervalHistogram | undefined;
  #elu: EventLoopUtilization = performance.eventLoopUtilization();
  #lastGcAt = -Infinity;
  #gcCounts = { [LABEL_VALUE.gcCollected]: 0, [LABEL_VALUE.gcNotExposed]: 0 };
  #rejected = 0;
  #last: MemorySample | undefined;

  constructor(memoryConfig: MemoryConfig, options: MemoryMonitorOptions = {}) {
    const where = "MemoryMonitor";
    const o = validateOptions(where, options, MEMORY_MONITOR_OPTIONS_SPEC, monitorError);
    const config = memoryConfig === undefined ? {} : memoryConfig;
    throwProblems(where, prototypeProblems(config, "memoryConfig"), monitorError);
    const parsed = memorySettingsSchema.safeParse(config);
    if (!parsed.success)
      throwProblems(where, zodProblems(parsed.error.issues, memoryConfig, "", memorySettingsSchema), monitorError);
    // The sampling interval is a timer: the schema's durationMs (an integer from 1 to 2^31 - 1 ms) refused any other.
    this.config = parsed.data!;
    this.#gcThresholdBytes = this.config.gcThreshold * MiB;
    const hysteresis = o.hysteresis ?? 0.1;
    this.#gcCooldownMs = o.gcCooldownMs ?? 30_000;
    this.#configuredHeapLimitBytes = o.heapLimitBytes ?? this.config.heapSizeLimit * MiB;
    this.#enforcedHeapLimitBytes = enforcedHeapLimitBytes();
    // The heap runs out at whichever limit is lower: the configured one or the one V8 enforces.
    this.#heapLimitBytes = Math.min(this.#configuredHeapLimitBytes, this.#enforcedHeapLimitBytes);
    if (this.heapLimitMismatch) this.#reportMismatch(o.warn);
    this.#resolutionMs = o.eventLoopResolutionMs ?? 10;

    const m = this.config.memoryMonitoring;
    this.#switches = {
      [LABEL_VALUE.heap]: new HysteresisSwitch(m.threshold, hysteresis),
      [LABEL_VALUE.eventLoopDelay]: new HysteresisSwitch(m.eventLoopDelayLimit, hysteresis),
      [LABEL_VALUE.eventLoopUtilization]: new HysteresisSwitch(m.eventLoopUtilizationLimit, hysteresis),
    };
    this.#registry = o.registry;
    if (this.#registry) this.#registerMetrics(this.#registry);
  }

  /** The heap limit pressure is measured against, bytes: min(configured, enforced by V8). */
  get heapLimitBytes(): number {
    return this.#heapLimitBytes;
  }

  /**
   * True when the configured limit (memory.heapSizeLimit) and the one V8 enforces differ, e.g. no
   * `--max-old-space-size` outside the stack's pods, or a flag that disagrees with the settings.
   */
  get heapLimitMismatch(): boolean {
    return this.#configuredHeapLimitBytes !== this.#enforcedHeapLimitBytes;
  }

  /** Says once per process, as a process warning, which limits disagree and which one is used. */
  #reportMismatch(warn = (message: string) => process.emitWarning(message, { code: HEAP_LIMIT_MISMATCH_WARNING })): void {
    const key = `${this.#configuredHeapLimitBytes}/${this.#enforcedHeapLimitBytes}`;
    if (reportedMismatches.has(key)) return;
    reportedMismatches.add(key);
    const mib = (bytes: number) => `${Math.round((bytes / MiB) * 10) / 10} MiB`;
    const flag = maxOldSpaceSizeMiB();
    const enforced = flag === undefined ? "V8's heap_size_limit (no --max-old-space-size)" : `--max-old-space-size=${flag}`;
    warn(
      `memory monitor: the configured heap limit (memory.heapSizeLimit) is ${mib(this.#configuredHeapLimitBytes)} but the limit V8 enforces is ${mib(this.#enforcedHeapLimitBytes)} (${enforced}); measuring pressure against the smaller, ${mib(this.#heapLimitBytes)}. Start node with --max-old-space-size=${Math.round(this.#configuredHeapLimitBytes / MiB)} (NODE_OPTIONS) to make them agree.`,
    );
  }

  /** Resources under pressure now (empty when healthy). */
  get pressure(): PressureResource[] {
    return (Object.keys(this.#switches) as PressureResource[]).filter((r) => this.#switches[r].on);
  }

  get underPressure(): boolean {
    // Asked on every request (the pressure gate): no array built for a yes/no.
    for (const r in this.#switches) if (this.#switches[r as PressureResource].on) return true;
    return false;
  }

  /** Readiness: false while under pressure (liveness stays true: the process is healthy, only busy). */
  get ready(): boolean {
    return !this.underPressure;
  }

  /** The latest sample, if any. */
  get lastSample(): MemorySample | undefined {
    return this.#last;
  }

  /** Called with the new pressure list whenever it changes (enter or recovery). Returns an unsubscribe function. */
  onChange(listener: (pressure: PressureResource[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes one sample, hints a GC if due, and updates the pressure state. */
  monitor(): MemorySample {
    const before = this.pressure.join();
    let usage = process.memoryUsage();
    let gc: MemorySample["gc"] = "none";
    const now = performance.now();
    if (usage.heapUsed > this.#gcThresholdBytes && now - this.#lastGcAt >= this.#gcCooldownMs) {
      this.#lastGcAt = now;
      const collect = (globalThis as { gc?: () => void }).gc;
      if (typeof collect === "function") {
        collect();
        gc = LABEL_VALUE.gcCollected;
        // Decide pressure on what is left after the collection, not on garbage.
        usage = process.memoryUsage();
      } else {
        gc = LABEL_VALUE.gcNotExposed;
      }
      this.#gcCounts[gc]++;
    }
    const heapLimit = this.heapLimitBytes;
    const heapRatio = usage.heapUsed / heapLimit;
    let eventLoopDelayP99Ms = 0;
    if (this.#delay) {
      // p99 of this interval only (under-pressure reports a mean reset per sample, which hides spikes).
      eventLoopDelayP99Ms = this.#delay.count > 0 ? this.#delay.percentile(99) / 1e6 : 0;
      this.#delay.reset();
    }
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#elu = performance.eventLoopUtilization();
    this.#switches[LABEL_VALUE.heap].update(heapRatio);
    this.#switches[LABEL_VALUE.eventLoopDelay].update(eventLoopDelayP99Ms);
    this.#switches[LABEL_VALUE.eventLoopUtilization].update(elu.utilization);
    const pressure = this.pressure;
    this.#last = {
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      heapLimit,
      heapRatio,
      eventLoopDelayP99Ms,
      eventLoopUtilization: elu.utilization,
      gc,
      pressure,
    };
    if (pressure.join() !== before) for (const listener of this.#listeners) listener(pressure);
    return this.#last;
  }

  /** Starts sampling every memoryMonitoring.interval (no-op when monitoring is disabled or already started). */
  start(): this {
    if (!this.config.memoryMonitoring.enabled || this.#timer) return this;
    this.#delay = monitorEventLoopDelay({ resolution: this.#resolutionMs });
    this.#delay.enable();
    this.#elu = performance.eventLoopUtilization();
    this.#timer = setRepeating(() => this.monitor(), this.config.memoryMonitoring.interval);
    // Never keep the process alive just to watch it.
    this.#timer.unref();
    return this;
  }

  /** Counts a request the pressure gate refused (for uaip_pressure_rejected_requests_total). */
  recordRejection(): void {
    this.#rejected++;
  }

  /** Stops sampling and removes the monitor's metrics from the registry. Pressure is cleared. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#delay?.disable();
    this.#delay = undefined;
    for (const s of Object.values(this.#switches)) s.update(0);
    this.#listeners.clear();
    for (const name of this.#metricNames) this.#registry?.removeSingleMetric(name);
    this.#metricNames.length = 0;
  }

  #registerMetrics(r: Registry): void {
    if (r.getSingleMetric(METRIC.memoryHeapLimitBytes)) {
      throw new MemoryMonitorOptionsError(
        "registry",
        `already holds ${METRIC.memoryHeapLimitBytes}; use one MemoryMonitor per registry`,
      );
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: METRIC.memoryHeapLimitBytes,
      help: "Heap limit the memory monitor measures pressure against: min(memory.heapSizeLimit, the limit V8 enforces), bytes",
      registers: [r],
      collect() {
        this.set(self.heapLimitBytes);
      },
    });
    new Gauge({
      name: METRIC.memoryHeapLimitMismatch,
      help: "1 when memory.heapSizeLimit differs from the heap limit V8 enforces (pressure is measured against the smaller), else 0",
      registers: [r],
      collect() {
        this.set(self.heapLimitMismatch ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC.memoryPressure,
      help: "1 while the resource is under pressure (new requests get 503, readiness fails), else 0",
      labelNames: [LABEL.resource],
      registers: [r],
      collect() {
        for (const [resource, s] of Object.entries(self.#switches))
          if (s.enabled) this.set({ [LABEL.resource]: resource }, s.on ? 1 : 0);
      },
    });
    let gcExported = { ...this.#gcCounts };
    new Counter({
      name: METRIC.memoryGcTotal,
      help: "GC hints above gcThreshold: collected (global.gc ran) or not_exposed (no --expose-gc; only counted)",
      labelNames: [LABEL.result],
      registers: [r],
      collect() {
        for (const result of [LABEL_VALUE.gcCollected, LABEL_VALUE.gcNotExposed] as const)
          this.inc({ [LABEL.result]: result }, self.#gcCounts[result] - gcExported[result]);
        gcExported = { ...self.#gcCounts };
      },
    });
    let rejectedExported = 0;
    new Counter({
      name: METRIC.pressureRejectedRequestsTotal,
      help: "Requests answered 503 because the process was under pressure",
      registers: [r],
      collect() {
        this.inc(self.#rejected - rejectedExported);
        rejectedExported = self.#rejected;
      },
    });
    new Gauge({
      name: METRIC.eventLoopDelayP99Seconds,
      help: "Event-loop delay p99 over the memory monitor's last interval, seconds",
      registers: [r],
      collect() {
        this.set((self.#last?.eventLoopDelayP99Ms ?? 0) / 1000);
      },
    });
    new Gauge({
      name: METRIC.eventLoopUtilization,
      help: "Event-loop utilization over the memory monitor's last interval, 0-1",
      registers: [r],
      collect() {
        this.set(self.#last?.eventLoopUtilization ?? 0);
      },
    });
    this.#metricNames.push(
      METRIC.memoryHeapLimitBytes,
      METRIC.memoryHeapLimitMismatch,
      METRIC.memoryPressure,
      METRIC.memoryGcTotal,
      METRIC.pressureRejectedRequestsTotal,
      METRIC.eventLoopDelayP99Seconds,
      METRIC.eventLoopUtilization,
    );
  }
}
