/**
 * The `--faults` list of `npm run load`: comma-separated `<target>-<fault>[=<value>]@<start>[+<duration>]`,
 * e.g. `redis-kill@20s,pg-restart@40s,redis-latency=200ms@50s+10s`.
 *
 * - `redis-kill`: redis-server is killed (SIGKILL) and started again on the same port `duration` later (default 5s).
 * - `pg-restart`: PostgreSQL is restarted (fast shutdown: sessions get 57P01, then it starts again).
 * - `<redis|pg>-latency=<ms>`, `-reset`, `-blackhole`, `-half-open`, `-bandwidth=<bytes/s>`: the fault
 *   proxy in front of that server (tools/fault-proxy) turns the fault on for `duration` (default 5s).
 */
import type { Fault } from "../../tools/fault-proxy/faults";

export type FaultTarget = "redis" | "pg";

export type ScheduledLoadFault =
  | { text: string; target: "redis"; kind: "kill"; atS: number; forS: number }
  | { text: string; target: "pg"; kind: "restart"; atS: number; forS: 0 }
  | { text: string; target: FaultTarget; kind: "proxy"; fault: Fault; atS: number; forS: number };

export class FaultSpecError extends Error {
  readonly code = "UAIP_LOAD_FAULT_SPEC";
}

/** The default run of the issue: a Redis crash, a PostgreSQL restart, then slow Redis. */
export const DEFAULT_FAULTS = "redis-kill@15s+5s,pg-restart@30s,redis-latency=200ms@42s+8s";
const DEFAULT_FOR_S = 5;

const ITEM = /^(redis|pg)-([a-z-]+?)(?:=(\d+(?:\.\d+)?)(ms|s)?)?@(\d+(?:\.\d+)?)s(?:\+(\d+(?:\.\d+)?)s)?$/;

/** Parses the list; every bad item is reported at once, as written, with the fix. */
export function parseFaults(spec: string): ScheduledLoadFault[] {
  const problems: string[] = [];
  const out: ScheduledLoadFault[] = [];
  for (const text of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = ITEM.exec(text);
    if (!m) {
      problems.push(`"${text}": expected <redis|pg>-<fault>[=<value>]@<start>s[+<duration>s], e.g. redis-latency=200ms@50s+10s`);
      continue;
    }
    const target = m[1] as FaultTarget;
    const kind = m[2]!;
    const [rawValue, unit, at, dur] = [m[3], m[4], m[5]!, m[6]];
    const atS = Number(at);
    const forS = dur === undefined ? DEFAULT_FOR_S : Number(dur);
    const value = rawValue === undefined ? undefined : Number(rawValue) * (unit === "s" ? 1000 : 1);
    const needsValue = (what: string) => {
      if (value === undefined) problems.push(`"${text}": ${kind} needs a value, e.g. ${target}-${kind}=${what}@${at}s`);
      return value ?? 0;
    };
    if (kind === "kill" && target === "redis") out.push({ text, target, kind, atS, forS });
    else if (kind === "restart" && target === "pg") out.push({ text, target, kind, atS, forS: 0 });
    else if (kind === "latency") out.push({ text, target, kind: "proxy", fault: { kind, ms: needsValue("200ms") }, atS, forS });
    else if (kind === "bandwidth")
      out.push({ text, target, kind: "proxy", fault: { kind, bytesPerSecond: needsValue("10000") }, atS, forS });
    else if (kind === "reset" || kind === "blackhole" || kind === "half-open")
      out.push({ text, target, kind: "proxy", fault: { kind }, atS, forS });
    else
      problems.push(
        `"${text}": unknown fault "${target}-${kind}"; use redis-kill, pg-restart, or <redis|pg>-latency|reset|blackhole|half-open|bandwidth`,
      );
  }
  if (problems.length) throw new FaultSpecError(`--faults:\n  ${problems.join("\n  ")}`);
  return out.sort((a, b) => a.atS - b.atS);
}
