/**
 * Drives one step of load with autocannon: `vus` virtual users spread over the targets, each
 * user sending a request and then thinking for the seed's 1 s (a fixed request rate per user,
 * like a k6 VU with `sleep(1)`), and records every response as a Sample.
 */
import autocannon from "autocannon";
import type { Sample } from "./stats";

export interface Target {
  /** e.g. "agent-intelligence". */
  service: string;
  /** Origin, e.g. "http://127.0.0.1:3001". */
  origin: string;
  /** The requests one virtual user sends in turn (the request mix). */
  requests: autocannon.Request[];
}

/**
 * A distinct client address per connection, as the load balancer would report it in
 * X-Forwarded-For (from 198.18.0.0/15, the range reserved for benchmarks: a header value only,
 * nothing is ever sent there). The services trust one hop, so each virtual user has its own
 * rate-limit bucket, as real users behind the ALB do.
 */
let nextClient = 0;
export function nextClientAddress(): string {
  const n = nextClient++ % (2 * 65536);
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * Options that make each autocannon connection its own client: every request it sends carries that
 * connection's X-Forwarded-For. (A request's `setupRequest` context does not do this: autocannon
 * clears it each time it loops over the request list, so every request got a new address.)
 */
export function eachConnectionItsOwnClient(
  requests: readonly autocannon.Request[],
): Pick<autocannon.Options, "requests" | "setupClient"> {
  const withAddress = (address: string) =>
    requests.map((request) => ({ ...request, headers: { ...request.headers, "x-forwarded-for": address } }));
  return {
    requests: [...requests],
    setupClient: (client) => client.setRequests(withAddress(nextClientAddress())),
  };
}

export interface StepResult {
  samples: Map<string, Sample[]>;
}

/**
 * Runs `durationS` seconds at `vus` users split evenly across the targets. `runStartMs` anchors the
 * samples' timestamps to the start of the whole run.
 *
 * Each user is its own autocannon instance with one connection, started at its own offset within
 * the think time. One instance with `vus` connections would not do: autocannon paces every
 * connection with its own once-per-second timer, all created in the same instant, so all users
 * would fire together once a second. A burst of 100 requests then queues in the services' event
 * loops before Node even emits 'request' (time the client sees and the runtime's histogram cannot),
 * and neither k6 VUs nor real users behind an ALB arrive in lockstep.
 */
export async function driveStep(
  targets: readonly Target[],
  vus: number,
  durationS: number,
  thinkTimeS: number,
  runStartMs: number,
): Promise<StepResult> {
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.service, []]));
  // Users take turns across the targets, so every service sees arrivals spread over the think time.
  const users = Array.from({ length: vus }, (_, i) => ({
    target: targets[i % targets.length],
    offsetMs: (i / vus) * thinkTimeS * 1000,
  }));
  await Promise.all(
    users.map(({ target, offsetMs }) => {
      const list = samples.get(target.service)!;
      return new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          const instance = autocannon(
            {
              url: target.origin,
              connections: 1,
              // One request per think time (autocannon's pacing is per second; the seed thinks 1 s).
              overallRate: Math.max(1, Math.round(1 / thinkTimeS)),
              duration: durationS,
              timeout: 10,
              ...eachConnectionItsOwnClient(target.requests),
            },
            (err) => (err ? reject(err) : resolve()),
          );
          instance.on("response", (_client, statusCode, _bytes, responseTime) => {
            list.push({
              atMs: Date.now() - runStartMs,
              latencyMs: responseTime,
              ok: statusCode >= 200 && statusCode < 300,
              status: statusCode,
            });
          });
          // Socket errors and timeouts are failed requests with no latency of their own: count them at the timeout.
          instance.on("reqError", () => list.push({ atMs: Date.now() - runStartMs, latencyMs: 10_000, ok: false, status: 0 }));
        }, offsetMs),
      );
    }),
  );
  return { samples };
}
