/**
 * What one service process costs, measured from outside it: CPU time from /proc/<pid>/stat
 * (utime + stime, in clock ticks), pinning to CPU cores with taskset, and its heap from its own
 * /metrics (prom-client's nodejs_heap_size_used_bytes).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { DEFAULT_METRIC } from "@uaip/runtime/metrics";
import { sampleOf } from "./exposition";

/** Clock ticks per second (getconf CLK_TCK; 100 on Linux unless the kernel says otherwise). */
export function clockTicksPerSecond(): number {
  try {
    return clockTicksFromGetconf(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
  } catch {
    return 100;
  }
}

/** `getconf CLK_TCK`'s answer as a number of ticks a second; 100 when it is not a positive number. */
export function clockTicksFromGetconf(output: string): number {
  const n = Number(output); // Number() skips the blanks and newline around the digits itself.
  return Number.isFinite(n) && n > 0 ? n : 100;
}

/**
 * User + system CPU seconds of a process from its /proc/<pid>/stat line. Fields 14 and 15
 * (utime, stime), counted after the `comm` field, which is in parentheses and may hold spaces.
 */
export function cpuSecondsFromStat(statLine: string, ticksPerSecond: number): number {
  const afterComm = statLine.slice(statLine.lastIndexOf(")") + 2).split(" ");
  // afterComm[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(afterComm[14 - 3]);
  const stime = Number(afterComm[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`not a /proc/<pid>/stat line: ${statLine.slice(0, 80)}`);
  return (utime + stime) / ticksPerSecond;
}

export function processCpuSeconds(pid: number, ticksPerSecond: number): number {
  return cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, "utf8"), ticksPerSecond);
}

/**
 * Seconds the process's main thread (its event loop) was runnable but waiting for a CPU, from
 * /proc/<pid>/schedstat (its second field, ns): how much a shared machine's other work held it back.
 */
export function runQueueWaitSeconds(pid: number): number {
  return runQueueWaitFromSchedstat(readFileSync(`/proc/${pid}/schedstat`, "utf8"));
}

/** The run-queue wait of a /proc/<pid>/schedstat line (on-CPU ns, waiting ns, timeslices), seconds; 0 when absent. */
export function runQueueWaitFromSchedstat(schedstat: string): number {
  const waitNs = Number(schedstat.trim().split(/\s+/)[1]);
  return Number.isFinite(waitNs) ? waitNs / 1e9 : 0;
}

/** `taskset`'s path, or undefined when it is not installed. */
export function tasksetPath(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v taskset"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Pins every thread of `pid` (and the threads it starts later, which inherit it) to `cores` (e.g. "1"). */
export function pinToCores(taskset: string, pid: number, cores: string): void {
  execFileSync(taskset, ["--all-tasks", "--cpu-list", "--pid", cores, String(pid)], { stdio: "ignore" });
}

/** Heap in use, MiB, from a /metrics exposition; undefined when the gauge is absent. */
export function heapUsedMiB(exposition: string): number | undefined {
  for (const line of exposition.split("\n")) {
    const sample = sampleOf(line);
    if (sample?.name !== DEFAULT_METRIC.heapUsedBytes) continue;
    return Number.isFinite(sample.value) ? sample.value / 2 ** 20 : undefined;
  }
  return undefined;
}
