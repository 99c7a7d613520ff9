import { parseConfig } from "../../profile/parse";
import { parseError, parseIssues } from "../helpers/profile-issues";

/**
 * parseConfig's rules between fields (issue #22: Stryker's survivors in profile/parse.ts): each on both
 * sides of its boundary, the message naming the key, the value as written and the fix; the defaults it
 * derives; and that a type error hides no other finding. Expectations are written from the rule, not read
 * from the code.
 */

const local = (extra: Record<string, unknown> = {}) => ({ environment: "local", ...extra });
const dev = (extra: Record<string, unknown> = {}) => ({ environment: "dev", ...extra });
const service = (name: string, port: number, extra: Record<string, unknown> = {}) => ({ name, port, ...extra });
const CERT = "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000";
/** The issues at `key` alone. */
const at = (raw: Record<string, unknown>, key: string) => parseIssues(raw).filter((i) => i.path === key);

describe("a lower bound that another key sets: equal passes, one below fails, naming both", () => {
  it.each([
    ["hpa", 3],
    ["pool", 4],
  ])("services[0].%s.max against %s.min", (group, min) => {
    const raw = (max: number) => local({ services: [service("a", 3001, { [group]: { min, max } })] });
    expect(at(raw(min), `services[0].${group}.max`)).toEqual([]);
    expect(at(raw(min - 1), `services[0].${group}.max`)).toEqual([
      {
        path: `services[0].${group}.max`,
        message: `expected integer >= ${group}.min (${min}), got ${min - 1}; raise ${group}.max or lower ${group}.min`,
      },
    ]);
  });

  it("database.maxAllocatedStorage against allocatedStorage", () => {
    const raw = (max: number) => dev({ database: { allocatedStorage: 50, maxAllocatedStorage: max } });
    expect(at(raw(50), "database.maxAllocatedStorage")).toEqual([]);
    expect(at(raw(49), "database.maxAllocatedStorage")).toEqual([
      { path: "database.maxAllocatedStorage", message: "expected >= allocatedStorage (50), got 49" },
    ]);
  });

  it("cluster.nodes: min <= desired <= max, each side", () => {
    const raw = (min: number, desired: number, max: number) => dev({ cluster: { nodes: { min, desired, max } } });
    expect(at(raw(2, 2, 2), "cluster.nodes")).toEqual([]);
    expect(at(raw(3, 2, 4), "cluster.nodes").map((i) => i.message)).toEqual(["expected min <= desired <= max, got 3/2/4"]);
    expect(at(raw(1, 3, 2), "cluster.nodes").map((i) => i.message)).toEqual(["expected min <= desired <= max, got 1/3/2"]);
  });

  it.each(["apiTtl", "staticTtl"])("cdn.%s: min <= default <= max, each side", (key) => {
    const raw = (min: number, def: number, max: number) => local({ cdn: { [key]: { min, default: def, max } } });
    expect(at(raw(60, 60, 60), `cdn.${key}`)).toEqual([]);
    expect(at(raw(61, 60, 70), `cdn.${key}`).map((i) => i.message)).toEqual(["expected min <= default <= max, got 61/60/70"]);
    expect(at(raw(0, 71, 70), `cdn.${key}`).map((i) => i.message)).toEqual(["expected min <= default <= max, got 0/71/70"]);
  });
});

describe("settings that need another: refused only when the other is missing", () => {
  it("a service with both an image and a build", () => {
    const both = service("a", 3001, { image: "nginx:1", build: { context: "." } });
    expect(at(local({ services: [both] }), "services[0].image")).toEqual([
      { path: "services[0].image", message: "set either image or build, not both" },
    ]);
    expect(at(local({ services: [service("a", 3001, { image: "nginx:1" })] }), "services[0].image")).toEqual([]);
  });

  it("Multi-AZ Redis needs a replica: 1 passes, 0 fails; without Multi-AZ 0 passes", () => {
    expect(at(dev({ redis: { multiAz: true, replicas: 1 } }), "redis.replicas")).toEqual([]);
    expect(at(dev({ redis: { multiAz: false, replicas: 0 } }), "redis.replicas")).toEqual([]);
    expect(at(dev({ redis: { multiAz: true, replicas: 0 } }), "redis.replicas")[0]!.message).toMatch(
      /^expected >= 1 when redis\.multiAz is true .*got 0; add a replica or set multiAz false$/,
    );
  });

  it("a certificate with the CDN needs the DNS name it covers; without either, nothing is asked", () => {
    const key = "loadBalancer.domainName";
    const raw = (cdn: boolean, certificateArn: string, domainName: string) =>
      dev({ cdn: { enabled: cdn }, loadBalancer: { certificateArn, domainName } });
    expect(at(raw(true, CERT, ""), key)[0]!.message).toMatch(
      /^expected the DNS name the certificate covers .*got nothing; set it/,
    );
    expect(at(raw(true, CERT, "origin.example.com"), key)).toEqual([]);
    expect(at(raw(false, CERT, ""), key)).toEqual([]);
    expect(at(raw(true, "", ""), key)).toEqual([]);
  });

  it("a budget only where the estimate prices it (AWS)", () => {
    expect(at(dev({ cost: { monthlyBudget: 100 } }), "cost.monthlyBudget")).toEqual([]);
    expect(at(local({ cost: { monthlyBudget: 100 } }), "cost.monthlyBudget")).toEqual([
      {
        path: "cost.monthlyBudget",
        message:
          'expected no budget on platform "docker" (the plan\'s cost estimate prices AWS resources only), got 100; remove it',
      },
    ]);
  });
});

