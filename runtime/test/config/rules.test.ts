import fc from "fast-check";
import { RuntimeConfigError } from "../../src/errors";
import { RUNTIME_ENV, RUNTIME_ENV_NAMES } from "../../src/config/contract";
import { MAX_TIMER_MS } from "../../src/config/duration";
import { maxL1Entries } from "../../src/config/heap";
import { checkRuntimeEnv, loadRuntimeConfig, RuntimeEnvError } from "../../src/config/load";
import { closestName, editDistance } from "../../src/config/near-miss";

/** The issues the loader finds, with a heap large enough that only the rule under test can fire. */
const issuesOf = (env: Record<string, string>, heapMiB = 4096) => checkRuntimeEnv(env, { heapMiB }).issues;
const keysOf = (env: Record<string, string>, heapMiB?: number) => issuesOf(env, heapMiB).map((i) => i.key);

describe("loadRuntimeConfig lists every bad variable at once (issue #21)", () => {
  it("two bad variables and a near-miss name: three issues, each with its value as written", () => {
    const env = { UAIP_RATE_LIMIT_MAX_REQUESTS: "lots", UAIP_COMPRESSION_LEVEL: "12", UAIP_DB_POOL_MAX: "40" };
    let err: unknown;
    try {
      loadRuntimeConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuntimeEnvError);
    expect(err).toBeInstanceOf(RuntimeConfigError);
    const { issues, message, code } = err as RuntimeEnvError;
    expect(code).toBe("UAIP_RUNTIME_CONFIG_INVALID");
    expect(issues.map((i) => i.key).sort()).toEqual([
      "UAIP_COMPRESSION_LEVEL",
      "UAIP_DB_POOL_MAX",
      "UAIP_RATE_LIMIT_MAX_REQUESTS",
    ]);
    expect(message).toContain('UAIP_RATE_LIMIT_MAX_REQUESTS: expected an integer, got "lots"');
    expect(message).toContain("UAIP_COMPRESSION_LEVEL: ");
    expect(message).toContain('got "12"');
    expect(message).toMatch(/UAIP_DB_POOL_MAX: unknown runtime variable, got "40"; did you mean UAIP_POOL_MAX\?/);
  });

  it("a secret's value never reaches the message, only its length", () => {
    const [issue] = issuesOf({ UAIP_ADMIN_TOKEN: "short" });
    expect(issue).toMatchObject({ key: "UAIP_ADMIN_TOKEN", value: "a secret of 5 characters" });
  });
});

