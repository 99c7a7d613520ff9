import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { runOpenModel } from "../../load/runner/open-model";
import {
  parseHeaderOption,
  parseScenario,
  readJsonPath,
  readScenario,
  redactHeaders,
  REDACTED,
  ScenarioError,
  ScenarioMix,
  SEED_SCENARIO,
} from "../../load/runner/scenario";
import { SEED_OPERATION } from "../../load/k6/stages";
import { REPO_ROOT } from "../../load/stack-profile";

const valid = () => ({
  name: "mix",
  requests: [
    { name: "create", method: "POST", path: "/operations", body: { type: "test" }, weight: 1, capture: { id: "$.id" } },
    { name: "read", method: "GET", path: "/operations/{id}", weight: 4 },
  ],
});

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    parseScenario(raw);
    return [];
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues;
    throw err;
  }
}

/** One wrong key each: how to break a valid scenario there, and the issue path that must name it. */
const BREAKS: { path: string; value: unknown; apply: (s: ReturnType<typeof valid>) => void }[] = [
  { path: "nmae", value: "x", apply: (s) => Object.assign(s, { nmae: "x" }) },
  { path: "requests[0].method", value: "FETCH", apply: (s) => (s.requests[0].method = "FETCH") },
  { path: "requests[0].path", value: "operations", apply: (s) => (s.requests[0].path = "operations") },
  { path: "requests[1].weight", value: -2, apply: (s) => (s.requests[1].weight = -2) },
  { path: "requests[0].capture.id", value: "id", apply: (s) => (s.requests[0].capture!.id = "id") },
  { path: "requests[1].wieght", value: 3, apply: (s) => Object.assign(s.requests[1], { wieght: 3 }) },
  {
    path: "requests[1].headers.bad name",
    value: "v",
    apply: (s) => Object.assign(s.requests[1], { headers: { "bad name": "v" } }),
  },
];

