import { randomUUID } from "node:crypto";
import type * as CloudFrontSdk from "@aws-sdk/client-cloudfront";
import { batchPaths, patternToPath, prunePaths, type CdnPurger, type CdnPurgeResult } from "./cdn";
import { CacheOptionsError, CdnPurgeError } from "./errors";
import { duration, func, integer, object, string, validateOptions, type SpecFor } from "../options";
import { loadPeer } from "../peers";
import { setTimer } from "../timer";
import { thrownText } from "../errors";

/**
 * What the purger uses of the SDK's CloudFrontClient. Structural, so the published types do not
 * import the AWS SDK (an optional peer): a consumer without it still type-checks with
 * `skipLibCheck: false`. The SDK's CloudFrontClient satisfies it.
 */
export interface CloudFrontClientLike {
  send(command: object): Promise<unknown>;
  destroy(): void;
}

export interface CloudFrontPurgerOptions {
  /** Distribution to invalidate. */
  distributionId: string;
  /** A CloudFront client you own (not destroyed by `close()`). @default a client built from `clientConfig` */
  client?: CloudFrontClientLike;
  /**
   * Config for the client this purger builds: the SDK's CloudFrontClientConfig (region, credentials,
   * endpoint), typed as `object` so these types need no AWS SDK. SDK retries are turned off: this
   * class retries. @default {}
   */
  clientConfig?: object;
  /** Maps a cache-key pattern to a CDN path; return undefined to skip it. @default patternToPath */
  pathFor?: (pattern: string) => string | undefined;
  /** Paths per invalidation request (CloudFront accepts up to 3000). @default 3000 */
  maxPathsPerInvalidation?: number;
  /** Wildcard paths per request (CloudFront allows 15 wildcard paths in progress). @default 15 */
  maxWildcardsPerInvalidation?: number;
  /** Requests in flight at once. @default 1 */
  maxConcurrent?: number;
  /** Minimum gap between two request starts, in ms. @default 100 */
  minIntervalMs?: number;
  /** Attempts per batch, the first included, before giving up on throttling. @default 6 */
  maxAttempts?: number;
  /** First backoff, in ms; doubles per attempt, with full jitter. @default 500 */
  baseDelayMs?: number;
  /** Backoff cap, in ms. @default 20000 */
  maxDelayMs?: number;
}

const CLOUDFRONT_PURGER_OPTIONS_SPEC = {
  distributionId: string({ pattern: /^[A-Z0-9]{0,64}$/i, what: "a CloudFront distribution id such as E2QWRUHEXAMPLE" }),
  client: object<CloudFrontClientLike>("a CloudFrontClient", (v) => typeof (v as CloudFrontClientLike).send === "function"),
  clientConfig: object<object>("CloudFrontClient options"),
  pathFor: func<(pattern: string) => string | undefined>("a function (pattern) => path | undefined"),
  // CloudFront's own quotas: 3000 paths and 15 wildcard paths in progress per distribution.
  maxPathsPerInvalidation: integer(1, 3_000),
  maxWildcardsPerInvalidation: integer(1, 15),
  maxConcurrent: integer(1, 100),
  minIntervalMs: duration(0),
  maxAttempts: integer(1, 100),
  baseDelayMs: duration(0),
  maxDelayMs: duration(0),
} satisfies SpecFor<CloudFrontPurgerOptions>;

const THROTTLING_NAMES = new Set([
  "TooManyInvalidationsInProgress",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
]);
const RETRIABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** Throttling and transient server errors are worth retrying; anything else (bad id, access denied) is not. */
export function isRetriable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLING_NAMES.has(e.name ?? "") || RETRIABLE_STATUS.has(e.$metadata?.httpStatusCode ?? 0);
}

/**
 * The SDK is loaded on first use: every service imports the runtime, few purge a CDN, and the client
 * package is large (and prints a Node-version warning on load).
 */
const loadSdk = (): typeof CloudFrontSdk => loadPeer<typeof CloudFrontSdk>("@aws-sdk/client-cloudfront");

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimer(resolve, ms).unref());

/**
 * CdnPurger for CloudFront (CreateInvalidation). Paths are batched within CloudFront's limits, requests
 * are throttled (concurrency and spacing), and throttling answers are retried with capped exponential
 * backoff. Each batch gets its own CallerReference; retries of a batch reuse it, which CloudFront treats
 * as the same request, so a retry after a lost response cannot create a duplicate invalidation.
 */
export class CloudFrontPurger implements CdnPurger {
  readonly distributionId: string;
  readonly #injected: CloudFrontClientLike | undefined;
  readonly #clientConfig: object;
  #client: Promise<CloudFrontClientLike> | undefined;
  readonly #pathFor: (pattern: string) => string | undefined;
  readonly #maxPaths: number;
  readonly #maxWildcards: number;
  readonly #maxConcurrent: number;
  readonly #minIntervalMs: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #nextStart = 0;

