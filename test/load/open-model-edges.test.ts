/**
 * The open-model sender at its edges, in short runs (tens of milliseconds) against loopback servers:
 * the schedule's length and spacing, what each request carries, the status rule, captures, the
 * in-flight cap, late sends and the timeout counted from the intended time, transport errors, and
 * the connections it closes. Expectations come from the schedule (send k is meant for k × 1000 /
 * rate ms after the start) and from what the server saw, never from the sender's own output.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { runOpenModel, type OpenModelOptions } from "../../load/runner/open-model";
import type { PreparedRequest } from "../../load/runner/scenario";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
interface Served {
  origin: URL;
  server: http.Server;
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
}
const servers: http.Server[] = [];
const sockets = new Set<Socket>();
async function serve(handler: Handler = (_q, res) => res.end("ok")): Promise<Served> {
  const seen: Served["seen"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on("connection", (s) => (sockets.add(s), s.on("close", () => sockets.delete(s))));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), server, seen };
}
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

const get = (path = "/"): PreparedRequest => ({ name: "get", method: "GET", path, headers: {} });
const run = (origin: URL, rest: Omit<OpenModelOptions, "origin" | "next"> & Partial<Pick<OpenModelOptions, "next">>) =>
  runOpenModel({ origin, next: () => get(), ...rest });
/** Holds this process (the generator) for `ms`, as a long garbage collection or a busy handler would. */
function block(ms: number): number {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
  return performance.now();
}
const openConnections = (server: http.Server) => new Promise<number>((r) => server.getConnections((_e, n) => r(n)));

