/**
 * The scenario's rules at their edges, without a server: the header, name, path and JSONPath
 * grammars on both sides, the mix against an independent smooth weighted round-robin, and what a
 * response's capture keeps (2xx JSON strings and numbers only, the most recent 1000 per variable).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  parseHeaderOption,
  parseScenario,
  readJsonPath,
  readScenario,
  redactHeaders,
  REDACTED,
  ScenarioError,
  ScenarioMix,
  type PreparedRequest,
} from "../../load/runner/scenario";

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    parseScenario(raw);
    return [];
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues;
    throw err;
  }
}

/** The ScenarioError `parse` throws (fails the test when it throws none). */
function refusal(parse: () => unknown): ScenarioError {
  try {
    parse();
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error("expected a ScenarioError");
}

const one = (request: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  ...top,
  requests: [{ name: "a", method: "GET", path: "/", ...request }],
});

/** RFC 9110's tchar, written out independently of the source's regex. */
const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 12 });
const notToken = fc
  .tuple(
    token,
    fc.constantFrom(" ", "(", ")", ",", "/", ":", ";", "<", "=", ">", "?", "@", "[", "\\", "]", "{", "}", '"', "é"),
    token,
  )
  .map(([a, bad, b]) => `${a}${bad}${b}`);

describe("scenario grammar at its edges", () => {
  it("a header name is any run of token characters; one other character anywhere refuses it, in headers and secretHeaders", () => {
    fc.assert(
      fc.property(token, notToken, (good, bad) => {
        expect(issuesOf(one({ headers: { [good]: "v" } }, { headers: { [good]: "v" }, secretHeaders: [good] }))).toEqual([]);
        const paths = issuesOf(one({ headers: { [bad]: "v" } }, { headers: { [bad]: "v" }, secretHeaders: [bad] })).map(
          (i) => i.path,
        );
        expect(paths).toEqual(
          expect.arrayContaining(
            [`headers.${bad}`, `requests[0].headers.${bad}`, "secretHeaders[0]"].map(expect.stringContaining),
          ),
        );
      }),
      { numRuns: 20 },
    );
  });

  it("a request name is letters, digits, '.', '_', '-'; anything else (or nothing) is refused", () => {
    for (const name of ["a", "read-op_1.v2", "9"]) expect(issuesOf(one({ name }))).toEqual([]);
    for (const name of ["", "a b", "a/b", "é"]) expect(issuesOf(one({ name })).map((i) => i.path)).toEqual(["requests[0].name"]);
  });

  it("a path starts with / and holds no white space", () => {
    for (const path of ["/", "/a/b?c=d", "/x-{id}"])
      expect(issuesOf(one({ path, capture: { id: "$.id" } }, {})).filter((i) => i.path.endsWith(".path"))).toEqual([]);
    for (const path of ["", "a/b", " /a", "/a b", "/a\tb", "/a\n"])
      expect(issuesOf(one({ path })).map((i) => i.path)).toEqual(["requests[0].path"]);
  });

  it("a weight is a finite number above 0; the method one of six; the scenario's name not empty; at least one request", () => {
    for (const weight of [Number.MIN_VALUE, 0.5, 1e9]) expect(issuesOf(one({ weight }))).toEqual([]);
    for (const weight of [0, -1, Infinity, Number.NaN])
      expect(issuesOf(one({ weight })).map((i) => i.path)).toEqual(["requests[0].weight"]);
    for (const method of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]) expect(issuesOf(one({ method }))).toEqual([]);
    for (const method of ["get", "OPTIONS", "TRACE"])
      expect(issuesOf(one({ method })).map((i) => i.path)).toEqual(["requests[0].method"]);
    expect(issuesOf(one({}, { name: "" })).map((i) => i.path)).toEqual(["name"]);
    expect(parseScenario(one({})).name).toBe("scenario");
    expect(issuesOf({ requests: [] })).toEqual([{ path: "requests", message: expect.stringContaining("at least one request") }]);
  });

  it("a capture's variable is a letter or _ then word characters; its path $ then .key or [n] steps", () => {
    const capture = (c: Record<string, string>) => issuesOf(one({ method: "POST", capture: c })).map((i) => i.path);
    for (const [v, p] of [
      ["id", "$.id"],
      ["_x9", "$.items[0].id"],
      ["A", "$[3]"],
      ["k", "$.$ref-1"],
    ])
      expect(capture({ [v]: p })).toEqual([]);
    for (const v of ["9id", "a-b", "", "é"])
      expect(capture({ [v]: "$.id" })).toEqual([expect.stringContaining("requests[0].capture")]);
    for (const p of ["$", "id", "$.", "$..id", "$.9a", "$[a]", "$[-1]", "$.id ", " $.id", "$.a[0]x"])
      expect(capture({ id: p })).toEqual([`requests[0].capture.id`]);
  });

  it("a {var} is a letter or _ then word characters: other braces are plain path text", () => {
    // Nothing captures `9x` or `a-b`: they are not variables, so nothing is missing.
    expect(issuesOf(one({ path: "/x/{9x}/{a-b}" }))).toEqual([]);
    expect(issuesOf(one({ path: "/x/{_a1}" })).map((i) => i.path)).toEqual(["requests[0].path", "requests"]);
  });
});

