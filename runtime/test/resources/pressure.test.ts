import { fork, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";

/**
 * Memory pressure for real: a child process with --max-old-space-size=64 allocates past its
 * monitor's threshold (0.5 of the heap limit), sheds new requests with 503 + Retry-After while an
 * in-flight request finishes, fails readiness but not liveness, and recovers once the heap is freed.
 */

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m as T));
    child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
  });
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " ") || l.startsWith(series + "{"));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("memory pressure in a process with a 64 MiB heap", () => {
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    child = fork(join(__dirname, "pressure-child.ts"), [], {
      execArgv: ["--max-old-space-size=64", "--expose-gc", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    port = (await nextMessage<{ port: number }>(child)).port;
  }, 30_000);

  afterAll(() => {
    child?.kill();
  });

  it("serves normally, sheds new requests with 503 + jittered Retry-After under pressure while in-flight ones finish, then recovers", async () => {
    expect((await get(port, "/work")).status).toBe(200);
    expect((await get(port, "/readyz")).status).toBe(200);

    // Admitted before the pressure: it must still finish with 200.
    const admitted = nextMessage<{ slowAdmitted: boolean }>(child);
    const inFlight = get(port, "/slow");
    expect(await admitted).toEqual({ slowAdmitted: true });

    child.send("allocate");
    const allocated = await nextMessage<{ allocated: number; limit: number }>(child);
    expect(allocated.allocated / allocated.limit).toBeGreaterThan(0.5);

    await until("readiness to fail", async () => (await get(port, "/readyz")).status === 503);
    // Liveness stays true: the process is healthy, only overloaded; a restart would not help.
    expect((await get(port, "/healthz")).status).toBe(200);

    const shed = await Promise.all([get(port, "/work"), get(port, "/work"), get(port, "/work"), get(port, "/work")]);
    for (const r of shed) {
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).error.code).toBe("UAIP_OVERLOADED");
      const retryAfter = Number(r.headers["retry-after"]);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(5);
      expect(retryAfter).toBeLessThanOrEqual(15);
    }

    const scrape = (await get(port, "/metrics")).body;
    expect(metricValue(scrape, 'uaip_memory_pressure{resource="heap",service="pressure-child"}')).toBe(1);
    expect(metricValue(scrape, 'uaip_pressure_rejected_requests_total{service="pressure-child"}')).toBeGreaterThanOrEqual(4);
    expect(metricValue(scrape, 'uaip_memory_gc_total{result="collected",service="pressure-child"}')).toBeGreaterThan(0);

    child.send("finish-slow");
    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(JSON.parse(slow.body)).toEqual({ slow: "done" });

    child.send("release");
    await nextMessage(child);
    // The monitor's GC hint (--expose-gc) frees the released arrays; hysteresis exits below 0.45.
    await until("readiness to recover", async () => (await get(port, "/readyz")).status === 200);
    expect((await get(port, "/work")).status).toBe(200);
    const after = (await get(port, "/metrics")).body;
    expect(metricValue(after, 'uaip_memory_pressure{resource="heap",service="pressure-child"}')).toBe(0);
  }, 30_000);
});
