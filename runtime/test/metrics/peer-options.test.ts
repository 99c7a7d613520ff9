/**
 * Issue #24, "what peers offer" for metrics: custom histogram buckets, extra labels (checked against
 * Prometheus' naming rules and the built-in labels), and routes declared up front, which unknown paths
 * can never crowd into "__other__". Real HTTP server, real scrape of /metrics, promtool lint.
 */
import { createServer } from "node:http";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { requireBinary } from "../../../test/helpers/redis";
import { createMetrics, MetricsOptionsError } from "../../src/metrics/http-metrics";
import { METRIC } from "../../src/metrics/names";
import { useLoopbackServers } from "../loopback-servers";

const listen = useLoopbackServers();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text's samples (enough of the format for what these tests read). */
function parse(body: string): Sample[] {
  const out: Sample[] = [];
  for (const line of body.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const requestsByRoute = (samples: Sample[]) => {
  const counts = new Map<string, number>();
  for (const s of samples)
    if (s.name === METRIC.httpRequestsTotal) counts.set(s.labels.route, (counts.get(s.labels.route) ?? 0) + s.value);
  return counts;
};

async function scrape(url: string): Promise<{ body: string; samples: Sample[] }> {
  const body = await (await fetch(`${url}/metrics`)).text();
  return { body, samples: parse(body) };
}

describe("declared routes", () => {
  it.each([
    { declared: true, expected: "/users/:userId/orders" },
    { declared: false, expected: "__other__" },
  ])("after 150 scanner URLs, a real route is recorded as $expected (declared: $declared)", async ({ declared, expected }) => {
    const m = createMetrics({
      serviceName: "svc",
      collectDefault: false,
      maxRoutes: 100,
      ...(declared ? { routes: ["/users/:userId/orders", "/users/me/orders", "/health"] } : {}),
    });
    const url = await listen(
      m.instrumentServer(createServer((req, res) => (req.url === "/metrics" ? m.metricsHandler(req, res) : res.end("ok")))),
    );
    for (let i = 0; i < 150; i++) await (await fetch(`${url}/wp-admin/probe-${String.fromCharCode(97 + (i % 26))}${i}`)).text();
    await (await fetch(`${url}/users/42/orders?page=2`)).text();
    await (await fetch(`${url}/users/me/orders`)).text();
    await new Promise((r) => setTimeout(r, 50));
    const counts = requestsByRoute((await scrape(url)).samples);
    expect(counts.get(expected)).toBeGreaterThanOrEqual(1);
    if (declared) {
      expect(counts.get("/users/:userId/orders")).toBe(1);
      expect(counts.get("/users/me/orders")).toBe(1); // the literal route wins over the parameter
      // 100 undeclared routes kept their label (the cap applies to them only), 50 scanners + /metrics are __other__.
      expect(counts.get("__other__")).toBe(50);
    }
    m.close();
  });

  it("refuses routes that are not templates starting with /", () => {
    expect(() => createMetrics({ serviceName: "s", collectDefault: false, routes: ["users/:id", 3 as never] })).toThrow(
      expect.objectContaining({
        code: MetricsOptionsError.CODE,
        key: "routes",
        message: expect.stringMatching(/"users\/:id", 3/),
      }),
    );
  });
});

describe("custom buckets and extra labels", () => {
  it("the histogram has exactly the given bounds and extra labels, counted per request, and passes promtool", async () => {
    const buckets = [0.05, 0.25, 1];
    const m = createMetrics({
      serviceName: "svc",
      collectDefault: false,
      buckets,
      labels: { tenant: (req) => req.headers["x-tenant"] as string | undefined, plan: () => "free" },
    });
    const url = await listen(
      m.instrumentServer(
        createServer((req, res) => {
          if (req.url === "/metrics") return m.metricsHandler(req, res);
          setTimeout(() => res.end("ok"), req.url === "/slow" ? 300 : 0);
        }),
      ),
    );
    await (await fetch(`${url}/fast`, { headers: { "x-tenant": "acme" } })).text();
    await (await fetch(`${url}/slow`, { headers: { "x-tenant": "acme" } })).text();
    await (await fetch(`${url}/fast`, { headers: { "x-tenant": "globex" } })).text();
    await (await fetch(`${url}/fast`)).text();
    await new Promise((r) => setTimeout(r, 50));
    const { body, samples } = await scrape(url);
    const buckets_ = samples.filter((s) => s.name === `${METRIC.httpRequestDurationSeconds}_bucket`);
    expect([...new Set(buckets_.map((s) => s.labels.le))]).toEqual(["0.05", "0.25", "1", "+Inf"]);
    const slow = (le: string) =>
      buckets_.find((s) => s.labels.route === "/slow" && s.labels.tenant === "acme" && s.labels.le === le)?.value;
    expect([slow("0.25"), slow("1"), slow("+Inf")]).toEqual([0, 1, 1]); // 300 ms: above 0.25 s, within 1 s
    const total = samples.filter((s) => s.name === METRIC.httpRequestsTotal && s.labels.route === "/fast");
    expect(Object.fromEntries(total.map((s) => [s.labels.tenant, s.value]))).toEqual({ acme: 1, globex: 1, "": 1 });
    expect(total.every((s) => s.labels.plan === "free" && s.labels.service === "svc")).toBe(true);
    const lint = spawnSync(requireBinary("promtool"), ["check", "metrics"], { input: body, encoding: "utf8" });
    expect(lint.stdout + lint.stderr).toBe("");
    m.observe("GET", "/manual", 200, 10, { tenant: "initech" });
    expect(await m.registry.metrics()).toMatch(/route="\/manual",status_code="200",tenant="initech",plan="",service="svc"\} 1/);
    m.close();
  });

  it("an extra label keeps at most 100 values; a throwing extractor gives an empty value, never a failed request", async () => {
    const m = createMetrics({ serviceName: "svc", collectDefault: false, labels: { user: () => "x" } });
    for (let i = 0; i < 150; i++) m.observe("GET", "/a", 200, 1, { user: `u${i}` });
    const users = new Set(
      parse(await m.registry.metrics())
        .filter((s) => s.name === METRIC.httpRequestsTotal)
        .map((s) => s.labels.user),
    );
    expect(users.size).toBe(101);
    expect(users.has("__other__")).toBe(true);
    m.close();

    const throwing = createMetrics({
      serviceName: "svc",
      collectDefault: false,
      labels: {
        boom: () => {
          throw new Error("extractor bug");
        },
      },
    });
    const url = await listen(
      throwing.instrumentServer(
        createServer((req, res) => (req.url === "/metrics" ? throwing.metricsHandler(req, res) : res.end("ok"))),
      ),
    );
    expect((await fetch(`${url}/a`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const seen = (await scrape(url)).samples.filter((s) => s.name === METRIC.httpRequestsTotal);
    expect(seen).toEqual([expect.objectContaining({ labels: expect.objectContaining({ route: "/a", boom: "" }), value: 1 })]);
    throwing.close();
  });

  it("label names follow Prometheus' rule and never shadow a built-in label; every bad name is listed at once", () => {
    const isValid = (name: string) =>
      /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) &&
      !name.startsWith("__") &&
      !["service", "method", "route", "status_code", "le"].includes(name);
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("route", "le", "__x", "_x", "a1", "1a", "x-y", "status_code")),
        (name) => {
          if (name === "__proto__") return; // not an own key of an object literal
          const make = () => createMetrics({ serviceName: "s", collectDefault: false, labels: { [name]: () => "v" } });
          if (isValid(name)) make().close();
          else expect(make).toThrow(expect.objectContaining({ code: MetricsOptionsError.CODE, key: "labels" }));
        },
      ),
      { numRuns: 300 },
    );
    expect(() =>
      createMetrics({
        serviceName: "s",
        collectDefault: false,
        labels: { route: () => "", "bad-name": () => "", ok: "x" as never },
      }),
    ).toThrow(/"route" is a built-in.*"bad-name" is not a Prometheus label name.*"ok" must map to a function/);
  });

  it("buckets must be positive, finite and strictly increasing; every bad bound is named", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -2, max: 5 })), { maxLength: 6 }),
        (buckets) => {
          const valid =
            buckets.length > 0 && buckets.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]));
          const make = () => createMetrics({ serviceName: "s", collectDefault: false, buckets });
          if (valid) make().close();
          else expect(make).toThrow(expect.objectContaining({ code: MetricsOptionsError.CODE, key: "buckets" }));
        },
      ),
      { numRuns: 300 },
    );
    expect(() => createMetrics({ serviceName: "s", collectDefault: false, buckets: [0.1, 0.1, -1] })).toThrow(
      /\[1\] = 0.1 is not greater than \[0\] = 0.1.*\[2\] = -1 is not a positive finite number/,
    );
  });
});