describe("open-model sender: the schedule", () => {
  it("sends ⌊duration × rate⌋ requests, each meant for k × 1000 / rate ms after the first, the first at the start", async () => {
    const { origin, seen } = await serve();
    // 0.05 s × 100 req/s = 5 sends, 0.05 s × 70 = 3.5 (the half send is past the end: 3), 0.03 s × 50 = 1.5: 1.
    for (const [rateRps, durationS, expected] of [
      [100, 0.05, 5],
      [70, 0.05, 3],
      [50, 0.03, 1],
      // Less than one send's worth: nothing to send, and the run ends at once.
      [1, 0.5, 0],
    ]) {
      seen.length = 0;
      const before = performance.now();
      const r = await run(origin, { rateRps, durationS, runStart: before });
      const after = performance.now();
      expect([r.rateRps, r.durationS, r.scheduled, r.sent, r.dropped]).toEqual([rateRps, durationS, expected, expected, 0]);
      expect(seen).toHaveLength(expected);
      expect(r.samples).toHaveLength(expected);
      const intended = r.samples.map((s) => s.intendedAtMs).sort((a, b) => a - b);
      // The first is meant for the moment the call started (between `before` and the first send).
      if (expected > 0) expect([intended[0] >= 0, intended[0] <= after - before]).toEqual([true, true]);
      intended.forEach((t, k) => expect(t - intended[0]).toBeCloseTo((k * 1000) / rateRps, 6));
      for (const s of r.samples) {
        expect(s).toMatchObject({ request: "get", status: 200, ok: true });
        // Answered after it was meant to leave, within the run; the latency is the span between the two.
        expect(s.latencyMs).toBeGreaterThanOrEqual(0);
        expect(s.atMs).toBeLessThanOrEqual(after - before);
        expect(s.atMs - s.intendedAtMs).toBeCloseTo(s.latencyMs, 6);
      }
      // The run lasted at least its schedule: its last send is meant for (n - 1) × 1000 / rate ms.
      expect(after - before).toBeGreaterThanOrEqual(((expected - 1) * 1000) / rateRps);
    }
  });

  it("between sends the generator sleeps until the next is due: one timer per send, not a poll every millisecond", async () => {
    const { origin } = await serve();
    // 2 sends 50 ms apart: the first at once, one timer for the second (a timer that fires a hair early, by
    // Node's millisecond rounding, sets one more). Polling instead would set a timer per millisecond (~50).
    const timer = jest.spyOn(global, "setTimeout");
    try {
      const r = await run(origin, { rateRps: 20, durationS: 0.1 });
      expect(r.sent).toBe(2);
      const ticks = timer.mock.calls.filter(([fn]) => typeof fn === "function" && fn.name === "tick").length;
      expect(ticks).toBeGreaterThanOrEqual(1);
      expect(ticks).toBeLessThanOrEqual(3);
    } finally {
      timer.mockRestore();
    }
  });

  it("without a runStart, sample times count from the call; with one, from it", async () => {
    const { origin } = await serve();
    const before = performance.now();
    const own = await run(origin, { rateRps: 100, durationS: 0.02 });
    const elapsed = performance.now() - before;
    for (const s of own.samples) {
      expect(s.intendedAtMs).toBeGreaterThanOrEqual(0);
      expect(s.atMs).toBeLessThanOrEqual(elapsed);
    }
    const runStart = performance.now() - 1000;
    const anchored = await run(origin, { rateRps: 100, durationS: 0.02, runStart });
    for (const s of anchored.samples) expect(s.intendedAtMs).toBeGreaterThanOrEqual(1000);
  });

  it("resolves only when every answer is in, a slow one included", async () => {
    const DELAY_MS = 40;
    const { origin } = await serve((_q, res) => setTimeout(() => res.end("ok"), DELAY_MS));
    const before = performance.now();
    const r = await run(origin, { rateRps: 100, durationS: 0.03 });
    expect(r.samples).toHaveLength(3);
    // The last send is meant for 20 ms and held 40 ms by the server.
    expect(performance.now() - before).toBeGreaterThanOrEqual(20 + DELAY_MS - 1);
    for (const s of r.samples) expect(s.latencyMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
  });
});

describe("open-model sender: what each request carries and how its answer counts", () => {
  it("the scenario's method, path, headers and body (with its byte length); per-send headers computed at each send win", async () => {
    const { origin, seen } = await serve();
    const body = Buffer.from(JSON.stringify({ name: "Zoë ✓" }));
    let n = 0;
    const r = await run(origin, {
      rateRps: 100,
      durationS: 0.02,
      next: () => ({
        name: "post",
        method: "POST",
        path: "/items?x=1",
        headers: { "content-type": "application/json", "x-who": "scenario" },
        body,
      }),
      perSendHeaders: () => ({ "x-who": "sender", "x-n": String(n++) }),
    });
    expect(r.samples.map((s) => s.request)).toEqual(["post", "post"]);
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect([s.method, s.url, s.body]).toEqual(["POST", "/items?x=1", body.toString("utf8")]);
      expect(s.headers["content-type"]).toBe("application/json");
      expect(s.headers["content-length"]).toBe(String(Buffer.byteLength(body.toString("utf8"))));
      expect(s.headers["x-who"]).toBe("sender");
    }
    expect(seen.map((s) => s.headers["x-n"]).sort()).toEqual(["0", "1"]);
    // A bodiless request carries no content-length of its own.
    seen.length = 0;
    await run(origin, { rateRps: 100, durationS: 0.01 });
    expect(seen[0].headers["content-length"]).toBeUndefined();
  });

  it("a 2xx is ok (200 and 299 included), anything else is not (300, 404, 500), each with its status", async () => {
    const statuses = [200, 204, 299, 300, 404, 500];
    const { origin } = await serve((req, res) => {
      res.statusCode = Number(req.url!.slice(1));
      res.end();
    });
    let i = 0;
    const r = await run(origin, {
      rateRps: 1000,
      durationS: statuses.length / 1000,
      next: () => ({ ...get(`/${statuses[i]}`), name: `s${statuses[i++]}` }),
    });
    const byName = Object.fromEntries(r.samples.map((s) => [s.request, [s.status, s.ok]]));
    expect(byName).toEqual(Object.fromEntries(statuses.map((s) => [`s${s}`, [s, s >= 200 && s <= 299]])));
  });

  it("hands a capturing request's whole answer to onCapture, whatever its status; nothing for the others or without an answer", async () => {
    // The body in two writes, so it arrives in more than one chunk.
    const { origin } = await serve((req, res) => {
      res.statusCode = req.url === "/missing" ? 404 : 201;
      res.write('{"id":');
      setTimeout(() => res.end(`"${req.url}"}`), 2);
    });
    const captured: [string, number, string][] = [];
    const onCapture = (p: PreparedRequest, status: number, body: string) => void captured.push([p.path, status, body]);
    const paths = ["/a", "/missing", "/plain"];
    let i = 0;
    const r = await run(origin, {
      rateRps: 1000,
      durationS: 0.003,
      onCapture,
      next: () => {
        const path = paths[i++];
        return { ...get(path), ...(path === "/plain" ? {} : { capture: { id: "$.id" } }) };
      },
    });
    expect(r.samples.map((s) => s.status).sort()).toEqual([201, 201, 404]);
    expect(captured.sort()).toEqual([
      ["/a", 201, '{"id":"/a"}'],
      ["/missing", 404, '{"id":"/missing"}'],
    ]);
    // No answer at all (nothing listens there): no capture, a failed sample.
    const closed = await serve();
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    captured.length = 0;
    const refused = await run(closed.origin, {
      rateRps: 100,
      durationS: 0.02,
      onCapture,
      next: () => ({ ...get(), capture: { id: "$.id" } }),
    });
    expect(refused.samples).toHaveLength(2);
    for (const s of refused.samples) expect(s).toMatchObject({ status: 0, ok: false });
    expect(captured).toEqual([]);
  });
});

