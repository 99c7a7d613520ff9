/**
 * The open-model run's arithmetic and text without sending anything: a step's numbers from its
 * senders' samples (property, against counts made here), the console report's columns, the
 * sender's refusal of a rate or duration that is not above 0, and its keep-alive agents.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import https from "node:https";
import fc from "fast-check";
import {
  keepAliveAgent,
  OPEN_MODEL_DEFAULTS,
  runOpenModel,
  type OpenModelResult,
  type OpenSample,
} from "../../load/runner/open-model";
import { runOpenSteps, stepSummary } from "../../load/runner/open-run";
import { parseScenario } from "../../load/runner/scenario";
import { summarize } from "../../load/runner/stats";

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