describe("the flow rules: every issue at once, each with its fix", () => {
  it("a missing capture names the POST request to add it to, and no request when none POSTs", () => {
    const withPost = {
      requests: [
        { name: "list", method: "GET", path: "/things" },
        { name: "make", method: "POST", path: "/things" },
        { name: "read", method: "GET", path: "/things/{id}" },
      ],
    };
    expect(issuesOf(withPost)).toEqual([
      {
        path: "requests[2].path",
        message:
          'uses {id}, which no request captures, got "/things/{id}"; add capture: { id: "$.id" } to the request whose response holds it (e.g. make)',
      },
    ]);
    const noPost = { requests: [withPost.requests[0], withPost.requests[2]] };
    expect(issuesOf(noPost)[0].message).toMatch(/holds it$/);
  });

  it("lists every missing variable and every duplicate name of every request, in order", () => {
    const s = {
      requests: [
        { name: "a", method: "GET", path: "/x" },
        { name: "a", method: "GET", path: "/y/{u}/{v}" },
        { name: "a", method: "GET", path: "/z" },
      ],
    };
    const dup = 'duplicates requests[0].name, got "a"; give each request its own name';
    expect(issuesOf(s).map((i) => [i.path, i.message])).toEqual([
      ["requests[1].path", expect.stringMatching(/^uses \{u\}/)],
      ["requests[1].path", expect.stringMatching(/^uses \{v\}/)],
      ["requests[1].name", dup],
      ["requests[2].name", dup],
    ]);
  });

  it("refuses a mix where no request can go first only when EVERY request needs a variable", () => {
    const reads = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `r${i}`, method: "GET", path: `/r/{id}` }));
    const capturing = (rs: ReturnType<typeof reads>) => rs.map((r, i) => (i === 0 ? { ...r, capture: { id: "$.id" } } : r));
    expect(issuesOf({ requests: capturing(reads(2)) })).toEqual([
      {
        path: "requests",
        message: expect.stringMatching(
          /^every request needs a captured variable, so none can be sent first; add one without \{var\}/,
        ),
      },
    ]);
    expect(issuesOf({ requests: [...capturing(reads(2)), { name: "w", method: "POST", path: "/r" }] })).toEqual([]);
  });
});

