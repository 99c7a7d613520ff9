import fc from "fast-check";
import { checkConnectionBudget } from "../../profile/checks";
import { connectionArithmetic, POSTGRES_RESERVED_DEFAULTS } from "../../profile/connection-arithmetic";
import { parseConfig } from "../../profile/parse";
import { servicePlan } from "../../profile/service-settings";
import { planProblems } from "../helpers/profile-issues";

/**
 * Issue #21: bad stack input, family by family. Each row goes through the plan's pure part (the
 * profile parser and the cross-layer checks, as index.ts runs them) and must be refused with a
 * message that names the key, shows the value as written and says what to do.
 */

const CERT = {
  certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000",
  domainName: "origin.dev.uaip.example.com",
};
const local = (extra: Record<string, unknown> = {}) => ({ environment: "local", ...extra });
const dev = (extra: Record<string, unknown> = {}) => ({
  environment: "dev",
  ...extra,
  loadBalancer: { ...CERT, ...((extra.loadBalancer as object) ?? {}) },
});

/** The problem lines that mention `key`; at least one must, and each must show the value and a fix. */
function expectRefused(raw: Record<string, unknown>, key: string, written: string, fix: RegExp): void {
  const problems = planProblems(raw);
  const named = problems.filter((p) => p.includes(key));
  expect({ problems, named: named.length > 0 }).toEqual({ problems, named: true });
  expect(named.some((p) => p.includes(written) && fix.test(p))).toBe(true);
}

