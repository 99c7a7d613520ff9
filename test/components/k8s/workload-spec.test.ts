import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { loadRuntimeConfig } from "@uaip/runtime";
import { RUNTIME_OPTIONAL_ENV_NAMES, RUNTIME_PLAIN_ENV_NAMES } from "@uaip/runtime/config";
import { parseConfig } from "../../../profile/parse";
import { nodeOptions, serviceEnv, serviceRuntimeSettings } from "../../../profile/service-settings";
import {
  configMapManifest,
  deploymentManifest,
  hpaManifest,
  METRICS_PORT_NAME,
  pdbManifest,
  secretManifest,
  serviceAccountManifest,
  serviceManifest,
  terminationTiming,
  workloadNames,
} from "../../../components/k8s/workload-spec";

const ENDPOINTS = {
  redisHost: "redis.internal",
  redisPort: 6379,
  dbHost: "db.internal",
  dbPort: 5432,
  dbName: "uaip",
  dbUser: "uaip",
  redisTls: true,
  dbSsl: true,
  dbSslCaFile: "/etc/uaip/rds-ca/global-bundle.pem",
  dbStatsRefreshIntervalMs: 300_000,
  cdnDistributionId: "E2EXAMPLE",
};

describe.each(["dev", "prod"])("workload objects of the %s profile", (environment) => {
  const profile = parseConfig({
    environment,
    services: [
      { name: "a", port: 3001, hpa: { memoryTarget: 80 } },
      { name: "b", port: 3002 },
      { name: "c", port: 3003 },
    ],
  });

  describe.each(profile.services.map((s) => [s.name, s] as const))("service %s", (_name, service) => {
    const runtime = serviceRuntimeSettings(profile, service);
    const names = workloadNames(service.name, "uaip");
    const data = serviceEnv(environment, { profile: service, runtime }, ENDPOINTS);
    const objects = {
      deployment: deploymentManifest({ names, service, runtime, image: "ghcr.io/uaip/a:1", deregistrationDelaySeconds: 30 }),
      service: serviceManifest(names, service),
      hpa: hpaManifest(names, service),
      pdb: pdbManifest(names, service),
      sa: serviceAccountManifest(names, service),
      configMap: configMapManifest(names, service, data),
      secret: secretManifest(names, service, { UAIP_REDIS_AUTH_TOKEN: "t", UAIP_DB_PASSWORD: "p" }),
    };

    it("the ConfigMap tells the limiter how many replicas share the limit in an outage: the HPA's max", () => {
      const hpa = objects.hpa.spec as { maxReplicas: number };
      expect(objects.configMap.data).toMatchObject({ UAIP_REPLICAS_MAX: String(hpa.maxReplicas) });
    });

    it("every object validates against the Kubernetes API schema", () => {
      expect(() => new Deployment(objects.deployment as never).validate()).not.toThrow();
      expect(() => new Service(objects.service as never).validate()).not.toThrow();
      expect(() => new HorizontalPodAutoscaler(objects.hpa as never).validate()).not.toThrow();
      expect(() => new PodDisruptionBudget(objects.pdb as never).validate()).not.toThrow();
      expect(() => new ServiceAccount(objects.sa as never).validate()).not.toThrow();
      expect(() => new ConfigMap(objects.configMap as never).validate()).not.toThrow();
      expect(() => new Secret(objects.secret as never).validate()).not.toThrow();
    });

    it("the schema validation can fail (a wrong field type is rejected)", () => {
      const broken = { ...objects.hpa, spec: { ...(objects.hpa.spec as object), minReplicas: "one" } };
      expect(() => new HorizontalPodAutoscaler(broken as never).validate()).toThrow();
    });

    it("the Deployment leaves replicas to the HPA, probes /readyz and /healthz, sets NODE_OPTIONS from the heap limit", () => {
      const spec = objects.deployment.spec as Record<string, any>;
      expect(spec).not.toHaveProperty("replicas");
      const container = spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: METRICS_PORT_NAME });
      expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: METRICS_PORT_NAME });
      expect(container.ports).toEqual([{ name: "http-metrics", containerPort: service.port, protocol: "TCP" }]);
      expect(container.env).toContainEqual({
        name: "NODE_OPTIONS",
        value: `--max-old-space-size=${runtime.memory.heapSizeLimit}`,
      });
      expect(container.resources).toEqual(service.resources);
      expect(spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe("topology.kubernetes.io/zone");
      const timing = terminationTiming(30);
      expect(container.lifecycle.preStop.sleep.seconds).toBe(timing.preStopSeconds);
      expect(spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(timing.preStopSeconds + 30);
    });

    it("the HPA takes its bounds and CPU target from the profile and damps flapping", () => {
      const spec = objects.hpa.spec as Record<string, any>;
      expect([spec.minReplicas, spec.maxReplicas]).toEqual([service.hpa.min, service.hpa.max]);
      expect(spec.metrics[0].resource).toEqual({
        name: "cpu",
        target: { type: "Utilization", averageUtilization: service.hpa.cpuTarget },
      });
      expect(spec.metrics).toHaveLength(service.hpa.memoryTarget ? 2 : 1);
      expect(spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
      expect(spec.behavior.scaleUp.policies).toContainEqual({ type: "Pods", value: 4, periodSeconds: 60 });
      expect(spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: service.name });
    });

    it("the ConfigMap holds exactly the runtime contract's plain variables, and the service can load it", () => {
      // The optional ones (read replica, proxy bypass, pinning detection) only when the stack has them: this one has none.
      expect(Object.keys(data).sort()).toEqual(
        RUNTIME_PLAIN_ENV_NAMES.filter((n) => !RUNTIME_OPTIONAL_ENV_NAMES.includes(n)).sort(),
      );
      const loaded = loadRuntimeConfig({ ...data, UAIP_REDIS_AUTH_TOKEN: "t", UAIP_DB_PASSWORD: "p" });
      expect(loaded.serviceName).toBe(service.name);
      expect(loaded.pool).toMatchObject({ minConnections: service.pool.min, maxConnections: service.pool.max });
      expect(loaded.cache.redis).toMatchObject({ host: "redis.internal", tls: true });
      expect(loaded.cache.cdn.distributionId).toBe("E2EXAMPLE");
      expect(loaded.http.keepAliveTimeout).toBe(profile.runtime.http.keepAliveTimeout);
      expect(loaded.memory.heapSizeLimit).toBe(Number(nodeOptions(runtime).split("=")[1]));
    });

    it("the Service and PDB select the pods by the stable labels", () => {
      const selector = (objects.service.spec as Record<string, any>).selector;
      expect(selector).toEqual({ "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": "uaip" });
      expect((objects.pdb.spec as Record<string, any>).selector.matchLabels).toEqual(selector);
      expect((objects.pdb.spec as Record<string, any>).maxUnavailable).toBe(1);
    });
  });
});
