import type { IncomingMessage, ServerResponse } from "node:http";
import { checkValue, func, object, required, validateOptions, type SpecFor } from "../options";
import { RateLimitOptionsError } from "./errors";
import { rateLimitHeaders } from "./headers";
import type { RateLimiter } from "./limiter";
import type { RateLimitResult } from "./types";

const middlewareError = (key: string, message: string) => new RateLimitOptionsError(key, message);
const LIMITER = required(
  object<RateLimiter<never>>("a RateLimiter: rateLimitMiddleware(new RateLimiter({ windowMs, maxRequests }))", (v) => {
    const l = v as { consume?: unknown; keyGenerator?: unknown };
    return typeof l.consume === "function" && typeof l.keyGenerator === "function";
  }),
);

/** Code in the JSON body of a 429 (limit exceeded). */
export const RATE_LIMITED_CODE = "UAIP_RATE_LIMITED";
/** Code in the JSON body of a 503 ('deny' failure policy while the store is down). */
export const RATE_LIMIT_UNAVAILABLE_CODE = "UAIP_RATE_LIMIT_UNAVAILABLE";

type Next = (err?: unknown) => void;

export interface RateLimitMiddlewareOptions<Req = IncomingMessage> {
  /**
   * Requests for which it returns (or resolves) true pass without being counted and without
   * RateLimit headers (express-rate-limit's `skip`): health checks, an allow-list. A throw or
   * rejection goes to `next(err)`. @default none: every request is counted
   */
  skip?: (req: Req) => boolean | Promise<boolean>;
}

const RATE_LIMIT_MIDDLEWARE_OPTIONS_SPEC = {
  skip: func<(req: never) => boolean | Promise<boolean>>("a function (req) => boolean | Promise<boolean>"),
} satisfies SpecFor<RateLimitMiddlewareOptions>;

/**
 * Express-style `(req, res, next)` middleware (also usable with bare node:http, see
 * `rateLimitHandler`). Every answer carries RateLimit/RateLimit-Policy; a request over its limit
 * gets 429 + Retry-After, one refused only because the store is down ('deny') gets 503 + Retry-After.
 * A failing keyGenerator or a malformed key goes to `next(err)`.
 */
export function rateLimitMiddleware<Req extends IncomingMessage = IncomingMessage>(
  limiter: RateLimiter<Req>,
  options?: RateLimitMiddlewareOptions<Req>,
) {
  checkValue("rateLimitMiddleware", "limiter", limiter, LIMITER, middlewareError);
  const o = validateOptions("rateLimitMiddleware", options, RATE_LIMIT_MIDDLEWARE_OPTIONS_SPEC, middlewareError);
  const skip = o.skip as RateLimitMiddlewareOptions<Req>["skip"];
  const answer = (res: ServerResponse, next: Next, decision: RateLimitDecision): void => {
    for (const name in decision.headers) res.setHeader(name, decision.headers[name]);
    if (decision.refusal === undefined) {
      next();
      return;
    }
    res.statusCode = decision.refusal.status;
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify(decision.refusal.body));
  };
  const limit = (req: Req, res: ServerResponse, next: Next): void => {
    let key: string;
    let now: RateLimitResult | undefined;
    try {
      key = limiter.keyGenerator(req);
      // Decided in this turn when the store can (local tokens): no promise to wait for.
      now = limiter.consumeNow(key);
    } catch (err) {
      next(err);
      return;
    }
    if (now !== undefined) {
      answer(res, next, decisionOf(limiter, now));
      return;
    }
    limiter.consume(key).then((result) => answer(res, next, decisionOf(limiter, result)), next);
  };
  if (skip === undefined) return limit;
  return (req: Req, res: ServerResponse, next: Next): void => {
    let skipped: boolean | Promise<boolean>;
    try {
      skipped = skip(req);
    } catch (err) {
      next(err);
      return;
    }
    if (skipped === true) next();
    else if (skipped === false) limit(req, res, next);
    else Promise.resolve(skipped).then((yes) => (yes === true ? next() : limit(req, res, next)), next);
  };
}

/** What the limiter decided for one request: the headers to send, and the refusal to answer with, if any. */
export interface RateLimitDecision {
  headers: Record<string, string>;
  refusal?: { status: 429 | 503; body: { error: { code: string; message: string } } };
}

/**
 * The limiter's answer for `req` (shared by the middleware and the Fastify plugin): every answer
 * carries RateLimit/RateLimit-Policy; over the limit, 429; refused only because the store is down
 * ('deny'), 503. Throws what keyGenerator throws (at once, so a middleware hands it to `next` in the
 * same turn); rejects for a malformed key.
 */
export function rateLimitDecision<Req>(limiter: RateLimiter<Req>, req: Req): Promise<RateLimitDecision> {
  return limiter.consume(limiter.keyGenerator(req)).then((result) => decisionOf(limiter, result));
}

/** The headers and refusal of one limiter result (rateLimitDecision's answer, also for a result decided at once). */
function decisionOf<Req>(limiter: RateLimiter<Req>, result: RateLimitResult): RateLimitDecision {
  const headers = rateLimitHeaders(limiter.policyName, limiter.windowMs, result);
  if (result.allowed) return { headers };
  // Only a refusal the policy made without counting is a 503; an insurance-store refusal is a real 429.
  const unavailable = result.reason === "store_unavailable";
  return {
    headers,
    refusal: {
      status: unavailable ? 503 : 429,
      body: {
        error: unavailable
          ? { code: RATE_LIMIT_UNAVAILABLE_CODE, message: "rate limiting is temporarily unavailable; retry later" }
          : { code: RATE_LIMITED_CODE, message: `rate limit of ${result.limit} requests per ${limiter.windowMs} ms exceeded` },
      },
    },
  };
}

/**
 * Wraps a node:http request handler. Errors (bad key, throwing keyGenerator) answer 500 with the
 * error's code, since there is no `next` to hand them to.
 */
export function rateLimitHandler<Req extends IncomingMessage = IncomingMessage>(
  limiter: RateLimiter<Req>,
  handler: (req: Req, res: ServerResponse) => void,
  options?: RateLimitMiddlewareOptions<Req>,
): (req: Req, res: ServerResponse) => void {
  checkValue("rateLimitHandler", "handler", handler, required(func("a function (req, res) => void")), middlewareError);
  const middleware = rateLimitMiddleware(limiter, options);
  return (req, res) =>
    middleware(req, res, (err?: unknown) => {
      if (err === undefined) {
        handler(req, res);
        return;
      }
      res.statusCode = 500;
      res.setHeader("Content-Type", "application/json");
      res.end(
        JSON.stringify({ error: { code: (err as { code?: string }).code ?? "UAIP_INTERNAL", message: "rate limiter failed" } }),
      );
    });
}
