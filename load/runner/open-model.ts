/**
 * The open-model sender: requests leave at scheduled times whatever the responses (wrk2's and
 * k6's constant-arrival-rate semantics), and each latency is measured from the send's INTENDED
 * time, so a stalled server shows every request that should have gone out meanwhile as waiting
 * (coordinated omission corrected), not one slow request per connection.
 *
 * The generator's own limit is reported, never hidden:
 * - a **late** send left more than `lateToleranceMs` after its intended time (the generator's event
 *   loop was behind); its latency still counts from the intended time;
 * - a **dropped** send was not made because `maxInFlight` requests were already waiting (k6's
 *   dropped_iterations): nothing measures it, so a run with drops understates the latency.
 *
 * Built on node:http with a keep-alive Agent (undici is not installed here); autocannon is
 * closed-model (each connection waits for its response before sending again).
 */
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import type { PreparedRequest } from "./scenario";
import type { Sample } from "./stats";

export interface OpenSample extends Sample {
  /** The scenario request's name. */
  request: string;
  /** HTTP status; 0 for a transport error or timeout. */
  status: number;
  /** Milliseconds since the run started, when the request was meant to leave. */
  intendedAtMs: number;
}

export interface OpenModelOptions {
  /** Where requests go: protocol, host and port (the path comes from each request). */
  origin: URL;
  rateRps: number;
  durationS: number;
  /** The next request to send (a ScenarioMix's next()). */
  next: () => PreparedRequest;
  /** Called with each complete response that asked for a capture (a ScenarioMix's capture()). */
  onCapture?: (request: PreparedRequest, status: number, body: string) => void;
  /** Requests waiting at once beyond which a send is dropped; the Agent's socket cap too. */
  maxInFlight?: number;
  /** A send later than this after its intended time is counted late. */
  lateToleranceMs?: number;
  /** A request unanswered after this is a failure (latency = the time it waited). */
  timeoutMs?: number;
  /** Shared across steps so connections are reused; made here when absent. */
  agent?: http.Agent;
  /** performance.now() at the start of the whole run: samples' times are relative to it. */
  runStart?: number;
  /** Extra headers per send (e.g. a client address), computed when it leaves. */
  perSendHeaders?: () => Record<string, string>;
}

/** What the generator did against its schedule: the sends it made, made late, or dropped. */
export interface GeneratorCounts {
  /** Sends the schedule called for. */
  scheduled: number;
  sent: number;
  late: number;
  dropped: number;
  /** The largest delay between a send's intended time and when it left, ms. */
  maxLagMs: number;
}

export interface OpenModelResult extends GeneratorCounts {
  rateRps: number;
  durationS: number;
  /** The most requests waiting at once. */
  maxInFlight: number;
  samples: OpenSample[];
}

export const OPEN_MODEL_DEFAULTS = { maxInFlight: 1000, lateToleranceMs: 20, timeoutMs: 10_000 } as const;

export function keepAliveAgent(origin: URL, maxSockets: number = OPEN_MODEL_DEFAULTS.maxInFlight): http.Agent {
  const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
  return origin.protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

/** Sends at `rateRps` for `durationS`, then waits for the answers (each at most `timeoutMs`). */
export function runOpenModel(options: OpenModelOptions): Promise<OpenModelResult> {
  const maxInFlight = options.maxInFlight ?? OPEN_MODEL_DEFAULTS.maxInFlight;
  const lateToleranceMs = options.lateToleranceMs ?? OPEN_MODEL_DEFAULTS.lateToleranceMs;
  const timeoutMs = options.timeoutMs ?? OPEN_MODEL_DEFAULTS.timeoutMs;
  if (!(options.rateRps > 0) || !(options.durationS > 0))
    throw new RangeError(`rate ${options.rateRps} req/s and duration ${options.durationS} s must both be above 0`);
  const ownAgent = options.agent ? undefined : keepAliveAgent(options.origin, maxInFlight);
  const agent = options.agent ?? ownAgent!;
  const intervalMs = 1000 / options.rateRps;
  const scheduled = Math.floor(options.durationS * options.rateRps);
  const runStart = options.runStart ?? performance.now();
  const result: OpenModelResult = {
    rateRps: options.rateRps,
    durationS: options.durationS,
    scheduled,
    sent: 0,
    late: 0,
    dropped: 0,
    maxLagMs: 0,
    maxInFlight: 0,
    samples: [],
  };
  let inFlight = 0;
  let next = 0;

  return new Promise<OpenModelResult>((resolve) => {
    const finishIfDone = () => {
      if (next < scheduled || inFlight > 0) return;
      ownAgent?.destroy();
      resolve(result);
    };

    const send = (intended: number) => {
      const prepared = options.next();
      const headers = { ...prepared.headers, ...options.perSendHeaders?.() };
      // No content-length of its own: ClientRequest sets it from the body given to end() (checked by open-model-edges).
      inFlight++;
      result.maxInFlight = Math.max(result.maxInFlight, inFlight);
      result.sent++;
      let done = false;
      const record = (status: number, body?: string) => {
        if (done) return;
        done = true;
        inFlight--;
        const now = performance.now();
        result.samples.push({
          request: prepared.name,
          status,
          ok: status >= 200 && status < 300,
          atMs: now - runStart,
          intendedAtMs: intended - runStart,
          latencyMs: now - intended,
        });
        if (body !== undefined && status) options.onCapture?.(prepared, status, body);
        finishIfDone();
      };
      // http.request for either protocol: the agent (an https.Agent for an https origin, keepAliveAgent's choice)
      // decides the transport, ClientRequest takes the protocol and the connection from it.
      const req = http.request(
        {
          protocol: options.origin.protocol,
          hostname: options.origin.hostname,
          port: options.origin.port,
          method: prepared.method,
          path: prepared.path,
          headers,
          agent,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (prepared.capture && options.onCapture) {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => record(status, Buffer.concat(chunks).toString("utf8")));
          } else {
            res.resume();
            res.on("end", () => record(status));
          }
          res.on("error", () => record(0));
        },
      );
      // The timer starts at the intended time: a request that waited for the generator waits less for the server.
      req.setTimeout(Math.max(1, timeoutMs - (performance.now() - intended)), () => req.destroy(new Error("timeout")));
      req.on("error", () => record(0));
      req.end(prepared.body);
    };

    const tick = () => {
      const now = performance.now();
      // Every send now due leaves in this tick: a timer that fired late catches up, it does not skip.
      while (next < scheduled && start + next * intervalMs <= now) {
        const intended = start + next * intervalMs;
        next++;
        if (inFlight >= maxInFlight) {
          result.dropped++;
          continue;
        }
        const lag = now - intended;
        result.maxLagMs = Math.max(result.maxLagMs, lag);
        if (lag > lateToleranceMs) result.late++;
        send(intended);
      }
      if (next < scheduled) setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
      else finishIfDone();
    };
    const start = performance.now();
    tick();
  });
}

/**
 * Several senders run side by side (one per target in a step) as one generator: their sends add
 * up, and its worst lag is the worst of theirs (0 when there are none).
 */
export function combinedGeneratorCounts(results: readonly GeneratorCounts[]): GeneratorCounts {
  const total = (key: "scheduled" | "sent" | "late" | "dropped") => results.reduce((n, r) => n + r[key], 0);
  return {
    scheduled: total("scheduled"),
    sent: total("sent"),
    late: total("late"),
    dropped: total("dropped"),
    maxLagMs: Math.max(0, ...results.map((r) => r.maxLagMs)),
  };
}