describe("who may reach the Kubernetes API", () => {
  const key = "cluster.publicAccessCidrs";
  const raw = (make: typeof dev, endpointPublicAccess: boolean, publicAccessCidrs: string[]) =>
    make({ cluster: { endpointPublicAccess, publicAccessCidrs } });

  it("a public endpoint on AWS needs its CIDRs; with them it passes", () => {
    expect(at(raw(dev, true, []), key)[0]!.message).toMatch(/^expected the CIDRs that run `pulumi up`.*got \[\]; list them/);
    expect(at(raw(dev, true, ["203.0.113.7/32"]), key)).toEqual([]);
  });

  it("CIDRs where no public endpoint exists are inert, and said so with the value as written", () => {
    expect(at(raw(dev, false, ["203.0.113.7/32"]), key).map((i) => i.message)).toEqual([
      '["203.0.113.7/32"] has no effect while cluster.endpointPublicAccess is false (the endpoint is private); remove them, or set endpointPublicAccess true to open the endpoint to exactly these CIDRs',
    ]);
    expect(at(raw(local, true, ["203.0.113.7/32"]), key).map((i) => i.message)).toEqual([
      '["203.0.113.7/32"] has no effect on the docker platform (there is no Kubernetes API endpoint to open); remove them',
    ]);
  });

  it("no endpoint to open on docker: endpointPublicAccess without CIDRs asks for none", () => {
    expect(at(raw(local, true, []), key)).toEqual([]);
    expect(at(raw(dev, false, []), key)).toEqual([]);
  });
});

describe("services on the local platform's own host ports", () => {
  it("each is named with its server and a free port to use instead, skipping the ports services hold", () => {
    const services = [service("a", 6379), service("b", 3001), service("c", 5432), service("d", 3000), service("e", 9090)];
    expect(parseIssues(local({ services }))).toEqual(
      [
        [0, 6379, "redis", 3002],
        [2, 5432, "postgres", 3003],
        [3, 3000, "grafana", 3004],
        [4, 9090, "prometheus", 3005],
      ].map(([i, port, server, free]) => ({
        path: `services[${i}].port`,
        message: `${port} is the local platform's ${server} port (published on the host too); pick another, e.g. ${free}`,
      })),
    );
  });

  it("the same ports on AWS are the service's own", () => {
    expect(parseIssues(dev({ services: [service("a", 6379), service("b", 5432)] })).map((i) => i.path)).not.toContain(
      "services[0].port",
    );
  });
});

describe("duplicates name the earlier entry", () => {
  it("a third service repeating the first's name and port points back at services[0]", () => {
    const issues = parseIssues(local({ services: [service("a", 3001), service("b", 3002), service("a", 3001)] }));
    expect(issues).toEqual([
      { path: "services[2].name", message: 'duplicate service name "a" (also services[0]); names must be unique' },
      { path: "services[2].port", message: "duplicate port 3001 (also services[0]); give each service its own port" },
    ]);
  });
});

describe("two rules on one key are both reported, and one rule on two keys at each", () => {
  it("two services named static: a duplicate (a rule between fields) and a reserved prefix (a provider rule)", () => {
    const issues = parseIssues(local({ services: [service("static", 3001), service("static", 3002)] }));
    const reserved = '"static" is a path prefix kept for static content; pick another name';
    expect(issues).toEqual([
      { path: "services[1].name", message: 'duplicate service name "static" (also services[0]); names must be unique' },
      { path: "services[0].name", message: reserved },
      { path: "services[1].name", message: reserved },
    ]);
  });

  it("beside a type error elsewhere, a rule that trips over the key zod named still adds nothing", () => {
    expect(parseIssues(local({ cdn: { apiTtl: "x" }, redis: { replicas: "2" } }))).toEqual([
      { path: "redis.replicas", message: 'expected number, got "2"' },
      { path: "cdn.apiTtl", message: 'expected object, got "x"' },
    ]);
  });
});

