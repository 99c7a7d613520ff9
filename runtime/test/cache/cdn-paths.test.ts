/**
 * Issue #10, "the CDN purge path is wrong": keys map to the CDN paths the service is served under,
 * through a `cdnPaths` hook, and a failed purge is a visible typed result that never undoes the
 * cache invalidation already done.
 */
import { CacheInvalidator, CacheManager, CdnPurgeError, defaultCdnPaths, type CdnPurger } from "../../src/cache";

function recorder(fail?: Error): CdnPurger & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    purge: async (paths) => {
      calls.push([...paths]);
      if (fail) throw fail;
      return { paths: [...paths], invalidationIds: ["I1"], requests: 1 };
    },
  };
}

const cdnOn = (pathPrefix?: string) =>
  new CacheManager({ config: { cdn: { enabled: true, distributionId: "E1", ...(pathPrefix ? { pathPrefix } : {}) } } });

describe("cdnPaths", () => {
  it("by default purges the service's CDN prefix for a key that is not a path, never /item:*", async () => {
    const cache = cdnOn("/agent-intelligence/");
    const purger = recorder();
    await new CacheInvalidator({ cache, purger }).invalidate("item:*");
    expect(purger.calls).toEqual([["/agent-intelligence/*"]]);
    expect(defaultCdnPaths("/svc/")("/img/a.png")).toBe("/img/a.png"); // a key that is a path stays that path
    await cache.close();
  });

  it("a hook maps keys to the exact paths the CDN serves; undefined skips the purge", async () => {
    const cache = cdnOn("/agent-intelligence/");
    const purger = recorder();
    const inv = new CacheInvalidator({
      cache,
      purger,
      cdnPaths: (k) =>
        k.startsWith("item:")
          ? [`/agent-intelligence/items/${k.slice(5)}`, `/agent-intelligence/items/${k.slice(5)}?*`]
          : undefined,
    });
    const r = await inv.invalidate("item:42");
    expect(r.cdn).toMatchObject({ ok: true });
    await inv.invalidate("session:1");
    expect(purger.calls).toEqual([["/agent-intelligence/items/42", "/agent-intelligence/items/42?*"]]);
    await cache.close();
  });

  it("a failed purge is a typed result (ok: false, CdnPurgeError with the paths); the cache entries stay invalidated", async () => {
    const cache = cdnOn("/svc/");
    await cache.set("item:1", "v");
    const failure = new CdnPurgeError("AccessDenied", { paths: ["/svc/*"], attempts: 1, throttled: false });
    const r = await new CacheInvalidator({ cache, purger: recorder(failure) }).invalidate("item:*");
    expect(r).toMatchObject({ l1: 1, complete: true, cdn: { ok: false, paths: ["/svc/*"] } });
    expect(r.cdn && !r.cdn.ok && r.cdn.error).toBeInstanceOf(CdnPurgeError);
    expect(r.cdn && !r.cdn.ok && r.cdn.error.code).toBe("UAIP_CDN_PURGE_FAILED");
    expect(await cache.get("item:1")).toBeNull();
    // Any other failure (a bug in a custom purger) is wrapped the same way, never thrown.
    const odd = await new CacheInvalidator({ cache, purger: recorder(new Error("boom")) }).invalidate("x");
    expect(odd.cdn).toMatchObject({ ok: false, error: { code: "UAIP_CDN_PURGE_FAILED" } });
    await cache.close();
  });
});

describe("the reference service's mapping", () => {
  it("purges /<service>/items/<id> for item:<id>, the URL the CDN serves", async () => {
    const { serviceCdnPaths } = await import("../../../examples/service");
    const map = serviceCdnPaths("agent-intelligence");
    expect([map("item:42"), map("item:*"), map("session:1")]).toEqual([
      "/agent-intelligence/items/42",
      "/agent-intelligence/items/*",
      undefined,
    ]);
  });
});
