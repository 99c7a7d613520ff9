/**
 * CloudFrontPurger at its edges (issue #22): which failures are retried (a rule over error names and HTTP
 * statuses), an injected client refused when it cannot send, and a client that rejects with something that
 * is not an Error still reported as a CdnPurgeError naming the batch's paths. The injected clients here stand
 * in for the cloud (the one thing the project mocks); the SDK builds the real CreateInvalidation commands.
 */
import fc from "fast-check";
import { CacheOptionsError, CdnPurgeError, CloudFrontPurger, type CloudFrontClientLike } from "../../src/cache";
import { isRetriable } from "../../src/cache/cloudfront";

// CloudFront's throttling answers and the transient HTTP statuses, as documented for CreateInvalidation and the SDK.
const THROTTLING = [
  "TooManyInvalidationsInProgress",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
];
const TRANSIENT_STATUS = [429, 500, 502, 503, 504];

describe("isRetriable", () => {
  it("retries a throttling name or a transient status, and nothing else (property)", () => {
    const name = fc.oneof(fc.constantFrom(...THROTTLING, "AccessDenied", "InvalidArgument", ""), fc.string());
    const status = fc.oneof(fc.constantFrom(...TRANSIENT_STATUS, 400, 403, 404, 501, 505, 0), fc.integer({ min: 100, max: 599 }));
    fc.assert(
      fc.property(fc.option(name), fc.option(status), (n, s) => {
        const error = { ...(n === null ? {} : { name: n }), ...(s === null ? {} : { $metadata: { httpStatusCode: s } }) };
        const expected = (n !== null && THROTTLING.includes(n)) || (s !== null && TRANSIENT_STATUS.includes(s));
        expect(isRetriable(error)).toBe(expected);
      }),
    );
  });

  it("is false for anything that is not an error object", () => {
    for (const value of [null, undefined, "Throttling", 503, true]) expect(isRetriable(value)).toBe(false);
    expect(isRetriable({ $metadata: {} })).toBe(false);
  });
});

describe("CloudFrontPurger with an injected client", () => {
  it("refuses a client without send(), by name; takes one with it", () => {
    const key = (client: unknown) => {
      try {
        new CloudFrontPurger({ distributionId: "E1", client: client as CloudFrontClientLike });
      } catch (e) {
        expect(e).toBeInstanceOf(CacheOptionsError);
        return (e as CacheOptionsError).key;
      }
      return undefined;
    };
    expect(key({ destroy: () => undefined })).toBe("client");
    expect(key({ send: "yes", destroy: () => undefined })).toBe("client");
    expect(key({ send: async () => ({}), destroy: () => undefined })).toBeUndefined();
  });

  it.each([
    [null, "not retriable: null"],
    [undefined, "not retriable: undefined"],
    ["plain text", 'not retriable: "plain text"'],
    [42, "not retriable: 42"],
    [{ code: "odd" }, "not retriable: { code: 'odd' }"],
    [Object.create(null), "not retriable: [Object: null prototype] {}"],
  ])("a client rejecting with %p: a CdnPurgeError naming the paths and the value, not retried", async (value, text) => {
    let sends = 0;
    const client: CloudFrontClientLike = {
      send: async () => {
        sends++;
        throw value;
      },
      destroy: () => undefined,
    };
    const p = new CloudFrontPurger({ distributionId: "E1", client, minIntervalMs: 0, baseDelayMs: 0 });
    const error = await p.purge(["/a/1", "/b/*"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CdnPurgeError);
    expect(error).toMatchObject({ paths: ["/a/1", "/b/*"], attempts: 1, throttled: false });
    expect((error as Error).message).toContain(text);
    expect((error as Error).cause).toBe(value);
    expect(sends).toBe(1);
  });

  it("a client's Error is named with its name and message", async () => {
    const client: CloudFrontClientLike = {
      send: async () => {
        throw Object.assign(new Error("no such distribution"), { name: "NoSuchDistribution" });
      },
      destroy: () => undefined,
    };
    const error = await new CloudFrontPurger({ distributionId: "E1", client }).purge(["/x"]).catch((e: unknown) => e);
    expect((error as Error).message).toContain("NoSuchDistribution: no such distribution");
    expect((error as Error).message).toContain("not retriable");
  });

  it("an empty distribution id is refused by its settings key, with the fix", () => {
    const client: CloudFrontClientLike = { send: async () => ({}), destroy: () => undefined };
    let error: unknown;
    try {
      new CloudFrontPurger({ distributionId: "", client });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheOptionsError);
    expect(error).toMatchObject({ key: "config.cdn.distributionId" });
    expect((error as Error).message).toMatch(/config\.cdn\.distributionId is empty; set .* or disable cdn/);
  });

  it("skips the patterns pathFor maps to undefined or to an empty path, and purges the rest", async () => {
    const sent: string[][] = [];
    const client: CloudFrontClientLike = {
      send: async (command) => {
        sent.push(
          (command as { input: { InvalidationBatch: { Paths: { Items: string[] } } } }).input.InvalidationBatch.Paths.Items,
        );
        return { Invalidation: { Id: "I1" } };
      },
      destroy: () => undefined,
    };
    const pathFor = (p: string) => (p === "skip" ? undefined : p === "empty" ? "" : `/${p}`);
    const r = await new CloudFrontPurger({ distributionId: "E1", client, pathFor }).purge(["skip", "a", "empty", "b"]);
    expect(sent).toEqual([["/a", "/b"]]);
    expect(r).toEqual({ paths: ["/a", "/b"], invalidationIds: ["I1"], requests: 1 });
  });
});

describe("CloudFrontPurger defaults (one request at a time, 100 ms apart, throttling retried with backoff)", () => {
  it("sends one batch at a time, starts at least 100 ms apart, and retries a throttled batch", async () => {
    const starts: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let throttleNext = true;
    const client: CloudFrontClientLike = {
      send: async () => {
        starts.push(performance.now());
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        if (throttleNext) {
          throttleNext = false;
          throw Object.assign(new Error("slow down"), { name: "Throttling" });
        }
        return { Invalidation: { Id: `I${starts.length}` } };
      },
      destroy: () => undefined,
    };
    const r = await new CloudFrontPurger({ distributionId: "E1", client, maxPathsPerInvalidation: 1 }).purge(["/a", "/b", "/c"]);
    expect(r.requests).toBe(4);
    expect(r.invalidationIds).toHaveLength(3);
    expect(maxInFlight).toBe(1);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    // Timers never fire early; 1 ms of slack for performance.now() against the timer clock.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(99);
  });
});