describe("files and the ScenarioError", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "scenario-edges-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads .yml as YAML and names bad YAML as YAML; any other extension is YAML too", () => {
    writeFileSync(join(dir, "s.yml"), "requests:\n  - { name: a, method: GET, path: / }\n");
    writeFileSync(join(dir, "s.txt"), "requests: [{ name: a, method: GET, path: / }]\n");
    writeFileSync(join(dir, "bad.yaml"), "requests: [\n");
    expect(readScenario(join(dir, "s.yml")).requests[0].name).toBe("a");
    expect(readScenario(join(dir, "s.txt")).requests[0].name).toBe("a");
    expect(() => readScenario(join(dir, "bad.yaml"))).toThrow(/bad\.yaml:\n {2}\(file\): is not valid YAML: /);
    let parseError: unknown;
    try {
      readScenario(join(dir, "bad.yaml"));
    } catch (err) {
      parseError = err;
    }
    expect((parseError as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
    // A .json file is read by JSON's rules: a repeated key is the last one (YAML refuses it).
    writeFileSync(
      join(dir, "dup.json"),
      '{"name": "first", "name": "last", "requests": [{"name": "a", "method": "GET", "path": "/"}]}',
    );
    expect(readScenario(join(dir, "dup.json")).name).toBe("last");
  });

  it("an error carries its code, the source, every issue, and the cause", () => {
    const missing = join(dir, "missing.json");
    let caught: unknown;
    try {
      readScenario(missing);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScenarioError);
    const e = caught as ScenarioError;
    expect(e.code).toBe(ScenarioError.CODE);
    expect(e.source).toBe(missing);
    expect(e.issues).toEqual([
      { path: "(file)", message: expect.stringMatching(/^cannot be read \(.*ENOENT.*\); pass an existing file to --scenario$/) },
    ]);
    expect((e as Error & { cause?: { code?: string } }).cause?.code).toBe("ENOENT");
    const named = refusal(() => parseScenario({ requests: [] }, "mine.yaml"));
    expect(named.message).toBe(`mine.yaml:\n  requests: ${named.issues[0].message}`);
    // Every issue on its own line, under the source (by default "scenario").
    const two = refusal(() => parseScenario({ requests: [{ name: "a b", method: "GET", path: "x" }] }));
    expect(two.source).toBe("scenario");
    expect(two.message.split("\n")).toEqual(["scenario:", ...two.issues.map((i) => `  ${i.path}: ${i.message}`)]);
    expect(two.issues).toHaveLength(2);
  });
});

describe("--header", () => {
  it("for any token name and value: 'Name: value' gives both, trimmed, the value keeping its own colons", () => {
    fc.assert(
      fc.property(token, fc.string({ maxLength: 20 }), fc.constantFrom("", " ", "  "), (name, value, pad) => {
        expect(parseHeaderOption(`${pad}${name}${pad}:${pad}${value}${pad}`)).toEqual([name, value.trim()]);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses no colon, nothing before it, and a name with a non-token character, naming the option", () => {
    fc.assert(
      fc.property(
        notToken.filter((n) => !n.includes(":")),
        (bad) => {
          expect(() => parseHeaderOption(`${bad}: v`)).toThrow(ScenarioError);
        },
      ),
      { numRuns: 15 },
    );
    expect(refusal(() => parseHeaderOption("Name")).source).toBe("--header");
    for (const text of ["", "Name", ":v", " : v"])
      expect(() => parseHeaderOption(text)).toThrow(`--header: got ${JSON.stringify(text)}; write it as 'Name: value'`);
  });
});

describe("redaction", () => {
  it("a scenario's secret header is redacted whatever the case on either side; others are shown as written", () => {
    fc.assert(
      fc.property(token, fc.boolean(), fc.string(), (name, upper, value) => {
        const listed = upper ? name.toUpperCase() : name.toLowerCase();
        const sent = upper ? name.toLowerCase() : name.toUpperCase();
        expect(redactHeaders({ [sent]: value }, [listed])).toEqual({ [sent]: REDACTED });
        const other = `${name}-other`;
        expect(redactHeaders({ [other]: value }, [listed])).toEqual({ [other]: value });
      }),
      { numRuns: 40 },
    );
  });
});

describe("readJsonPath", () => {
  it("follows any chain of keys and indexes built into a value, and leaves at a non-object", () => {
    const step = fc.oneof(fc.stringMatching(/^[A-Za-z_][\w-]{0,6}$/), fc.nat({ max: 12 }));
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 5 }), fc.oneof(fc.string(), fc.integer()), (steps, leaf) => {
        const value = steps.reduceRight<unknown>((inner, s) => {
          if (typeof s === "number") {
            const arr: unknown[] = Array(s + 1).fill("x");
            arr[s] = inner;
            return arr;
          }
          return { [s]: inner };
        }, leaf);
        const path = `$${steps.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")}`;
        expect(readJsonPath(value, path)).toBe(leaf);
        // One step further goes through the leaf, a string or a number: undefined, never its property.
        expect(readJsonPath(value, `${path}.length`)).toBeUndefined();
        expect(readJsonPath(value, `${path}[0]`)).toBeUndefined();
      }),
      { numRuns: 30 },
    );
    expect(readJsonPath({ a: Array.from({ length: 12 }, (_, i) => i * 2) }, "$.a[10]")).toBe(20);
    expect(readJsonPath({ a: null }, "$.a.b")).toBeUndefined();
    expect(readJsonPath(undefined, "$[0]")).toBeUndefined();
  });
});

