import { ComponentArgsError, type ProfileIssue } from "../../profile/errors";
import type { Profile } from "../../profile/schema";
import type { ServicePlan } from "../../profile/service-settings";
import { validateMonitoringArgs } from "../k8s/monitoring-values";
import { validateTtl } from "./cdn";
import { amiTypeFor, clusterAutoscalerImageTag, validateNodeCounts } from "./cluster";
import { postgresFamily, postgresParameters } from "./database";
import { listenerRulePlan } from "./load-balancer";
import { cacheParameterFamily, clusterModePlan, replicationPlan, serverlessPlan } from "./redis";
import { instanceMaxConnections } from "../../profile/proxy-budget";
import { planSubnets } from "./subnets";

/**
 * The profile key behind each component arg AwsPlatform sets, so an arg error names what the
 * stack file sets (`network.cidr`), not the component's arg (`NetworkArgs.cidrBlock`).
 * First match wins; `$1` carries the rest of the key over.
 */
const PROFILE_KEY_OF_ARG: readonly (readonly [RegExp, string])[] = [
  [/^NetworkArgs\.cidrBlock$/, "network.cidr"],
  [/^NetworkArgs\.(.+)$/, "network.$1"],
  [/^ClusterArgs\.(.+)$/, "cluster.$1"],
  [/^DatabaseArgs\.logMinDurationStatementMs$/, "database.logMinDurationMs"],
  [/^DatabaseArgs\.(.+)$/, "database.$1"],
  [/^RedisArgs\.(.+)$/, "redis.$1"],
  [/^CdnArgs\.(apiTtl|staticTtl|priceClass)$/, "cdn.$1"],
  [/^LoadBalancerArgs\.idleTimeoutSeconds$/, "loadBalancer.idleTimeout"],
  [/^LoadBalancerArgs\.deregistrationDelaySeconds$/, "loadBalancer.deregistrationDelay"],
  [/^LoadBalancerArgs\.services(.*)$/, "services$1"],
  [/^MonitoringArgs\.services(.*)$/, "services$1"],
  [/^MonitoringArgs\.heapThreshold$/, "runtime.memory.memoryMonitoring.threshold"],
  [/^MonitoringArgs\.(.+)$/, "monitoring.$1"],
];

/** The profile key an arg key comes from; the arg key itself when AwsPlatform does not set it from the profile. */
export function profileKeyOf(argKey: string): string {
  for (const [pattern, key] of PROFILE_KEY_OF_ARG) if (pattern.test(argKey)) return argKey.replace(pattern, key);
  return argKey;
}

/** A ComponentArgsError restated under the profile key; anything else is not an arg issue and is rethrown. */
export function issueOf(err: unknown): ProfileIssue {
  if (!(err instanceof ComponentArgsError)) throw err;
  return { path: profileKeyOf(err.key), message: err.detail };
}

/**
 * Runs the components' own pure validators on the values AwsPlatform will pass them and returns
 * every failure, keyed by profile key: one per validator, so several wrong keys are listed together
 * instead of the first one stopping the plan. (Each component still validates its args itself.)
 */
export function awsArgIssues(p: Profile, plan: ServicePlan): ProfileIssue[] {
  const validators: (() => unknown)[] = [
    () => planSubnets(p.network.cidr, p.network.azCount),
    () => amiTypeFor(p.cluster.instanceTypes),
    () => validateNodeCounts(p.cluster.nodes),
    () => clusterAutoscalerImageTag(p.cluster.version),
    () => postgresFamily(p.database.engineVersion),
    () =>
      postgresParameters({
        maxConnections: instanceMaxConnections(p, plan.budget),
        logMinDurationStatementMs: p.database.logMinDurationMs,
      }),
    () => cacheParameterFamily(p.redis.engine, p.redis.engineVersion),
    () =>
      p.redis.mode === "cluster" && !p.redis.serverless
        ? clusterModePlan(p.redis.shards ?? 3, p.redis.replicasPerShard ?? p.redis.replicas, p.redis.multiAz)
        : p.redis.serverless
          ? serverlessPlan(p.redis.engine, p.redis.engineVersion, p.redis.serverless)
          : replicationPlan(p.redis.replicas, p.redis.multiAz),
    () => listenerRulePlan(p.services.map((s) => ({ name: s.name, port: s.port }))),
    () => validateTtl("CdnArgs.apiTtl", p.cdn.apiTtl),
    () => validateTtl("CdnArgs.staticTtl", p.cdn.staticTtl),
    () =>
      validateMonitoringArgs({
        services: p.services.map((s) => ({ name: s.name, port: s.port })),
        scrapeInterval: p.monitoring.scrapeInterval,
        slo: p.monitoring.slo,
        heapThreshold: p.runtime.memory.memoryMonitoring.threshold,
        retention: p.monitoring.retention,
        storageSize: p.monitoring.storageSize,
        replicas: p.monitoring.replicas,
      }),
  ];
  const issues: ProfileIssue[] = [];
  for (const validate of validators) {
    try {
      validate();
    } catch (err) {
      issues.push(issueOf(err));
    }
  }
  return issues;
}
