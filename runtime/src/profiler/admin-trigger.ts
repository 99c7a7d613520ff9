import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename } from "node:path";
import { object, required, string, validateOptions, type SpecFor } from "../options";
import { CPUProfiler, ProfileInProgressError, ProfileOptionsError } from "./cpu-profiler";

const profileError = (key: string, message: string) => new ProfileOptionsError(key, message);

const PROFILE_TRIGGER_OPTIONS_SPEC = {
  profiler: required(object<CPUProfiler>("a CPUProfiler", (v) => v instanceof CPUProfiler)),
  // An empty token turns the trigger off, as an absent one does (the Secret may be unset).
  token: string(),
  path: string({ pattern: /^\/[^?#\s]*$/, what: 'a path starting with "/" without query or spaces' }),
} satisfies SpecFor<ProfileTriggerOptions>;

/**
 * Admin path of the profile trigger. It starts with `_`, which no service name can (DNS-1123), so
 * the ALB, which forwards only `/<service>` and `/<service>/*` (components/load-balancer.ts
 * `listenerRulePlan`), never routes it: it answers 404 itself. Reach it with `kubectl port-forward`.
 */
export const PROFILE_ADMIN_PATH = "/_admin/profile";

export interface ProfileTriggerOptions {
  profiler: CPUProfiler;
  /**
   * Bearer token from the service's Secret (`UAIP_ADMIN_TOKEN`). Without one the trigger is off:
   * `handle()` answers nothing and the path is a plain 404 of the service.
   */
  token?: string;
  /** @default PROFILE_ADMIN_PATH */
  path?: string;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The path of a request target that URL parsing leaves exactly as written: origin-form, not "//" (a
 * scheme-relative URL whose first segment would become the host), and only characters WHATWG URL
 * neither decodes, percent-encodes nor treats as dot segments or separators (no ".", "%", backslash,
 * space, quotes or non-ASCII). For such a target `new URL(target).pathname` is this match, so
 * comparing it is the same test as comparing the parsed pathname.
 */
const LITERAL_PATH = /^\/(?!\/)[\w\-~!$&'()*+,;=:@/]*(?=\?|$)/;

/**
 * `POST /_admin/profile?seconds=N` with `Authorization: Bearer <token>`: takes an N-second CPU
 * profile (default 30) and answers with the `.cpuprofile` itself (also kept on disk). 401 without
 * the right token, 405 for other methods, 400 for a bad duration, 409 while another profile runs.
 */
export class ProfileTrigger {
  readonly path: string;
  readonly #profiler: CPUProfiler;
  readonly #tokenDigest: Buffer | undefined;

  constructor(options: ProfileTriggerOptions) {
    const o = validateOptions("ProfileTrigger", options, PROFILE_TRIGGER_OPTIONS_SPEC, profileError);
    this.#profiler = o.profiler!;
    this.path = o.path ?? PROFILE_ADMIN_PATH;
    // Compare digests: equal length, constant time, and the token itself is not kept around.
    this.#tokenDigest = o.token ? digest(o.token) : undefined;
  }

  /** Whether the trigger answers at all (a token was configured). */
  get enabled(): boolean {
    return this.#tokenDigest !== undefined;
  }

  /** Handles the request and returns true when it is for the trigger; returns false otherwise (and always when off). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.#tokenDigest) return false;
    // Asked for every request of the service: most are told apart without parsing a URL (below).
    const literal = LITERAL_PATH.exec(req.url ?? "/");
    if (literal !== null && literal[0] !== this.path) return false;
    const url = URL.canParse(req.url ?? "/", "http://localhost") ? new URL(req.url ?? "/", "http://localhost") : undefined;
    // A target that is no URL ("//", "///x": a scheme-relative form with no host) is not the
    // trigger's; letting new URL throw here would end the process from its request listener.
    if (url === undefined || url.pathname !== this.path) return false;
    const auth = req.headers.authorization ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!given || !timingSafeEqual(digest(given), this.#tokenDigest)) {
      json(
        res,
        401,
        { error: { code: "UAIP_UNAUTHORIZED", message: "missing or wrong bearer token" } },
        { "WWW-Authenticate": 'Bearer realm="uaip-admin"' },
      );
      return true;
    }
    if (req.method !== "POST") {
      json(res, 405, { error: { code: "UAIP_METHOD_NOT_ALLOWED", message: "use POST" } }, { Allow: "POST" });
      return true;
    }
    const seconds = url.searchParams.get("seconds");
    // Rounded: 1.1 × 1000 is 1100.0000000000002 in floating point. NaN stays NaN and is refused.
    const durationMs = seconds === null ? undefined : Math.round(Number(seconds) * 1000);
    this.#profiler
      .startProfiling(durationMs)
      .then(async (file) => ({ file, body: await readFile(file) }))
      .then(
        ({ file, body }) => {
          res.writeHead(200, {
            "Content-Type": "application/json",
            "Content-Disposition": `attachment; filename="${basename(file)}"`,
            "Cache-Control": "no-store",
          });
          res.end(body);
        },
        (err: Error & { code?: string }) => {
          const status = err instanceof ProfileInProgressError ? 409 : err instanceof ProfileOptionsError ? 400 : 500;
          json(res, status, { error: { code: err.code ?? "UAIP_INTERNAL", message: err.message } });
        },
      );
    return true;
  }
}