describe("trusted proxy hops: a wrong count says which way it is wrong", () => {
  it.each([
    [3, "a client could choose its own rate-limit key with a forged X-Forwarded-For"],
    [1, "every client behind a proxy would share one rate-limit bucket"],
  ])("%s hops behind CloudFront + ALB", (hops, why) => {
    const raw = dev({
      loadBalancer: { certificateArn: CERT, domainName: "o.example.com" },
      runtime: { http: { trustedProxyHops: hops } },
    });
    const [issue] = at(raw, "runtime.http.trustedProxyHops");
    expect(issue!.message).toMatch(new RegExp(`^expected 2 \\(the proxies in front: .*\\), got ${hops}: ${why}; remove it`));
  });
});

describe("a type error hides no other finding, and nothing is reported twice", () => {
  it("a rule between fields still runs beside a type error in one of them", () => {
    expect(parseIssues(local({ cluster: { nodes: { min: 3, desired: 2, max: "4" } } }))).toEqual([
      { path: "cluster.nodes.max", message: 'expected number, got "4"' },
      { path: "cluster.nodes", message: "expected min <= desired <= max, got 3/2/4" },
    ]);
  });

  it("a rule that trips over the key zod already named adds nothing", () => {
    expect(parseIssues(local({ cdn: { apiTtl: "x" } }))).toEqual([{ path: "cdn.apiTtl", message: 'expected object, got "x"' }]);
  });

  it("a section of the wrong shape gives its one issue, never a TypeError", () => {
    for (const [key, value] of [
      ["cluster", "x"],
      ["services", "x"],
    ] as const)
      expect(parseIssues(local({ [key]: value }))).toEqual([
        { path: key, message: `expected ${key === "services" ? "array" : "object"}, got "x"` },
      ]);
  });

  it("services: null says which services the preset would give", () => {
    expect(parseIssues(local({ services: null }))).toEqual([
      {
        path: "services",
        message:
          "expected a list of services, got null; remove the key to use the preset's (agent-intelligence, orchestration-pipeline, capability-registry) or list yours",
      },
    ]);
  });

  it("null or a list at the root is refused as what it is", () => {
    for (const raw of [null, ["dev"]]) {
      expect(parseError(raw).issues).toEqual([
        { path: "(root)", message: `expected an object of uaip: keys, got ${JSON.stringify(raw)}` },
      ]);
    }
  });
});

describe("what parseConfig derives when the stack file leaves it out", () => {
  it("images at registry/name:tag replace the preset's build, and a service's own image is kept", () => {
    const p = parseConfig(
      local({
        images: { registry: "ghcr.io/uaip", tag: "v1" },
        services: [service("a", 3001), service("b", 3002, { image: "nginx:1" })],
      }),
    );
    expect(p.images).toEqual({ registry: "ghcr.io/uaip", tag: "v1" });
    expect(p.services.map((s) => [s.image, s.build])).toEqual([
      ["ghcr.io/uaip/a:v1", undefined],
      ["nginx:1", undefined],
    ]);
  });

  it("a build from the stack's images is each service's own copy", () => {
    const p = parseConfig(local({ services: [service("a", 3001), service("b", 3002)] }));
    expect(p.services[0]!.build).toEqual({ context: ".", dockerfile: "examples/Dockerfile" });
    expect(p.services[0]!.build).not.toBe(p.services[1]!.build);
    expect(p.services[0]!.build).not.toBe("build" in p.images ? p.images.build : undefined);
  });

  it("hops, keep-alive and the CDN purge are derived unless written; written values are kept", () => {
    const derived = parseConfig(dev({ loadBalancer: { idleTimeout: 100 } }));
    expect(derived.runtime.http).toMatchObject({ trustedProxyHops: 2, keepAliveTimeout: 105_000 });
    expect(derived.runtime.cache.cdn.enabled).toBe(true);
    const written = parseConfig(
      dev({ runtime: { http: { trustedProxyHops: 2, keepAliveTimeout: 200_000 }, cache: { cdn: { enabled: false } } } }),
    );
    expect(written.runtime.http).toMatchObject({ trustedProxyHops: 2, keepAliveTimeout: 200_000 });
    expect(written.runtime.cache.cdn.enabled).toBe(false);
  });
});

describe("a CDN purge with no CDN is found through each service's own settings", () => {
  const FIX = /^true, but cdn\.enabled is false: there is no distribution to purge/;
  it("shared and per-service purge settings, with the CDN off", () => {
    expect(at(local({ runtime: { cache: { cdn: { enabled: true } } } }), "runtime.cache.cdn.enabled")[0]!.message).toMatch(FIX);
    const own = (enabled: boolean) => local({ services: [service("a", 3001, { runtime: { cache: { cdn: { enabled } } } })] });
    expect(at(own(true), "services[0].runtime.cache.cdn.enabled")[0]!.message).toMatch(FIX);
    expect(parseIssues(own(false))).toEqual([]);
    expect(
      parseIssues(
        local({
          runtime: { cache: { cdn: { enabled: true } } },
          services: [service("a", 3001, { runtime: { cache: { cdn: { enabled: false } } } })],
        }),
      ),
    ).toEqual([]);
  });
});
