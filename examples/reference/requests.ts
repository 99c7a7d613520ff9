/**
 * Request bodies of the reference service, validated with zod: the seed's `{ type, payload }` for
 * POST /operations, and `{ status }` for PATCH /operations/:id. Bodies are read with a size bound,
 * so a client cannot make the service buffer an arbitrary amount.
 */
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { OPERATION_STATUSES } from "./operations-store";

/** The largest body the service reads, bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

export const createOperationSchema = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\w.:-]+$/, { message: "letters, digits and . _ : - only" }),
  payload: z.unknown().optional().default(null),
});

export const updateOperationSchema = z.strictObject({ status: z.enum(OPERATION_STATUSES) });

/** The longest Idempotency-Key accepted, characters (a UUID is 36; the IETF draft sets no bound). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;

/**
 * The request's `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header), or undefined
 * when it has none. A retry with the same key gets the row the first attempt stored, never a second.
 */
export function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const raw = req.headers["idempotency-key"];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw.join(",") : raw;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !IDEMPOTENCY_KEY.test(key)) {
    throw new RequestError(
      400,
      "INVALID_IDEMPOTENCY_KEY",
      `Idempotency-Key ${JSON.stringify(key.slice(0, 80))}${key.length > 80 ? "..." : ""}: send 1-${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters without spaces, e.g. a UUID, once per header`,
    );
  }
  return key;
}

/** A client error with the HTTP status and a stable code for the JSON body. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body (at most MAX_BODY_BYTES) and validates it. */
export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
    throw new RequestError(415, "UNSUPPORTED_MEDIA_TYPE", "send Content-Type: application/json");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, "BODY_TOO_LARGE", `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RequestError(400, "INVALID_JSON", "body is not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new RequestError(400, "INVALID_BODY", issues);
  }
  return parsed.data;
}
