/**
 * What the load runner sends: a scenario's requests (method, path, headers, body), their mix
 * (weights), and how ids flow from a response into later requests' paths:
 *
 *   requests:
 *     - { name: create, method: POST, path: /operations, body: { type: test }, weight: 1, capture: { id: "$.id" } }
 *     - { name: read, method: GET, path: "/operations/{id}", weight: 4 }
 *
 * Paths are relative to the target URL (its path is the prefix: `--target http://host/agent-intelligence`).
 * A file is YAML or JSON, checked by zod; every bad key is reported at once, with its value and the fix.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { StackError, type ProfileIssue } from "../../profile/errors";
import { fromZod, show } from "../../profile/parse";
import { SEED_OPERATION } from "../k6/stages";

/** A scenario that cannot be run; `issues` names every bad key (`requests[1].path`) with the fix. */
export class ScenarioError extends StackError {
  static readonly CODE = "UAIP_LOAD_SCENARIO_INVALID";
  constructor(
    readonly source: string,
    readonly issues: ProfileIssue[],
    options?: { cause?: unknown },
  ) {
    super(ScenarioError.CODE, `${source}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`, options);
  }
}

/** RFC 9110 token characters: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(HEADER_NAME, { message: "a header name is letters, digits and !#$%&'*+.^_`|~- only" });
/** `$` then `.key` or `[n]` steps: the subset of JSONPath a capture needs. */
const JSON_PATH = /^\$(?:\.[A-Za-z_$][\w$-]*|\[\d+\])+$/;
const VARIABLE = /\{([A-Za-z_]\w*)\}/g;

const requestSchema = z.strictObject({
  /** Names the request in the report. */
  name: z.string().regex(/^[\w.-]+$/, { message: "a name is letters, digits, '.', '_' and '-'" }),
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
  /** Relative to the target URL; `{var}` takes a captured value. */
  path: z.string().regex(/^\/\S*$/, { message: "a path starts with / and has no spaces, e.g. /operations/{id}" }),
  headers: z.record(headerName, z.string()).default({}),
  /** A string is sent as is; an object or array as JSON (content-type application/json unless set). */
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  /** Share of the mix, relative to the other requests' weights. */
  weight: z.number().finite().positive().default(1),
  /** Variables taken from a 2xx JSON response: `{ id: "$.id" }`. */
  capture: z
    .record(
      z.string().regex(/^[A-Za-z_]\w*$/, { message: "a variable is a letter or _ then letters, digits or _" }),
      z.string().regex(JSON_PATH, { message: 'a JSONPath like "$.id" or "$.items[0].id"' }),
    )
    .optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).default("scenario"),
  /** Headers every request carries (e.g. auth); `--header` adds to them. */
  headers: z.record(headerName, z.string()).default({}),
  /** Headers whose values are never printed, besides Authorization, Proxy-Authorization, Cookie and X-Api-Key. */
  secretHeaders: z.array(headerName).default([]),
  requests: z.array(requestSchema).min(1, { message: "a scenario needs at least one request" }),
});
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioRequest = Scenario["requests"][number];

/** Headers whose values are secret whatever the scenario says. */
export const ALWAYS_SECRET_HEADERS = ["authorization", "proxy-authorization", "cookie", "x-api-key"] as const;

const variablesOf = (path: string) => [...path.matchAll(VARIABLE)].map((m) => m[1]);

/** The rules zod cannot state per key: every `{var}` is captured somewhere, one request can start, names unique. */
function flowIssues(scenario: Scenario): ProfileIssue[] {
  const captured = new Set(scenario.requests.flatMap((r) => Object.keys(r.capture ?? {})));
  const capturer = scenario.requests.find((r) => r.method === "POST")?.name;
  const issues: ProfileIssue[] = [];
  scenario.requests.forEach((r, i) => {
    for (const v of variablesOf(r.path).filter((name) => !captured.has(name)))
      issues.push({
        path: `requests[${i}].path`,
        message: `uses {${v}}, which no request captures, got ${show(r.path)}; add capture: { ${v}: "$.${v}" } to the request whose response holds it${capturer ? ` (e.g. ${capturer})` : ""}`,
      });
    const first = scenario.requests.findIndex((o) => o.name === r.name);
    if (first !== i)
      issues.push({
        path: `requests[${i}].name`,
        message: `duplicates requests[${first}].name, got ${show(r.name)}; give each request its own name`,
      });
  });
  if (scenario.requests.length && scenario.requests.every((r) => variablesOf(r.path).length > 0))
    issues.push({
      path: "requests",
      message:
        "every request needs a captured variable, so none can be sent first; add one without {var} (the request that creates what the others read)",
    });
  return issues;
}

/** Checks a scenario given as a value (parsed YAML or JSON); throws ScenarioError with every issue. */
export function parseScenario(raw: unknown, source = "scenario"): Scenario {
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(source, fromZod(parsed.error, raw, scenarioSchema));
  const issues = flowIssues(parsed.data);
  if (issues.length) throw new ScenarioError(source, issues);
  return parsed.data;
}

