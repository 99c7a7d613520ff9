import { RUNTIME_ENV } from "@uaip/runtime/config";
import type { PlatformMocks } from "../../../tools/mocks";
import { unwrapSecrets } from "../../../tools/mocks";
import { connectionBudget } from "../../../profile/connection-budget";
import { parseConfig } from "../../../profile/parse";
import { serviceRuntimeSettings } from "../../../profile/service-settings";
import { resourcesOfType, settle, setupMocks } from "../../helpers/pulumi";

// Pulumi must be in mock mode before any resource module loads: the component module comes in beforeAll.
let mocks: PlatformMocks;
let m: typeof import("../../../components/k8s/db-migration");
const dependencies = new Map<string, string[]>();
beforeAll(async () => {
  mocks = setupMocks("dev");
  // Record each resource's dependsOn, which the shared mocks do not keep.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: { getName(): string; getDependenciesList(): string[] }, ...rest: unknown[]) => {
    dependencies.set(req.getName(), req.getDependenciesList());
    return register(req, ...rest);
  };
  m = await import("../../../components/k8s/db-migration");
});
const serviceDbRole = (name: string) => m.serviceDbRole(name);

const profile = parseConfig({
  environment: "prod",
  services: [
    { name: "agent-intelligence", port: 3001, pool: { min: 2, max: 10 }, hpa: { min: 2, max: 6 } },
    { name: "orchestration-pipeline", port: 3002, pool: { min: 2, max: 20 }, hpa: { min: 2, max: 4 } },
    { name: "capability-registry", port: 3003 },
  ],
});

describe("per-service roles: pure helpers", () => {
  it.each([
    ["agent-intelligence", "agent_intelligence"],
    ["capability-registry", "capability_registry"],
    ["api", "api"],
  ])("%s -> role %s", (service, role) => expect(serviceDbRole(service)).toBe(role));

  it("each role's CONNECTION LIMIT is its slice pool.max × pods in a rollout at hpa.max (25% surge, rounded up); the slices plus the migration Job and the reserves are the connection budget", () => {
    const slices = m.serviceRoleSlices(profile.services);
    const budget = connectionBudget(profile);
    expect(slices.map((s) => s.connectionLimit)).toEqual(budget.perService.map((s) => s.connections));
    expect(slices.slice(0, 2)).toEqual([
      // 10 × (6 + ⌈6/4⌉ = 8) and 20 × (4 + ⌈4/4⌉ = 5): the surge pods must be able to log in too.
      { service: "agent-intelligence", role: "agent_intelligence", connectionLimit: 80 },
      { service: "orchestration-pipeline", role: "orchestration_pipeline", connectionLimit: 100 },
    ]);
    expect(
      slices.reduce((n, s) => n + s.connectionLimit, 0) + budget.othersTotal + budget.reserved + budget.serverReservedTotal,
    ).toBe(budget.required);
    expect(m.migrationArgs(slices.slice(0, 1))).toEqual(["--role", "agent_intelligence:80"]);
  });

  it("the master URL verifies RDS's certificate against the mounted bundle and escapes the password", () => {
    const url = m.masterUrl({ host: "db.rds", port: 5432, name: "uaip", user: "uaip", password: "p@ss/w:rd", tls: true });
    expect(url).toBe(
      "postgres://uaip:p%40ss%2Fw%3Ard@db.rds:5432/uaip?sslmode=verify-full&sslrootcert=%2Fetc%2Fuaip%2Frds-ca%2Fglobal-bundle.pem",
    );
  });
});

