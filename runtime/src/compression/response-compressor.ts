import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { constants as zlibConstants, gzip } from "node:zlib";
import compression from "compression";
import { UaipError } from "../errors";

const gzipAsync = promisify(gzip);

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

function intOption(key: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new CompressionOptionsError(key, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
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
 * `compress(data)` is the one-shot form for bodies built in memory.
 */
export class ResponseCompressor {
  readonly level: number;
  readonly threshold: number;
  readonly brotliQuality: number;
  readonly #filter: (req: IncomingMessage) => boolean;
  readonly #middleware: Middleware;

  constructor(config: CompressionConfig = {}) {
    this.level = intOption("level", config.level, 6, 0, 9);
    this.threshold = intOption("threshold", config.threshold, 1_024, 0, Number.MAX_SAFE_INTEGER);
    this.brotliQuality = intOption("brotliQuality", config.brotliQuality, 4, 0, MAX_DYNAMIC_BROTLI_QUALITY);
    if (config.filter !== undefined && typeof config.filter !== "function")
      throw new CompressionOptionsError("filter", `expected a function (req) => boolean, got ${typeof config.filter}`);
    this.#filter = config.filter ?? (() => true);
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
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === "string" ? data : JSON.stringify(data));
    if (this.level === 0 || bytes.length < this.threshold || (req !== undefined && !this.#filter(req))) return bytes;
    return gzipAsync(bytes, { level: this.level });
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