describe("the mix", () => {
  const get = (name: string, weight: number, path = `/${name}`) => ({ name, method: "GET", path, weight });

  /** nginx's smooth weighted round-robin, written out: the highest current weight goes, the earliest on a tie. */
  function swrr(weights: readonly number[], n: number): number[] {
    const current = weights.map(() => 0);
    const total = weights.reduce((a, b) => a + b, 0);
    const out: number[] = [];
    for (let k = 0; k < n; k++) {
      weights.forEach((w, i) => (current[i] += w));
      let best = 0;
      for (let i = 1; i < current.length; i++) if (current[i] > current[best]) best = i;
      current[best] -= total;
      out.push(best);
    }
    return out;
  }

  it("sends in nginx's smooth weighted round-robin order, ties going to the earlier request (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }), (weights) => {
        const mix = new ScenarioMix(parseScenario({ requests: weights.map((w, i) => get(`r${i}`, w)) }));
        const n = 2 * weights.reduce((a, b) => a + b, 0);
        expect(Array.from({ length: n }, () => mix.next().name)).toEqual(swrr(weights, n).map((i) => `r${i}`));
      }),
      { numRuns: 30 },
    );
  });

  it("a request whose variable is not captured yet gives its turn to the heaviest request that can go, the earlier on a tie", () => {
    const scenario = parseScenario({
      requests: [
        { ...get("light", 1), capture: { id: "$.id" } },
        get("heavy", 2),
        get("also-heavy", 2),
        get("read", 9, "/read/{id}"),
      ],
    });
    const mix = new ScenarioMix(scenario);
    const n = 28;
    const expected = swrr([1, 2, 2, 9], n).map((i) => ["light", "heavy", "also-heavy", "heavy"][i]);
    expect(Array.from({ length: n }, () => mix.next().name)).toEqual(expected);
  });

  const created = (mix: ScenarioMix, status: number, body: string) =>
    mix.capture({ name: "c", method: "POST", path: "/c", headers: {}, capture: { id: "$.id" } }, status, body);
  const readsAfter = (captures: (mix: ScenarioMix) => void, random = () => 0) => {
    const mix = new ScenarioMix(
      parseScenario({ requests: [{ ...get("c", 1), method: "POST", capture: { id: "$.id" } }, get("r", 1000, "/r/{id}")] }),
      { random },
    );
    captures(mix);
    return Array.from({ length: 3 }, () => mix.next().path);
  };

  it("captures from 2xx responses only: 200 and 299 count, 199 and 300 do not", () => {
    for (const status of [200, 204, 299]) expect(readsAfter((m) => created(m, status, '{"id":"7"}'))).toContain("/r/7");
    for (const status of [0, 199, 300, 404, 500])
      expect(readsAfter((m) => created(m, status, '{"id":"7"}')).every((p) => p === "/c")).toBe(true);
  });

  it("keeps strings and numbers (as text, URL-encoded in the path); ignores other values and bodies that are not JSON", () => {
    expect(readsAfter((m) => created(m, 201, '{"id":42}'))).toContain("/r/42");
    expect(readsAfter((m) => created(m, 201, '{"id":"a/b c?"}'))).toContain(`/r/${encodeURIComponent("a/b c?")}`);
    for (const body of ['{"id":{"x":1}}', '{"id":true}', '{"id":null}', '{"id":[1]}', "not json", '{"other":"1"}'])
      expect(readsAfter((m) => created(m, 201, body)).every((p) => p === "/c")).toBe(true);
    // A request that captures nothing ignores its response, even a 2xx with the variable in it.
    const mix = new ScenarioMix(
      parseScenario({ requests: [{ ...get("c", 1), capture: { id: "$.id" } }, get("r", 9, "/r/{id}")] }),
    );
    mix.capture({ name: "c", method: "GET", path: "/c", headers: {} }, 200, '{"id":"1"}');
    expect(mix.next().path).toBe("/c");
  });

  it("draws each read among the most recent 1000 captured values, uniformly by the random source", () => {
    const captureN = (n: number) => (m: ScenarioMix) => {
      for (let i = 1; i <= n; i++) created(m, 201, JSON.stringify({ id: String(i) }));
    };
    expect(readsAfter(captureN(3), () => 0)).toContain("/r/1");
    expect(readsAfter(captureN(3), () => 0.999)).toContain("/r/3");
    expect(readsAfter(captureN(3), () => 0.5)).toContain("/r/2");
    expect(readsAfter(captureN(1000), () => 0)).toContain("/r/1");
    expect(readsAfter(captureN(1001), () => 0)).toContain("/r/2");
    expect(readsAfter(captureN(1001), () => 0.9999999)).toContain("/r/1001");
  });

  it("prefixes the base path without its trailing slashes; headers: request over --header over scenario", () => {
    const scenario = parseScenario({
      headers: { a: "scenario", b: "scenario", c: "scenario" },
      requests: [{ ...get("x", 1), headers: { c: "request" } }],
    });
    for (const [basePath, path] of [
      [undefined, "/x"],
      ["", "/x"],
      ["/svc", "/svc/x"],
      ["/svc///", "/svc/x"],
      ["/a/b/", "/a/b/x"],
    ] as const)
      expect(new ScenarioMix(scenario, { basePath }).next().path).toBe(path);
    expect(new ScenarioMix(scenario, { headers: { b: "option", c: "option" } }).next().headers).toEqual({
      a: "scenario",
      b: "option",
      c: "request",
    });
  });

  it("a string body goes as is with no content type added; a JSON body gets one unless set in any case", () => {
    const body = (b: unknown, headers: Record<string, string> = {}): PreparedRequest =>
      new ScenarioMix(parseScenario({ requests: [{ ...get("x", 1), method: "POST", body: b, headers }] })).next();
    const text = body("a=1");
    expect(text.body?.toString()).toBe("a=1");
    expect(text.headers).toEqual({});
    for (const b of [{ k: [1, "2"] }, [1, { x: null }], {}]) {
      const json = body(b);
      expect(JSON.parse(json.body!.toString())).toEqual(b);
      expect(json.headers).toEqual({ "content-type": "application/json" });
    }
    expect(body({ k: 1 }, { "Content-Type": "text/plain" }).headers).toEqual({ "Content-Type": "text/plain" });
    expect(body({ k: 1 }, { Accept: "x" }).headers).toEqual({ Accept: "x", "content-type": "application/json" });
    expect(new ScenarioMix(parseScenario(one({}))).next().body).toBeUndefined();
  });
});
