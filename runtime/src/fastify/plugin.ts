import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as zlibConstants } from "node:zlib";
import { UaipError } from "../errors";
import type { HttpMetrics } from "../metrics/http-metrics";
import { checkValue, func, object, required, showValue, validateOptions, type Field, type SpecFor } from "../options";
import type { ResponseCompressor } from "../compression/response-compressor";
import type { RateLimiter } from "../ratelimit/limiter";
import { rateLimitDecision } from "../ratelimit/middleware";
import type { PressureGate } from "../resources/pressure-gate";

/*
 * The parts of Fastify's request, reply and instance the plugin uses are written out so that this
 * module (and the runtime's type declarations) never import `fastify`: it is an optional peer,
 * needed only by services that register the plugin. Fastify 5's own types satisfy them.
 */

/** The parts of Fastify's request the plugin uses (Fastify 5's FastifyRequest satisfies it). */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions: { url?: string };
}
/** The parts of Fastify's reply the plugin uses (Fastify 5's FastifyReply satisfies it). */
export interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  header(name: string, value: string): unknown;
  code(statusCode: number): unknown;
  type(contentType: string): unknown;
  send(payload?: unknown): unknown;
  hijack(): unknown;
}
/** The parts of a Fastify instance the plugin uses: `addHook` and `get` (Fastify 5's FastifyInstance satisfies it). */
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

const pluginError = (key: string, message: string) => new FastifyPluginOptionsError(key, message);

/** A GET path starting with "/", or false (serve none). */
const METRICS_PATH: Field<string | false> = {
  expected: 'a path starting with "/" (e.g. "/metrics") or false',
  problem: (v) => (v === false || (typeof v === "string" && v.startsWith("/")) ? undefined : ""),
};

const UAIP_FASTIFY_OPTIONS_SPEC = {
  metrics: object<HttpMetrics>("an HttpMetrics from createMetrics({ serviceName })", (v) => {
    const m = v as { middleware?: unknown; registry?: unknown; routes?: unknown };
    return typeof m.middleware === "function" && typeof m.registry === "object" && typeof m.routes === "object";
  }),
  metricsPath: METRICS_PATH,
  gate: object<PressureGate>("a PressureGate", (v) => typeof (v as { shed?: unknown }).shed === "function"),
  limiter: object<RateLimiter>("a RateLimiter: new RateLimiter({ windowMs, maxRequests })", (v) => {
    const l = v as { consume?: unknown; keyGenerator?: unknown };
    return typeof l.consume === "function" && typeof l.keyGenerator === "function";
  }),
  skip: func<(req: IncomingMessage) => boolean | Promise<boolean>>("a function (req) => boolean | Promise<boolean>"),
} satisfies SpecFor<UaipFastifyOptions>;

/** Every option uaipFastify honours. */
export const UAIP_FASTIFY_OPTIONS = Object.keys(UAIP_FASTIFY_OPTIONS_SPEC) as readonly (keyof UaipFastifyOptions)[];

/**
 * The runtime as a Fastify plugin: `await app.register(uaipFastify, { metrics, gate, limiter })`.
 * Hooks run on every request of the application (the plugin is not encapsulated), in this order:
 * metrics (so refusals are counted), pressure gate, rate limit.
 */
export async function uaipFastify(app: FastifyInstanceLike, options: UaipFastifyOptions): Promise<void> {
  const o = validateOptions("uaipFastify", options, UAIP_FASTIFY_OPTIONS_SPEC, pluginError, {
    // Options that only make sense with another one: refused by name rather than silently unused.
    more: (v) => [
      ...(v.skip !== undefined && v.limiter === undefined
        ? [{ key: "skip", message: "skip applies to the rate limit: pass `limiter` too, or drop `skip`" }]
        : []),
      ...(v.metricsPath !== undefined && v.metricsPath !== false && v.metrics === undefined
        ? [{ key: "metricsPath", message: `${showValue(v.metricsPath)}: there are no metrics to serve: pass \`metrics\` too` }]
        : []),
    ],
  });
  const { metrics, gate, limiter, skip } = o;
  const metricsPath = o.metricsPath ?? (metrics ? "/metrics" : false);

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

const COMPRESSOR = required(
  object<ResponseCompressor>("a ResponseCompressor (the runtime's `compressor`)", (v) => {
    const c = v as { threshold?: unknown; level?: unknown; brotliQuality?: unknown };
    return typeof c.threshold === "number" && typeof c.level === "number" && typeof c.brotliQuality === "number";
  }),
);

/**
 * The options to register Fastify's compression plugin (the `@fastify/compress` package) with the settings of a
 * ResponseCompressor (the profile's `compression`): the same threshold, gzip/deflate level and
 * brotli quality. `await app.register(fastifyCompress, fastifyCompressOptions(runtime.compressor))`.
 */
export function fastifyCompressOptions(compressor: ResponseCompressor): {
  threshold: number;
  global: boolean;
  zlibOptions: { level: number };
  brotliOptions: { params: Record<number, number> };
} {
  checkValue("fastifyCompressOptions", "compressor", compressor, COMPRESSOR, pluginError);
  return {
    threshold: compressor.threshold,
    global: compressor.level > 0,
    zlibOptions: { level: compressor.level },
    brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: compressor.brotliQuality } },
  };
}
