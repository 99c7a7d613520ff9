import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { rolePasswordEnv } from "@uaip/runtime/db";
import { dashboardJson, DATASOURCE_UID, generatedFiles, PROMETHEUS_CONFIG_PATH, type MonitoringOptions } from "../../dashboards";
import type { ServiceProfile } from "../../profile/schema";
import { serviceEnv, type ServicePlan } from "../../profile/service-settings";
import { masterUrl, MIGRATE_COMMAND, migrationArgs, serviceRoleSlices } from "../k8s/db-migration";
import { contextHash } from "../k8s/context-hash";

/** Pinned images of the local stack's backing services. */
export const LOCAL_IMAGES = {
  redis: "redis:7.4-alpine",
  postgres: "postgres:16.4-alpine",
  prometheus: "prom/prometheus:v3.5.0",
  grafana: "grafana/grafana:12.1.0",
} as const;

export interface LocalPlatformArgs {
  environment: string;
  /** What each service gets and the connection budget (servicePlan(profile)): the local PostgreSQL's `max_connections` is the same budget as in the cloud. */
  plan: ServicePlan;
  /** Redis eviction policy (checked to be a cache policy). */
  maxmemoryPolicy: string;
  /** Redis memory cap. @default "256mb" */
  redisMaxMemory?: string;
  /**
   * The master user: only the migration container gets its password; each service gets its own role.
   * `logMinDurationMs`: database.logMinDurationMs, the slow-query threshold (log_min_duration_statement).
   * `statsRefreshInterval`: database.statsRefreshInterval, how often operation_stats is refreshed, ms.
   */
  database: {
    name: string;
    username: string;
    password: pulumi.Input<string>;
    logMinDurationMs: number;
    statsRefreshInterval: number;
  };
  redisAuthToken: pulumi.Input<string>;
  grafanaAdminPassword: pulumi.Input<string>;
  /** Monitoring options (scrape interval, SLOs): the same rules and dashboards as on the cluster. */
  monitoring: MonitoringOptions;
  /** Prometheus retention (monitoring.retention), e.g. "2d". */
  retention: string;
  /** Host address the published ports bind to; loopback so nothing is exposed. @default "127.0.0.1" */
  hostAddress?: string;
}

/** Builds a service from source into the local engine (no registry, no push). */
function localBuild(
  name: string,
  build: { context: string; dockerfile: string },
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const tag = contextHash(build.context, build.dockerfile);
  return new docker.Image(
    `${name}-build`,
    { imageName: `${name}:${tag}`, build: { context: build.context, dockerfile: build.dockerfile }, skipPush: true },
    { parent },
  ).imageName;
}

/**
 * The platform on a laptop's Docker engine: Redis, PostgreSQL, Prometheus (with the generated
 * static config and rules), Grafana (with the generated dashboards) and the three services on
 * one network, where the services' container names are the seed's scrape targets.
 */
export class LocalPlatform extends pulumi.ComponentResource {
  public readonly endpoints: Record<string, string>;

