/** Small HTTP helpers of the reference service: JSON answers with stable error codes. */
import type { ServerResponse } from "node:http";
import { type ResponseCompressor } from "@uaip/runtime";
import { DbConnectionLimitError, DbPoolClosedError, DbPoolTimeoutError, DbUnavailableError } from "@uaip/runtime/db";
import { RequestError } from "./requests";

export interface JsonReplies {
  /** Answers `status` with `body` as JSON, compressed as the client accepts when it is large enough. */
  json(res: ServerResponse, status: number, body: unknown): void;
  /**
   * `json` for a value the cache hands out: serialized once per cached copy, not once per request.
   * The cache gives every reader the same object and a write or invalidation replaces it with a new
   * one (a new serialization); cached values are never mutated in place (that would already change
   * what every reader gets).
   */
  cachedJson(res: ServerResponse, status: number, body: unknown): void;
  /** Answers a failed request (see below). */
  sendError(res: ServerResponse, err: unknown): void;
}

/**
 * The service's answers, compressed by the runtime's compressor. Every answer is a JSON body built in
 * memory, so `compressor.send` applies the middleware's rules to it directly: the middleware would
 * wrap each response's methods to find the body it is handed here anyway.
 */
export function jsonReplies(compressor: ResponseCompressor): JsonReplies {
  const send = (res: ServerResponse, status: number, bytes: string | Buffer): void => {
    res.statusCode = status;
    res.setHeader("Content-Type", "application/json");
    compressor.send(res, bytes);
  };
  const json = (res: ServerResponse, status: number, body: unknown): void => send(res, status, JSON.stringify(body));
  // Keyed by the cached object itself: an entry goes when the cache drops the object.
  const serialized = new WeakMap<object, Buffer>();
  const cachedJson = (res: ServerResponse, status: number, body: unknown): void => {
    if (typeof body !== "object" || body === null) return json(res, status, body);
    let bytes = serialized.get(body);
    if (bytes === undefined) serialized.set(body, (bytes = Buffer.from(JSON.stringify(body))));
    send(res, status, bytes);
  };
  return { json, cachedJson, sendError: (res, err) => sendError(json, res, err) };
}

export function errorBody(code: string, message?: string): { error: { code: string; message?: string } } {
  return { error: message ? { code, message } : { code } };
}

/**
 * Answers a failed request: the client's own mistakes with their status, a database that is
 * momentarily out of reach with 503 + Retry-After (the pool's typed errors), anything else 500
 * without internals (logged here instead).
 */
function sendError(json: JsonReplies["json"], res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof RequestError) return json(res, err.status, errorBody(err.code, err.message));
  if (
    err instanceof DbPoolTimeoutError ||
    err instanceof DbUnavailableError ||
    err instanceof DbConnectionLimitError ||
    err instanceof DbPoolClosedError
  ) {
    res.setHeader("Retry-After", "1");
    return json(res, 503, errorBody(err.code));
  }
  console.error(`request failed: ${(err as Error)?.stack ?? String(err)}`);
  json(res, 500, errorBody("INTERNAL"));
}
