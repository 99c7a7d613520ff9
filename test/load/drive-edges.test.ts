/**
 * driveStep at its edges in one short step against a loopback server (autocannon checks its duration once a
 * second, so a step lasts at least a second whatever its duration): how the users
 * are dealt to the targets and spread over the think time, the request rate a think time gives
 * (never below one a second), the status rule, the samples' clock, refused connections and
 * autocannon's refusals. Expectations come from the options and what the server saw.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { driveStep, type Target } from "../../load/runner/drive";

const DELAY_MS = 10;
let server: Server;
let origin: string;
const arrivals: { atMs: number; path: string; client: string }[] = [];
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    arrivals.push({ atMs: performance.now(), path: req.url!, client: String(req.headers["x-forwarded-for"]) });
    // /s/<status>: answered with that status after DELAY_MS.
    res.statusCode = Number(req.url!.split("/")[2]);
    setTimeout(() => res.end(), DELAY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
beforeEach(() => void (arrivals.length = 0));

const target = (service: string, status: number, at = origin): Target => ({
  service,
  origin: at,
  requests: [{ method: "GET", path: `/s/${status}/${service}` }],
});

describe("driveStep: users, targets, the think time and failures", () => {
  it("deals the users to the targets in turn from i / vus of the think time in, round(1 / think) requests a second each, only 2xx ok; a refused connection is a failed sample at the 10 s timeout", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // User k starts k/4 × 250 ms in: 0 goes to "up", 1 to "low", 2 to "high", 3 to "gone" (nothing listens
    // there), none to "idle".
    const THINK_S = 0.25;
    const targets = [
      target("up", 200),
      target("low", 199),
      target("high", 300),
      target("gone", 200, `http://127.0.0.1:${port}`),
      target("idle", 200),
    ];
    const runStartMs = Date.now() - 5000;
    const { samples } = await driveStep(targets, 4, 0.1, THINK_S, runStartMs);
    const elapsed = Date.now() - runStartMs;
    expect([...samples.keys()]).toEqual(["up", "low", "high", "gone", "idle"]);
    // A 0.25 s think time is 4 requests a second: sent at once, the next ones a second later (autocannon's pacing),
    // when the step is ending (its answers may or may not be counted).
    const perSecond = Math.round(1 / THINK_S);
    const upArrivals = arrivals.filter((x) => x.path.endsWith("/up")).map((x) => x.atMs);
    expect(upArrivals.filter((atMs) => atMs < upArrivals[0] + 500)).toHaveLength(perSecond);
    const up = samples.get("up")!;
    expect(up.length).toBeGreaterThanOrEqual(perSecond);
    expect(up.length).toBeLessThanOrEqual(Math.min(upArrivals.length, 2 * perSecond));
    for (const s of up) {
      expect([s.status, s.ok]).toEqual([200, true]);
      expect(s.latencyMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
      // On the run's clock: after the run started 5 s ago, before now.
      expect(s.atMs).toBeGreaterThanOrEqual(5000);
      expect(s.atMs).toBeLessThanOrEqual(elapsed);
    }
    const gone = samples.get("gone")!;
    expect(gone.length).toBeGreaterThan(0);
    for (const s of gone) {
      expect([s.status, s.ok, s.latencyMs]).toEqual([0, false, 10_000]);
      // Its user started three quarters of the think time in.
      expect(s.atMs).toBeGreaterThanOrEqual(5000 + (3 / 4) * THINK_S * 1000 - 1);
      expect(s.atMs).toBeLessThanOrEqual(elapsed);
    }
    // And its first attempt failed within 2.5 s of that (1.8 s seen under Stryker at load 14: starting four
    // autocannon instances is slow there), not a second or more per user later.
    expect(Math.min(...gone.map((s) => s.atMs))).toBeLessThan(5000 + (3 / 4) * THINK_S * 1000 + 2500);
    // Only a 2xx is ok: not 199, not 300.
    for (const [service, status] of [
      ["low", 199],
      ["high", 300],
    ] as const) {
      expect(samples.get(service)!.length).toBeGreaterThan(0);
      expect(samples.get(service)!.map((s) => [s.status, s.ok])).toEqual(samples.get(service)!.map(() => [status, false]));
    }
    expect(samples.get("idle")).toEqual([]);
    expect(arrivals.filter((x) => x.path.endsWith("/idle"))).toEqual([]);
  });

  it("rejects when autocannon refuses the options", async () => {
    await expect(driveStep([target("x", 200)], 1, -1, 1, Date.now())).rejects.toThrow("duration can not be less than 0");
  });
});
