/**
 * `npm run load -- --target URL`'s run, end to end against a loopback server that is not one of
 * ours: the report's verdict is the profile's SLO, latencies come from the intended send times, and
 * secret header values never reach the report.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOpenLoad, type OpenLoadOptions } from "../../load/runner/open-load";
import { parseRates } from "../../load/run";
import { parseScenario, REDACTED } from "../../load/runner/scenario";
import { stackProfile } from "../../load/stack-profile";

jest.setTimeout(60_000);

let server: http.Server;
let delayMs = 0;
const seen: http.IncomingHttpHeaders[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    setTimeout(() => res.end(JSON.stringify({ id: "1" })), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
afterAll(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

const options = (over: Partial<OpenLoadOptions> = {}): OpenLoadOptions => ({
  stack: "local",
  target: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api`),
  scenario: parseScenario({ secretHeaders: ["X-Tenant"], requests: [{ name: "get", method: "GET", path: "/things" }] }),
  headers: { Authorization: "Bearer top-secret", "X-Tenant": "tenant-secret", Accept: "application/json" },
  secretHeaders: [],
  rates: [40],
  stepSeconds: 1,
  maxInFlight: 100,
  lateToleranceMs: 50,
  log: () => undefined,
  ...over,
});

describe("open-model load run against any target", () => {
  it("passes on the profile's SLO, sends the headers, and writes them redacted", async () => {
    delayMs = 0;
    seen.length = 0;
    const out = mkdtempSync(join(tmpdir(), "open-load-"));
    const report = await runOpenLoad(options({ out }));
    expect(report.slo).toEqual(stackProfile("local").monitoring.slo);
    expect(report).toMatchObject({ model: "open", sloMet: true, failures: [], scheduled: 40, dropped: 0 });
    expect(report.steps).toHaveLength(1);
    expect(seen[0]).toMatchObject({ authorization: "Bearer top-secret", "x-tenant": "tenant-secret" });
    expect(report.headers).toEqual({ Authorization: REDACTED, "X-Tenant": REDACTED, Accept: "application/json" });
    const written = readFileSync(join(out, "report.json"), "utf8") + readFileSync(join(out, "report.md"), "utf8");
    expect(written).not.toContain("top-secret");
    expect(written).not.toContain("tenant-secret");
  });

  it("fails when the target's p95 is over the SLO, naming it", async () => {
    const slo = stackProfile("local").monitoring.slo.latencyP95Ms;
    delayMs = slo + 100;
    const report = await runOpenLoad(options());
    expect(report.sloMet).toBe(false);
    expect(report.p95Ms).toBeGreaterThanOrEqual(slo + 100);
    expect(report.failures[0]).toMatch(new RegExp(`^p95 [\\d.]+ ms is not below the SLO's ${slo} ms`));
  });
});

describe("rates", () => {
  it("parses --rates lists and refuses zero, negatives and words by name", () => {
    expect(parseRates("50,100, 200", "--rates")).toEqual([50, 100, 200]);
    expect(() => parseRates("50,0", "--rates")).toThrow(/--rates "50,0" is not a list of rates above 0/);
    expect(() => parseRates("fast", "--rate")).toThrow(/--rate "fast"/);
  });
});
