import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { brotliCompress, constants as zlibConstants, deflate, gzip } from "node:zlib";
import compression from "compression";
import Negotiator from "negotiator";
import { UaipError } from "../errors";
import { func, integer, showValue, validateOptions, type SpecFor } from "../options";

const gzipAsync = promisify(gzip);

/** The `compression` package's negotiation (1.8): the encodings it supports and its preference among equal q-values. */
const SUPPORTED_ENCODINGS = ["br", "gzip", "deflate", "identity"];
const PREFERRED_ENCODINGS = ["br", "gzip"];
const NO_TRANSFORM = /(?:^|,)\s*?no-transform\s*?(?:,|$)/i;
type Encoding = "br" | "gzip" | "deflate";

/** negotiator 0.6.4 takes a preference list as the second argument (what `compression` passes); its typings omit it. */
function negotiateEncoding(req: IncomingMessage): string | undefined {
  const negotiator = new Negotiator(req) as unknown as { encoding(available: string[], preferred: string[]): string | undefined };
  return negotiator.encoding(SUPPORTED_ENCODINGS, PREFERRED_ENCODINGS);
}

/**
 * Highest brotli quality allowed for dynamic responses. Quality 11 (brotli's default) costs about
 * 12× the CPU of quality 5 for nearly the same size (koa-compress#80); above 6 the gain per CPU
 * second collapses for bodies compressed once per request.
 */
export const MAX_DYNAMIC_BROTLI_QUALITY = 6;

/** The seed's CompressionConfig, plus the brotli quality for dynamic responses. */
export interface CompressionConfig {
  /** gzip level 0–9 (the stack's UAIP_COMPRESSION_LEVEL); 0 turns compression off. @default 6 */
  level?: number;
  /** Bodies smaller than this many bytes go out as they are (UAIP_COMPRESSION_THRESHOLD_BYTES). @default 1024 */
  threshold?: number;
  /**
   * Return false to leave a request's response alone (the seed's `filter(req)`). Event streams,
   * `Cache-Control: no-transform`, already-encoded and incompressible types are skipped anyway.
   * @default () => true
   */
  filter?: (req: IncomingMessage) => boolean;
  /** Brotli quality, 0–MAX_DYNAMIC_BROTLI_QUALITY. @default 4 (what the `compression` package and the anchors use) */
  brotliQuality?: number;
}

/** A compression option is malformed; `key` names it. */
export class CompressionOptionsError extends UaipError {
  static readonly CODE = "UAIP_COMPRESSION_OPTIONS_INVALID";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(CompressionOptionsError.CODE, `compression ${key}: ${message}`);
  }
}

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const COMPRESSION_CONFIG_SPEC = {
  level: integer(0, 9),
  // A threshold above any body only turns compression off for it: no heap cap needed.
  threshold: integer(0, Number.MAX_SAFE_INTEGER, "bytes"),
  filter: func<(req: IncomingMessage) => boolean>("a function (req) => boolean"),
  brotliQuality: integer(0, MAX_DYNAMIC_BROTLI_QUALITY),
} satisfies SpecFor<CompressionConfig>;

/** `data` as JSON, or a CompressionOptionsError naming what cannot be serialised (BigInt, a cycle, undefined). */
function toJson(data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new CompressionOptionsError(
      "data",
      `compress(data): ${(err as Error).message}; pass a string, a Buffer or a JSON-serialisable value`,
    );
  }
  if (json === undefined)
    throw new CompressionOptionsError(
      "data",
      `compress(data): ${showValue(data)} has no JSON form; pass a string, a Buffer or a JSON-serialisable value`,
    );
  return json;
}

