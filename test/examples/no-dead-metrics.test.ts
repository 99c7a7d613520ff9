import { WebSocket } from "ws";
import { buildRuleGroups } from "../../dashboards/rules";
import { platformOverview } from "../../dashboards/platform-overview";
import { serviceOverview } from "../../dashboards/service-overview";
import { call as callService, startReferenceService, type RunningReference } from "./harness";
import { panelsOf, parsePromql, substituteGrafanaVariables } from "../dashboards/exprs";

/**
 * No dead metrics: after the reference service has handled a short load with every kind of
 * request, a real scrape of its /metrics holds every metric that a recording rule, an alert or a
 * dashboard panel reads. This is the test that would have caught the three alerts that could
 * never fire (uaip_db_pool_*, uaip_ws_*, uaip_memory_*: no code emitted them).
 *
 * Not from the service, so not asserted here: what a recording rule produces (Prometheus itself),
 * `up` (Prometheus' own), and kube_* (kube-state-metrics, installed by kube-prometheus-stack).
 */
const NOT_FROM_THE_SERVICE = /^(up|kube_.*)$/;

function metricsTheRulesAndDashboardsRead(): { name: string; usedBy: string }[] {
  const groups = buildRuleGroups();
  const recorded = new Set(groups.recording.rules.map((r) => r.record));
  const uses = [
    ...groups.recording.rules.map((r) => ({ expr: r.expr, usedBy: `recording rule ${r.record}` })),
    ...groups.alerts.rules.map((r) => ({ expr: r.expr, usedBy: `alert ${r.alert}` })),
    ...[serviceOverview(), platformOverview()].flatMap((d) =>
      panelsOf(d).flatMap((p) =>
        (p.targets ?? []).map((t) => ({
          expr: substituteGrafanaVariables(t.expr ?? ""),
          usedBy: `panel "${p.title}" of ${d.title}`,
        })),
      ),
    ),
  ];
  const out = new Map<string, string>();
  for (const { expr, usedBy } of uses) {
    for (const name of parsePromql(expr).metrics) {
      if (!recorded.has(name) && !NOT_FROM_THE_SERVICE.test(name) && !out.has(name)) out.set(name, usedBy);
    }
  }
  return [...out].map(([name, usedBy]) => ({ name, usedBy }));
}

const name = "capability-registry";
let ref: RunningReference;

beforeAll(async () => {
  // A small limit so the burst below is rejected: the limiter's rejected series appear too.
  ref = await startReferenceService(name, { UAIP_RATE_LIMIT_MAX_REQUESTS: "50" });
}, 60_000);

afterAll(async () => {
  await ref?.stop();
});

const call = (method: string, path: string, body?: unknown) => callService(ref.port, method, path, body);

it("a scrape after a short load shows every metric the rules and dashboards read", async () => {
  const read = metricsTheRulesAndDashboardsRead();
  // Sanity: the three families the review found dead are among them.
  expect(read.map((r) => r.name)).toEqual(
    expect.arrayContaining(["uaip_db_pool_connections", "uaip_ws_connections", "uaip_memory_heap_limit_bytes"]),
  );

  const socket = new WebSocket(`ws://127.0.0.1:${ref.port}/${name}/ws`);
  await new Promise((r, j) => socket.once("open", r).once("error", j));
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const created = await call("POST", `/${name}/operations`, { type: "load", payload: { i } });
    expect(created.status).toBe(200);
    ids.push(JSON.parse(created.text).id);
  }
  for (const id of ids) await call("GET", `/${name}/operations/${id}`);
  await call("PATCH", `/${name}/operations/${ids[0]}`, { status: "succeeded" });
  await call("GET", `/${name}/stats`);
  await call("POST", `/${name}/operations`, { nope: true });
  // A database outage: the request is answered 503 (a typed pool error), the first 5xx, so the error
  // counter exists (the rules read it with `or ... * 0` until then). Then PostgreSQL comes back.
  await ref.backends.postgres.stop();
  expect((await call("POST", `/${name}/operations`, { type: "outage" })).status).toBe(503);
  await ref.backends.postgres.start();
  // A burst over the limit: 429s.
  const burst = await Promise.all(Array.from({ length: 30 }, () => call("GET", `/${name}/items/1`)));
  expect(burst.some((b) => b.status === 429)).toBe(true);
  socket.close();

  const scrape = await call("GET", "/metrics");
  const present = new Set(
    scrape.text.split("\n").flatMap((line) => (line && !line.startsWith("#") ? [line.split(/[{ ]/)[0]] : [])),
  );
  const missing = read.filter((r) => !present.has(r.name)).map((r) => `${r.name} (read by ${r.usedBy})`);
  expect(missing).toEqual([]);
});
