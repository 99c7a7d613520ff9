import { parse } from "yaml";
import type { PlatformMocks } from "../../../tools/mocks";
import { isSecretValue, unwrapSecrets, redactSecrets } from "../../../tools/mocks";
import { parseConfig } from "../../../profile/parse";
import { servicePlan } from "../../../profile/service-settings";
import { resourcesOfType, settle, setupMocks } from "../../helpers/pulumi";

let mocks: PlatformMocks;
// Values other than the local preset's, to show LocalPlatform reads them from the profile. max_connections is set
// above what the services need, so the parameter it gets cannot be mistaken for the services' sum.
const MAX_CONNECTIONS = 60;
const profile = parseConfig({
  environment: "local",
  database: { logMinDurationMs: 250, maxConnections: MAX_CONNECTIONS },
  monitoring: { retention: "3d" },
});

beforeAll(async () => {
  mocks = setupMocks("local");
  const { LocalPlatform } = await import("../../../components/local/local-platform");
  new LocalPlatform("uaip", {
    environment: "local",
    plan: servicePlan(profile),
    maxmemoryPolicy: profile.redis.maxmemoryPolicy,
    database: {
      name: "uaip",
      username: "uaip",
      password: "pg-plain-password",
      logMinDurationMs: profile.database.logMinDurationMs,
      statsRefreshInterval: profile.database.statsRefreshInterval,
    },
    redisAuthToken: "redis-plain-token",
    grafanaAdminPassword: "grafana-plain-password",
    monitoring: { scrapeInterval: profile.monitoring.scrapeInterval, slo: profile.monitoring.slo },
    retention: profile.monitoring.retention,
  });
  await settle(200);
});

const containers = () => resourcesOfType(mocks, "docker:index/container:Container");
const container = (name: string) => containers().find((c) => c.inputs.name === name)!;