const ACCEPT_ENCODING = /(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i;

/** Adds Accept-Encoding to Vary unless it (or `*`) is there: caches must key on it for every response. */
export function varyOnAcceptEncoding(res: ServerResponse): void {
  const current = res.getHeader("Vary");
  const text = Array.isArray(current) ? current.join(", ") : current === undefined ? "" : String(current);
  if (!text.trim()) res.setHeader("Vary", "Accept-Encoding");
  else if (!ACCEPT_ENCODING.test(text)) res.setHeader("Vary", `${text}, Accept-Encoding`);
}

function isEventStream(res: ServerResponse): boolean {
  const type = res.getHeader("Content-Type");
  return typeof type === "string" && /^\s*text\/event-stream\b/i.test(type);
}

/** NDJSON / JSON Lines: streamed JSON that mime-db (the package's list) does not mark compressible. */
function isJsonLines(res: ServerResponse): boolean {
  const type = res.getHeader("Content-Type");
  return typeof type === "string" && /^\s*application\/(?:x-)?(?:ndjson|jsonl|jsonlines)\b/i.test(type);
}

/**
 * The seed's ResponseCompressor. `middleware()` wraps the `compression` package (gzip and brotli
 * negotiated from Accept-Encoding with q-values, threshold, no-transform, already-encoded bodies,
 * streaming as the body streams) and adds what it lacks:
 * - `Vary: Accept-Encoding` on every response, also those it leaves alone (it only adds Vary after
 *   its filter and no-transform checks, so a cache could serve an identity copy to everyone);
 * - event streams are never compressed: each SSE event would need a flush, and a zlib context per
 *   long-lived stream holds memory for the stream's lifetime;
 * - NDJSON / JSON Lines streams count as compressible;
 * - the brotli quality is capped (MAX_DYNAMIC_BROTLI_QUALITY).
 * `compress(data)` is the seed's one-shot form for bodies built in memory, and `send(res, body)`
 * answers with such a body: same negotiation and rules as the middleware, without wrapping the
 * response's methods, which is most of the middleware's cost on a small JSON answer.
 */
export class ResponseCompressor {
  readonly level: number;
  readonly threshold: number;
  readonly brotliQuality: number;
  readonly #filter: (req: IncomingMessage) => boolean;
  readonly #middleware: Middleware;

  constructor(config: CompressionConfig = {}) {
    const o = validateOptions(
      "ResponseCompressor",
      config,
      COMPRESSION_CONFIG_SPEC,
      (key, message) => new CompressionOptionsError(key, message),
    );
    this.level = o.level ?? 6;
    this.threshold = o.threshold ?? 1_024;
    this.brotliQuality = o.brotliQuality ?? 4;
    this.#filter = o.filter ?? (() => true);
    const filter = this.#filter;
    this.#middleware =
      this.level === 0
        ? (_req, _res, next) => next()
        : (compression({
            level: this.level,
            threshold: this.threshold,
            brotli: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: this.brotliQuality } },
            // Runs when the headers go out, for every response: the one place to add Vary to all.
            filter: (req, res) => {
              varyOnAcceptEncoding(res);
              if (isEventStream(res) || !filter(req)) return false;
              return compression.filter(req, res) || isJsonLines(res);
            },
            // Its typings name Express' Request; at run time it needs only node:http's (it never calls Express APIs).
          }) as unknown as Middleware);
  }

  /**
   * gzip of `data` (a Buffer, a string, or a value serialized as JSON) when it is at least
   * `threshold` bytes, the level is not 0 and `filter(req)` allows it (when a request is given);
   * otherwise the data's bytes unchanged.
   */
  async compress(data: Buffer | string | unknown, req?: IncomingMessage): Promise<Buffer> {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === "string" ? data : toJson(data));
    if (this.level === 0 || bytes.length < this.threshold || (req !== undefined && !this.#filter(req))) return bytes;
    return gzipAsync(bytes, { level: this.level });
  }

  /**
   * Ends `res` with `body`, compressed when the middleware would compress it: at least `threshold`
   * bytes, `filter(req)` allows it, a compressible Content-Type (set it first), no
   * `Cache-Control: no-transform`, no Content-Encoding yet, not HEAD, and an encoding the client
   * accepts (br preferred over gzip at equal q-values, as the `compression` package does).
   * `Vary: Accept-Encoding` goes on every answer. Compression runs on zlib's thread pool; if it fails
   * the body goes out as it is. A small body costs a length check and a header.
   */
  send(res: ServerResponse, body: string | Buffer): void {
    varyOnAcceptEncoding(res);
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    const req = res.req;
    const encoding = size < this.threshold || this.level === 0 ? undefined : this.#sendEncoding(req, res);
    if (encoding === undefined) {
      res.end(body);
      return;
    }
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    const done = (err: Error | null, out: Buffer) => {
      if (res.destroyed) return;
      if (err) return void res.end(bytes);
      res.setHeader("Content-Encoding", encoding);
      res.setHeader("Content-Length", out.length);
      res.end(out);
    };
    if (encoding === "gzip") gzip(bytes, { level: this.level }, done);
    else if (encoding === "deflate") deflate(bytes, { level: this.level }, done);
    else
      brotliCompress(
        bytes,
        {
          params: {
            [zlibConstants.BROTLI_PARAM_QUALITY]: this.brotliQuality,
            [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        },
        done,
      );
  }

  /** The encoding `send` uses for this response, or undefined to send it as it is. */
  #sendEncoding(req: IncomingMessage, res: ServerResponse): Encoding | undefined {
    if (req.method === "HEAD" || res.getHeader("Content-Encoding") !== undefined) return undefined;
    const cacheControl = res.getHeader("Cache-Control");
    if (cacheControl !== undefined && NO_TRANSFORM.test(String(cacheControl))) return undefined;
    if (isEventStream(res) || !this.#filter(req)) return undefined;
    if (!compression.filter(req as never, res as never) && !isJsonLines(res)) return undefined;
    if (!req.headers["accept-encoding"]) return undefined;
    const chosen = negotiateEncoding(req);
    return chosen === "br" || chosen === "gzip" || chosen === "deflate" ? chosen : undefined;
  }

  /** Express-style middleware: `app.use(compressor.middleware())`. A level of 0 passes everything through. */
  middleware(): Middleware {
    return this.#middleware;
  }

  /** Wraps a node:http handler: `createServer(compressor.wrap(handler))`. */
  wrap(handler: Handler): Handler {
    const middleware = this.#middleware;
    return (req, res) => middleware(req, res, () => handler(req, res));
  }
}
