/**
 * The UAIP platform program: load the stack's performance profile, check that the layers
 * agree, build the platform, export the outputs. The same file runs under `pulumi up`,
 * `pulumi preview` and the offline plan (`npm run plan`).
 */
import * as random from "@pulumi/random";
import { loadConfig, serviceRuntimeSettings } from "./config";
import { AwsPlatform } from "./components/aws-platform";
import { assertChecks, connectionBudget, crossLayerChecks } from "./components/checks";
import { LocalPlatform } from "./components/local-platform";

const { profile, region, project, stack, secrets } = loadConfig();

// Stop before creating anything when the layers disagree.
const checkResults = crossLayerChecks(profile);
assertChecks(checkResults);

const maxConnections = connectionBudget(profile).maxConnections;
const local = (name: string) => new random.RandomPassword(name, { length: 32, special: false }).result;

const platform =
  profile.platform === "aws"
    ? new AwsPlatform("uaip", { profile, region, project, stack, grafanaAdminPassword: secrets.grafanaAdminPassword, alertWebhookUrl: secrets.alertWebhookUrl })
    : new LocalPlatform("uaip", {
        environment: profile.environment,
        services: profile.services.map((s) => ({ profile: s, runtime: serviceRuntimeSettings(profile, s) })),
        maxConnections,
        maxmemoryPolicy: profile.redis.maxmemoryPolicy,
        database: { name: profile.database.name, username: profile.database.username, password: local("uaip-db-password") },
        redisAuthToken: local("uaip-redis-auth"),
        grafanaAdminPassword: secrets.grafanaAdminPassword ?? local("uaip-grafana-admin"),
        monitoring: { scrapeInterval: profile.monitoring.scrapeInterval, slo: profile.monitoring.slo, heapThreshold: profile.runtime.memory.memoryMonitoring.threshold },
      });

// Stack outputs. One object per platform, so neither lists keys the other has no value for.
const common = { environment: profile.environment, checks: checkResults, maxConnections };
export = platform instanceof AwsPlatform
  ? {
      ...common,
      albDnsName: platform.albDnsName,
      ...(platform.cdnDistributionId ? { cdnDomainName: platform.cdnDomainName, cdnDistributionId: platform.cdnDistributionId } : {}),
      redisPrimaryEndpoint: platform.redisPrimaryEndpoint,
      databaseEndpoint: platform.databaseEndpoint,
      clusterName: platform.clusterName,
      kubeconfig: platform.kubeconfig,
    }
  : { ...common, localEndpoints: platform.endpoints };