describe("LocalPlatform (Docker)", () => {
  it("runs Redis, PostgreSQL, the migration, Prometheus, Grafana and the seed's three services", () => {
    expect(
      containers()
        .map((c) => c.inputs.name)
        .sort(),
    ).toEqual(
      [
        "agent-intelligence",
        "capability-registry",
        "orchestration-pipeline",
        "uaip-db-migrate",
        "uaip-grafana",
        "uaip-postgres",
        "uaip-prometheus",
        "uaip-redis",
      ].sort(),
    );
  });

  it("publishes every port on loopback only", () => {
    // The one-shot migration container publishes nothing.
    for (const c of containers()) for (const p of (c.inputs.ports ?? []) as { ip: string }[]) expect(p.ip).toBe("127.0.0.1");
  });

  it("PostgreSQL's max_connections is the profile's database.maxConnections, not the services' sum; Redis evicts like a cache", () => {
    // What the services open at full scale, from the profile by hand: Σ pool.max × hpa.max + reserved.
    const required = profile.services.reduce((sum, s) => sum + s.pool.max * s.hpa.max, profile.database.reservedConnections);
    expect(required).not.toBe(MAX_CONNECTIONS);
    const settings = (container("uaip-postgres").inputs.command as string[]).filter((a) => a.startsWith("max_connections="));
    expect(settings).toEqual([`max_connections=${MAX_CONNECTIONS}`]);
    expect((container("uaip-redis").inputs.command as string[]).join(" ")).toContain("--maxmemory-policy allkeys-lru");
  });

  it("takes the slow-query threshold and the Prometheus retention from the profile", () => {
    expect(container("uaip-postgres").inputs.command).toEqual(expect.arrayContaining(["log_min_duration_statement=250"]));
    expect(container("uaip-prometheus").inputs.command).toEqual(expect.arrayContaining(["--storage.tsdb.retention.time=3d"]));
  });

  it("Prometheus gets the seed's static config (job uaip-services, 15s, the three targets) and the rule files", () => {
    const uploads = container("uaip-prometheus").inputs.uploads as { file: string; content: string }[];
    const config = parse(uploads.find((u) => u.file === "/etc/prometheus/prometheus/prometheus.yml")!.content);
    const job = config.scrape_configs.find((j: { job_name: string }) => j.job_name === "uaip-services");
    expect(job.scrape_interval ?? config.global.scrape_interval).toBe("15s");
    expect(job.metrics_path).toBe("/metrics");
    expect(job.static_configs[0].targets).toEqual([
      "agent-intelligence:3001",
      "orchestration-pipeline:3002",
      "capability-registry:3003",
    ]);
    for (const ruleFile of config.rule_files as string[]) {
      const resolved = `/etc/prometheus/prometheus/${ruleFile}`.replace(/\/prometheus\/\.\.\//, "/");
      expect(uploads.map((u) => u.file)).toContain(resolved);
    }
  });

  it("services find Redis and PostgreSQL by their network aliases, with the heap limit in NODE_OPTIONS", () => {
    const envs = container("agent-intelligence").inputs.envs as unknown[];
    const plain = envs.filter((e): e is string => typeof e === "string");
    expect(plain).toEqual(
      expect.arrayContaining([
        "UAIP_REDIS_HOST=redis",
        "UAIP_DB_HOST=postgres",
        "UAIP_SERVICE_NAME=agent-intelligence",
        "UAIP_PORT=3001",
        "NODE_OPTIONS=--max-old-space-size=384",
      ]),
    );
    // The local endpoints carry their own TLS facts: plain connections on the private Docker network.
    expect(plain).toEqual(expect.arrayContaining(["UAIP_REDIS_TLS=false", "UAIP_DB_SSL=false"]));
  });

  it("Grafana provisions the Prometheus datasource with the fixed uid and both dashboards", () => {
    const uploads = container("uaip-grafana").inputs.uploads as { file: string; content: string }[];
    const ds = JSON.parse(uploads.find((u) => u.file.includes("datasources"))!.content);
    expect(ds.datasources[0]).toMatchObject({ uid: "prometheus", url: "http://prometheus:9090" });
    expect(uploads.filter((u) => u.file.startsWith("/var/lib/grafana/dashboards/"))).toHaveLength(2);
  });

  it("a one-shot migration container holds the master password and creates each service's role; services log in as their role", () => {
    const migrate = container("uaip-db-migrate");
    expect(migrate.inputs).toMatchObject({ attach: true, mustRun: false, restart: "no" });
    expect(migrate.inputs.command).toEqual(
      // pool.max × pods during a replacement at hpa.max (25% surge, rounded up), as on AWS.
      expect.arrayContaining([
        "--role",
        "agent_intelligence:" +
          profile.services[0].pool.max * (profile.services[0].hpa.max + Math.ceil(profile.services[0].hpa.max / 4)),
      ]),
    );
    const envOf = (name: string) => unwrapSecrets(container(name).inputs.envs) as string[];
    expect(envOf("uaip-db-migrate").find((e) => e.startsWith("DATABASE_URL="))).toContain("pg-plain-password");
    for (const svc of ["agent-intelligence", "orchestration-pipeline", "capability-registry"]) {
      const env = envOf(svc);
      expect(env).toContain(`UAIP_DB_USER=${svc.replaceAll("-", "_")}`);
      expect(env.find((e) => e.startsWith("UAIP_DB_PASSWORD="))).not.toContain("pg-plain-password");
    }
  });

  it("no password or token is in plain text", () => {
    const raw = mocks.resources.filter((r) => r.type === "docker:index/container:Container");
    const visible = JSON.stringify(raw.map((r) => redactSecrets(r.inputs)));
    for (const secret of ["pg-plain-password", "redis-plain-token", "grafana-plain-password"])
      expect([secret, visible.includes(secret)]).toEqual([secret, false]);
    // Every container that receives a credential has its environment marked secret as a whole.
    const withCredentials = raw.filter((r) => r.inputs.name !== "uaip-prometheus");
    expect(withCredentials.map((r) => [r.inputs.name, isSecretValue(r.inputs.envs)])).toEqual(
      withCredentials.map((r) => [r.inputs.name, true]),
    );
  });
});
