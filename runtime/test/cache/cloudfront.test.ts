import { CloudFrontPurger, CdnPurgeError, CacheInvalidator, CacheManager, type CdnPurger } from "../../src/cache";
import { FakeCloudFront } from "../helpers/fake-cloudfront";

let cf: FakeCloudFront;
let endpoint: string;
const purgers: CloudFrontPurger[] = [];

function purger(options: Partial<ConstructorParameters<typeof CloudFrontPurger>[0]> = {}): CloudFrontPurger {
  const p = new CloudFrontPurger({
    distributionId: "E2EXAMPLE",
    clientConfig: { endpoint, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } },
    minIntervalMs: 0,
    baseDelayMs: 5,
    maxDelayMs: 20,
    ...options,
  });
  purgers.push(p);
  return p;
}

beforeEach(async () => {
  cf = new FakeCloudFront();
  endpoint = await cf.start();
});
afterEach(async () => {
  await Promise.all(purgers.splice(0).map((p) => p.close()));
  await cf.stop();
});

describe("CloudFrontPurger", () => {
  it("sends CreateInvalidation with paths derived from the patterns", async () => {
    const r = await purger().purge(["/products/*", "/about", "page?", "/products/1"]);
    expect(cf.received).toHaveLength(1);
    expect(cf.received[0].distributionId).toBe("E2EXAMPLE");
    // /products/1 is covered by /products/*; "page?" becomes /page* (CloudFront accepts only a trailing *)
    expect(cf.received[0].paths.sort()).toEqual(["/about", "/page*", "/products/*"]);
    expect(cf.received[0].quantity).toBe(3);
    expect(r).toEqual({ paths: ["/about", "/page*", "/products/*"], invalidationIds: ["I1"], requests: 1 });
  });

  it("batches by the path and wildcard limits, each batch with its own CallerReference", async () => {
    const exact = Array.from({ length: 25 }, (_, i) => `/item/${i}`);
    const wild = Array.from({ length: 7 }, (_, i) => `/cat${i}/*`);
    const r = await purger({ maxPathsPerInvalidation: 10, maxWildcardsPerInvalidation: 3 }).purge([...exact, ...wild]);
    const sizes = cf.received.map((x) => x.paths.length);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(32);
    for (const batch of cf.received) {
      expect(batch.paths.length).toBeLessThanOrEqual(10);
      expect(batch.paths.filter((p) => p.endsWith("*")).length).toBeLessThanOrEqual(3);
      expect(batch.quantity).toBe(batch.paths.length);
    }
    expect(new Set(cf.received.flatMap((x) => x.paths)).size).toBe(32);
    const refs = cf.received.map((x) => x.callerReference);
    expect(new Set(refs).size).toBe(refs.length);
    expect(r.invalidationIds).toHaveLength(cf.received.length);
  });

  it("uses a new CallerReference on every purge call, even for the same paths", async () => {
    const p = purger();
    await p.purge(["/a"]);
    await p.purge(["/a"]);
    expect(cf.received[0].callerReference).not.toBe(cf.received[1].callerReference);
  });

  it.each([
    ["TooManyInvalidationsInProgress (400)", { status: 400, code: "TooManyInvalidationsInProgress" }],
    ["Throttling (400)", { status: 400, code: "Throttling" }],
    ["HTTP 429", { status: 429, code: "TooManyRequestsException" }],
    ["HTTP 503", { status: 503, code: "ServiceUnavailable" }],
  ])("retries %s with backoff, reusing the batch's CallerReference (idempotent)", async (_name, reply) => {
    cf.script([reply, reply]);
    const r = await purger().purge(["/x/*"]);
    expect(cf.received).toHaveLength(3);
    expect(new Set(cf.received.map((x) => x.callerReference)).size).toBe(1);
    expect(r.requests).toBe(3);
    expect(r.invalidationIds).toEqual(["I3"]);
  });

  it("gives up after maxAttempts with CdnPurgeError (UAIP_CDN_PURGE_FAILED) naming the paths", async () => {
    const throttled = { status: 400, code: "TooManyInvalidationsInProgress" };
    cf.script(Array(10).fill(throttled));
    const err = await purger({ maxAttempts: 4 })
      .purge(["/x/*"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CdnPurgeError);
    expect(err).toMatchObject({ code: "UAIP_CDN_PURGE_FAILED", paths: ["/x/*"], attempts: 4, throttled: true });
    expect(cf.received).toHaveLength(4);
  });

  it("does not retry a non-retriable error (AccessDenied)", async () => {
    cf.script([{ status: 403, code: "AccessDenied" }]);
    const err = await purger()
      .purge(["/x"])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "UAIP_CDN_PURGE_FAILED", attempts: 1, throttled: false });
    expect(cf.received).toHaveLength(1);
  });

  it("throttles: at most maxConcurrent requests in flight and starts spaced by minIntervalMs", async () => {
    cf.script([], 30);
    const paths = Array.from({ length: 6 }, (_, i) => `/p/${i}`);
    await purger({ maxPathsPerInvalidation: 1, maxConcurrent: 2, minIntervalMs: 25 }).purge(paths);
    expect(cf.received).toHaveLength(6);
    expect(cf.maxInFlight).toBeLessThanOrEqual(2);
    const starts = cf.received.map((x) => x.at).sort((x, y) => x - y);
    // 6 starts at least 25 ms apart span >= 125 ms (arrival times jitter a little on a busy machine).
    expect(starts[5] - starts[0]).toBeGreaterThanOrEqual(110);
  });
});

describe("CacheInvalidator", () => {
  it("purges the CDN only when cdn.enabled", async () => {
    const calls: string[][] = [];
    const fake: CdnPurger = {
      purge: async (patterns) => (calls.push([...patterns]), { paths: [...patterns], invalidationIds: ["X"], requests: 1 }),
    };
    const on = new CacheManager({ config: { cdn: { enabled: true, distributionId: "E1" } } });
    const off = new CacheManager();
    await on.set("/products/1", 1);
    const report = await new CacheInvalidator({ cache: on, purger: fake }).invalidate("/products/*");
    expect(report).toMatchObject({ l1: 1, complete: true, cdn: { invalidationIds: ["X"] } });
    expect(await new CacheInvalidator({ cache: off, purger: fake }).invalidate("/products/*")).not.toHaveProperty("cdn");
    expect(calls).toEqual([["/products/*"]]);
    await Promise.all([on.close(), off.close()]);
  });

  it("builds a CloudFrontPurger from the settings and names the missing distribution id", async () => {
    const c = new CacheManager({ config: { cdn: { enabled: true } } });
    expect(() => new CacheInvalidator({ cache: c })).toThrow(
      expect.objectContaining({ code: "UAIP_CACHE_INVALID_OPTIONS", key: "config.cdn.distributionId" }),
    );
    await c.close();
  });

  it("end to end against the fake endpoint: cache cleared, CDN purged", async () => {
    const c = new CacheManager({ config: { cdn: { enabled: true, distributionId: "EDIST" } } });
    await c.set("/img/a.png", "a");
    const inv = new CacheInvalidator({ cache: c, purger: purger({ distributionId: "EDIST" }) });
    const report = await inv.invalidate("/img/*");
    expect(report.l1).toBe(1);
    expect(cf.received).toEqual([expect.objectContaining({ distributionId: "EDIST", paths: ["/img/*"] })]);
    await inv.close();
    await c.close();
  });
});
