/**
 * CacheInvalidator and defaultCdnPaths at their edges (issue #22): which options are refused by name, which
 * mapper results purge and which skip, how a failed purge is reported (typed, with its paths, to the right
 * listener), and which purger `close()` releases. A real redis-server behind the cache; the CDN is a
 * recording purger or the fake CloudFront endpoint (the cloud is the one thing mocked).
 */
import fc from "fast-check";
import { useRedisServer } from "../../../test/helpers/redis";
import {
  CacheInvalidator,
  CacheManager,
  CacheOptionsError,
  CdnPurgeError,
  defaultCdnPaths,
  type CacheEvent,
  type CacheManagerOptions,
  type CdnPurger,
} from "../../src/cache";
import { patternToPath } from "../../src/cache/cdn";
import { FakeCloudFront } from "../helpers/fake-cloudfront";
import { timeUntil } from "../helpers/l1";

const redis = useRedisServer();
const open: CacheManager[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

function cache(cdn: { enabled: boolean; distributionId?: string; pathPrefix?: string }, options: CacheManagerOptions = {}) {
  const c = new CacheManager({ ...options, url: redis.server.url, bus: false, config: { cdn } });
  open.push(c);
  return c;
}

/** A purger that records each call; `fail` is thrown (any value, as a buggy purger might). */
function recorder(fail?: { value: unknown }): CdnPurger & { calls: string[][]; closed: number } {
  const r = {
    calls: [] as string[][],
    closed: 0,
    purge: async (paths: readonly string[]) => {
      r.calls.push([...paths]);
      if (fail) throw fail.value;
      return { paths: [...paths], invalidationIds: ["I1"], requests: 1 };
    },
    close: () => {
      r.closed++;
    },
  };
  return r;
}

const refusedKey = (make: () => unknown): string | undefined => {
  try {
    make();
  } catch (e) {
    expect(e).toBeInstanceOf(CacheOptionsError);
    return (e as CacheOptionsError).key;
  }
  return undefined;
};

describe("CacheInvalidator options", () => {
  it("refuses a missing cache, a cache without invalidate, and a purger, cdnPaths or onEvent of the wrong kind, by name", () => {
    const c = cache({ enabled: false });
    expect(refusedKey(() => new CacheInvalidator(undefined as never))).toBe("cache");
    expect(refusedKey(() => new CacheInvalidator({} as never))).toBe("cache");
    expect(() => new CacheInvalidator({} as never)).toThrow(/^CacheInvalidator: cache: /);
    expect(refusedKey(() => new CacheInvalidator({ cache: { settings: c.settings } as never }))).toBe("cache");
    expect(refusedKey(() => new CacheInvalidator({ cache: c, purger: { close: () => undefined } as never }))).toBe("purger");
    expect(refusedKey(() => new CacheInvalidator({ cache: c, cdnPaths: "/x/*" as never }))).toBe("cdnPaths");
    expect(refusedKey(() => new CacheInvalidator({ cache: c, onEvent: {} as never }))).toBe("onEvent");
    expect(refusedKey(() => new CacheInvalidator({ cache: c, purger: recorder(), cdnPaths: () => undefined }))).toBeUndefined();
  });
});

describe("defaultCdnPaths", () => {
  it.each([
    ["/", true],
    ["/a/", true],
    ["/a/b-c.d/", true],
    ["", false],
    ["a/", false],
    ["/a", false],
    ["//", true],
    ["/a*/", false],
    ["/a?/", false],
    ["/a b/", false],
    ["x/a/", false],
    ["/a/\n", false],
  ])("pathPrefix %j accepted: %s", (prefix, accepted) => {
    expect(refusedKey(() => defaultCdnPaths(prefix))).toBe(accepted ? undefined : "pathPrefix");
  });

  it('a key that is a path purges that path; any other key purges "<prefix>*" (property)', () => {
    const segment = fc.stringMatching(/^[a-z0-9-]{1,6}$/);
    const prefix = fc.array(segment, { maxLength: 3 }).map((s) => (s.length === 0 ? "/" : `/${s.join("/")}/`));
    fc.assert(
      fc.property(prefix, fc.string({ maxLength: 10 }), (p, key) => {
        const expected = key.startsWith("/") ? patternToPath(key) : `${p}*`;
        expect(defaultCdnPaths(p)(key)).toBe(expected);
      }),
    );
    expect(defaultCdnPaths()("item:1")).toBe("/*");
  });
});

describe("CacheInvalidator.invalidate", () => {
  it("with the CDN off: no purge and no cdn field, the cache tiers cleared", async () => {
    const c = cache({ enabled: false });
    const purger = recorder();
    await c.set("k:1", 1);
    const r = await new CacheInvalidator({ cache: c, purger }).invalidate("k:*");
    expect(r).toEqual({ pattern: "k:*", l1: 1, l2: 1, complete: true });
    expect(purger.calls).toEqual([]);
  });

  it.each([
    ["undefined", undefined, undefined],
    ["an empty list", [], undefined],
    ["one path", "/a/1", ["/a/1"]],
    ["a list", ["/a/1", "/a/1?*"], ["/a/1", "/a/1?*"]],
  ] as [string, string | string[] | undefined, string[] | undefined][])(
    "a mapper answering %s purges %j",
    async (_name, mapped, purged) => {
      const c = cache({ enabled: true, distributionId: "E1" });
      const purger = recorder();
      const seen: string[] = [];
      const r = await new CacheInvalidator({
        cache: c,
        purger,
        cdnPaths: (k) => (seen.push(k), mapped),
      }).invalidate("item:*");
      expect(seen).toEqual(["item:*"]);
      expect(purger.calls).toEqual(purged ? [purged] : []);
      if (purged) expect(r.cdn).toEqual({ ok: true, paths: purged, invalidationIds: ["I1"], requests: 1 });
      else expect(r).not.toHaveProperty("cdn");
      expect(r).toMatchObject({ pattern: "item:*", complete: true });
    },
  );

  it("a CdnPurgeError is reported as thrown; anything else is wrapped with its text, the paths and the cause", async () => {
    const thrown = new CdnPurgeError("AccessDenied", { paths: ["/other"], attempts: 3, throttled: true });
    for (const [value, message] of [
      [thrown, undefined],
      [new Error("boom"), "CDN purge failed: Error: boom"],
      ["plain text", 'CDN purge failed: "plain text"'],
      [undefined, "CDN purge failed: undefined"],
      [{ message: "text" }, "CDN purge failed: text"],
      [{ message: 7 }, "CDN purge failed: { message: 7 }"],
      // String() of an object without a prototype throws: the report must still be written.
      [Object.create(null), "CDN purge failed: [Object: null prototype] {}"],
    ] as [unknown, string | undefined][]) {
      const events: CacheEvent[] = [];
      const c = cache({ enabled: true, distributionId: "E1" }, { onEvent: (e) => events.push(e) });
      const r = await new CacheInvalidator({
        cache: c,
        purger: recorder({ value }),
        cdnPaths: () => ["/p/1", "/p/*"],
      }).invalidate("p:1");
      expect(r.cdn?.ok).toBe(false);
      const cdn = r.cdn as Extract<typeof r.cdn, { ok: false }>;
      expect(cdn.paths).toEqual(["/p/1", "/p/*"]);
      if (message === undefined) expect(cdn.error).toBe(thrown);
      else {
        expect(cdn.error).toBeInstanceOf(CdnPurgeError);
        expect(cdn.error).toMatchObject({ message, paths: ["/p/1", "/p/*"], attempts: 1, throttled: false, cause: value });
      }
      // Told to the cache's listener (no listener of the invalidator's own), once, with the same paths and error.
      expect(events).toEqual([{ type: "purge-failed", paths: ["/p/1", "/p/*"], error: cdn.error }]);
    }
  });

  it("the invalidator's own onEvent wins over the cache's", async () => {
    const cacheEvents: CacheEvent[] = [];
    const ownEvents: CacheEvent[] = [];
    const c = cache({ enabled: true, distributionId: "E1" }, { onEvent: (e) => cacheEvents.push(e) });
    await new CacheInvalidator({
      cache: c,
      purger: recorder({ value: new Error("x") }),
      onEvent: (e) => ownEvents.push(e),
    }).invalidate("/a");
    expect(ownEvents.map((e) => e.type)).toEqual(["purge-failed"]);
    expect(cacheEvents).toEqual([]);
  });
});

describe("the CloudFrontPurger an invalidator builds", () => {
  const cf = new FakeCloudFront();
  const saved = { ...process.env };
  beforeAll(async () => {
    // The SDK's own configuration: a service endpoint and static credentials from the environment.
    process.env.AWS_ENDPOINT_URL_CLOUDFRONT = await cf.start();
    process.env.AWS_ACCESS_KEY_ID = "AKIDTEST";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
  });
  afterAll(async () => {
    process.env = saved;
    await cf.stop();
  });

  it("purges the settings' distribution with the mapped paths as given (no second mapping), and close() releases it", async () => {
    const c = cache({ enabled: true, distributionId: "EBUILT", pathPrefix: "/svc/" });
    const inv = new CacheInvalidator({ cache: c, cdnPaths: (k) => [`/svc/${k}`, "/svc/a?b"] });
    const r = await inv.invalidate("item:1");
    // patternToPath would have cut "/svc/a?b" to "/svc/a*": the mapper's paths are CDN paths already.
    expect(cf.received).toEqual([expect.objectContaining({ distributionId: "EBUILT", paths: ["/svc/a?b", "/svc/item:1"] })]);
    expect(r.cdn).toMatchObject({ ok: true, paths: ["/svc/a?b", "/svc/item:1"] });
    // The SDK keeps its connection alive (the server would drop it idle after 5 s): close() must end it now.
    expect(cf.openConnections()).toBeGreaterThan(0);
    await inv.close();
    expect(await timeUntil(() => cf.openConnections() === 0, 2_000)).toBeLessThan(2_000);
  });

  it("close() leaves an injected purger open; an invalidator without a CDN closes nothing", async () => {
    const injected = recorder();
    const on = new CacheInvalidator({ cache: cache({ enabled: true, distributionId: "E1" }), purger: injected });
    await on.close();
    const off = new CacheInvalidator({ cache: cache({ enabled: false }), purger: injected });
    await off.close();
    expect(injected.closed).toBe(0);
  });
});
