import { spawn } from "node:child_process";
import fc from "fast-check";
import { readdirSync, readFileSync, existsSync, accessSync, constants } from "node:fs";
import { join } from "node:path";
import { Registry, collectDefaultMetrics } from "prom-client";
import { capacityFileSchema, type CapacityFile } from "../../profile/capacity-file";
import { capacityStep } from "../../load/capacity";
import { capacityChartSpec } from "../../load/runner/capacity-chart";
import { kneeAt200 } from "../helpers/capacity-file";
import { findKnee } from "../../load/runner/knee";
import type { OpenStep } from "../../load/runner/open-run";
import {
  clockTicksFromGetconf,
  clockTicksPerSecond,
  cpuSecondsFromStat,
  heapUsedMiB,
  pinToCores,
  processCpuSeconds,
  runQueueWaitFromSchedstat,
  runQueueWaitSeconds,
  tasksetPath,
} from "../../load/runner/process-stats";
import { REPO_ROOT, stackProfile } from "../../load/stack-profile";

const step = (over: Partial<OpenStep> = {}): OpenStep => ({
  rateRps: 100,
  durationS: 10,
  requests: 1000,
  errors: 0,
  errorRate: 0,
  p50Ms: 2,
  p95Ms: 5,
  p99Ms: 9,
  throughput: 100,
  scheduled: 1000,
  sent: 1000,
  late: 0,
  dropped: 0,
  maxLagMs: 1,
  byRequest: {},
  statuses: {},
  ...over,
});

describe("process measurements", () => {
  it("reads CPU seconds from /proc/<pid>/stat as the kernel counts them: this process agrees with process.cpuUsage()", () => {
    // Burn a little CPU so the numbers are not both zero.
    const until = Date.now() + 150;
    while (Date.now() < until) Math.sqrt(Math.random());
    const fromProc = processCpuSeconds(process.pid, clockTicksPerSecond());
    const usage = process.cpuUsage();
    const fromNode = (usage.user + usage.system) / 1e6;
    // Ticks are 10 ms; the two reads are a moment apart.
    expect(Math.abs(fromProc - fromNode)).toBeLessThan(0.05);
    expect(fromProc).toBeGreaterThan(0.1);
  });

  it("reads the time this process waited for a CPU: it grows, and never beyond the wall time", async () => {
    const before = runQueueWaitSeconds(process.pid);
    const wallStart = performance.now();
    await new Promise((r) => setTimeout(r, 100));
    const waited = runQueueWaitSeconds(process.pid) - before;
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThanOrEqual((performance.now() - wallStart) / 1000 + 0.01);
  });

  it("finds utime and stime after a command name holding spaces and parentheses", () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = "42 (node (x) y) S 1 42 42 0 -1 4194304 10 0 0 0 250 50 0 0 20 0 1 0 100";
    expect(cpuSecondsFromStat(line, 100)).toBeCloseTo(3, 6);
    expect(() => cpuSecondsFromStat("garbage", 100)).toThrow(/not a \/proc\/<pid>\/stat line/);
  });

  it("reads the heap in use from prom-client's own exposition", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const text = await registry.metrics();
    const mib = heapUsedMiB(text)!;
    expect(mib).toBeGreaterThan(1);
    expect(mib).toBeLessThan(process.memoryUsage().heapTotal / 2 ** 20 + 64);
    expect(heapUsedMiB("other_metric 1")).toBeUndefined();
  });
});

