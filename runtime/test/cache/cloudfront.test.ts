import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudFrontPurger, CdnPurgeError, CacheInvalidator, CacheManager, type CdnPurger } from "../../src/cache";

interface Received {
  distributionId: string;
  callerReference: string;
  paths: string[];
  quantity: number;
  at: number;
}

type Reply = { status: number; code?: string } | "ok";

/** Plays CloudFront's CreateInvalidation REST endpoint; `script` decides each answer in order. */
class FakeCloudFront {
  readonly received: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #server: Server;
  #script: Reply[] = [];
  #delayMs = 0;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }

  script(replies: Reply[], delayMs = 0): void {
    this.#script = replies;
    this.#delayMs = delayMs;
  }

  async #handle(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += chunk;
    const m = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) {
      res.writeHead(404).end();
      return;
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const callerReference = /<CallerReference>([^<]*)<\/CallerReference>/.exec(body)?.[1] ?? "";
    const paths = [...body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((x) => x[1]);
    const quantity = Number(/<Quantity>(\d+)<\/Quantity>/.exec(body)?.[1]);
    this.received.push({ distributionId: m[1], callerReference, paths, quantity, at: Date.now() });
    if (this.#delayMs) await new Promise((r) => setTimeout(r, this.#delayMs));
    this.inFlight--;
    const reply = this.#script.shift() ?? "ok";
    if (reply === "ok") {
      const id = `I${this.received.length}`;
      res.writeHead(201, {
        "content-type": "text/xml",
        location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${m[1]}/invalidation/${id}`,
      });
      res.end(
        `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>${id}</Id><Status>InProgress</Status>` +
          `<CreateTime>2026-01-01T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>${paths.length}</Quantity><Items>` +
          paths.map((p) => `<Path>${p}</Path>`).join("") +
          `</Items></Paths><CallerReference>${callerReference}</CallerReference></InvalidationBatch></Invalidation>`,
      );
      return;
    }
    res.writeHead(reply.status, { "content-type": "text/xml" });
    res.end(
      `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type>` +
        `<Code>${reply.code ?? "ServiceUnavailable"}</Code><Message>scripted</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
    );
  }
}

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