describe("the quoted cases fail the plan with key, value as written and fix", () => {
  it.each([
    [
      "reconnect delays upside down (createRuntime would throw)",
      local({ runtime: { ws: { reconnectStrategy: { initialDelay: 60000, maxDelay: 1000 } } } }),
      "runtime.ws.reconnectStrategy.maxDelay",
      "1000",
      /raise maxDelay or lower initialDelay/,
    ],
    [
      "a CIDR that is no address",
      local({ runtime: { http: { trustedProxyCidrs: "999.999.999.999/99" } } }),
      "runtime.http.trustedProxyCidrs",
      "999.999.999.999/99",
      /expected a CIDR like/,
    ],
    [
      "an L1 cache the 384 MiB heap cannot hold (the pod would abort)",
      local({ runtime: { cache: { memory: { maxSize: 50000000 } } } }),
      "runtime.cache.memory.maxSize",
      "50000000",
      /lower it, or raise the heap/,
    ],
    [
      "a pool size another key overwrites (silently ignored)",
      local({ runtime: { pool: { maxConnections: 500 } } }),
      "runtime.pool.maxConnections",
      "500",
      /set services\[0\]\.pool\.max/,
    ],
    [
      "a refresh interval above 2^31 - 1 ms (a tight loop)",
      local({ database: { statsRefreshInterval: 4294967296 } }),
      "database.statsRefreshInterval",
      "4294967296",
      /at most 2147483647 ms/,
    ],
    [
      "CloudFront + ALB trusted as 3 hops",
      dev({ runtime: { http: { trustedProxyHops: 3 } } }),
      "runtime.http.trustedProxyHops",
      "got 3",
      /expected 2 .*CloudFront \+ ALB.*remove it/,
    ],
    [
      "the ALB alone trusted as 2 hops",
      dev({ cdn: { enabled: false }, runtime: { http: { trustedProxyHops: 2 } } }),
      "runtime.http.trustedProxyHops",
      "got 2",
      /expected 1 /,
    ],
    [
      "0 hops on AWS",
      dev({ runtime: { http: { trustedProxyHops: 0 } } }),
      "runtime.http.trustedProxyHops",
      "got 0",
      /one rate-limit bucket/,
    ],
    [
      "every address trusted",
      local({ runtime: { http: { trustedProxyCidrs: "0.0.0.0/0" } } }),
      "runtime.http.trustedProxyCidrs",
      "0.0.0.0/0",
      /list only your proxies' CIDRs/,
    ],
    [
      "a static path over a whole service API",
      dev({ cdn: { staticPaths: ["/agent-intelligence/*"] } }),
      "cdn.staticPaths[0]",
      "/agent-intelligence/*",
      /covers the whole API .*e\.g\. "\/agent-intelligence\/static\/\*"/,
    ],
    [
      "a service named metrics",
      local({ services: [{ name: "metrics", port: 3001 }] }),
      "services[0].name",
      '"metrics"',
      /would route \/metrics .*pick another name/,
    ],
    [
      "a service named healthz",
      local({ services: [{ name: "healthz", port: 3001 }] }),
      "services[0].name",
      '"healthz"',
      /would route \/healthz/,
    ],
    [
      "a 5m scrape interval under [5m] windows",
      local({ monitoring: { scrapeInterval: "5m" } }),
      "monitoring.scrapeInterval",
      "5m",
      /set monitoring\.scrapeInterval to at most "75s"/,
    ],
    [
      "a 2h retention under a 3d burn-rate window",
      local({ monitoring: { retention: "2h" } }),
      "monitoring.retention",
      "2h",
      /at least "3d"/,
    ],
    [
      "public access CIDRs on a private endpoint (inert)",
      dev({ cluster: { endpointPublicAccess: false, publicAccessCidrs: ["203.0.113.7/32"] } }),
      "cluster.publicAccessCidrs",
      "203.0.113.7/32",
      /remove them, or set endpointPublicAccess true/,
    ],
    ["services: ~ (null)", local({ services: null }), "services", "got null", /remove the key to use the preset's/],
    [
      'dockerfile: ""',
      local({ services: [{ name: "a", port: 3001, build: { context: ".", dockerfile: "" } }] }),
      "services[0].build.dockerfile",
      '""',
      /expected/,
    ],
    [
      "a local port taken by PostgreSQL",
      local({ services: [{ name: "a", port: 5432 }] }),
      "services[0].port",
      "5432",
      /postgres port .*pick another/,
    ],
  ])("%s", (_case, raw, key, written, fix) => {
    expectRefused(raw as Record<string, unknown>, key, written, fix);
  });
});

describe("durations: one rule (<= 2^31 - 1 ms) for every interval of the profile", () => {
  const at = (path: string[], value: number): Record<string, unknown> =>
    path.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), value as unknown as Record<string, unknown>);
  const fields: [string, string[]][] = [
    ["database.statsRefreshInterval", ["database", "statsRefreshInterval"]],
    ["runtime.memory.memoryMonitoring.interval", ["runtime", "memory", "memoryMonitoring", "interval"]],
    ["runtime.batching.flushInterval", ["runtime", "batching", "flushInterval"]],
    ["runtime.pool.idleTimeoutMillis", ["runtime", "pool", "idleTimeoutMillis"]],
    ["runtime.cache.redis.commandTimeoutMs", ["runtime", "cache", "redis", "commandTimeoutMs"]],
    ["database.logMinDurationMs", ["database", "logMinDurationMs"]],
  ];

  it("property: each is accepted up to 2^31 - 1 and refused above, naming the key and the value", () => {
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.integer({ min: -2, max: 2 }), ([key, path], offset) => {
        const value = 2147483647 + offset;
        const raw = local(at(path, value));
        const problems = planProblems(raw).filter((p) => p.includes(key));
        if (value <= 2 ** 31 - 1) expect(problems).toEqual([]);
        else expect(problems.some((p) => p.includes(String(value)))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("the heartbeat above 2^31 - 1 ms is refused too", () => {
    expectRefused(
      local({ runtime: { ws: { heartbeatInterval: 2 ** 31 } } }),
      "runtime.ws.heartbeatInterval",
      "2147483648",
      /2147483647/,
    );
  });
});

describe("trusted hops equal the proxies in front", () => {
  it.each([
    ["local", local, {}, 0],
    ["AWS with the CDN", dev, {}, 2],
    ["AWS without the CDN", dev, { cdn: { enabled: false } }, 1],
  ] as const)("%s: the derived value passes when written explicitly; one more or one fewer fails", (_n, make, extra, hops) => {
    const withHops = (h: number) => make({ ...extra, runtime: { http: { trustedProxyHops: h } } });
    expect(servicePlan(parseConfig(make({ ...extra }))).services[0]!.runtime.http.trustedProxyHops).toBe(hops);
    expect(planProblems(withHops(hops)).filter((p) => p.includes("trustedProxyHops"))).toEqual([]);
    for (const wrong of [hops + 1, hops - 1].filter((h) => h >= 0))
      expect(planProblems(withHops(wrong)).some((p) => p.startsWith("runtime.http.trustedProxyHops"))).toBe(true);
  });

  it("a service's own override is checked the same way", () => {
    const raw = local({ services: [{ name: "a", port: 3001, runtime: { http: { trustedProxyHops: 1 } } }] });
    expect(planProblems(raw).some((p) => p.startsWith("services[0].runtime.http.trustedProxyHops"))).toBe(true);
  });
});

describe("path ownership: one owner per path", () => {
  it.each(["/agent-intelligence/*", "/agent-intelligence/**", "/agent-intelligence/", "/agent-intelligence/*/*"])(
    "%s covers the whole API and is refused",
    (pattern) => {
      expect(planProblems(dev({ cdn: { staticPaths: [pattern] } })).some((p) => p.startsWith("cdn.staticPaths[0]"))).toBe(true);
    },
  );

  it.each(["/agent-intelligence/static/*", "/agent-intelligence/*.js", "/agent-intelligence/assets/logo.png"])(
    "%s is a strict part of the API and passes",
    (pattern) => {
      expect(planProblems(dev({ cdn: { staticPaths: [pattern] } }))).toEqual([]);
    },
  );

  it.each(["metrics", "healthz", "readyz", "livez"])("a service named %s is refused", (name) => {
    expect(planProblems(local({ services: [{ name, port: 3001 }] })).some((p) => p.startsWith("services[0].name"))).toBe(true);
  });
});

describe("monitoring windows against the scrape interval and the retention (windows read from the rules)", () => {
  it.each([
    ["75s", true],
    ["76s", false],
    ["1m", true],
    ["2m", false],
  ])("scrapeInterval %s -> ok=%s (shortest window [5m] needs 4 scrapes)", (scrapeInterval, ok) => {
    expect(planProblems(local({ monitoring: { scrapeInterval } })).some((p) => p.includes("monitoring.scrapeInterval"))).toBe(
      !ok,
    );
  });

  it.each([
    ["3d", true],
    ["72h", true],
    ["71h", false],
    ["2d", false],
  ])("retention %s -> ok=%s (longest window [3d])", (retention, ok) => {
    expect(planProblems(local({ monitoring: { retention } })).some((p) => p.includes("monitoring.retention"))).toBe(!ok);
  });
});

describe("the connection budget: the plan's check and the policy rule agree (one arithmetic)", () => {
  it("the quoted case: reservedConnections 3 passes both", () => {
    const p = parseConfig(dev({ database: { reservedConnections: 3 } }));
    const { budget } = servicePlan(p);
    expect(checkConnectionBudget(p).ok).toBe(true);
    const policy = connectionArithmetic({
      pools: budget.perService.map((s) => ({ name: s.name, poolMax: s.poolMax, replicas: s.rolloutPods })),
      maxConnections: budget.maxConnections,
      serverReserved: POSTGRES_RESERVED_DEFAULTS,
      opsReserved: 0,
      others: budget.others,
    });
    expect(policy.ok).toBe(true);
  });

  it("property: whatever the pools, replicas and reservation, a budget the plan accepts the policy accepts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pool: fc.integer({ min: 1, max: 8 }), hpa: fc.integer({ min: 1, max: 4 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.integer({ min: 3, max: 20 }),
        fc.option(fc.integer({ min: 10, max: 120 }), { nil: undefined }),
        (shapes, reservedConnections, maxConnections) => {
          const services = shapes.map((s, i) => ({
            name: `s${i}`,
            port: 3001 + i,
            pool: { min: 1, max: s.pool },
            hpa: { min: 1, max: s.hpa },
          }));
          const p = parseConfig(
            dev({ services, database: { reservedConnections, ...(maxConnections ? { maxConnections } : {}) } }),
          );
          const { budget } = servicePlan(p);
          const planOk = checkConnectionBudget(p).ok;
          const policy = connectionArithmetic({
            pools: budget.perService.map((s) => ({ name: s.name, poolMax: s.poolMax, replicas: s.rolloutPods })),
            maxConnections: budget.maxConnections,
            serverReserved: POSTGRES_RESERVED_DEFAULTS,
            opsReserved: 0,
            others: [{ name: "migration Job", connections: 1 }],
          });
          // Pools during a rollout (25% surge, rounded up) against max_connections minus RDS's 3 + 2 and the
          // migration Job's one client, computed here without the module's help.
          const pooled = shapes.reduce((sum, s) => sum + s.pool * (s.hpa + Math.ceil(s.hpa / 4)), 0);
          expect(policy.ok).toBe(pooled <= budget.maxConnections - 5 - 1);
          if (planOk) expect(policy.ok).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("messages: every bad key at once, the value as written", () => {
  it("two typos in one object are both reported, each with a did-you-mean", () => {
    const problems = planProblems(local({ cdn: { enabeld: true, priceClas: "PriceClass_100" } }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^cdn\.enabeld: unknown key, got true; did you mean enabled\?/),
        expect.stringMatching(/^cdn\.priceClas: unknown key, got "PriceClass_100"; did you mean priceClass\?/),
      ]),
    );
  });

  it("an unknown key far from any known one lists the known keys (never an empty list)", () => {
    const [problem] = planProblems(local({ redis: { zzzzzz: 1 } }));
    expect(problem).toMatch(/^redis\.zzzzzz: unknown key, got 1; remove it or use one of: nodeType, engineVersion, /);
  });

  it("an unknown key in a service's runtime overrides names the runtime's keys", () => {
    const problems = planProblems(local({ services: [{ name: "a", port: 3001, runtime: { cache: { memroy: {} } } }] }));
    expect(problems.some((p) => /^services\[0\]\.runtime\.cache\.memroy: unknown key.*did you mean memory\?/.test(p))).toBe(true);
  });

  it("a type error does not hide a cross-field error", () => {
    const problems = planProblems(
      local({ redis: { replicas: "2" }, services: [{ name: "a", port: 3001, hpa: { min: 3, max: 1 } }] }),
    );
    expect(problems.some((p) => p.startsWith("redis.replicas"))).toBe(true);
    expect(problems.some((p) => p.startsWith("services[0].hpa.max"))).toBe(true);
  });

  it("a union (images) reports the key inside the shape it came closest to", () => {
    expect(planProblems(local({ images: { build: { context: 5, dockerfile: "x" } } }))[0]).toMatch(/^images\.build\.context: /);
  });
});