describe("Services: migration Job and per-service credentials (mocked cluster)", () => {
  beforeAll(async () => {
    const { Services } = await import("../../../components/k8s/services");
    new Services("uaip", {
      environment: "prod",
      services: profile.services.map((s) => ({ profile: s, runtime: serviceRuntimeSettings(profile, s) })),
      cluster: {
        name: "uaip-prod",
        oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks/id/X",
        oidcIssuerUrl: "https://oidc.eks.us-east-1.amazonaws.com/id/X",
      },
      vpcId: "vpc-1",
      region: "us-east-1",
      targetGroupArns: Object.fromEntries(
        profile.services.map((s) => [s.name, `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${s.name}/abc`]),
      ),
      endpoints: {
        redisHost: "master.redis",
        redisPort: 6379,
        redisTls: true,
        dbHost: "db.rds",
        dbPort: 5432,
        dbName: "uaip",
        dbUser: "uaip",
        dbSsl: true,
        dbSslCaFile: "/etc/uaip/rds-ca/global-bundle.pem",
        dbStatsRefreshIntervalMs: 300_000,
        cdnDistributionId: "",
      },
      // prod's services purge the CDN, so each gets an IRSA role for this distribution.
      cdnDistributionArn: "arn:aws:cloudfront::123456789012:distribution/E123",
      credentials: { redisAuthToken: "redis-token-plain", databaseMasterPassword: "master-password-plain" },
    });
    await settle(300);
  });

  const k8s = (type: string) => resourcesOfType(mocks, `kubernetes:${type}`);

  it("one Job runs the migrations with every service's role and slice, credentials from its Secret", () => {
    const [job] = k8s("batch/v1:Job");
    const spec = (job.inputs.spec as any).template.spec;
    const container = spec.containers[0];
    expect(container.args).toEqual([
      "--role",
      "agent_intelligence:80",
      "--role",
      "orchestration_pipeline:100",
      "--role",
      `capability_registry:${profile.services[2].pool.max * (profile.services[2].hpa.max + Math.ceil(profile.services[2].hpa.max / 4))}`,
    ]);
    expect(
      container.env.map((e: { name: string; valueFrom?: unknown; value?: unknown }) => [e.name, e.value === undefined]),
    ).toEqual(
      [
        "DATABASE_URL",
        "DB_ROLE_PASSWORD_AGENT_INTELLIGENCE",
        "DB_ROLE_PASSWORD_ORCHESTRATION_PIPELINE",
        "DB_ROLE_PASSWORD_CAPABILITY_REGISTRY",
      ].map((n) => [n, true]),
    );
    expect(container.volumeMounts).toEqual([{ name: "rds-ca", mountPath: "/etc/uaip/rds-ca", readOnly: true }]);
    expect(spec).toMatchObject({
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true },
    });
  });

  it("the master password is only in the migration Secret; each service's Secret has its own password", () => {
    const secrets = k8s("core/v1:Secret");
    // That every Secret's stringData is a Pulumi secret is checked in services.test.ts.
    const data = (name: string) =>
      unwrapSecrets(secrets.find((s) => (s.inputs.metadata as { name: string }).name === name)!.inputs.stringData) as Record<
        string,
        string
      >;
    const migration = data("uaip-db-db-migration");
    expect(migration.DATABASE_URL).toContain("master-password-plain");
    const servicePasswords = profile.services.map((s) => data(`${s.name}-credentials`).UAIP_DB_PASSWORD);
    expect(new Set(servicePasswords).size).toBe(3);
    for (const [i, s] of profile.services.entries()) {
      expect(servicePasswords[i]).not.toBe("master-password-plain");
      expect(servicePasswords[i]).toBe(migration[`DB_ROLE_PASSWORD_${serviceDbRole(s.name).toUpperCase()}`]);
    }
    const everythingElse = JSON.stringify(
      mocks.resources
        .filter(
          (r) =>
            !(r.type === "kubernetes:core/v1:Secret" && (r.inputs.metadata as { name: string }).name === "uaip-db-db-migration"),
        )
        .map((r) => unwrapSecrets(r.inputs)),
    );
    expect(everythingElse).not.toContain("master-password-plain");
  });

  it("each service connects as its own role, refreshes operation_stats on the profile's interval and verifies TLS with the RDS bundle", () => {
    const runtimeConfigMaps = k8s("core/v1:ConfigMap").filter((cm) => (cm.inputs.metadata as { name: string }).name !== "rds-ca");
    expect(runtimeConfigMaps).toHaveLength(3);
    for (const cm of runtimeConfigMaps) {
      const d = cm.inputs.data as Record<string, string>;
      expect(d.UAIP_DB_USER).toBe(serviceDbRole(d.UAIP_SERVICE_NAME));
      expect(d.UAIP_DB_STATS_REFRESH_INTERVAL_MS).toBe(String(profile.database.statsRefreshInterval));
      expect(d.UAIP_DB_SSL_CA_FILE).toBe("/etc/uaip/rds-ca/global-bundle.pem");
      expect(Object.keys(RUNTIME_ENV)).toContain("UAIP_DB_SSL_CA_FILE");
    }
  });

  it("the Job mounts the namespace's one rds-ca ConfigMap and waits for it", () => {
    const caMaps = k8s("core/v1:ConfigMap").filter((cm) => (cm.inputs.metadata as { name: string }).name === "rds-ca");
    expect(caMaps).toHaveLength(1);
    const [job] = k8s("batch/v1:Job");
    expect((job.inputs.spec as any).template.spec.volumes).toEqual([
      { name: "rds-ca", configMap: { name: "rds-ca", items: [{ key: "global-bundle.pem", path: "global-bundle.pem" }] } },
    ]);
    expect(dependencies.get(job.name)).toContain(caMaps[0].urn);
  });

  it("every Deployment waits for the migration Job", () => {
    const jobUrn = k8s("batch/v1:Job")[0].urn;
    for (const d of k8s("apps/v1:Deployment")) expect(dependencies.get(d.name)).toContain(jobUrn);
  });
});
