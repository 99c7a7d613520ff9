/**
 * Smoke variant: 2 VUs for 30 s over every route of the reference service, with the same
 * SLO thresholds. Run it after a deploy, before the full seed test.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3001/agent-intelligence -e UAIP_STACK=local load/k6/smoke.ts
 */
import http from "k6/http";
import { check, sleep } from "k6";
import type { Options } from "k6/options";
import { SEED_OPERATION, SEED_THINK_TIME_S } from "./stages.ts";
import { BASE_URL, JSON_HEADERS, THRESHOLDS } from "./common.ts";

export const options: Options = {
  vus: 2,
  duration: "30s",
  thresholds: THRESHOLDS,
};

export default function (): void {
  const created = http.post(`${BASE_URL}/operations`, JSON.stringify(SEED_OPERATION), JSON_HEADERS);
  check(created, { "create is status 200": (r) => r.status === 200 });
  const id = created.status === 200 ? (created.json("id") as string) : undefined;
  if (id) {
    const read = http.get(`${BASE_URL}/operations/${id}`);
    check(read, { "read is status 200": (r) => r.status === 200 });
  }
  check(http.get(`${BASE_URL}/stats`), { "stats is status 200": (r) => r.status === 200 });
  sleep(SEED_THINK_TIME_S);
}
