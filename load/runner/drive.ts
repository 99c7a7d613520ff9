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

/** Gives each autocannon connection (its `context`) its own X-Forwarded-For on every request it sends. */
export function withClientAddress(requests: readonly autocannon.Request[]): autocannon.Request[] {
  return requests.map((request) => ({
    ...request,
    setupRequest: (req: autocannon.Request, context: object) => {
      const client = context as { clientAddress?: string };
      client.clientAddress ??= nextClientAddress();
      return { ...req, headers: { ...req.headers, "x-forwarded-for": client.clientAddress } };
    },
  }));
}

export interface StepResult {
  samples: Map<string, Sample[]>;
}

/**
 * Runs `durationS` seconds at `vus` users split evenly across the targets. `runStartMs` anchors the
 * samples' timestamps to the start of the whole run.
 */
export async function driveStep(
  targets: readonly Target[],
  vus: number,
  durationS: number,
  thinkTimeS: number,
  runStartMs: number,
): Promise<StepResult> {
  const samples = new Map<string, Sample[]>();
  await Promise.all(
    targets.map((target, i) => {
      // Spread the remainder so the total stays exactly `vus`.
      const users = Math.floor(vus / targets.length) + (i < vus % targets.length ? 1 : 0);
      const list: Sample[] = [];
      samples.set(target.service, list);
      if (users === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const instance = autocannon(
          {
            url: target.origin,
            connections: users,
            overallRate: Math.max(1, Math.round(users / thinkTimeS)),
            duration: durationS,
            timeout: 10,
            requests: withClientAddress(target.requests),
          },
          (err) => (err ? reject(err) : resolve()),
        );
        instance.on("response", (_client, statusCode, _bytes, responseTime) => {
          list.push({ atMs: Date.now() - runStartMs, latencyMs: responseTime, ok: statusCode >= 200 && statusCode < 300 });
        });
        // Socket errors and timeouts are failed requests with no latency of their own: count them at the timeout.
        instance.on("reqError", () => list.push({ atMs: Date.now() - runStartMs, latencyMs: 10_000, ok: false }));
      });
    }),
  );
  return { samples };
}