describe("open-model sender: the generator's own limits", () => {
  it("sends at most maxInFlight at once and counts the rest as dropped, unmeasured", async () => {
    // Nothing is answered: each send stays in flight until its 100 ms timeout, after the 20 ms schedule has run.
    const { origin, seen } = await serve(() => undefined);
    const r = await run(origin, { rateRps: 1000, durationS: 0.02, maxInFlight: 3, timeoutMs: 100 });
    expect([r.scheduled, r.sent, r.dropped, r.maxInFlight]).toEqual([20, 3, 17, 3]);
    expect(r.samples).toHaveLength(3);
    expect(seen).toHaveLength(3);
  });

  it("a generator held up sends what fell due at once, late beyond the tolerance; the timeout counts from the intended time", async () => {
    // Nothing is answered: each send fails at its timeout.
    const { origin } = await serve(() => undefined);
    const TIMEOUT_MS = 150;
    const runStart = performance.now();
    // Sends meant for 0, 5, 10 and 15 ms; the first leaves at once, then the generator is held 250 ms. No
    // lateToleranceMs of its own: the default, 20 ms.
    const pending = run(origin, { rateRps: 200, durationS: 0.02, runStart, timeoutMs: TIMEOUT_MS });
    const blockEnd = block(250) - runStart;
    const r = await pending;
    expect([r.sent, r.dropped, r.samples.length]).toEqual([4, 0, 4]);
    // Sends 1-3 left after the hold, at least 250 - 15 ms late, over the 20 ms tolerance; the first was not.
    expect(r.late).toBe(3);
    // (The schedule starts when the call does, a little after runStart on a busy machine: the earliest intended time.)
    const first = Math.min(...r.samples.map((s) => s.intendedAtMs));
    expect(r.maxLagMs).toBeGreaterThanOrEqual(blockEnd - (first + 5) - 1);
    expect(r.maxLagMs).toBeLessThanOrEqual(performance.now() - runStart);
    for (const s of r.samples) {
      expect(s).toMatchObject({ status: 0, ok: false });
      // The on-time one waited its whole timeout, after the hold.
      expect(s.latencyMs).toBeGreaterThanOrEqual(Math.max(TIMEOUT_MS, blockEnd - s.intendedAtMs) - 1);
    }
    // The three held ones were past their timeout when they left: they fail at once, well before another full one.
    const held = r.samples.filter((s) => s.intendedAtMs > first + 1);
    expect(held).toHaveLength(3);
    for (const s of held) expect(s.atMs - blockEnd).toBeLessThan(TIMEOUT_MS);
  });
});

describe("open-model sender: transports and connections", () => {
  it("an https origin speaks TLS (a plain-HTTP server there is a failed request, not a crash)", async () => {
    const { origin } = await serve();
    const tls = new URL(origin.href.replace(/^http:/, "https:"));
    const r = await run(tls, { rateRps: 100, durationS: 0.01, timeoutMs: 2000 });
    expect(r.samples).toHaveLength(1);
    expect(r.samples[0]).toMatchObject({ status: 0, ok: false });
  });

  it("a response cut off mid-body, or stalled mid-body past the timeout, is one failed sample, not two", async () => {
    // Headers and part of the body, then /cut closes the connection and /stall sends nothing more: a timeout
    // then fails both the request and its response.
    const { origin } = await serve((req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("part");
      if (req.url === "/cut") setTimeout(() => res.socket?.destroy(), 5);
    });
    const sends = [
      ["cut", "/cut"],
      ["stall-1", "/stall"],
      ["stall-2", "/stall"],
    ];
    let i = 0;
    const next = () => ({ ...get(sends[i][1]), name: sends[i++][0] });
    const r = await run(origin, { rateRps: 100, durationS: 0.03, timeoutMs: 60, next });
    expect(r.sent).toBe(3);
    // One sample per send, the run ending after the last; none added when the responses' own errors follow.
    expect(r.samples.map((s) => s.request).sort()).toEqual(sends.map(([name]) => name));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.samples).toHaveLength(sends.length);
    for (const s of r.samples) expect(s).toMatchObject({ status: 0, ok: false });
    // The stalled ones failed at their timeout.
    expect(r.samples.filter((s) => s.latencyMs >= 60 - 1).length).toBeGreaterThanOrEqual(2);
  });

  it("closes the connections of the agent it made, and leaves a given agent's open for the next step", async () => {
    const { origin, server } = await serve();
    await run(origin, { rateRps: 100, durationS: 0.02 });
    for (const deadline = performance.now() + 1000; (await openConnections(server)) > 0 && performance.now() < deadline;)
      await new Promise((r) => setTimeout(r, 5));
    expect(await openConnections(server)).toBe(0);
    const agent = new http.Agent({ keepAlive: true });
    try {
      await run(origin, { rateRps: 100, durationS: 0.02, agent });
      await new Promise((r) => setTimeout(r, 20));
      expect(await openConnections(server)).toBeGreaterThan(0);
    } finally {
      agent.destroy();
    }
  });
});
