import { spawnSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { WebSocket } from "ws";
import { serviceCdnPaths } from "../../examples/service";
import { MAX_BODY_BYTES } from "../../examples/reference/requests";
import { call as callService, LOCAL_PROFILE, startReferenceService, type RunningReference } from "./harness";

/**
 * The reference service on real Redis and PostgreSQL, with the local stack's own env for
 * agent-intelligence (its own database role, per-service Redis namespace), behind one trusted hop.
 */
const profile = LOCAL_PROFILE;
const name = "agent-intelligence";
let ref: RunningReference;
let port: number;
let env: Record<string, string>;
let runtime: RunningReference["runtime"];

beforeAll(async () => {
  ref = await startReferenceService(name, { UAIP_TRUSTED_PROXY_HOPS: "1" });
  ({ port, env, runtime } = ref);
}, 60_000);

afterAll(async () => {
  await ref?.stop();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  callService(port, method, path, body, headers);

async function superuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ref.backends.postgres.url(profile.database.name) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe("reference service: POST /operations (the seed's load-test request)", () => {
  it("stores the seed's body, answers 200 (the seed's check), and audits it under the client's own address", async () => {
    const created = await call(
      "POST",
      `/${name}/operations`,
      { type: "test", payload: { data: "test" } },
      { "x-forwarded-for": "198.51.100.7" },
    );
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ type: "test", status: "pending", payload: { data: "test" } });
    const rows = await superuser((c) =>
      c.query("SELECT user_id, action, details FROM audit_logs WHERE details->>'id' = $1", [created.body.id]),
    );
    expect(rows.rows).toEqual([
      { user_id: "198.51.100.7", action: "operation.create", details: { id: created.body.id, type: "test" } },
    ]);
    // The service logs in as its own role, not the master user.
    const roles = await superuser((c) =>
      c.query("SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = $1", [name]),
    );
    expect(roles.rows.map((r) => r.usename)).toEqual([env.UAIP_DB_USER]);
    expect(env.UAIP_DB_USER).toBe("agent_intelligence");
  });

  it.each([
    ["a missing type", { payload: {} }, 400, "INVALID_BODY"],
    ["an unknown key", { type: "t", payload: {}, extra: 1 }, 400, "INVALID_BODY"],
    ["a type with spaces", { type: "drop table", payload: {} }, 400, "INVALID_BODY"],
    ["malformed JSON", "{not json", 400, "INVALID_JSON"],
  ])("refuses %s with %s %s and stores nothing", async (_what, body, status, code) => {
    const before = await superuser((c) => c.query("SELECT count(*)::int AS n FROM operations"));
    const answer = await call("POST", `/${name}/operations`, body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    const after = await superuser((c) => c.query("SELECT count(*)::int AS n FROM operations"));
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("refuses a body over the bound with 413 and a non-JSON content type with 415", async () => {
    const big = await call("POST", `/${name}/operations`, { type: "t", payload: "x".repeat(MAX_BODY_BYTES) });
    expect(big.status).toBe(413);
    const form = await call("POST", `/${name}/operations`, "type=t", { "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
  });
});

describe("reference service: cached reads, invalidated by updates", () => {
  it("serves GET /operations/:id from the cache, and PATCH makes the next read see the new status", async () => {
    const { body: op } = await call("POST", `/${name}/operations`, { type: "cache", payload: null });
    expect((await call("GET", `/${name}/operations/${op.id}`)).body.status).toBe("pending");
    // Changed behind the service's back: the cached copy is still served (proof the read is cached).
    await superuser((c) => c.query("UPDATE operations SET status = 'running' WHERE id = $1", [op.id]));
    expect((await call("GET", `/${name}/operations/${op.id}`)).body.status).toBe("pending");
    // Through the API: stored, audited, and the cache entry deleted, so the next read is fresh.
    const patched = await call("PATCH", `/${name}/operations/${op.id}`, { status: "succeeded" });
    expect(patched.status).toBe(200);
    expect((await call("GET", `/${name}/operations/${op.id}`)).body.status).toBe("succeeded");
    const audit = await superuser((c) => c.query("SELECT action FROM audit_logs WHERE details->>'id' = $1 ORDER BY id", [op.id]));
    expect(audit.rows.map((r) => r.action)).toEqual(["operation.create", "operation.status"]);
  });

  it("answers each read with the value the cache holds now: after a write by another writer, an invalidation and a PATCH", async () => {
    const { body: op } = await call("POST", `/${name}/operations`, { type: "bytes", payload: { n: 1 } });
    const path = `/${name}/operations/${op.id}`;
    const first = await call("GET", path);
    // Read twice from the same cached copy: the same answer.
    expect((await call("GET", path)).body).toEqual(first.body);
    // Another writer replaces the cached value (cache.set, as another replica's write would).
    const replaced = { ...first.body, status: "running", payload: { n: 2 } };
    await runtime.cache.set(`operation:${op.id}`, replaced);
    expect((await call("GET", path)).body).toEqual(replaced);
    // Invalidated: the next read loads the row again (still pending in the database).
    await runtime.cache.invalidate(`operation:${op.id}`);
    expect((await call("GET", path)).body).toEqual(first.body);
    expect((await call("PATCH", path, { status: "running" })).status).toBe(200);
    const afterPatch = await call("GET", path);
    expect(afterPatch.body).toEqual({ ...first.body, status: "running" });
    expect(afterPatch.headers["content-length"]).toBe(String(Buffer.byteLength(afterPatch.text)));
  });

  it("answers 404 for an unknown operation and caches nothing for it", async () => {
    const answer = await call("GET", `/${name}/operations/999999999`);
    expect(answer.status).toBe(404);
    expect(await runtime.cache.get("operation:999999999")).toBeNull();
    expect((await call("PATCH", `/${name}/operations/999999999`, { status: "failed" })).status).toBe(404);
    expect((await call("PATCH", `/${name}/operations/1`, { status: "bogus" })).status).toBe(400);
  });

  it("serves the seed's operation_stats view at /stats", async () => {
    await superuser((c) => c.query("REFRESH MATERIALIZED VIEW operation_stats"));
    await runtime.cache.delete("stats");
    const stats = await call("GET", `/${name}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body.stats.length).toBeGreaterThan(0);
    expect(stats.body.stats[0]).toEqual({
      hour: expect.any(String),
      status: expect.any(String),
      count: expect.any(Number),
      avgDuration: null,
    });
    expect(stats.headers.vary).toMatch(/Accept-Encoding/i);
  });

  it("maps its cache keys to the paths the CDN serves", () => {
    const paths = serviceCdnPaths(name);
    expect(paths("operation:42")).toBe(`/${name}/operations/42`);
    expect(paths("stats")).toBe(`/${name}/stats`);
    expect(paths("session:1")).toBeUndefined();
  });
});

describe("reference service: the WebSocket feed", () => {
  it("announces created and updated operations through the batcher", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/${name}/ws`);
    const events: { type: string; operation?: { id: string; status: string } }[] = [];
    socket.on("message", (d: Buffer) => events.push(...(JSON.parse(d.toString()) as typeof events)));
    await new Promise((r, j) => socket.once("open", r).once("error", j));
    try {
      const { body: op } = await call("POST", `/${name}/operations`, { type: "feed", payload: 1 });
      await call("PATCH", `/${name}/operations/${op.id}`, { status: "running" });
      const deadline = Date.now() + 5_000;
      while (events.filter((e) => e.operation?.id === op.id).length < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(events.filter((e) => e.operation?.id === op.id).map((e) => [e.type, e.operation!.status])).toEqual([
        ["operation.created", "pending"],
        ["operation.updated", "running"],
      ]);
    } finally {
      socket.terminate();
    }
  });
});

describe("reference service: start-up", () => {
  it("fails fast, naming the variable, when its env is incomplete", () => {
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "..", "..", "examples", "service.ts")], {
        env: { PATH: process.env.PATH ?? "", ...extra },
        encoding: "utf8",
        timeout: 30_000,
      });
    const noDb = run({ ...env, UAIP_DB_HOST: "" });
    expect(noDb.status).toBe(1);
    expect(noDb.stderr).toContain("cannot start: UAIP_DB_HOST is empty");
    const badPort = run({ ...env, UAIP_PORT: "0x10" });
    expect(badPort.status).toBe(1);
    expect(badPort.stderr).toContain("UAIP_PORT");
    expect(badPort.stderr).not.toContain(env.UAIP_DB_PASSWORD);
  });
});
