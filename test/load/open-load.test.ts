/**
 * `npm run load -- --target URL`'s run, end to end against a loopback server that is not one of
 * ours: the report's verdict is the profile's SLO, latencies come from the intended send times, and
 * secret header values never reach the report.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  openLoadReport,
  openReportLines,
  runOpenLoad,
  writeOpenReport,
  type OpenLoadOptions,
  type OpenLoadReport,
} from "../../load/runner/open-load";
import type { OpenSample } from "../../load/runner/open-model";
import { stepSummary, type OpenRun, type OpenStep } from "../../load/runner/open-run";
import { summarize } from "../../load/runner/stats";
import { generatorVerdict, verdict } from "../../load/runner/verdict";
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

describe("the open-model console report", () => {
  const step = (over: Partial<OpenStep> = {}): OpenStep => ({
    rateRps: 100,
    durationS: 10,
    requests: 1000,
    errors: 5,
    errorRate: 0.005,
    p50Ms: 2,
    p95Ms: 5.5,
    p99Ms: 9,
    throughput: 99.5,
    scheduled: 1000,
    sent: 1000,
    late: 3,
    dropped: 0,
    maxLagMs: 12.5,
    byRequest: {},
    statuses: {},
    ...over,
  });
  const report = (over: Partial<OpenLoadReport> = {}): OpenLoadReport => ({
    model: "open",
    stack: "local",
    scenario: "mix",
    targets: ["http://a/x", "http://b/y"],
    headers: { Authorization: "[redacted]", Accept: "json" },
    startedAt: "2026-01-01T00:00:00.000Z",
    durationS: 20,
    slo: { latencyP95Ms: 500, errorRate: 0.01 },
    sloMet: true,
    requests: 2000,
    errors: 10,
    errorRate: 0.005,
    p50Ms: 2,
    p95Ms: 5.5,
    p99Ms: 9,
    throughput: 99.5,
    scheduled: 2000,
    late: 6,
    dropped: 0,
    lateToleranceMs: 20,
    maxInFlight: 1000,
    steps: [step(), step({ rateRps: 12345, throughput: 1234.5, late: 1234567, dropped: 7, maxLagMs: 1234.56 })],
    services: [],
    failures: [],
    diagnostics: [],
    ...over,
  });
  const HEADER = "offered req/s  answered req/s   p50 ms   p95 ms   p99 ms   errors    late  dropped  max lag ms";
  /** Where each column's title ends in the header line: every value is right-aligned there. */
  const columnEnds = [...HEADER.matchAll(/\S+(?: \S+)*(?= {2,}|$)/g)].map((m) => m.index! + m[0].length);

  it("right-aligns every value of the step rows and the total row under its column's title", () => {
    const lines = openReportLines(report());
    const head = lines.indexOf(HEADER);
    expect(head).toBeGreaterThan(0);
    expect(columnEnds).toHaveLength(9);
    const rows = lines.slice(head + 1, head + 4);
    const values = (r: OpenStep | OpenLoadReport, first: string) => [
      first,
      r.throughput,
      r.p50Ms,
      r.p95Ms,
      r.p99Ms,
      `${(r.errorRate * 100).toFixed(2)} %`,
      r.late,
      r.dropped,
    ];
    const expected = [...report().steps.map((s) => [...values(s, String(s.rateRps)), s.maxLagMs]), values(report(), "all")];
    rows.forEach((row, i) => {
      expected[i].forEach((v, c) => {
        const text = String(v);
        expect(row.slice(columnEnds[c] - text.length, columnEnds[c])).toBe(text);
        // Nothing else in that column: spaces before the value back to the previous column's end.
        expect(row.slice(c === 0 ? 0 : columnEnds[c - 1], columnEnds[c] - text.length).trim()).toBe("");
      });
      expect(row.length).toBe(columnEnds[expected[i].length - 1]);
    });
  });

  it("names the scenario, the targets and the headers as given (none when empty), and how latency is measured", () => {
    const lines = openReportLines(report());
    expect(lines.slice(0, 5)).toEqual([
      "open model · scenario mix · http://a/x, http://b/y",
      "headers: Authorization: [redacted]; Accept: json",
      "latency is measured from each send's intended time (coordinated omission corrected)",
      "",
      HEADER,
    ]);
    expect(openReportLines(report({ headers: {} }))[1]).toBe("headers: none");
  });

  it("states the generator's counts, each service's agreement, every diagnostic, then PASS or every failure", () => {
    const lines = openReportLines(
      report({
        services: [
          {
            service: "api",
            clientP95Ms: 5.5,
            serverP95Ms: 6,
            bucketMs: [5, 10],
            relativeDifference: 0.09,
            clientInBucket: true,
            agrees: true,
            level: "agree",
          },
        ],
        diagnostics: ["d1", "d2"],
      }),
    );
    const tail = lines.slice(lines.findIndex((l) => l.startsWith("generator:")));
    expect(tail).toEqual([
      "generator: 2000 sends scheduled, 6 late (> 20 ms behind), 0 dropped (in-flight cap 1000)",
      "api: client p95 5.5 ms, runtime p95 6 ms (bucket 5–10 ms): agree",
      "diagnostic: d1",
      "diagnostic: d2",
      "PASS: p95 5.5 ms < 500 ms, errors 0.50 % < 1.00 %",
    ]);
    expect(openReportLines(report({ failures: ["f1", "f2"] })).at(-1)).toBe("FAIL\n  - f1\n  - f2");
  });

  it("writes report.json (the report) and report.md (the console lines in a code block), making the directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "open-run-edges-"));
    try {
      const out = join(dir, "a", "b");
      const r = report();
      writeOpenReport(out, r);
      expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8"))).toEqual(r);
      expect(readFileSync(join(out, "report.json"), "utf8")).toBe(`${JSON.stringify(r, null, 2)}\n`);
      expect(readFileSync(join(out, "report.md"), "utf8")).toBe(["```", ...openReportLines(r), "```", ""].join("\n"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("openLoadReport (a finished open-model run as its report)", () => {
  const slo = { latencyP95Ms: 100, errorRate: 0.05 };
  const scenario = parseScenario({
    name: "mix",
    headers: { "X-Scenario": "s", "X-Shared": "scenario" },
    secretHeaders: ["X-Scenario"],
    requests: [{ name: "get", method: "GET", path: "/" }],
  });
  const options = {
    stack: "dev",
    scenario,
    headers: { "X-Shared": "option", "X-Mine": "m", Cookie: "c" },
    secretHeaders: ["x-mine"],
    maxInFlight: 50,
    lateToleranceMs: 20,
  };
  const sampleOf = (latencyMs: number, ok = true): OpenSample => ({
    request: "get",
    status: ok ? 200 : 500,
    ok,
    atMs: 0,
    intendedAtMs: 0,
    latencyMs,
  });
  const counts = fc.record({
    scheduled: fc.nat({ max: 500 }),
    late: fc.nat({ max: 500 }),
    dropped: fc.nat({ max: 500 }),
    sent: fc.nat({ max: 500 }),
  });

  it("totals the generator's sends over every step, judges them and the SLO over every target's samples (property)", () => {
    fc.assert(
      fc.property(
        fc.array(counts, { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean()), { maxLength: 20 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        (stepCounts, perTarget, durationS) => {
          const steps = stepCounts.map((c) => ({ ...stepSummary(10, 1, []), ...c }));
          const samples = new Map(perTarget.map((xs, i) => [`t${i}`, xs.map(([ms, ok]) => sampleOf(ms, ok))]));
          const run: OpenRun = { steps, samples, durationS };
          const targets = perTarget.map((_, i) => ({ name: `t${i}`, url: new URL(`http://h${i}/p`) }));
          const r = openLoadReport(options, { slo, targets, run, services: [], startedAt: "then" });
          const sum = (k: "scheduled" | "late" | "dropped") => stepCounts.reduce((n, c) => n + c[k], 0);
          expect(r).toMatchObject({ scheduled: sum("scheduled"), late: sum("late"), dropped: sum("dropped") });
          const overall = summarize([...samples.values()].flat(), durationS);
          expect(r).toMatchObject(overall);
          const judged = verdict(overall, slo, []);
          const generator = generatorVerdict({
            scheduled: sum("scheduled"),
            late: sum("late"),
            dropped: sum("dropped"),
            maxInFlight: 50,
          });
          expect(r.sloMet).toBe(judged.sloMet);
          expect(r.failures).toEqual([...judged.failures, ...generator.failures]);
          expect(r.diagnostics).toEqual([...judged.diagnostics, ...generator.diagnostics]);
          expect(r.failures.some((f) => f.includes("dropped"))).toBe(sum("dropped") > 0);
          expect(Math.abs(r.durationS - durationS)).toBeLessThanOrEqual(0.005 + 1e-9);
          expect(Number.isInteger(Math.round(r.durationS * 100 * 1e6) / 1e6)).toBe(true);
          expect(r.targets).toEqual(perTarget.map((_, i) => `http://h${i}/p`));
          expect(r.steps).toBe(steps);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("shows the headers sent (--header over the scenario's), every secret one redacted: the scenario's, --secret-header's, the always-secret", () => {
    const run: OpenRun = { steps: [], samples: new Map(), durationS: 1 };
    const r = openLoadReport(options, { slo, targets: [], run, services: [], startedAt: "2026-01-01T00:00:00.000Z" });
    expect(r.headers).toEqual({ "X-Scenario": REDACTED, "X-Shared": "option", "X-Mine": REDACTED, Cookie: REDACTED });
    expect(r).toMatchObject({
      model: "open",
      stack: "dev",
      scenario: "mix",
      startedAt: "2026-01-01T00:00:00.000Z",
      slo,
      lateToleranceMs: 20,
      maxInFlight: 50,
      services: [],
    });
  });
});
