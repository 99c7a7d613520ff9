import { createServer, type Server } from "node:http";
import { driveStep, eachConnectionItsOwnClient, nextClientAddress } from "../../load/runner/drive";

/**
 * The runner must load the services the way the seed's VUs (and users behind an ALB) do: each
 * user once per think time, users spread over it. Driving every user from one autocannon
 * instance fired them all in the same millisecond once a second; the burst queued in the
 * services' event loops where only the client could see it (client p95 120 ms vs the runtime's 70).
 */
describe("driveStep", () => {
  let server: Server;
  let origin: string;
  const arrivals: { atMs: number; client: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      arrivals.push({ atMs: performance.now(), client: String(req.headers["x-forwarded-for"]) });
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends one request per user per think time, users spread evenly over it, each its own client", async () => {
    const vus = 20;
    const targets = ["a", "b"].map((service) => ({
      service,
      origin,
      requests: [{ method: "GET" as const, path: `/${service}` }],
    }));
    const started = performance.now();
    const { samples } = await driveStep(targets, vus, 2, 1, Date.now());

    // Every user sent on each of the 2 seconds (autocannon may fit one more in at the end), split across the targets.
    expect(samples.get("a")!.length).toBeGreaterThanOrEqual(vus);
    expect(samples.get("b")!.length).toBeGreaterThanOrEqual(vus);
    expect(samples.get("a")!.length + samples.get("b")!.length).toBeLessThanOrEqual(3 * vus);
    expect([...samples.values()].flat().every((s) => s.ok)).toBe(true);
    const clients = new Set(arrivals.map((a) => a.client));
    expect(clients.size).toBe(vus);

    // Spread: user i starts at i/vus of the think time, and a timer never fires before its delay (but
    // for the millisecond Node rounds to), so the k-th user to arrive at all arrived no earlier than
    // k × 1000 / vus ms after the step began: the k-th smallest of values each at or above its own
    // offset is at or above the k-th smallest offset. A busy machine only delays arrivals, so this
    // holds at any load; users fired together (in lockstep all 20 arrived within 1 ms) break it from
    // the second user on.
    const firstArrival = [...clients]
      .map((client) => Math.min(...arrivals.filter((a) => a.client === client).map((a) => a.atMs)) - started)
      .sort((x, y) => x - y);
    const early = firstArrival.flatMap((atMs, k) =>
      atMs < (k * 1000) / vus - 1 ? [{ k, atMs, offsetMs: (k * 1000) / vus }] : [],
    );
    expect(early).toEqual([]);
  }, 20_000);
});

describe("each virtual user is its own client", () => {
  it("addresses are valid, distinct IPv4 addresses until 131072 users, then repeat", () => {
    const first = nextClientAddress();
    const seen = new Set([first]);
    for (let i = 1; i < 2 * 65536; i++) seen.add(nextClientAddress());
    expect(seen.size).toBe(2 * 65536);
    for (const a of [...seen].slice(0, 300).concat([...seen].slice(-300)))
      expect(a).toMatch(/^198\.(18|19)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/);
    expect(nextClientAddress()).toBe(first);
  });

  it("each connection's requests carry its own X-Forwarded-For; the request list given is left as it was", () => {
    const requests = [{ method: "POST" as const, path: "/x", headers: { "content-type": "application/json" } }];
    const options = eachConnectionItsOwnClient(requests);
    const set: { headers?: Record<string, string> }[][] = [];
    const client = { setRequests: (r: { headers?: Record<string, string> }[]) => set.push(r) };
    options.setupClient!(client as never);
    options.setupClient!(client as never);
    const [a, b] = set.map((r) => r[0].headers!);
    expect(a["content-type"]).toBe("application/json");
    expect(a["x-forwarded-for"]).not.toBe(b["x-forwarded-for"]);
    expect(requests[0].headers).toEqual({ "content-type": "application/json" });
    expect(options.requests).toEqual(requests);
  });
});

/**
 * One short step (autocannon checks its duration once a second, so a step lasts at least a second whatever its
 * duration) against a server answering /s/<status>/<service> with that status: the status rule, the request rate a
 * think time other than 1 s gives, the samples' clock, a refused connection, a target no user reaches, autocannon's
 * refusal. Expectations come from the options and what the server saw.
 */
