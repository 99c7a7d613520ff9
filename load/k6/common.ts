/**
 * What both k6 scripts share: where to send traffic and which thresholds apply.
 *
 * Thresholds come from the stack's own SLO (`monitoring.slo` in the profile), written to
 * `slo/<stack>.json` by `npm run load:k6`, so a changed SLO changes the load test the same way
 * it changes the alerts. Pick the stack with `-e UAIP_STACK=prod` (default dev).
 */
import type { Options } from "k6/options";

export const STACK = __ENV.UAIP_STACK || "dev";

/**
 * The service's base URL including its path prefix: the ALB routes `/<service>/*` to the service
 * without rewriting, so the same prefix works against the CDN, the ALB and a local process.
 *   -e BASE_URL=https://d111111abcdef8.cloudfront.net/agent-intelligence
 */
export const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:3001/agent-intelligence").replace(/\/$/, "");

/** `{ http_req_duration: ["p(95)<500"], http_req_failed: ["rate<0.01"] }` for the chosen stack. */
export const THRESHOLDS = JSON.parse(open(`./slo/${STACK}.json`)).thresholds as NonNullable<Options["thresholds"]>;

/** The seed's POST carries a JSON body (k6 would form-encode a plain object, losing the nested payload). */
export const JSON_HEADERS = { headers: { "Content-Type": "application/json" } };
