import { Deadlines } from "../../src/cache/deadlines";
import { CircuitBreaker } from "../../src/cache/breaker";
import { batchPaths, patternToPath, prunePaths } from "../../src/cache/cdn";
import { escapeGlob, globToRegExp, isGlob } from "../../src/cache/glob";

describe("globToRegExp (Redis MATCH syntax)", () => {
  it.each([
    ["user:*", "user:1", true],
    ["user:*", "user:", true],
    ["user:*", "users:1", false],
    ["user:?", "user:12", false],
    ["user:?", "user:1", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-c]llo", "hbllo", true],
    ["h[a-c]llo", "hdllo", false],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["a.b(c)+", "a.b(c)+", true],
    ["a.b", "axb", false],
    ["*", "multi\nline", true],
  ])("%s vs %j -> %s", (pattern, key, expected) => {
    expect(globToRegExp(pattern).test(key)).toBe(expected);
  });

  it("escapeGlob makes a prefix literal", () => {
    expect(globToRegExp(escapeGlob("svc[1]*:") + "*").test("svc[1]*:x")).toBe(true);
    expect(globToRegExp(escapeGlob("svc[1]*:") + "*").test("svc1:x")).toBe(false);
  });

  it.each([
    ["a*", true],
    ["a?", true],
    ["a[b]", true],
    // An operator at the very start has no character before it.
    ["*", true],
    ["?a", true],
    ["[ab]", true],
    ["\\*", false],
    ["a\\*", false],
    ["plain:key", false],
  ])("isGlob(%s) = %s", (p, g) => {
    expect(isGlob(p)).toBe(g);
  });
});

describe("CDN path helpers", () => {
  it.each([
    ["/products/*", "/products/*"],
    ["products/1", "/products/1"],
    ["/a/b?c", "/a/b*"],
    ["/a/*/c", "/a/*"],
    ["/a/[xy]", "/a/*"],
    ["/a\\*b", "/a*b"],
  ])("patternToPath(%s) = %s", (pattern, path) => {
    expect(patternToPath(pattern)).toBe(path);
  });

  it("prunePaths drops duplicates and paths covered by a wildcard", () => {
    expect(prunePaths(["/a/1", "/a/*", "/a/b/*", "/b", "/b", "/c*", "/cd"])).toEqual(["/a/*", "/b", "/c*"]);
  });

  it("batchPaths respects both limits and never emits an empty batch", () => {
    const batches = batchPaths(
      ["/*a*", "/b*", "/c*", "/1", "/2", "/3", "/4"].map((p) => p.replace(/^\/\*/, "/")),
      3,
      2,
    );
    for (const b of batches) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(3);
      expect(b.filter((p) => p.endsWith("*")).length).toBeLessThanOrEqual(2);
    }
    expect(batches.flat()).toHaveLength(7);
  });
});

describe("CircuitBreaker", () => {
  it("opens after N consecutive failures, lets one probe through after the cool-down, closes on success", () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 100, now: () => now });
    b.failure();
    b.failure();
    b.success(); // not consecutive any more
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    b.failure();
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
    now = 100;
    expect(b.allow()).toBe(true); // the probe
    expect(b.state).toBe("half-open");
    expect(b.allow()).toBe(false); // only one probe at a time
    b.failure();
    expect(b.state).toBe("open");
    now = 150;
    expect(b.allow()).toBe(false);
    now = 200;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe("closed");
    expect(b.allow()).toBe(true);
  });
});

describe("Deadlines", () => {
  it("rejects a command still pending after its timeout and passes through one that settles in time", async () => {
    const d = new Deadlines(5);
    const t = performance.now();
    await expect(d.guard(new Promise(() => undefined), 30)).rejects.toThrow("timed out");
    expect(performance.now() - t).toBeGreaterThanOrEqual(29);
    await expect(d.guard(new Promise((r) => setTimeout(() => r("ok"), 5)), 200)).resolves.toBe("ok");
    await expect(d.guard(Promise.reject(new Error("boom")), 200)).rejects.toThrow("boom");
    d.close();
  });
});
