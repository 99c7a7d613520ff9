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
    // The spacing is decided when a request takes its slot; on a loaded machine the send itself can start some ms
    // later (seen: 11 ms for the first), so a measured gap may fall short by that much, never to the 20 ms of a send.
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(75);
    expect(starts[3] - starts[0]).toBeGreaterThanOrEqual(3 * 100 - 15);
  });
});

describe("CloudFrontPurger default concurrency", () => {
  it("keeps one request in flight even when a send outlasts the 100 ms spacing", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const client: CloudFrontClientLike = {
      send: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 150));
        inFlight--;
        return { Invalidation: { Id: "I" } };
      },
      destroy: () => undefined,
    };
    await new CloudFrontPurger({ distributionId: "E1", client, maxPathsPerInvalidation: 1 }).purge(["/a", "/b", "/c"]);
    expect(maxInFlight).toBe(1);
  });
});

describe("CloudFrontPurger failures over several batches", () => {
  it("names the distribution, how many batches failed, every failed path, the most attempts and whether any was throttled", async () => {
    // Batch /a: not retriable (1 attempt). Batch /b: throttled until maxAttempts (3). Batch /c: purged.
    const attempts = new Map<string, number>();
    const denied = Object.assign(new Error("denied"), { name: "AccessDenied" });
    const client: CloudFrontClientLike = {
      send: async (command) => {
        const path = (command as { input: { InvalidationBatch: { Paths: { Items: string[] } } } }).input.InvalidationBatch.Paths
          .Items[0];
        attempts.set(path, (attempts.get(path) ?? 0) + 1);
        if (path === "/a") throw denied;
        if (path === "/b") throw Object.assign(new Error("slow down"), { name: "Throttling" });
        return { Invalidation: { Id: "I" } };
      },
      destroy: () => undefined,
    };
    const p = new CloudFrontPurger({
      distributionId: "EDIST",
      client,
      maxPathsPerInvalidation: 1,
      maxAttempts: 3,
      minIntervalMs: 0,
      baseDelayMs: 0,
    });
    const error = (await p.purge(["/a", "/b", "/c"]).catch((e: unknown) => e)) as CdnPurgeError;
    expect(error).toBeInstanceOf(CdnPurgeError);
    expect(error.message).toMatch(
      /^CloudFront purge of distribution EDIST failed for 2 of 3 batches: CreateInvalidation not retriable: AccessDenied: denied$/,
    );
    expect([...error.paths].sort()).toEqual(["/a", "/b"]);
    expect(error.attempts).toBe(3);
    expect(error.throttled).toBe(true);
    expect(error.cause).toBe(denied);
    expect(Object.fromEntries(attempts)).toEqual({ "/a": 1, "/b": 3, "/c": 1 });
  });
});

describe("CloudFrontPurger.close", () => {
  it("never destroys an injected client, and is a no-op for a purger that never sent", async () => {
    let destroyed = 0;
    const client: CloudFrontClientLike = { send: async () => ({ Invalidation: { Id: "I" } }), destroy: () => void destroyed++ };
    const injected = new CloudFrontPurger({ distributionId: "E1", client });
    await injected.purge(["/a"]);
    await injected.close();
    expect(destroyed).toBe(0);
    await expect(new CloudFrontPurger({ distributionId: "E1" }).close()).resolves.toBeUndefined();
  });
});

describe("CloudFrontPurger retries", () => {
  afterEach(() => jest.restoreAllMocks());

  /** A client that answers Throttling `times` times, then succeeds; the start time of each send. */
  function throttling(times: number): CloudFrontClientLike & { starts: number[] } {
    const starts: number[] = [];
    return {
      starts,
      send: async () => {
        starts.push(performance.now());
        if (starts.length <= times) throw Object.assign(new Error("slow down"), { name: "Throttling" });
        return { Invalidation: { Id: "I1" } };
      },
      destroy: () => undefined,
    };
  }

  it("waits up to baseDelayMs x 2^(attempt - 1), capped at maxDelayMs, between attempts (full jitter at its top)", async () => {
    // Math.random at its top: each wait is the whole cap, so the gaps show the caps 100, 200, 250, 250.
    jest.spyOn(Math, "random").mockReturnValue(0.999);
    const client = throttling(4);
    const p = new CloudFrontPurger({ distributionId: "E1", client, minIntervalMs: 0, baseDelayMs: 100, maxDelayMs: 250 });
    expect(await p.purge(["/a"])).toMatchObject({ requests: 5 });
    const gaps = client.starts.slice(1).map((t, i) => t - client.starts[i]);
    const caps = [100, 200, 250, 250];
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(caps[i] * 0.999 - 1);
      // Timers fire late on a loaded machine, never early; the next cap up is at least 50 ms further.
      expect(gap).toBeLessThan(caps[i] + 100);
    });
  });

  it("says a batch was still throttled after its last attempt, with the last answer", async () => {
    const client = throttling(10);
    const error = (await new CloudFrontPurger({ distributionId: "E1", client, maxAttempts: 3, minIntervalMs: 0, baseDelayMs: 0 })
      .purge(["/a"])
      .catch((e: unknown) => e)) as CdnPurgeError;
    expect(error.message).toMatch(/CreateInvalidation still throttled after 3 attempts: Throttling: slow down$/);
    expect(error).toMatchObject({ attempts: 3, throttled: true, paths: ["/a"] });
  });

  it("an answer without an invalidation counts as purged, with an empty id", async () => {
    const client: CloudFrontClientLike = { send: async () => ({}), destroy: () => undefined };
    expect(await new CloudFrontPurger({ distributionId: "E1", client }).purge(["/a"])).toEqual({
      paths: ["/a"],
      invalidationIds: [""],
      requests: 1,
    });
  });
});
