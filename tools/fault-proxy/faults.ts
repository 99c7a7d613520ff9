/**
 * The faults the loopback proxy can inject, and what each one means on the wire. Faults of different
 * kinds combine (latency + bandwidth); enabling a kind again replaces its settings.
 *
 * - `latency`: every chunk from the server is held `ms` plus a uniform random `jitterMs` before it is
 *   forwarded, so a request/answer round trip pays it once (as a slow server or a long link would).
 *   Order is kept (a chunk never overtakes an earlier one), as on one TCP stream.
 * - `bandwidth`: each direction is paced to `bytesPerSecond`, shared by all connections (one link).
 * - `reset`: every open connection is reset (RST to the client, upstream socket destroyed), and while
 *   the fault is on, a new connection is accepted and reset at once (a firewall's `REJECT --reject-with
 *   tcp-reset`). The client sees ECONNRESET.
 * - `blackhole`: a network partition. Connections are accepted but nothing is answered: bytes in both
 *   directions are held, as TCP would keep retransmitting them, and delivered in order once the fault
 *   is cleared. A client sees only its own timeouts.
 * - `half-open`: the peer's state is gone but the socket looks open (a NAT or conntrack entry dropped, a
 *   server that vanished without a FIN). Bytes in `direction` are dropped, not held, and a FIN from that
 *   side is not passed on, so the receiving end never learns. `down` (the default) drops server->client:
 *   the client's writes reach the server, answers never come back. A connection that was open while the
 *   fault was on STAYS half-open for its life, even after the fault is cleared (its lost bytes cannot come
 *   back); only new connections work again. That is what keepalives and heartbeats exist to detect.
 */
export type Direction = "up" | "down";

export type Fault =
  | { kind: "latency"; ms: number; jitterMs?: number }
  | { kind: "bandwidth"; bytesPerSecond: number }
  | { kind: "reset" }
  | { kind: "blackhole" }
  | { kind: "half-open"; direction?: Direction };

export type FaultKind = Fault["kind"];

export const FAULT_KINDS: readonly FaultKind[] = ["latency", "bandwidth", "reset", "blackhole", "half-open"];

export class FaultProxyError extends Error {
  readonly code = "FAULT_PROXY_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "FaultProxyError";
  }
}

const finite = (v: unknown, min: number): v is number => typeof v === "number" && Number.isFinite(v) && v >= min;

/** Every problem of a fault at once, each with the key, its value as written and the fix; empty when valid. */
export function faultProblems(fault: unknown): string[] {
  if (typeof fault !== "object" || fault === null)
    return [`fault: expected an object { kind, ... }, got ${JSON.stringify(fault)}`];
  const f = fault as Record<string, unknown>;
  const problems: string[] = [];
  const check = (key: string, ok: boolean, fix: string) => {
    if (!ok) problems.push(`${String(f.kind)}.${key}: got ${JSON.stringify(f[key])}; ${fix}`);
  };
  switch (f.kind) {
    case "latency":
      check("ms", finite(f.ms, 0), "give a delay in ms, a finite number >= 0");
      check(
        "jitterMs",
        f.jitterMs === undefined || finite(f.jitterMs, 0),
        "give jitter in ms, a finite number >= 0, or leave it out",
      );
      break;
    case "bandwidth":
      check("bytesPerSecond", finite(f.bytesPerSecond, 1), "give a rate in bytes/s, a finite number >= 1");
      break;
    case "half-open":
      check("direction", f.direction === undefined || f.direction === "up" || f.direction === "down", 'use "up" or "down"');
      break;
    case "reset":
    case "blackhole":
      break;
    default:
      problems.push(`kind: got ${JSON.stringify(f.kind)}; use one of ${FAULT_KINDS.join(", ")}`);
  }
  return problems;
}

export function checkFault(fault: unknown): Fault {
  const problems = faultProblems(fault);
  if (problems.length > 0) throw new FaultProxyError(`invalid fault:\n  ${problems.join("\n  ")}`);
  return fault as Fault;
}