describe("scenario files", () => {
  it("a valid scenario parses, with defaults (weight 1, no headers)", () => {
    const s = parseScenario({ requests: [{ name: "a", method: "GET", path: "/" }] });
    expect(s.requests[0]).toMatchObject({ weight: 1, headers: {} });
    expect(issuesOf(valid())).toEqual([]);
  });

  it("lists every bad key at once, each with its value as written (property: any set of breaks)", () => {
    fc.assert(
      fc.property(fc.subarray(BREAKS, { minLength: 1 }), (breaks) => {
        const s = valid();
        for (const b of breaks) b.apply(s);
        const issues = issuesOf(s);
        for (const b of breaks) {
          const issue = issues.find((i) => i.path === b.path || i.path.startsWith(`${b.path}`));
          expect(issue).toBeDefined();
          expect(issue!.message).toContain(JSON.stringify(b.value));
        }
      }),
    );
  });

  it("names the fix: a misspelt key gets its neighbour, a path without / an example", () => {
    const s = valid();
    Object.assign(s.requests[1], { wieght: 3 });
    s.requests[0].path = "operations";
    const issues = issuesOf(s);
    expect(issues.find((i) => i.path === "requests[1].wieght")!.message).toMatch(/did you mean weight\?/);
    expect(issues.find((i) => i.path === "requests[0].path")!.message).toMatch(/starts with \//);
  });

  it("refuses a {var} nobody captures, duplicate names, and a mix where nothing can go first", () => {
    const noCapture = valid();
    delete (noCapture.requests[0] as { capture?: unknown }).capture;
    expect(issuesOf(noCapture)).toEqual([
      expect.objectContaining({
        path: "requests[1].path",
        message: expect.stringMatching(/uses \{id\}, which no request captures.*capture: \{ id: "\$\.id" \}/),
      }),
    ]);
    const dup = valid();
    dup.requests[1].name = "create";
    expect(issuesOf(dup).map((i) => i.path)).toEqual(["requests[1].name"]);
    const stuck = { requests: [{ name: "read", method: "GET", path: "/x/{id}", capture: { id: "$.id" } }] };
    expect(issuesOf(stuck).map((i) => i.path)).toEqual(["requests"]);
  });

  it("reads YAML and JSON files, and names a file that is not either", () => {
    const dir = mkdtempSync(join(tmpdir(), "scenario-"));
    writeFileSync(join(dir, "s.yaml"), stringify(valid()));
    writeFileSync(join(dir, "s.json"), JSON.stringify(valid()));
    writeFileSync(join(dir, "bad.json"), "{ nope");
    expect(readScenario(join(dir, "s.yaml"))).toEqual(readScenario(join(dir, "s.json")));
    expect(() => readScenario(join(dir, "bad.json"))).toThrow(/bad\.json:\n {2}\(file\): is not valid JSON/);
    expect(() => readScenario(join(dir, "missing.yaml"))).toThrow(/cannot be read/);
  });

  it("the committed reference mix parses, and the seed scenario POSTs the seed's operation", () => {
    expect(readScenario(join(REPO_ROOT, "load/scenarios/reference-mix.yaml")).requests.map((r) => r.name)).toEqual([
      "create-operation",
      "read-operation",
    ]);
    const mix = new ScenarioMix(SEED_SCENARIO, { basePath: "/agent-intelligence" });
    const r = mix.next();
    expect(r).toMatchObject({ method: "POST", path: "/agent-intelligence/operations" });
    expect(JSON.parse(r.body!.toString())).toEqual(SEED_OPERATION);
    expect(r.headers["content-type"]).toBe("application/json");
  });
});

describe("mix and captures", () => {
  it("sends the weights exactly over any whole cycle (property), once variables are captured", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), (weights) => {
        const scenario = parseScenario({
          requests: weights.map((w, i) => ({ name: `r${i}`, method: "GET", path: `/r${i}`, weight: w })),
        });
        const mix = new ScenarioMix(scenario);
        const total = weights.reduce((a, b) => a + b, 0);
        const counts = new Map<string, number>();
        for (let i = 0; i < total * 3; i++) {
          const n = mix.next().name;
          counts.set(n, (counts.get(n) ?? 0) + 1);
        }
        weights.forEach((w, i) => expect(counts.get(`r${i}`) ?? 0).toBe(3 * w));
      }),
    );
  });

  it("reads JSONPath steps, and undefined off the value", () => {
    expect(readJsonPath({ a: { b: [{ id: 7 }] } }, "$.a.b[0].id")).toBe(7);
    expect(readJsonPath({ a: 1 }, "$.a.b")).toBeUndefined();
    expect(readJsonPath(null, "$.a")).toBeUndefined();
  });

  it("ids flow from a real server's POST responses into later GET paths; reads wait until one exists", async () => {
    let nextId = 100;
    const created = new Set<string>();
    const reads: string[] = [];
    const server = http.createServer((req, res) => {
      if (req.method === "POST") {
        const id = String(nextId++);
        created.add(id);
        res.setHeader("content-type", "application/json");
        return void res.end(JSON.stringify({ id }));
      }
      reads.push(req.url!);
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const mix = new ScenarioMix(parseScenario(valid()), { basePath: "/svc" });
      const origin = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const r = await runOpenModel({
        origin,
        rateRps: 100,
        durationS: 1,
        next: () => mix.next(),
        onCapture: (q, s, b) => mix.capture(q, s, b),
      });
      expect(r.samples.every((s) => s.ok)).toBe(true);
      expect(reads.length).toBeGreaterThan(0);
      for (const url of reads) {
        const m = /^\/svc\/operations\/(\d+)$/.exec(url);
        expect(m).not.toBeNull();
        expect(created.has(m![1])).toBe(true);
      }
    } finally {
      server.close();
    }
  });
});

describe("headers", () => {
  it("parses --header 'Name: value' and refuses anything else by name", () => {
    expect(parseHeaderOption("Authorization: Bearer a:b")).toEqual(["Authorization", "Bearer a:b"]);
    expect(() => parseHeaderOption("no colon")).toThrow(/--header: got "no colon"; write it as 'Name: value'/);
    expect(() => parseHeaderOption(": v")).toThrow(ScenarioError);
  });

  it("never shows a secret header's value, whatever its case (property), and shows the others", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("Authorization", "COOKIE", "x-api-key", "Proxy-Authorization", "X-Tenant-Token"),
        fc.string({ minLength: 1 }),
        (name, value) => {
          const shown = redactHeaders({ [name]: value, accept: "json" }, ["x-tenant-token"]);
          expect(shown[name]).toBe(REDACTED);
          expect(shown.accept).toBe("json");
        },
      ),
    );
  });
});
