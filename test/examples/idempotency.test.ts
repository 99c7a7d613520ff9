/**
 * Idempotent writes: POST /operations with an Idempotency-Key stores the key with the row; a retry
 * with the same key gets the first row back and adds none, even racing the first attempt or across a
 * PostgreSQL restart. Every answer is either a 2xx whose row is committed, or an error the client can
 * retry (503 + Retry-After, or a dropped connection); the reference service on real Redis and PostgreSQL.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../../examples/reference/requests";
import { call as callService, LOCAL_PROFILE, startReferenceService, type Answer, type RunningReference } from "./harness";

jest.setTimeout(120_000);

const name = "agent-intelligence";
let ref: RunningReference;

beforeAll(async () => {
  ref = await startReferenceService(name);
}, 60_000);
afterAll(async () => {
  await ref?.stop();
});

const post = (body: unknown, key?: string): Promise<Answer> =>
  callService(ref.port, "POST", `/${name}/operations`, body, key === undefined ? {} : { "Idempotency-Key": key });

async function rowsWithKey(keys: string[]): Promise<{ id: string; idempotency_key: string }[]> {
  const client = new pg.Client({ connectionString: ref.backends.postgres.url(LOCAL_PROFILE.database.name) });
  await client.connect();
  try {
    return (
      await client.query<{ id: string; idempotency_key: string }>(
        "SELECT id::text, idempotency_key FROM operations WHERE idempotency_key = ANY($1)",
        [keys],
      )
    ).rows;
  } finally {
    await client.end();
  }
}

test("a retry with the same key returns the first row and adds none", async () => {
  const key = randomUUID();
  const body = { type: "agent.run", payload: { n: 1 } };
  const first = await post(body, key);
  const retry = await post(body, key);
  expect(first.status).toBe(200);
  expect(retry.status).toBe(200);
  expect(retry.body).toEqual(first.body);
  expect(retry.headers["idempotent-replayed"]).toBe("true");
  expect(first.headers["idempotent-replayed"]).toBeUndefined();
  expect(await rowsWithKey([key])).toEqual([{ id: first.body.id, idempotency_key: key }]);
});

test("ten concurrent requests with one key: one row, every answer names it", async () => {
  const key = randomUUID();
  const answers = await Promise.all(Array.from({ length: 10 }, () => post({ type: "agent.run", payload: null }, key)));
  expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
  const rows = await rowsWithKey([key]);
  expect(rows).toHaveLength(1);
  expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([rows[0]!.id]));
});

test("the same key with a different body is refused (422), naming the first operation", async () => {
  const key = randomUUID();
  const first = await post({ type: "a", payload: 1 }, key);
  const other = await post({ type: "a", payload: 2 }, key);
  expect(other.status).toBe(422);
  expect(other.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  expect(other.body.error.message).toContain(first.body.id);
  expect(await rowsWithKey([key])).toHaveLength(1);
});

test("keys: 1 and MAX characters of visible ASCII accepted; empty, longer, spaces and control characters refused with 400", async () => {
  const ok = ["k", "x".repeat(MAX_IDEMPOTENCY_KEY_LENGTH), "!~"];
  for (const key of ok) expect((await post({ type: "t" }, key)).status).toBe(200);
  for (const key of ["", "x".repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1), "a b", "é"]) {
    const answer = await post({ type: "t" }, key).catch((e: Error) => ({ status: -1, body: e.message }) as Answer);
    // Node's client refuses to send some header values at all (the key never reaches the service): also a refusal.
    if (answer.status === -1) continue;
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("INVALID_IDEMPOTENCY_KEY");
  }
});

test("through a PostgreSQL restart, retrying on 503 with the same key: every acknowledged write is stored once, none lost", async () => {
  const keys = Array.from({ length: 40 }, () => randomUUID());
  const acknowledged = new Map<string, string>(); // key -> id the 2xx named
  const statuses: number[] = [];
  let restart: Promise<void> | undefined;
  await Promise.all(
    [0, 1, 2, 3].map(async (worker) => {
      for (let i = worker; i < keys.length; i += 4) {
        if (i === 12) restart = ref.backends.postgres.restart("fast");
        const key = keys[i]!;
        for (let attempt = 0; ; attempt++) {
          const answer = await post({ type: "restart", payload: { i } }, key).catch(() => ({ status: 0 }) as Answer);
          statuses.push(answer.status);
          if (answer.status === 200) {
            acknowledged.set(key, answer.body.id);
            break;
          }
          // Retryable only: 503 (with Retry-After) or a dropped connection; never a 500 or a 4xx.
          expect([0, 503]).toContain(answer.status);
          if (answer.status === 503) expect(answer.headers["retry-after"]).toBeDefined();
          if (attempt > 200) throw new Error(`write ${i} not acknowledged after ${attempt} attempts`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
  await restart;
  const rows = await rowsWithKey(keys);
  // Not lost: every acknowledged write is committed, with the id the 2xx named. Not duplicated: one row per key.
  expect(acknowledged.size).toBe(keys.length);
  expect(rows).toHaveLength(keys.length);
  expect(new Map(rows.map((r) => [r.idempotency_key, r.id]))).toEqual(acknowledged);
  console.log(`statuses through the restart: ${JSON.stringify(countBy(statuses))}`);
});

function countBy(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