describe("near-miss UAIP_* names: typos refused with did-you-mean, other names left alone", () => {
  it.each(["UAIP_STACK", "UAIP_REPORT", "UAIP_BENCH_HTTP_MODE", "UAIP_BENCH_COMPRESSION_REDIS", "UAIP_X"])(
    "%s (someone else's variable) is left alone",
    (name) => {
      expect(issuesOf({ [name]: "dev" })).toEqual([]);
      expect(() => loadRuntimeConfig({ [name]: "dev" })).not.toThrow();
    },
  );

  it.each([
    ["UAIP_DB_POOL_MAX", "UAIP_POOL_MAX"],
    ["UAIP_RATE_LIMIT_MAX_REQUEST", "UAIP_RATE_LIMIT_MAX_REQUESTS"],
    ["UAIP_REDIS_PROT", "UAIP_REDIS_PORT"],
    ["UAIP_WS_HEARTBEAT_INTERVAL", "UAIP_WS_HEARTBEAT_INTERVAL_MS"],
  ])("%s is refused as a near miss of %s", (typo, meant) => {
    const [issue] = issuesOf({ [typo]: "1" });
    expect(issue).toMatchObject({ key: typo, value: "1" });
    expect(issue!.fix).toContain(`did you mean ${meant}?`);
  });

  it("property: one deletion, substitution or adjacent swap anywhere in a known name is caught", () => {
    const known = RUNTIME_ENV_NAMES.filter((n) => n.length - "UAIP_".length >= 4);
    fc.assert(
      fc.property(
        fc.constantFrom(...known),
        fc.nat(),
        fc.constantFrom("delete", "substitute", "swap"),
        fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ_"),
        (name, at, edit, letter) => {
          const body = name.slice(5);
          const i = at % body.length;
          const typo =
            edit === "delete"
              ? body.slice(0, i) + body.slice(i + 1)
              : edit === "substitute"
                ? body.slice(0, i) + letter + body.slice(i + 1)
                : i + 1 < body.length
                  ? body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2)
                  : body;
          const candidate = `UAIP_${typo}`;
          fc.pre(!(RUNTIME_ENV as Record<string, unknown>)[candidate]);
          expect(closestName(candidate, RUNTIME_ENV_NAMES, "UAIP_")).toBeDefined();
          expect(issuesOf({ [candidate]: "1" }).map((i) => i.key)).toEqual([candidate]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("edit distance: insertions, deletions, substitutions and adjacent swaps count one each", () => {
    expect([
      editDistance("region", "regoin"),
      editDistance("port", "prot"),
      editDistance("abc", "abcd"),
      editDistance("abc", "xbc"),
    ]).toEqual([1, 1, 1, 1]);
    expect(editDistance("REPORT", "PORT")).toBe(2);
  });
});

describe("the duration rule: every *_MS variable is at most 2^31 - 1 ms", () => {
  const durations = RUNTIME_ENV_NAMES.filter((n) => n.endsWith("_MS"));

  it("covers every interval of the contract", () => {
    expect(durations).toEqual(
      expect.arrayContaining([
        "UAIP_DB_STATS_REFRESH_INTERVAL_MS",
        "UAIP_MEMORY_MONITOR_INTERVAL_MS",
        "UAIP_BATCH_FLUSH_INTERVAL_MS",
        "UAIP_WS_HEARTBEAT_INTERVAL_MS",
      ]),
    );
  });

  it("property: accepted up to 2^31 - 1, refused above it, naming the variable and the value as written", () => {
    fc.assert(
      fc.property(fc.constantFrom(...durations), fc.integer({ min: -3, max: 3 }), (name, offset) => {
        const value = MAX_TIMER_MS + offset;
        // Reconnect delays must keep maxDelay >= initialDelay; the other duration is set alongside.
        const env: Record<string, string> = { [name]: String(value) };
        if (name === "UAIP_WS_RECONNECT_INITIAL_DELAY_MS") env.UAIP_WS_RECONNECT_MAX_DELAY_MS = String(MAX_TIMER_MS);
        const issues = issuesOf(env);
        if (value <= 2147483647) expect(issues).toEqual([]);
        else {
          expect(issues.map((i) => i.key)).toContain(name);
          expect(issues.find((i) => i.key === name)!.value).toBe(String(value));
          expect(issues.find((i) => i.key === name)!.message).toMatch(/at most 2147483647 ms/);
        }
      }),
    );
  });
});

describe("trusted proxy CIDRs: parsed as the limiter parses them, /0 refused", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));

  it("property: a real IPv4 address with a prefix of 1..32 is accepted", () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 1, max: 32 }), (address, bits) => {
        expect(issuesOf({ UAIP_TRUSTED_PROXY_CIDRS: `${address}/${bits}` })).toEqual([]);
      }),
    );
  });

  it("property: an octet of 256..999, a prefix of 33..999, or /0 is refused, each bad entry named", () => {
    fc.assert(
      fc.property(
        v4,
        fc.oneof(
          fc.integer({ min: 256, max: 999 }).map((o) => (a: string) => `${o}.${a.split(".").slice(1).join(".")}/24`),
          fc.integer({ min: 33, max: 999 }).map((b) => (a: string) => `${a}/${b}`),
          fc.constant((a: string) => `${a}/0`),
        ),
        (address, bad) => {
          const cidr = bad(address);
          const issues = issuesOf({ UAIP_TRUSTED_PROXY_CIDRS: `10.0.0.0/8,${cidr}` });
          expect(issues).toHaveLength(1);
          expect(issues[0]).toMatchObject({ key: "UAIP_TRUSTED_PROXY_CIDRS", value: `10.0.0.0/8,${cidr}` });
          expect(issues[0]!.message).toContain(JSON.stringify(cidr));
        },
      ),
    );
  });

  it("the quoted case: 999.999.999.999/99", () => {
    expect(keysOf({ UAIP_TRUSTED_PROXY_CIDRS: "999.999.999.999/99" })).toEqual(["UAIP_TRUSTED_PROXY_CIDRS"]);
  });
});

