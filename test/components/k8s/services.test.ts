import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUNTIME_PLAIN_ENV_NAMES, RUNTIME_OPTIONAL_ENV_NAMES } from "@uaip/runtime/config";
import type { PlatformMocks } from "../../../tools/mocks";
import { isSecretValue } from "../../../tools/mocks";
import { parseConfig } from "../../../profile/parse";
import { serviceRuntimeSettings } from "../../../profile/service-settings";
import { promiseOf, resourcesOfType, settle, setupMocks } from "../../helpers/pulumi";

let mocks: PlatformMocks;
let servicesModule: typeof import("../../../components/k8s/services");

const context = mkdtempSync(join(tmpdir(), "uaip-build-"));
writeFileSync(join(context, "Dockerfile"), "FROM node:20-slim\n");
const profile = parseConfig({
  environment: "dev",
  // Prebuilt images for the first two (the default would build the reference service).
  images: { registry: "ghcr.io/uaip", tag: "0.1.0" },
  services: [
    { name: "agent-intelligence", port: 3001 },
    { name: "orchestration-pipeline", port: 3002, hpa: { min: 2, max: 4 }, adminEndpoints: true },
    { name: "capability-registry", port: 3003, build: { context, dockerfile: "Dockerfile" } },
  ],
});
const DISTRIBUTION_ARN = "arn:aws:cloudfront::123456789012:distribution/E123";
const TG = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/abc`;

function args(overrides: Record<string, unknown> = {}) {
  return {
    environment: "dev",
    services: profile.services.map((s) => ({ profile: s, runtime: serviceRuntimeSettings(profile, s) })),
    cluster: {
      name: "uaip-dev",
      oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks/id/X",
      oidcIssuerUrl: "https://oidc.eks.us-east-1.amazonaws.com/id/X",
    },
    vpcId: "vpc-1",
    region: "us-east-1",
    targetGroupArns: Object.fromEntries(profile.services.map((s) => [s.name, TG(s.name)])),
    endpoints: {
      redisHost: "master.redis",
      redisPort: 6379,
      dbHost: "db.rds",
      dbPort: 5432,
      dbName: "uaip",
      dbUser: "uaip",
      redisTls: true,
      dbSsl: true,
      dbSslCaFile: "/etc/uaip/rds-ca/global-bundle.pem",
      dbStatsRefreshIntervalMs: 300_000,
      cdnDistributionId: "E123",
      awsRegion: "us-east-1",
    },
    cdnDistributionArn: DISTRIBUTION_ARN,
    credentials: { redisAuthToken: "redis-token-plain", databaseMasterPassword: "db-password-plain" },
    ...overrides,
  };
}

beforeAll(async () => {
  mocks = setupMocks("dev");
  servicesModule = await import("../../../components/k8s/services");
  new servicesModule.Services("uaip", args());
  await settle(200);
});

// The namespace's shared RDS CA bundle ConfigMap is covered by test/tools/checks/k8s/rds-ca.test.ts.
const k8sOf = (type: string) => resourcesOfType(mocks, `kubernetes:${type}`).filter((r) => !r.name.endsWith("-rds-ca"));

describe("Services on Kubernetes (mocked cluster)", () => {
  it("creates one of each object per service, in one shared namespace", () => {
    for (const type of [
      "apps/v1:Deployment",
      "core/v1:Service",
      "core/v1:ConfigMap",
      "core/v1:Secret",
      "core/v1:ServiceAccount",
      "autoscaling/v2:HorizontalPodAutoscaler",
      "policy/v1:PodDisruptionBudget",
      "elbv2.k8s.aws/v1beta1:TargetGroupBinding",
    ]) {
      // The migration Job's Secret (master URL, role passwords) is the one shared Secret.
      const objects = (
        type.includes("TargetGroupBinding")
          ? resourcesOfType(mocks, "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
          : k8sOf(type)
      ).filter((o) => !(o.inputs.metadata as { name: string }).name.endsWith("-db-migration"));
      expect([type, objects.length]).toEqual([type, 3]);
      for (const o of objects) expect((o.inputs.metadata as { namespace: string }).namespace).toBe("uaip");
    }
    expect(k8sOf("core/v1:Namespace").map((n) => (n.inputs.metadata as { name: string }).name)).toEqual(["uaip"]);
  });

  it("no Deployment sets replicas (the HPA owns them)", () => {
    for (const d of k8sOf("apps/v1:Deployment")) expect(d.inputs.spec).not.toHaveProperty("replicas");
  });

  it("HPA bounds follow each service's profile", () => {
    const bounds = Object.fromEntries(
      k8sOf("autoscaling/v2:HorizontalPodAutoscaler").map((h) => [
        (h.inputs.metadata as { name: string }).name,
        [(h.inputs.spec as any).minReplicas, (h.inputs.spec as any).maxReplicas],
      ]),
    );
    expect(bounds).toEqual({ "agent-intelligence": [1, 3], "orchestration-pipeline": [2, 4], "capability-registry": [1, 3] });
  });

  it("ConfigMap keys are exactly the runtime contract, with the platform endpoints filled in", () => {
    for (const cm of k8sOf("core/v1:ConfigMap")) {
      const data = cm.inputs.data as Record<string, string>;
      // The runtime's contract plus AWS_REGION for its SDK client (pods cannot ask IMDS at hop limit 1).
      // The optional ones (read replica, proxy bypass, pinning detection) only when this stack has them: it has none.
      const always = RUNTIME_PLAIN_ENV_NAMES.filter((n) => !RUNTIME_OPTIONAL_ENV_NAMES.includes(n));
      expect(Object.keys(data).sort()).toEqual([...always, "AWS_REGION"].sort());
      expect(data).toMatchObject({
        AWS_REGION: "us-east-1",
        UAIP_REDIS_HOST: "master.redis",
        UAIP_REDIS_TLS: "true",
        UAIP_DB_HOST: "db.rds",
        UAIP_CDN_DISTRIBUTION_ID: "E123",
        UAIP_HTTP_KEEP_ALIVE_TIMEOUT_MS: "65000",
      });
    }
  });

  it("Secret data is a Pulumi secret and no credential reaches a ConfigMap", () => {
    const raw = mocks.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
    for (const s of raw) expect(isSecretValue(s.inputs.stringData)).toBe(true);
    const configMaps = JSON.stringify(
      mocks.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap").map((r) => r.inputs),
    );
    expect(configMaps).not.toContain("redis-token-plain");
    expect(configMaps).not.toContain("db-password-plain");
  });

  it("generates an admin token into the Secret only of a service whose profile turns adminEndpoints on", () => {
    const keys = (service: string) => {
      const secret = mocks.resources.find(
        (r) => r.type === "kubernetes:core/v1:Secret" && r.name === `uaip-${service}-credentials`,
      );
      return Object.keys((secret!.inputs.stringData as { value: Record<string, unknown> }).value).sort();
    };
    expect(keys("orchestration-pipeline")).toEqual(["UAIP_ADMIN_TOKEN", "UAIP_DB_PASSWORD", "UAIP_REDIS_AUTH_TOKEN"]);
    expect(keys("agent-intelligence")).toEqual(["UAIP_DB_PASSWORD", "UAIP_REDIS_AUTH_TOKEN"]);
    expect(
      mocks.resources
        .filter((r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.endsWith("-admin-token"))
        .map((r) => r.name),
    ).toEqual(["uaip-orchestration-pipeline-admin-token"]);
  });

  it("each TargetGroupBinding points its Service at that service's ALB target group", () => {
    for (const b of resourcesOfType(mocks, "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")) {
      const spec = b.inputs.spec as { serviceRef: { name: string; port: number }; targetGroupARN: string; targetType: string };
      expect(spec.targetGroupARN).toBe(TG(spec.serviceRef.name));
      expect(spec.targetType).toBe("ip");
      expect(spec.serviceRef.port).toBe(profile.services.find((s) => s.name === spec.serviceRef.name)!.port);
    }
  });

  it("the LB controller may register targets only in these target groups", () => {
    const [policy] = resourcesOfType(mocks, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.includes("lbc"));
    const doc = JSON.parse(policy.inputs.policy as string);
    const register = doc.Statement.find((s: { Sid: string }) => s.Sid === "RegisterTargets");
    expect(register.Resource.sort()).toEqual(profile.services.map((s) => TG(s.name)).sort());
    const [release] = resourcesOfType(mocks, "kubernetes:helm.sh/v3:Release");
    expect(release.inputs).toMatchObject({
      chart: "aws-load-balancer-controller",
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
  });

  it("a build entry gets a scanned, tag-immutable ECR repository and a content-hash tag", async () => {
    const repos = resourcesOfType(mocks, "aws:ecr/repository:Repository");
    expect(repos).toHaveLength(1);
    expect(repos[0].inputs).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    const [image] = resourcesOfType(mocks, "docker:index/image:Image");
    expect(image.inputs.imageName).toMatch(/:[0-9a-f]{16}$/);
    expect(resourcesOfType(mocks, "aws:ecr/lifecyclePolicy:LifecyclePolicy")).toHaveLength(1);
    const deployments = k8sOf("apps/v1:Deployment");
    const built = deployments.find((d) => (d.inputs.metadata as { name: string }).name === "capability-registry")!;
    expect((built.inputs.spec as any).template.spec.containers[0].image).toMatch(/@sha256:/);
    const prebuilt = deployments.find((d) => (d.inputs.metadata as { name: string }).name === "agent-intelligence")!;
    expect((prebuilt.inputs.spec as any).template.spec.containers[0].image).toBe("ghcr.io/uaip/agent-intelligence:0.1.0");
  });

  it("each service that purges the CDN gets its own IRSA role: trusted by its ServiceAccount only, CreateInvalidation on its distribution only", () => {
    const roles = resourcesOfType(mocks, "aws:iam/role:Role").filter((r) => r.name.endsWith("-iam-role"));
    expect(roles.map((r) => r.name).sort()).toEqual(profile.services.map((s) => `uaip-${s.name}-iam-role`).sort());
    for (const s of profile.services) {
      const role = roles.find((r) => r.name === `uaip-${s.name}-iam-role`)!;
      const trust = JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0];
      expect(trust.Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/X:sub"]).toBe(
        `system:serviceaccount:uaip:${s.name}`,
      );
      const [policy] = resourcesOfType(mocks, "aws:iam/rolePolicy:RolePolicy").filter(
        (p) => p.name === `uaip-${s.name}-iam-cdn-purge`,
      );
      expect(JSON.parse(policy!.inputs.policy as string).Statement).toEqual([
        { Sid: "PurgeOwnDistribution", Effect: "Allow", Action: ["cloudfront:CreateInvalidation"], Resource: DISTRIBUTION_ARN },
      ]);
      const sa = k8sOf("core/v1:ServiceAccount").find((a) => (a.inputs.metadata as { name: string }).name === s.name)!;
      expect((sa.inputs.metadata as { annotations: Record<string, string> }).annotations["eks.amazonaws.com/role-arn"]).toMatch(
        new RegExp(`uaip-${s.name}-iam-role$`),
      );
    }
  });

  it("a service that purges the CDN without a distribution is refused by name", () => {
    expect(() => new servicesModule.Services("no-cdn", args({ cdnDistributionArn: undefined }))).toThrow(
      expect.objectContaining({ key: "services.agent-intelligence.runtime.cache.cdn.enabled" }),
    );
  });

  it("a service without an ALB target group is refused by name", () => {
    expect(() => new servicesModule.Services("broken", args({ targetGroupArns: { "agent-intelligence": TG("a") } }))).toThrow(
      /no ALB target group for service\(s\) orchestration-pipeline, capability-registry/,
    );
  });

  it("exposes the ConfigMap data per service", async () => {
    const s = new servicesModule.Services("again", args({ namespace: "uaip-2" }));
    const data = await promiseOf(s.configMapData["agent-intelligence"]);
    expect(data.UAIP_SERVICE_NAME).toBe("agent-intelligence");
  });
});
