import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PostgresServer } from "../../../test/helpers/postgres";
import { parsePromql, substituteGrafanaVariables } from "../../../test/dashboards/exprs";
import { buildRuleGroups, dashboardJson } from "../../../dashboards/index";
import { createMetrics } from "../../src/metrics/http-metrics";
import { createPool } from "../../src/db/pool";
import { StatsRefresher } from "../../src/db/stats-refresher";
import { runMigrations } from "../../src/db/migrate";
import { LABEL, LABEL_VALUE } from "../../src/metrics/names";

let server: PostgresServer;
beforeAll(async () => {
  server = await PostgresServer.start();
  await runMigrations({ connection: server.url() });
}, 60_000);
afterAll(async () => {
  await server?.destroy();
});

/** Every metric name the alert rules and the generated dashboards select. */
function metricsUsedByRulesAndDashboards(): Set<string> {
  const exprs: string[] = [];
  const groups = buildRuleGroups();
  for (const r of [...groups.recording.rules, ...groups.alerts.rules]) exprs.push(r.expr);
  for (const json of Object.values(dashboardJson())) {
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
          if (k === "expr" && typeof v === "string") exprs.push(substituteGrafanaVariables(v));
          else walk(v);
        }
      }
    };
    walk(JSON.parse(json));
  }
  return new Set(exprs.flatMap((e) => parsePromql(e).metrics));
}

describe("a service with a pool, scraped over HTTP", () => {
  it("exposes every uaip_db_* series the rules and dashboards use, with the state labels they select", async () => {
    const used = [...metricsUsedByRulesAndDashboards()].filter((m) => m.startsWith("uaip_db_"));
    expect(used.length).toBeGreaterThanOrEqual(3);

    const metrics = createMetrics({ serviceName: "agent-intelligence" });
    const pool = createPool(
      {
        pool: { minConnections: 1, maxConnections: 4, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 2_000 },
        database: server.database(),
      },
      { registry: metrics.registry },
    );
    const refresher = new StatsRefresher({ pool, intervalMs: 60_000, registry: metrics.registry });
    const http: Server = createServer((req, res) => metrics.metricsHandler(req, res));
    try {
      await refresher.tick();
      await pool.query("SELECT 1");
      await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      const body = await res.text();
      const series = body.split("\n").filter((l) => l && !l.startsWith("#"));
      const names = new Set(series.map((l) => l.split(/[{ ]/)[0]));
      for (const name of used) expect(names).toContain(name);
      const line = (name: string, extra = "") => series.find((l) => l.startsWith(`${name}{`) && l.includes(extra));
      expect(line("uaip_db_pool_connections", `${LABEL.state}="${LABEL_VALUE.inUse}"`)).toMatch(
        /service="agent-intelligence".* 0$/,
      );
      expect(line("uaip_db_pool_connections", `${LABEL.state}="${LABEL_VALUE.idle}"`)).toMatch(/ 1$/);
      expect(line("uaip_db_pool_max_connections")).toMatch(/ 4$/);
      expect(line("uaip_db_pool_waiting_requests")).toMatch(/ 0$/);
      expect(line("uaip_db_stats_refresh_interval_seconds")).toMatch(/ 60$/);
    } finally {
      http.close();
      await refresher.stop();
      await pool.close();
      metrics.close();
    }
  });
});
