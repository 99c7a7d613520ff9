/**
 * The UAIP platform program: load the stack's performance profile, check that the layers
 * agree, build the platform, export the outputs. The same file runs under `pulumi up`,
 * `pulumi preview` and the offline plan (`npm run plan`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { loadConfig } from "./config";
import { AwsPlatform } from "./components/aws/aws-platform";
import { underMocks } from "./components/engine";
import { assertChecks, crossLayerChecks } from "./profile/checks";
import { servicePlan } from "./profile/service-settings";
import { LocalPlatform } from "./components/local/local-platform";
import { readCapacityFiles } from "./tools/capacity-files";

const { profile, region, project, stack, secrets } = loadConfig();

// What each service gets and the connection budget, computed once for the checks and the platform.
const plan = servicePlan(profile);
// Each service's measured capacity (capacity/<service>.json), for the throughput, HPA-target, pool and node checks.
const capacity = readCapacityFiles(
  __dirname,
  profile.services.map((s) => s.name),
);
// Stop before creating anything when the layers disagree.
const checkResults = crossLayerChecks(profile, plan, capacity);
// What could not be checked (a missing or stale capacity file); the offline plan prints these with its checks.
if (!underMocks()) for (const c of checkResults.filter((x) => x.warning)) pulumi.log.warn(`${c.name}: ${c.detail}`);
assertChecks(checkResults);

const maxConnections = plan.budget.maxConnections;
const local = (name: string) => new random.RandomPassword(name, { length: 32, special: false }).result;

const platform =
  profile.platform === "aws"
    ? new AwsPlatform("uaip", {
        profile,
        plan,
        region,
        project,
        stack,
        grafanaAdminPassword: secrets.grafanaAdminPassword,
        alertWebhookUrl: secrets.alertWebhookUrl,
        // The stack files ship an example certificate so their offline plans run as cloned; a real
        // preview or up stops on it before creating anything.
        exampleCertificate: underMocks() ? "warn" : "refuse",
      })
    : new LocalPlatform("uaip", {
        environment: profile.environment,
        plan,
        maxmemoryPolicy: profile.redis.maxmemoryPolicy,
        database: {
          name: profile.database.name,
          username: profile.database.username,
          password: local("uaip-db-password"),
          logMinDurationMs: profile.database.logMinDurationMs,
          statsRefreshInterval: profile.database.statsRefreshInterval,
        },
        redisAuthToken: local("uaip-redis-auth"),
        grafanaAdminPassword: secrets.grafanaAdminPassword ?? local("uaip-grafana-admin"),
        monitoring: {
          scrapeInterval: profile.monitoring.scrapeInterval,
          slo: profile.monitoring.slo,
          heapThreshold: profile.runtime.memory.memoryMonitoring.threshold,
        },
        retention: profile.monitoring.retention,
      });

// Stack outputs. One object per platform, so neither lists keys the other has no value for.
const common = { environment: profile.environment, checks: checkResults, maxConnections };
export = platform instanceof AwsPlatform
  ? {
      ...common,
      albDnsName: platform.albDnsName,
      ...(platform.cdnDistributionId
        ? { cdnDomainName: platform.cdnDomainName, cdnDistributionId: platform.cdnDistributionId }
        : {}),
      redisPrimaryEndpoint: platform.redisPrimaryEndpoint,
      databaseEndpoint: platform.databaseEndpoint,
      clusterName: platform.clusterName,
      kubeconfig: platform.kubeconfig,
      ...(platform.ciRunnerProject ? { ciRunnerProject: platform.ciRunnerProject } : {}),
    }
  : { ...common, localEndpoints: platform.endpoints };
