import { createServer, type Server } from "node:http";
import { driveStep } from "../../load/runner/drive";

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
    const { samples } = await driveStep(targets, vus, 2, 1, Date.now());

    // Every user sent on each of the 2 seconds (autocannon may fit one more in at the end), split across the targets.
    expect(samples.get("a")!.length).toBeGreaterThanOrEqual(vus);
    expect(samples.get("b")!.length).toBeGreaterThanOrEqual(vus);
    expect(samples.get("a")!.length + samples.get("b")!.length).toBeLessThanOrEqual(3 * vus);
    expect([...samples.values()].flat().every((s) => s.ok)).toBe(true);
    expect(new Set(arrivals.map((a) => a.client)).size).toBe(vus);

    // Spread: in the first second the users arrive about 1000/vus = 50 ms apart, never as one burst
    // (in lockstep all 20 arrived within 1 ms). Late timers on a busy machine may bunch a few.
    const first = arrivals.slice(0, vus).map((a) => a.atMs - arrivals[0].atMs);
    const mostInAnyTenMs = Math.max(...first.map((t) => first.filter((u) => u >= t && u < t + 10).length));
    expect(mostInAnyTenMs).toBeLessThanOrEqual(vus / 4);
    expect(first[vus - 1]).toBeGreaterThan(0.6 * 1000 * ((vus - 1) / vus));
  }, 20_000);
});
