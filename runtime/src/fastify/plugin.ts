import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as zlibConstants } from "node:zlib";
import { UaipError } from "../errors";
import type { HttpMetrics } from "../metrics/http-metrics";
import { checkOptions } from "../options";
import type { ResponseCompressor } from "../compression/response-compressor";
import type { RateLimiter } from "../ratelimit/limiter";
import { rateLimitDecision } from "../ratelimit/middleware";
import type { PressureGate } from "../resources/pressure-gate";

/**
 * The parts of Fastify's request, reply and instance the plugin uses, written out so that this
 * module (and the runtime's type declarations) never import `fastify`: it is an optional peer,
 * needed only by services that register the plugin. Fastify 5's own types satisfy them.
 */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions: { url?: string };
}
export interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  header(name: string, value: string): unknown;
  code(statusCode: number): unknown;
  type(contentType: string): unknown;
  send(payload?: unknown): unknown;
  hijack(): unknown;
}
export interface FastifyInstanceLike {
  addHook(name: "onRequest", hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>): unknown;
  addHook(name: "onRoute", hook: (route: { url: string }) => void): unknown;
  get(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

export interface UaipFastifyOptions {
  /**
   * HTTP metrics for every request, labelled with Fastify's matched route template; every route
   * registered after the plugin is declared to the metrics (`routes`), so unknown paths never crowd
   * one into "__other__" (register the plugin before the routes). @default none
   */
  metrics?: HttpMetrics;
  /** Where the metrics are served (GET); `false` serves none. @default "/metrics" when `metrics` is given */
  metricsPath?: string | false;
  /** Sheds load with 503 + Retry-After while the memory monitor reports pressure (its exempt paths pass). @default none */
  gate?: PressureGate;
  /** Rate limit per `keyGenerator(request.raw)`: RateLimit headers, 429 / 503 as the middleware answers. @default none */
  limiter?: RateLimiter;
  /** Requests for which it returns (or resolves) true are not rate limited (the middleware's `skip`). @default none */
  skip?: (req: IncomingMessage) => boolean | Promise<boolean>;
}

/** A `uaipFastify` option is malformed; `key` names it. */
export class FastifyPluginOptionsError extends UaipError {
  static readonly CODE = "UAIP_FASTIFY_OPTIONS_INVALID";
  readonly key: string;
  constructor(key: string, message: string) {
    super(FastifyPluginOptionsError.CODE, `uaipFastify option ${key}: ${message}`);
    this.key = key;
  }
}

export const UAIP_FASTIFY_OPTIONS = ["metrics", "metricsPath", "gate", "limiter", "skip"] as const;

/**
 * The runtime as a Fastify plugin: `await app.register(uaipFastify, { metrics, gate, limiter })`.
 * Hooks run on every request of the application (the plugin is not encapsulated), in this order:
 * metrics (so refusals are counted), pressure gate, rate limit.
 */
export async function uaipFastify(app: FastifyInstanceLike, options: UaipFastifyOptions): Promise<void> {
  checkOptions("uaipFastify", options, UAIP_FASTIFY_OPTIONS, (key, message) => new FastifyPluginOptionsError(key, message));
  const { metrics, gate, limiter, skip } = options;
  if (skip !== undefined && typeof skip !== "function")
    throw new FastifyPluginOptionsError("skip", `expected a function (req) => boolean | Promise<boolean>, got ${typeof skip}`);
  if (skip !== undefined && limiter === undefined)
    throw new FastifyPluginOptionsError("skip", "skip applies to the rate limit: pass `limiter` too, or drop `skip`");
  const metricsPath = options.metricsPath ?? (metrics ? "/metrics" : false);
  if (metricsPath !== false && (typeof metricsPath !== "string" || !metricsPath.startsWith("/")))
    throw new FastifyPluginOptionsError(
      "metricsPath",
      `expected a path starting with "/" or false, got ${JSON.stringify(metricsPath)}`,
    );
  if (metricsPath !== false && metrics === undefined)
    throw new FastifyPluginOptionsError("metricsPath", "there are no metrics to serve: pass `metrics` too");

  if (metrics) {
    const begin = metrics.middleware();
    const next = (): void => undefined;
    app.addHook("onRoute", (route) => metrics.routes.declare(route.url));
    app.addHook("onRequest", async (request, reply) => {
      // HttpMetrics reads the template from `req.route.path` (Express' convention); a 404 has none
      // and is labelled from its URL, under the cap.
      const url = request.routeOptions.url;
      if (url !== undefined) (request.raw as IncomingMessage & { route?: { path: string } }).route = { path: url };
      begin(request.raw, reply.raw, next);
    });
    if (metricsPath !== false)
      app.get(metricsPath, async (_request, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      });
  }

  if (gate) {
    app.addHook("onRequest", async (request, reply) => {
      // shed() answers on the raw response; Fastify must then leave the reply alone.
      if (gate.shed(request.raw, reply.raw)) reply.hijack();
    });
  }

  if (limiter) {
    app.addHook("onRequest", async (request, reply) => {
      if (skip !== undefined && (await skip(request.raw)) === true) return;
      const decision = await rateLimitDecision(limiter, request.raw);
      for (const [name, value] of Object.entries(decision.headers)) reply.header(name, value);
      if (decision.refusal !== undefined) {
        reply.code(decision.refusal.status);
        reply.send(decision.refusal.body);
      }
    });
  }
}

// Not encapsulated (what fastify-plugin sets): the hooks apply to the whole application.
Object.assign(uaipFastify, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "@uaip/runtime",
});

/**
 * Options for @fastify/compress (the well-kept Fastify compression plugin) with the settings of a
 * ResponseCompressor (the profile's `compression`): the same threshold, gzip/deflate level and
 * brotli quality. `await app.register(fastifyCompress, fastifyCompressOptions(runtime.compressor))`.
 */
export function fastifyCompressOptions(compressor: ResponseCompressor): {
  threshold: number;
  global: boolean;
  zlibOptions: { level: number };
  brotliOptions: { params: Record<number, number> };
} {
  return {
    threshold: compressor.threshold,
    global: compressor.level > 0,
    zlibOptions: { level: compressor.level },
    brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: compressor.brotliQuality } },
  };
}