  constructor(name: string, args: LocalPlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:local:LocalPlatform", name, {}, opts);
    const child = { parent: this };
    const host = args.hostAddress ?? "127.0.0.1";
    const network = new docker.Network(`${name}-net`, { name: `${name}-net`, driver: "bridge" }, child);
    const image = (role: keyof typeof LOCAL_IMAGES) =>
      new docker.RemoteImage(`${name}-${role}-image`, { name: LOCAL_IMAGES[role], keepLocally: true }, child).imageId;
    const on = (alias: string) => [{ name: network.name, aliases: [alias] }];
    const publish = (port: number) => [{ internal: port, external: port, ip: host }];
    // Callers may pass plain strings; whatever carries a credential is a secret from here on.
    const secretEnv = (key: string, value: pulumi.Input<string>) => pulumi.secret(pulumi.interpolate`${key}=${value}`);

    new docker.Container(
      `${name}-redis`,
      {
        name: `${name}-redis`,
        image: image("redis"),
        // The env var keeps the token out of `docker inspect`'s command line.
        envs: [secretEnv("REDIS_PASSWORD", args.redisAuthToken)],
        command: [
          "sh",
          "-c",
          `exec redis-server --maxmemory ${args.redisMaxMemory ?? "256mb"} --maxmemory-policy ${args.maxmemoryPolicy} --requirepass "$REDIS_PASSWORD" --save ''`,
        ],
        networksAdvanced: on("redis"),
        ports: publish(6379),
        restart: "unless-stopped",
      },
      child,
    );

    const postgres = new docker.Container(
      `${name}-postgres`,
      {
        name: `${name}-postgres`,
        image: image("postgres"),
        envs: [
          `POSTGRES_DB=${args.database.name}`,
          `POSTGRES_USER=${args.database.username}`,
          secretEnv("POSTGRES_PASSWORD", args.database.password),
        ],
        command: [
          "postgres",
          "-c",
          `max_connections=${args.plan.budget.maxConnections}`,
          "-c",
          `log_min_duration_statement=${args.database.logMinDurationMs}`,
        ],
        networksAdvanced: on("postgres"),
        ports: publish(5432),
        restart: "unless-stopped",
      },
      child,
    );

    // As on AWS: one run of the migrations and the role step (CONNECTION LIMIT = each service's
    // slice) with the master password, before any service starts. `attach` makes Pulumi wait for the
    // container to exit; the loop waits for PostgreSQL to accept connections.
    const slices = serviceRoleSlices(args.plan.services.map((s) => s.profile));
    const passwords = Object.fromEntries(
      slices.map((sl) => [
        sl.service,
        new random.RandomPassword(`${name}-${sl.service}-db-password`, { length: 40, special: false }, child).result,
      ]),
    );
    const first = args.plan.services[0].profile;
    const serviceImage = (profile: ServiceProfile) =>
      profile.build ? localBuild(`${name}-${profile.name}`, profile.build, this) : pulumi.output(profile.image!);
    const images = Object.fromEntries(args.plan.services.map(({ profile }) => [profile.name, serviceImage(profile)]));
    const migration = new docker.Container(
      `${name}-db-migrate`,
      {
        name: `${name}-db-migrate`,
        image: images[first.name],
        envs: [
          secretEnv(
            "DATABASE_URL",
            pulumi.output(args.database.password).apply((password) =>
              masterUrl({
                host: "postgres",
                port: 5432,
                name: args.database.name,
                user: args.database.username,
                password,
                tls: false,
              }),
            ),
          ),
          ...slices.map((sl) => secretEnv(rolePasswordEnv(sl.role), passwords[sl.service])),
        ],
        // The image's entrypoint is the service; this container runs the packaged migrate CLI instead,
        // retrying while PostgreSQL starts.
        entrypoints: [
          "sh",
          "-c",
          `for i in $(seq 30); do ${MIGRATE_COMMAND.join(" ")} "$@" && exit 0; sleep 2; done; exit 1`,
          "db-migrate",
        ],
        command: migrationArgs(slices),
        networksAdvanced: on("db-migrate"),
        attach: true,
        logs: true,
        mustRun: false,
        restart: "no",
      },
      { ...child, dependsOn: [postgres] },
    );

    // Locally Redis and PostgreSQL run without TLS on a private Docker network.
    const endpoints = {
      redisHost: "redis",
      redisPort: 6379,
      redisTls: false,
      dbHost: "postgres",
      dbPort: 5432,
      dbName: args.database.name,
      dbUser: args.database.username,
      dbSsl: false,
      dbSslCaFile: "",
      dbStatsRefreshIntervalMs: args.database.statsRefreshInterval,
      cdnDistributionId: "",
    };
    for (const settings of args.plan.services) {
      const { profile } = settings;
      // Each service logs in as its own role (created by the migration container).
      const role = slices.find((sl) => sl.service === profile.name)!.role;
      const env = serviceEnv(args.environment, settings, { ...endpoints, dbUser: role });
      new docker.Container(
        `${name}-${profile.name}`,
        {
          name: profile.name,
          image: images[profile.name],
          envs: [
            ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
            `NODE_OPTIONS=${settings.nodeOptions}`,
            secretEnv("UAIP_REDIS_AUTH_TOKEN", args.redisAuthToken),
            secretEnv("UAIP_DB_PASSWORD", passwords[profile.name]),
            ...(profile.adminEndpoints
              ? [
                  secretEnv(
                    "UAIP_ADMIN_TOKEN",
                    new random.RandomPassword(`${name}-${profile.name}-admin-token`, { length: 40, special: false }, child)
                      .result,
                  ),
                ]
              : []),
          ],
          networksAdvanced: on(profile.name),
          ports: publish(profile.port),
          restart: "unless-stopped",
        },
        { ...child, dependsOn: [migration] },
      );
    }

    const files = generatedFiles(args.monitoring);
    const prometheusDir = "/etc/prometheus";
    new docker.Container(
      `${name}-prometheus`,
      {
        name: `${name}-prometheus`,
        image: image("prometheus"),
        // Generated paths are relative to dashboards/: prometheus/prometheus.yml refers to ../rules/*.yaml.
        uploads: Object.entries(files)
          .filter(([path]) => path === PROMETHEUS_CONFIG_PATH || path.startsWith("rules/"))
          .map(([path, content]) => ({ file: `${prometheusDir}/${path}`, content })),
        command: [`--config.file=${prometheusDir}/${PROMETHEUS_CONFIG_PATH}`, `--storage.tsdb.retention.time=${args.retention}`],
        networksAdvanced: on("prometheus"),
        ports: publish(9090),
        restart: "unless-stopped",
      },
      child,
    );

    const datasource = {
      apiVersion: 1,
      datasources: [
        {
          name: "Prometheus",
          type: "prometheus",
          uid: DATASOURCE_UID,
          url: "http://prometheus:9090",
          access: "proxy",
          isDefault: true,
        },
      ],
    };
    const provider = {
      apiVersion: 1,
      providers: [{ name: "uaip", type: "file", options: { path: "/var/lib/grafana/dashboards" } }],
    };
    new docker.Container(
      `${name}-grafana`,
      {
        name: `${name}-grafana`,
        image: image("grafana"),
        envs: [secretEnv("GF_SECURITY_ADMIN_PASSWORD", args.grafanaAdminPassword), "GF_AUTH_ANONYMOUS_ENABLED=false"],
        uploads: [
          { file: "/etc/grafana/provisioning/datasources/prometheus.yaml", content: JSON.stringify(datasource) },
          { file: "/etc/grafana/provisioning/dashboards/uaip.yaml", content: JSON.stringify(provider) },
          ...Object.entries(dashboardJson(args.monitoring)).map(([file, content]) => ({
            file: `/var/lib/grafana/dashboards/${file}`,
            content,
          })),
        ],
        networksAdvanced: on("grafana"),
        ports: publish(3000),
        restart: "unless-stopped",
      },
      child,
    );

    this.endpoints = {
      redis: `redis://${host}:6379`,
      postgres: `postgresql://${host}:5432/${args.database.name}`,
      prometheus: `http://${host}:9090`,
      grafana: `http://${host}:3000`,
      ...Object.fromEntries(args.plan.services.map(({ profile }) => [profile.name, `http://${host}:${profile.port}`])),
    };
    this.registerOutputs({ endpoints: this.endpoints });
  }
}