/** Reads a YAML (.yaml/.yml) or JSON (.json) scenario file. */
export function readScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioError(
      file,
      [{ path: "(file)", message: `cannot be read (${(err as Error).message}); pass an existing file to --scenario` }],
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioError(
      file,
      [{ path: "(file)", message: `is not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message}` }],
      { cause: err },
    );
  }
  return parseScenario(raw, file);
}

/** The seed's load test (load/k6/seed.ts): every request POSTs the seed's operation. */
export const SEED_SCENARIO: Scenario = parseScenario(
  {
    name: "seed",
    requests: [{ name: "create-operation", method: "POST", path: "/operations", body: SEED_OPERATION }],
  },
  "the seed scenario",
);

/** Header values shown as this in anything printed or written. */
export const REDACTED = "[redacted]";

/** The headers with every secret one's value replaced (names compared case-insensitively). */
export function redactHeaders(headers: Record<string, string>, secret: readonly string[]): Record<string, string> {
  const names = new Set([...ALWAYS_SECRET_HEADERS, ...secret.map((s) => s.toLowerCase())]);
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, names.has(k.toLowerCase()) ? REDACTED : v]));
}

/** `--header 'Name: value'` → [name, value]; refuses what is not a header by name. */
export function parseHeaderOption(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  if (!HEADER_NAME.test(name))
    throw new ScenarioError("--header", [
      { path: "--header", message: `got ${show(text)}; write it as 'Name: value', e.g. 'Authorization: Bearer …'` },
    ]);
  return [name, text.slice(colon + 1).trim()];
}

/** A request ready to send: full path (target prefix + scenario path, variables filled), headers, body bytes. */
export interface PreparedRequest {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Variables to take from its 2xx JSON response. */
  capture?: Record<string, string>;
}

/** Captured values kept per variable: recent ones, so reads hit what was recently written (and cached). */
const KEPT_VALUES = 1000;

/** Reads `$.a.b[0]` in a parsed JSON value; undefined where it leaves the value. */
export function readJsonPath(value: unknown, path: string): unknown {
  const steps = [...path.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
  return steps.reduce<unknown>(
    (node, step) => (node == null || typeof node !== "object" ? undefined : (node as Record<PropertyKey, unknown>)[step]),
    value,
  );
}

/**
 * Picks the scenario's requests in its mix and fills their variables. The mix is exact, not
 * random: smooth weighted round-robin (nginx's), so weights 1:4 give one create in every five
 * sends, spread out. A request whose variables are not captured yet gives its turn to the
 * heaviest request that can go (the one that creates what it reads).
 */
export class ScenarioMix {
  readonly #requests: { request: ScenarioRequest; variables: string[]; current: number }[];
  readonly #total: number;
  readonly #values = new Map<string, string[]>();
  readonly #prefix: string;
  readonly #headers: Record<string, string>;
  #random: () => number;

  constructor(
    readonly scenario: Scenario,
    options: { basePath?: string; headers?: Record<string, string>; random?: () => number } = {},
  ) {
    this.#requests = scenario.requests.map((request) => ({ request, variables: variablesOf(request.path), current: 0 }));
    this.#total = scenario.requests.reduce((s, r) => s + r.weight, 0);
    this.#prefix = (options.basePath ?? "").replace(/\/+$/, "");
    this.#headers = { ...scenario.headers, ...options.headers };
    this.#random = options.random ?? Math.random;
  }

  #ready(variables: readonly string[]): boolean {
    return variables.every((v) => (this.#values.get(v)?.length ?? 0) > 0);
  }

  next(): PreparedRequest {
    for (const r of this.#requests) r.current += r.request.weight;
    let chosen = this.#requests.reduce((a, b) => (b.current > a.current ? b : a));
    chosen.current -= this.#total;
    if (!this.#ready(chosen.variables)) {
      chosen = this.#requests
        .filter((r) => this.#ready(r.variables))
        .reduce((a, b) => (b.request.weight > a.request.weight ? b : a));
    }
    return this.#prepare(chosen.request);
  }

  #prepare(request: ScenarioRequest): PreparedRequest {
    const path = request.path.replace(VARIABLE, (_, v: string) => {
      const values = this.#values.get(v)!;
      return encodeURIComponent(values[Math.floor(this.#random() * values.length)]);
    });
    const headers: Record<string, string> = { ...this.#headers, ...request.headers };
    let body: Buffer | undefined;
    if (typeof request.body === "string") body = Buffer.from(request.body);
    else if (request.body !== undefined) {
      body = Buffer.from(JSON.stringify(request.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    }
    return {
      name: request.name,
      method: request.method,
      path: `${this.#prefix}${path}`,
      headers,
      body,
      capture: request.capture,
    };
  }

  /** Takes the captured variables from a response's body (2xx JSON only; anything else is ignored). */
  capture(request: PreparedRequest, status: number, body: string): void {
    if (!request.capture || status < 200 || status > 299) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return;
    }
    for (const [variable, path] of Object.entries(request.capture)) {
      const value = readJsonPath(parsed, path);
      if (typeof value !== "string" && typeof value !== "number") continue;
      let values = this.#values.get(variable);
      if (!values) this.#values.set(variable, (values = []));
      values.push(String(value));
      if (values.length > KEPT_VALUES) values.shift();
    }
  }
}
