/** Small HTTP helpers of the reference service: JSON answers with stable error codes. */
import type { ServerResponse } from "node:http";
import { DbConnectionLimitError, DbPoolClosedError, DbPoolTimeoutError, DbUnavailableError } from "@uaip/runtime";
import { RequestError } from "./requests";

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

export function errorBody(code: string, message?: string): { error: { code: string; message?: string } } {
  return { error: message ? { code, message } : { code } };
}

/**
 * Answers a failed request: the client's own mistakes with their status, a database that is
 * momentarily out of reach with 503 + Retry-After (the pool's typed errors), anything else 500
 * without internals (logged here instead).
 */
export function sendError(res: ServerResponse, err: unknown): void {
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