describe("sizes against the heap", () => {
  it("a 384 MiB heap holds at most 1,258,291 L1 entries (384 MiB × 50% / 160 bytes)", () => {
    expect(maxL1Entries(384)).toBe(Math.floor((384 * 1048576) / 2 / 160));
    expect(keysOf({ UAIP_CACHE_MEMORY_MAX_SIZE: "1258291" }, 384)).toEqual([]);
    expect(keysOf({ UAIP_CACHE_MEMORY_MAX_SIZE: "1258292" }, 384)).toEqual(["UAIP_CACHE_MEMORY_MAX_SIZE"]);
  });

  it("property: maxSize fits iff entries × 160 bytes <= half the heap, for any heap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 16384 }), fc.integer({ min: -2, max: 2 }), (heapMiB, offset) => {
        const most = Math.floor((heapMiB * 1024 * 1024 * 0.5) / 160);
        const size = most + offset;
        fc.pre(size > 0);
        const env = { UAIP_CACHE_MEMORY_MAX_SIZE: String(size), UAIP_MEMORY_HEAP_LIMIT_MB: String(heapMiB) };
        expect(keysOf(env, heapMiB)).toEqual(size <= most ? [] : ["UAIP_CACHE_MEMORY_MAX_SIZE"]);
      }),
    );
  });

  it("the quoted case: maxSize 50,000,000 with a 384 MiB heap is refused before any entry is written", () => {
    const [issue] = issuesOf({ UAIP_CACHE_MEMORY_MAX_SIZE: "50000000" }, 384);
    expect(issue).toMatchObject({ key: "UAIP_CACHE_MEMORY_MAX_SIZE", value: "50000000" });
    expect(issue!.message).toMatch(/384 MiB heap/);
  });

  it("loadRuntimeConfig judges against this process's own heap by default", () => {
    expect(() => loadRuntimeConfig({ UAIP_CACHE_MEMORY_MAX_SIZE: "1000000000" })).toThrow(/UAIP_CACHE_MEMORY_MAX_SIZE/);
  });

  it("a heap limit above what V8 gives is refused (pressure would never be detected)", () => {
    expect(keysOf({ UAIP_MEMORY_HEAP_LIMIT_MB: "385" }, 384)).toEqual(["UAIP_MEMORY_HEAP_LIMIT_MB"]);
    expect(keysOf({ UAIP_MEMORY_HEAP_LIMIT_MB: "384" }, 384)).toEqual([]);
  });

  it("a type error elsewhere does not hide the heap rule", () => {
    expect(keysOf({ UAIP_CACHE_MEMORY_MAX_SIZE: "50000000", UAIP_PORT: "x" }, 384).sort()).toEqual([
      "UAIP_CACHE_MEMORY_MAX_SIZE",
      "UAIP_PORT",
    ]);
  });
});

describe("bounds between variables", () => {
  it.each([
    [{ UAIP_WS_RECONNECT_INITIAL_DELAY_MS: "60000", UAIP_WS_RECONNECT_MAX_DELAY_MS: "1000" }, ["UAIP_WS_RECONNECT_MAX_DELAY_MS"]],
    [{ UAIP_WS_RECONNECT_INITIAL_DELAY_MS: "1000", UAIP_WS_RECONNECT_MAX_DELAY_MS: "1000" }, []],
    [{ UAIP_POOL_MIN: "6", UAIP_POOL_MAX: "5" }, ["UAIP_POOL_MIN"]],
    [{ UAIP_POOL_MIN: "5", UAIP_POOL_MAX: "5" }, []],
  ])("%j -> %j", (env, keys) => {
    expect(keysOf(env)).toEqual(keys);
  });
});