describe("process measurements: the text they read, at its edges", () => {
  const HEAP = "nodejs_heap_size_used_bytes";

  it("clock ticks: getconf's positive number, newline and all; 100 for zero, negative, infinite or no number", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), (n) => clockTicksFromGetconf(`${n}\n`) === n),
      { numRuns: 50 },
    );
    expect(clockTicksFromGetconf("250\n")).toBe(250);
    expect(clockTicksFromGetconf("0.5")).toBe(0.5); // just above 0 is a tick rate
    for (const refused of ["0", "-250", "Infinity", "", "undefined\n", "abc"]) expect(clockTicksFromGetconf(refused)).toBe(100);
  });

  it("run-queue wait: the second field of a schedstat line, ns as seconds; 0 when it is missing", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (run, wait, slices) =>
        Object.is(runQueueWaitFromSchedstat(`${run} ${wait} ${slices}\n`), wait / 1e9),
      ),
      { numRuns: 50 },
    );
    expect(runQueueWaitFromSchedstat("  7 2500000000\t3")).toBe(2.5);
    expect(runQueueWaitFromSchedstat("7  \t2500000000 3")).toBe(2.5); // fields apart by any run of blanks
    expect(runQueueWaitFromSchedstat("")).toBe(0);
    expect(runQueueWaitFromSchedstat("7")).toBe(0);
  });

  it("CPU seconds: utime + stime after any command name; a line that ends before stime is refused, its start quoted", () => {
    const commChar = fc.constantFrom("a", "b", " ", "(", ")", "-");
    fc.assert(
      fc.property(
        fc.array(commChar, { maxLength: 12 }),
        fc.nat(1e6),
        fc.nat(1e6),
        fc.integer({ min: 1, max: 1000 }),
        (comm, u, s, hz) => {
          const line = `42 (${comm.join("")}) S 1 42 42 0 -1 4194304 10 0 0 0 ${u} ${s} 0 0 20 0 1 0 100`;
          return cpuSecondsFromStat(line, hz) === (u + s) / hz;
        },
      ),
      { numRuns: 100 },
    );
    // utime (field 14) there, stime (field 15) not: refused, not read as NaN seconds.
    expect(() => cpuSecondsFromStat("42 (x) S 1 42 42 0 -1 4194304 10 0 0 0 250", 100)).toThrow(/not a \/proc\/<pid>\/stat line/);
    const long = `${"a".repeat(80)}${"b".repeat(40)}`;
    expect(() => cpuSecondsFromStat(long, 100)).toThrow(`not a /proc/<pid>/stat line: ${"a".repeat(80)}`);
    expect(() => cpuSecondsFromStat(long, 100)).not.toThrow(/b/);
  });

  it("heap: the sample's value, with or without labels, a timestamp or trailing blanks; another metric or a bad value is no heap", () => {
    const labels = fc.constantFrom("", '{pod="a"}', '{pod="a b",le="x"}');
    const tail = fc.constantFrom("", " 1700000000000", " ", "\r", "\t");
    fc.assert(
      fc.property(
        fc.nat(2 ** 40),
        labels,
        tail,
        (bytes, l, t) => heapUsedMiB(`# HELP ${HEAP} x\n${HEAP}${l} ${bytes}${t}\n`) === bytes / 2 ** 20,
      ),
      { numRuns: 100 },
    );
    // The first sample counts.
    expect(heapUsedMiB(`${HEAP}{pod="a"} 1048576\n${HEAP} 2097152`)).toBe(1);
    expect(heapUsedMiB(`${HEAP}_total 1048576\n${HEAP}x{a="b"} 1048576`)).toBeUndefined();
    expect(heapUsedMiB(`x_${HEAP} 1048576`)).toBeUndefined();
    expect(heapUsedMiB(`${HEAP} NaN`)).toBeUndefined();
    expect(heapUsedMiB(`${HEAP}`)).toBeUndefined();
  });
});

describe("process placement", () => {
  it("finds taskset as an executable path (it is installed here), and pins a running process to the cores asked for", async () => {
    const taskset = tasksetPath()!;
    expect(taskset).toMatch(/^\/.*\/taskset$/);
    accessSync(taskset, constants.X_OK);
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await new Promise<void>((resolve) => child.once("spawn", resolve));
      const allowed = () => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1];
      pinToCores(taskset, child.pid!, "0");
      expect(allowed()).toBe("0");
    } finally {
      child.kill();
    }
  });
});

describe("capacity file", () => {
  it("counts a dropped send as an error (the instance did not serve it) and as a late send", () => {
    const s = capacityStep(step({ sent: 900, dropped: 100, errors: 9 }), 0.5, 30);
    expect(s.errorRate).toBeCloseTo(109 / 1000, 9);
    expect(s.lateSends).toBe(100);
    expect(capacityStep(step({ late: 7 }), 0.5, 30)).toMatchObject({ errorRate: 0, lateSends: 7, cpuCores: 0.5, heapMiB: 30 });
  });

  // The reference services (the local stack's) have their files committed; any other committed file is checked too.
  const reference = stackProfile("local").services.map((s) => `${s.name}.json`);
  const committed = [
    ...new Set([
      ...reference,
      ...(existsSync(join(REPO_ROOT, "capacity"))
        ? readdirSync(join(REPO_ROOT, "capacity")).filter((f) => f.endsWith(".json"))
        : []),
    ]),
  ];
  it.each(committed)(
    "committed %s parses through the shared schema, its knee is the knee of its steps, and its chart marks it",
    (name) => {
      const file: CapacityFile = capacityFileSchema.parse(JSON.parse(readFileSync(join(REPO_ROOT, "capacity", name), "utf8")));
      expect(`${file.service}.json`).toBe(name);
      const knee = findKnee(file.steps, file.slo)!;
      expect(knee.achievedRps / file.cpuCores).toBeCloseTo(file.knee.rateRpsPerCore, 6);
      expect(file.knee).toMatchObject({ p50Ms: knee.p50Ms, p95Ms: knee.p95Ms, p99Ms: knee.p99Ms, heapMiB: knee.heapMiB });
      expect(file.knee.cpuMsPerRequest).toBeCloseTo((knee.cpuCores * 1000) / knee.achievedRps, 6);
      const spec = JSON.stringify(capacityChartSpec(file));
      expect(spec).toContain(`knee: ${Math.round(knee.achievedRps)} req/s`);
      expect(existsSync(join(REPO_ROOT, "capacity", `${file.service}.svg`))).toBe(true);
    },
  );

  it("the chart marks the knee step, not another, and draws the SLO line", () => {
    // Parsed by the schema the capacity files are read with: the chart is drawn from a file as read.
    const file = capacityFileSchema.parse(kneeAt200());
    const layers = (capacityChartSpec(file) as { layer: { data: { values: Record<string, unknown>[] } }[] }).layer;
    const marked = layers.flatMap((l) => l.data.values).filter((v) => typeof v.label === "string");
    expect(marked).toEqual([expect.objectContaining({ rateRps: 200, label: "knee: 200 req/s" })]);
    expect(layers.some((l) => l.data.values.some((v) => v.slo === 500))).toBe(true);
  });
});
