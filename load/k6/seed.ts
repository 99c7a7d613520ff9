/**
 * The seed's k6 load test, as written: 2 m ramp to 100 VUs, 5 m at 100, 2 m down; every VU POSTs
 * `/operations`, checks `is status 200` and `response time < 500ms`, and sleeps 1 s.
 *
 * Two deliberate differences from the seed's text, both keeping its meaning:
 * - its threshold `'p95<500'` is not valid k6 (k6 aborts on it since v0.38): `p(95)<500` is;
 * - the thresholds' numbers come from the stack's SLO (`common.ts`), not literals.
 *
 *   k6 run -e BASE_URL=https://<cdn>/agent-intelligence -e UAIP_STACK=dev load/k6/seed.ts
 */
import http from "k6/http";
import { check, sleep } from "k6";
import type { Options } from "k6/options";
import { SEED_OPERATION, SEED_STAGES, SEED_THINK_TIME_S } from "./stages.ts";
import { BASE_URL, JSON_HEADERS, THRESHOLDS } from "./common.ts";

export const options: Options = {
  stages: SEED_STAGES.map((s) => ({ ...s })),
  thresholds: THRESHOLDS,
};

export default function (): void {
  const response = http.post(`${BASE_URL}/operations`, JSON.stringify(SEED_OPERATION), JSON_HEADERS);

  check(response, {
    "is status 200": (r) => r.status === 200,
    "response time < 500ms": (r) => r.timings.duration < 500,
  });

  sleep(SEED_THINK_TIME_S);
}