describe("driveStep failures, statuses and a think time below 1 s", () => {
  const DELAY_MS = 10;
  let server: Server;
  let origin: string;
  const arrivals: { atMs: number; path: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      arrivals.push({ atMs: performance.now(), path: req.url! });
      res.statusCode = Number(req.url!.split("/")[2]);
      setTimeout(() => res.end(), DELAY_MS);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const target = (service: string, status: number, at = origin) => ({
    service,
    origin: at,
    requests: [{ method: "GET" as const, path: `/s/${status}/${service}` }],
  });

  it("only a 2xx is ok (not 199, 300, a 302 nor a 500); round(1 / think) requests a second; a refused connection fails at the 10 s timeout", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // User k starts k/6 of the think time in and goes to the k-th target; the last target has no user.
    const THINK_S = 0.25;
    const failing = [
      ["low", 199],
      ["high", 300],
      ["redirect", 302],
      ["fail", 500],
    ] as const;
    const targets = [
      target("ok", 200),
      ...failing.map(([service, status]) => target(service, status)),
      target("gone", 200, `http://127.0.0.1:${port}`),
      target("idle", 200),
    ];
    const runStartMs = Date.now() - 5000;
    const { samples } = await driveStep(targets, 6, 0.1, THINK_S, runStartMs);
    const elapsed = Date.now() - runStartMs;
    expect([...samples.keys()]).toEqual(targets.map((t) => t.service));
    // A 0.25 s think time is 4 requests a second: sent at once, the next ones a second later (autocannon's pacing),
    // when the step is ending (their answers may or may not be counted).
    const perSecond = Math.round(1 / THINK_S);
    const okArrivals = arrivals.filter((x) => x.path.endsWith("/ok")).map((x) => x.atMs);
    expect(okArrivals.filter((atMs) => atMs < okArrivals[0] + 500)).toHaveLength(perSecond);
    const ok = samples.get("ok")!;
    expect(ok.length).toBeGreaterThanOrEqual(perSecond);
    expect(ok.length).toBeLessThanOrEqual(Math.min(okArrivals.length, 2 * perSecond));
    for (const s of ok) {
      expect([s.status, s.ok]).toEqual([200, true]);
      expect(s.latencyMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
      // On the run's clock: after the run started 5 s ago, before now.
      expect(s.atMs).toBeGreaterThanOrEqual(5000);
      expect(s.atMs).toBeLessThanOrEqual(elapsed);
    }
    for (const [service, status] of failing) {
      const list = samples.get(service)!;
      expect({ service, n: list.length > 0 }).toEqual({ service, n: true });
      expect(list.map((s) => [s.status, s.ok])).toEqual(list.map(() => [status, false]));
    }
    // Nothing listens at "gone": its samples are failures with no status, counted at the timeout.
    const gone = samples.get("gone")!;
    const goneOffsetMs = (5 / 6) * THINK_S * 1000;
    expect(gone.length).toBeGreaterThan(0);
    for (const s of gone) {
      expect([s.status, s.ok, s.latencyMs]).toEqual([0, false, 10_000]);
      // Its user started 5/6 of the think time in.
      expect(s.atMs).toBeGreaterThanOrEqual(5000 + goneOffsetMs - 1);
      expect(s.atMs).toBeLessThanOrEqual(elapsed);
    }
    // And its first attempt failed within 2.5 s of that (1.8 s seen under Stryker at load 14: starting the
    // autocannon instances is slow there), not a second or more per user later.
    expect(Math.min(...gone.map((s) => s.atMs))).toBeLessThan(5000 + goneOffsetMs + 2500);
    expect(samples.get("idle")).toEqual([]);
    expect(arrivals.filter((x) => x.path.endsWith("/idle"))).toEqual([]);
  }, 20_000);

  it("rejects when autocannon refuses the options", async () => {
    await expect(driveStep([target("x", 200)], 1, -1, 1, Date.now())).rejects.toThrow("duration can not be less than 0");
  });
});
