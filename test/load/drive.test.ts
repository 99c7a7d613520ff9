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

describe("driveStep failures", () => {
  it("counts a non-2xx answer (500, and a 302 too) as a failed request, 2xx as ok", async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === "/fail" ? 500 : req.url === "/redirect" ? 302 : 204;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const targets = ["ok", "fail", "redirect"].map((service) => ({
        service,
        origin,
        requests: [{ method: "GET" as const, path: `/${service}` }],
      }));
      const { samples } = await driveStep(targets, 4, 1, 1, Date.now());
      const oks = (service: string) => samples.get(service)!.map((s) => s.ok);
      expect(oks("ok").length).toBeGreaterThan(0);
      expect(oks("ok").every(Boolean)).toBe(true);
      for (const service of ["fail", "redirect"]) {
        expect({ service, n: oks(service).length > 0 }).toEqual({ service, n: true });
        expect({ service, ok: oks(service).some(Boolean) }).toEqual({ service, ok: false });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 20_000);
});
