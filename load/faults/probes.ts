/**
 * The clients of a fault run, each measuring one guarantee against two replicas (A and B) of one
 * service:
 * - writers: POST /operations with a fresh Idempotency-Key, retried with the same key on 503 or a
 *   dropped connection until a 2xx; every attempt is recorded (status, latency);
 * - the staleness probe: PATCH an operation through A, then read it through B until B shows the new
 *   status; the delay is the stale window, and a read still stale after STALE_GIVE_UP_MS is a lost invalidation;
 * - the admission probe: one fresh client sends far more than the limit, alternating A and B, and
 *   counts what was admitted (anything but 429).
 */
import { randomUUID } from "node:crypto";

export interface Attempt {
  /** ms since the run started. */
  atMs: number;
  latencyMs: number;
  /** HTTP status; 0 for a dropped connection or a timeout. */
  status: number;
  /** The error body's code (e.g. DB_UNAVAILABLE), for a failed request. */
  code?: string;
}

/** A read through B still stale this long after the write through A counts as a lost invalidation. */
export const STALE_GIVE_UP_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;

let nextAddress = 0;
/** A client address of its own (X-Forwarded-For; the services trust one hop), from the benchmark range 198.18.0.0/15. */
export function freshClient(): string {
  const n = nextAddress++ % 131_072;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** A parsed JSON answer: only the fields the probes read. */
type Json = { id?: unknown; status?: unknown; error?: { code?: string } } | undefined;

export async function send(
  origin: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; latencyMs: number; json: Json; headers: Headers | undefined }> {
  const start = performance.now();
  try {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let json: Json;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = undefined;
    }
    return { status: res.status, latencyMs: performance.now() - start, json, headers: res.headers };
  } catch {
    return { status: 0, latencyMs: performance.now() - start, json: undefined, headers: undefined };
  }
}

export interface WriterResult {
  attempts: Attempt[];
  /** Idempotency-Key -> the id its 2xx named. */
  acknowledged: Map<string, string>;
  /** Keys given up on (no 2xx within the retry budget): the client was told nothing definite. */
  abandoned: string[];
}

/** `writers` loops POSTing until `until()`; each write retried with its key until a 2xx (at most `retryForMs`). */
export async function runWriters(
  origins: readonly string[],
  service: string,
  writers: number,
  runStart: number,
  until: () => boolean,
  keyPrefix: string,
  retryForMs = 30_000,
): Promise<WriterResult> {
  const out: WriterResult = { attempts: [], acknowledged: new Map(), abandoned: [] };
  let turn = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (!until()) {
        const key = `${keyPrefix}${randomUUID()}`;
        const body = { type: "fault.run", payload: { key } };
        const first = Date.now();
        for (;;) {
          const origin = origins[turn++ % origins.length]!;
          const answer = await send(origin, "POST", `/${service}/operations`, body, {
            "Idempotency-Key": key,
            "x-forwarded-for": freshClient(),
          });
          out.attempts.push({
            atMs: Date.now() - runStart,
            latencyMs: answer.latencyMs,
            status: answer.status,
            ...(answer.json?.error?.code ? { code: answer.json.error.code } : {}),
          });
          if (answer.status >= 200 && answer.status < 300) {
            out.acknowledged.set(key, String(answer.json?.id));
            break;
          }
          if (Date.now() - first > retryForMs) {
            out.abandoned.push(key);
            break;
          }
          // The seed's client retries 503 (and a dropped connection) after Retry-After, here capped at 200 ms.
          await new Promise((r) => setTimeout(r, answer.status === 503 ? 200 : 100));
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  return out;
}

export interface StaleSample {
  atMs: number;
  /**
   * ms from A's 2xx to the end of B's last read that still returned the old value (0 when B's first
   * read was fresh); null when B was still stale after STALE_GIVE_UP_MS (a lost invalidation).
   */
  staleMs: number | null;
}

/** Creates an operation, then repeatedly changes its status through A and times how long B serves the old one. */
export async function runStalenessProbe(
  a: string,
  b: string,
  service: string,
  runStart: number,
  until: () => boolean,
): Promise<StaleSample[]> {
  const headers = { "x-forwarded-for": freshClient() };
  const created = await send(a, "POST", `/${service}/operations`, { type: "fault.stale-probe" }, headers);
  const id = String(created.json?.id);
  const samples: StaleSample[] = [];
  const statuses = ["running", "pending"];
  for (let i = 0; !until(); i++) {
    const status = statuses[i % 2]!;
    // Warm B's L1 with the current value first, so a missed invalidation would show.
    await send(b, "GET", `/${service}/operations/${id}`, undefined, { "x-forwarded-for": freshClient() });
    const patched = await send(a, "PATCH", `/${service}/operations/${id}`, { status }, { "x-forwarded-for": freshClient() });
    if (patched.status !== 200) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const written = Date.now();
    let staleMs: number | null = null;
    let lastStaleEnd = written;
    while (Date.now() - written < STALE_GIVE_UP_MS) {
      const read = await send(b, "GET", `/${service}/operations/${id}`, undefined, { "x-forwarded-for": freshClient() });
      if (read.status === 200 && read.json?.status === status) {
        staleMs = lastStaleEnd - written;
        break;
      }
      if (read.status === 200) lastStaleEnd = Date.now();
      await new Promise((r) => setTimeout(r, 20));
    }
    samples.push({ atMs: written - runStart, staleMs });
    await new Promise((r) => setTimeout(r, 250));
  }
  return samples;
}

export interface AdmissionSample {
  atMs: number;
  sent: number;
  admitted: number;
  limit: number;
  /** How long the probe took: it must end before the outage it measures does. */
  tookMs: number;
  statuses: Record<string, number>;
}

/** One fresh client sends `3 x limit` requests alternating A and B; admitted = answers other than 429 (or no answer). */
export async function probeAdmission(
  origins: readonly string[],
  service: string,
  limit: number,
  runStart: number,
): Promise<AdmissionSample> {
  const client = freshClient();
  const atMs = Date.now() - runStart;
  const sent = 3 * limit;
  let admitted = 0;
  const statuses: Record<string, number> = {};
  // Ten at a time: the probe must finish well inside the outage it measures.
  for (let i = 0; i < sent; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, sent - i) }, (_, j) =>
        send(origins[(i + j) % origins.length]!, "GET", `/${service}/operations/1`, undefined, { "x-forwarded-for": client }),
      ),
    );
    for (const r of batch) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    admitted += batch.filter((r) => r.status !== 429 && r.status !== 0).length;
  }
  return { atMs, sent, admitted, limit, tookMs: Date.now() - runStart - atMs, statuses };
}