  constructor(options: CloudFrontPurgerOptions) {
    const o = validateOptions(
      "CloudFrontPurger",
      options ?? {},
      CLOUDFRONT_PURGER_OPTIONS_SPEC,
      (key, message) => new CacheOptionsError(key, message),
    );
    if (!o.distributionId)
      throw new CacheOptionsError(
        "config.cdn.distributionId",
        "config.cdn.distributionId is empty; set the CloudFront distribution to purge or disable cdn",
      );
    this.distributionId = o.distributionId;
    this.#injected = o.client;
    this.#clientConfig = o.clientConfig ?? {};
    this.#pathFor = o.pathFor ?? patternToPath;
    this.#maxPaths = o.maxPathsPerInvalidation ?? 3_000;
    this.#maxWildcards = o.maxWildcardsPerInvalidation ?? 15;
    this.#maxConcurrent = o.maxConcurrent ?? 1;
    this.#minIntervalMs = o.minIntervalMs ?? 100;
    this.#maxAttempts = o.maxAttempts ?? 6;
    this.#baseDelayMs = o.baseDelayMs ?? 500;
    this.#maxDelayMs = o.maxDelayMs ?? 20_000;
  }

  /** Purges the paths of all patterns; throws CdnPurgeError (code UAIP_CDN_PURGE_FAILED) naming the paths that could not be purged. */
  async purge(patterns: readonly string[]): Promise<CdnPurgeResult> {
    // Without the SDK no batch can be sent: say which package is missing, once, not per batch.
    loadSdk();
    const paths = prunePaths(patterns.map((p) => this.#pathFor(p)).filter((p): p is string => p !== undefined && p.length > 0));
    const batches = batchPaths(paths, this.#maxPaths, this.#maxWildcards);
    const outcomes = await Promise.allSettled(batches.map((batch) => this.#send(batch)));
    const ids: string[] = [];
    let requests = 0;
    const failed: CdnPurgeError[] = [];
    for (const o of outcomes) {
      if (o.status === "fulfilled") {
        ids.push(o.value.id);
        requests += o.value.attempts;
      } else {
        // #send rejects only with a CdnPurgeError: every failure inside its loop is wrapped, whatever was thrown.
        // (`requests` is not counted here: a failed purge throws, and the error carries the attempts.)
        failed.push(o.reason as CdnPurgeError);
      }
    }
    if (failed.length > 0) {
      const first = failed[0];
      throw new CdnPurgeError(
        `CloudFront purge of distribution ${this.distributionId} failed for ${failed.length} of ${batches.length} batches: ${first.message}`,
        {
          paths: failed.flatMap((f) => f.paths),
          attempts: Math.max(...failed.map((f) => f.attempts)),
          throttled: failed.some((f) => f.throttled),
        },
        { cause: first.cause },
      );
    }
    return { paths, invalidationIds: ids, requests };
  }

  async close(): Promise<void> {
    if (!this.#injected && this.#client) (await this.#client).destroy();
    this.#client = undefined;
  }

  /** The injected client, or one built on first use (SDK retries off: #send retries, with CloudFront-aware backoff). */
  #getClient(): Promise<CloudFrontClientLike> {
    this.#client ??= Promise.resolve(
      this.#injected ?? new (loadSdk().CloudFrontClient)({ region: "us-east-1", ...this.#clientConfig, maxAttempts: 1 }),
    );
    return this.#client;
  }

  async #send(paths: string[]): Promise<{ id: string; attempts: number }> {
    const callerReference = `uaip-${Date.now()}-${randomUUID()}`;
    const input = {
      DistributionId: this.distributionId,
      InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: paths } },
    };
    const { CreateInvalidationCommand } = loadSdk();
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await this.#getClient();
        const out = (await this.#throttled(() =>
          client.send(new CreateInvalidationCommand(input)),
        )) as CloudFrontSdk.CreateInvalidationCommandOutput;
        return { id: out.Invalidation?.Id ?? "", attempts: attempt };
      } catch (cause) {
        const retriable = isRetriable(cause);
        if (!retriable || attempt >= this.#maxAttempts) {
          const why = retriable ? `still throttled after ${attempt} attempts` : "not retriable";
          throw new CdnPurgeError(
            `CreateInvalidation ${why}: ${thrownText(cause)}`,
            { paths, attempts: attempt, throttled: retriable },
            { cause },
          );
        }
        const cap = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
        await sleep(Math.random() * cap);
      }
    }
  }

  /** At most `maxConcurrent` requests in flight, starts at least `minIntervalMs` apart. Backoff sleeps hold no slot. */
  async #throttled<T>(run: () => Promise<T>): Promise<T> {
    while (this.#active >= this.#maxConcurrent) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      const now = Date.now();
      const wait = this.#nextStart - now;
      this.#nextStart = Math.max(now, this.#nextStart) + this.#minIntervalMs;
      if (wait > 0) await sleep(wait);
      return await run();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
