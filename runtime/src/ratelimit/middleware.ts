import type { IncomingMessage, ServerResponse } from "node:http";
import { checkValue, func, object, required } from "../options";
import { RateLimitOptionsError } from "./errors";
import { rateLimitHeaders } from "./headers";
import type { RateLimiter } from "./limiter";

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

/**
 * Express-style `(req, res, next)` middleware (also usable with bare node:http, see
 * `rateLimitHandler`). Every answer carries RateLimit/RateLimit-Policy; a request over its limit
 * gets 429 + Retry-After, one refused only because the store is down ('deny') gets 503 + Retry-After.
 * A failing keyGenerator or a malformed key goes to `next(err)`.
 */
export function rateLimitMiddleware<Req extends IncomingMessage = IncomingMessage>(limiter: RateLimiter<Req>) {
  checkValue("rateLimitMiddleware", "limiter", limiter, LIMITER, middlewareError);
  return (req: Req, res: ServerResponse, next: Next): void => {
    let key: string;
    try {
      key = limiter.keyGenerator(req);
    } catch (err) {
      next(err);
      return;
    }
    limiter.consume(key).then((result) => {
      for (const [name, value] of Object.entries(rateLimitHeaders(limiter.policyName, limiter.windowMs, result)))
        res.setHeader(name, value);
      if (result.allowed) {
        next();
        return;
      }
      // Only a refusal the policy made without counting is a 503; an insurance-store refusal is a real 429.
      const unavailable = result.reason === "store_unavailable";
      res.statusCode = unavailable ? 503 : 429;
      res.setHeader("Content-Type", "application/json");
      res.end(
        JSON.stringify({
          error: unavailable
            ? { code: RATE_LIMIT_UNAVAILABLE_CODE, message: "rate limiting is temporarily unavailable; retry later" }
            : { code: RATE_LIMITED_CODE, message: `rate limit of ${result.limit} requests per ${limiter.windowMs} ms exceeded` },
        }),
      );
    }, next);
  };
}

/**
 * Wraps a node:http request handler. Errors (bad key, throwing keyGenerator) answer 500 with the
 * error's code, since there is no `next` to hand them to.
 */
export function rateLimitHandler<Req extends IncomingMessage = IncomingMessage>(
  limiter: RateLimiter<Req>,
  handler: (req: Req, res: ServerResponse) => void,
): (req: Req, res: ServerResponse) => void {
  checkValue("rateLimitHandler", "handler", handler, required(func("a function (req, res) => void")), middlewareError);
  const middleware = rateLimitMiddleware(limiter);
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
