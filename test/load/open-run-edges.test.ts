/**
 * The open-model run's arithmetic and text without sending anything: a step's numbers from its
 * senders' samples (property, against counts made here), the console report's columns, the
 * sender's refusal of a rate or duration that is not above 0, and its keep-alive agents.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { openLoadReport, openReportLines, writeOpenReport, type OpenLoadReport } from "../../load/runner/open-load";
import {
  keepAliveAgent,
  OPEN_MODEL_DEFAULTS,
  runOpenModel,
  type OpenModelResult,
  type OpenSample,
} from "../../load/runner/open-model";
import { runOpenSteps, stepSummary, type OpenRun, type OpenStep } from "../../load/runner/open-run";
import { parseScenario, REDACTED } from "../../load/runner/scenario";
import { summarize } from "../../load/runner/stats";
import { generatorVerdict, verdict } from "../../load/runner/verdict";

const sample = fc.record({
  request: fc.constantFrom("create", "read", "list"),
  status: fc.constantFrom(0, 200, 201, 404, 500),
  atMs: fc.nat({ max: 10_000 }),
  intendedAtMs: fc.nat({ max: 10_000 }),
  latencyMs: fc.double({ min: 0, max: 5000, noNaN: true }),
});
const result = fc.record({
  rateRps: fc.integer({ min: 1, max: 500 }),
  durationS: fc.integer({ min: 1, max: 60 }),
  scheduled: fc.nat({ max: 1000 }),
  sent: fc.nat({ max: 1000 }),
  late: fc.nat({ max: 1000 }),
  dropped: fc.nat({ max: 1000 }),
  maxLagMs: fc.double({ min: 0, max: 1000, noNaN: true }),
  maxInFlight: fc.nat({ max: 1000 }),
  samples: fc.array(
    sample.map((s): OpenSample => ({ ...s, ok: s.status >= 200 && s.status < 300 })),
    { maxLength: 30 },
  ),
});

describe("stepSummary (one step of an open-model run)", () => {
  it("summarises every sender's samples together, per request, per status, with the senders' counts (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(result, { maxLength: 4 }),
        (rate, duration, results) => {
          const step = stepSummary(rate, duration, results as OpenModelResult[]);
          const all = results.flatMap((r) => r.samples);
          expect(step).toMatchObject({ rateRps: rate, durationS: duration, ...summarize(all, duration) });
          for (const key of ["scheduled", "sent", "late", "dropped"] as const)
            expect(step[key]).toBe(results.reduce((n, r) => n + r[key], 0));
          const worst = Math.max(0, ...results.map((r) => r.maxLagMs));
          expect(Math.abs(step.maxLagMs - worst)).toBeLessThanOrEqual(0.005 + 1e-9);
          expect(Math.round(step.maxLagMs * 100)).toBeCloseTo(step.maxLagMs * 100, 6);
          const statuses: Record<string, number> = {};
          for (const s of all) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
          expect(step.statuses).toEqual(statuses);
          const names = [...new Set(all.map((s) => s.request))];
          expect(Object.keys(step.byRequest).sort()).toEqual(names.sort());
          for (const n of names)
            expect(step.byRequest[n]).toEqual(
              summarize(
                all.filter((s) => s.request === n),
                duration,
              ),
            );
        },
      ),
      { numRuns: 15 },
    );
  });

  it("rounds the worst lag to hundredths of a millisecond, half up", () => {
    const r = (maxLagMs: number) =>
      ({
        scheduled: 0,
        sent: 0,
        late: 0,
        dropped: 0,
        maxLagMs,
        maxInFlight: 0,
        rateRps: 1,
        durationS: 1,
        samples: [],
      }) as OpenModelResult;
    expect(stepSummary(1, 1, [r(12.3456), r(3)]).maxLagMs).toBe(12.35);
    expect(stepSummary(1, 1, [r(0.004)]).maxLagMs).toBe(0);
    expect(stepSummary(1, 1, []).maxLagMs).toBe(0);
  });
});

describe("the open-model sender's own refusals and agents", () => {
  it("refuses a rate or a duration that is not above 0, naming both, before sending anything", () => {
    const origin = new URL("http://127.0.0.1:9");
    const next = () => ({ name: "x", method: "GET", path: "/", headers: {} });
    for (const [rateRps, durationS] of [
      [0, 1],
      [1, 0],
      [-1, 1],
      [1, -0.5],
      [Number.NaN, 1],
      [1, Number.NaN],
    ])
      expect(() => runOpenModel({ origin, rateRps, durationS, next })).toThrow(
        new RangeError(`rate ${rateRps} req/s and duration ${durationS} s must both be above 0`),
      );
  });

  it("keeps connections alive, as many sockets (and idle ones) as allowed in flight; https for an https origin", () => {
    const made = [
      [keepAliveAgent(new URL("http://h")), http.Agent, OPEN_MODEL_DEFAULTS.maxInFlight],
      [keepAliveAgent(new URL("https://h"), 7), https.Agent, 7],
      [keepAliveAgent(new URL("http://h:81"), 3), http.Agent, 3],
    ] as const;
    try {
      for (const [agent, kind, max] of made) {
        expect(agent).toBeInstanceOf(kind);
        expect(agent instanceof https.Agent).toBe(kind === https.Agent);
        expect(agent.maxSockets).toBe(max);
        expect(agent.maxFreeSockets).toBe(max);
        expect((agent as http.Agent & { keepAlive: boolean }).keepAlive).toBe(true);
      }
    } finally {
      for (const [agent] of made) agent.destroy();
    }
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

describe("runOpenSteps (a short run against a loopback server)", () => {
  let server: http.Server;
  const seen: { path: string; header?: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url!, header: req.headers["x-option"] as string | undefined });
      // Target b fails every request: half of each step's answers are errors.
      res.statusCode = req.url!.startsWith("/svc-b") ? 500 : 200;
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterAll(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

  it("steps through the rates (a search's until undefined), splits each among the targets, the first step as the warm-up; logs each", async () => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const targets = [
      { name: "a", url: new URL(`${origin}/svc-a`) },
      { name: "b", url: new URL(`${origin}/svc-b/`) },
    ];
    const scenario = parseScenario({ requests: [{ name: "get", method: "GET", path: "/x" }] });
    const calls: string[] = [];
    const log: string[] = [];
    const rates = [40, 20];
    const run = await runOpenSteps({
      targets,
      scenario,
      headers: { "X-Option": "o" },
      rates: (i) => rates[i],
      stepSeconds: 0.2,
      warmupSeconds: 0.1,
      beforeStep: (rate, i) => void calls.push(`before ${i} ${rate}`),
      afterStep: (step, i) => void calls.push(`after ${i} ${step.rateRps}`),
      log: (line) => log.push(line),
    });
    // Per target: 40 / 2 req/s for the 0.1 s warm-up, then 20 / 2 for 0.2 s: 2 sends each.
    expect(run.steps.map((s) => [s.rateRps, s.durationS, s.scheduled])).toEqual([
      [40, 0.1, 4],
      [20, 0.2, 4],
    ]);
    expect(calls).toEqual(["before 0 40", "after 0 40", "before 1 20", "after 1 20"]);
    expect([...run.samples.keys()]).toEqual(["a", "b"]);
    for (const [, samples] of run.samples) expect(samples).toHaveLength(4);
    expect(seen.map((s) => s.path).sort()).toEqual([...Array(4).fill("/svc-a/x"), ...Array(4).fill("/svc-b/x")]);
    expect(seen.every((s) => s.header === "o")).toBe(true);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(
      /^\[1\] 40 req\/s offered · [\d.]+ req\/s answered · p50 [\d.]+ · p95 [\d.]+ · p99 [\d.]+ ms · errors 50\.00 % · late \d+ · dropped 0$/,
    );
    expect(log[1]).toMatch(/^\[2\] 20 req\/s offered/);
    // Wall time of the whole run, in seconds: the two steps' sends and their answers.
    expect(run.durationS).toBeGreaterThanOrEqual(0.1);
    expect(run.durationS).toBeLessThan(10);
    // Its keep-alive connections are closed when it ends.
    const open = () => new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    for (const deadline = Date.now() + 2000; (await open()) > 0 && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 20));
    expect(await open()).toBe(0);
    // A list of rates numbers its steps out of the list's length; without a warm-up every step lasts stepSeconds.
    const listed: string[] = [];
    const fixed = await runOpenSteps({
      targets: targets.slice(0, 1),
      scenario,
      rates: [10],
      stepSeconds: 0.2,
      log: (l) => listed.push(l),
    });
    expect(fixed.steps.map((s) => [s.durationS, s.scheduled])).toEqual([[0.2, 2]]);
    expect(listed[0]).toMatch(/^\[1\/1\] 10 req\/s offered/);
  });
});
