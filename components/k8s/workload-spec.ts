import type { types } from "@pulumi/kubernetes";
import type { Input } from "@pulumi/pulumi";
import { type RuntimeSettings } from "@uaip/runtime/config";
import { DEFAULT_DRAIN_TIMEOUT_MS } from "@uaip/runtime/realtime";
import { ROLLOUT_MAX_SURGE } from "../../profile/connection-arithmetic";
import type { ServiceProfile } from "../../profile/schema";
import { nodeOptions } from "../../profile/service-settings";

/**
 * Pure builders of the Kubernetes objects of one UAIP service. The Service component passes
 * them to @pulumi/kubernetes; the tests validate them against the Kubernetes API schemas.
 * Keeping them pure is what makes "no spec.replicas when an HPA manages it" testable.
 */

export const PART_OF = "uaip";
/** Port name Prometheus scrapes (ServiceMonitor `port`); the service's HTTP port also serves /metrics. */
export const METRICS_PORT_NAME = "http-metrics";
/** Seconds a stopping pod keeps serving so the ALB stops routing to it before SIGTERM. */
export const DEFAULT_PRE_STOP_SECONDS = 15;

export interface WorkloadNames {
  name: string;
  namespace: string;
  configMap: string;
  secret: string;
  serviceAccount: string;
}

export function workloadNames(serviceName: string, namespace: string): WorkloadNames {
  return {
    name: serviceName,
    namespace,
    configMap: `${serviceName}-runtime`,
    secret: `${serviceName}-credentials`,
    serviceAccount: serviceName,
  };
}

/** Labels every object of the service carries; ServiceMonitors select on the first two. */
export function serviceLabels(serviceName: string): Record<string, string> {
  return { "app.kubernetes.io/name": serviceName, "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/component": "api" };
}

/** The pod selector: stable subset of the labels (selectors are immutable on Deployments). */
export function selectorLabels(serviceName: string): Record<string, string> {
  return { "app.kubernetes.io/name": serviceName, "app.kubernetes.io/part-of": PART_OF };
}

/** What in-flight HTTP requests get after the WebSocket drain, before SIGKILL, seconds. */
export const HTTP_DRAIN_MARGIN_SECONDS = 5;

/**
 * Pod termination: sleep in preStop until the ALB has deregistered the target; after SIGTERM the
 * service drains its WebSockets (up to the runtime's DEFAULT_DRAIN_TIMEOUT_MS) and finishes the
 * requests in flight, which the ALB may keep sending for its deregistration delay. The grace period
 * covers the longer of the two plus a margin, so a short deregistration delay (a stack may set 0)
 * cannot SIGKILL a drain halfway, dropping its queued messages and its 1001 close.
 */
export function terminationTiming(deregistrationDelaySeconds: number, preStopSeconds = DEFAULT_PRE_STOP_SECONDS) {
  const wsDrainSeconds = Math.ceil(DEFAULT_DRAIN_TIMEOUT_MS / 1000);
  const afterSigterm = Math.max(deregistrationDelaySeconds, wsDrainSeconds) + HTTP_DRAIN_MARGIN_SECONDS;
  return { preStopSeconds, terminationGracePeriodSeconds: preStopSeconds + afterSigterm };
}

export interface DeploymentInput {
  names: WorkloadNames;
  service: ServiceProfile;
  runtime: RuntimeSettings;
  image: Input<string>;
  deregistrationDelaySeconds: number;
}

export function deploymentManifest({
  names,
  service,
  runtime,
  image,
  deregistrationDelaySeconds,
}: DeploymentInput): types.input.apps.v1.Deployment {
  const timing = terminationTiming(deregistrationDelaySeconds);
  const selector = selectorLabels(service.name);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: names.name, namespace: names.namespace, labels: serviceLabels(service.name) },
    // No `replicas`: the HPA owns the replica count; setting both makes them fight on every update.
    spec: {
      selector: { matchLabels: selector },
      // The connection budget and the roles' CONNECTION LIMIT count the surge pods with this same value.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: ROLLOUT_MAX_SURGE, maxUnavailable: 0 } },
      template: {
        metadata: { labels: serviceLabels(service.name) },
        spec: {
          serviceAccountName: names.serviceAccount,
          // No <SERVICE>_PORT variables for every Service of the namespace: a Service named uaip-x would inject UAIP_X_* into the runtime's env contract.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: timing.terminationGracePeriodSeconds,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
            },
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
            },
          ],
          containers: [
            {
              name: service.name,
              image,
              ports: [{ name: METRICS_PORT_NAME, containerPort: service.port, protocol: "TCP" }],
              envFrom: [{ configMapRef: { name: names.configMap } }, { secretRef: { name: names.secret } }],
              env: [{ name: "NODE_OPTIONS", value: nodeOptions(runtime) }],
              resources: { requests: { ...service.resources.requests }, limits: { ...service.resources.limits } },
              readinessProbe: {
                httpGet: { path: "/readyz", port: METRICS_PORT_NAME },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: METRICS_PORT_NAME },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              startupProbe: { httpGet: { path: "/healthz", port: METRICS_PORT_NAME }, periodSeconds: 2, failureThreshold: 30 },
              lifecycle: { preStop: { sleep: { seconds: timing.preStopSeconds } } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              // The root filesystem is read-only; Node and its libraries still need a scratch /tmp.
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
        },
      },
    },
  };
}

export function serviceManifest(names: WorkloadNames, service: ServiceProfile): types.input.core.v1.Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: names.name, namespace: names.namespace, labels: serviceLabels(service.name) },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(service.name),
      ports: [{ name: METRICS_PORT_NAME, port: service.port, targetPort: METRICS_PORT_NAME, protocol: "TCP" }],
    },
  };
}

export function hpaManifest(names: WorkloadNames, service: ServiceProfile): types.input.autoscaling.v2.HorizontalPodAutoscaler {
  const metrics: types.input.autoscaling.v2.MetricSpec[] = [
    { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: service.hpa.cpuTarget } } },
  ];
  if (service.hpa.memoryTarget !== undefined) {
    metrics.push({
      type: "Resource",
      resource: { name: "memory", target: { type: "Utilization", averageUtilization: service.hpa.memoryTarget } },
    });
  }
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: names.name, namespace: names.namespace, labels: serviceLabels(service.name) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.name },
      minReplicas: service.hpa.min,
      maxReplicas: service.hpa.max,
      metrics,
      behavior: {
        // Wait out short dips before removing pods, and remove at most half per minute.
        scaleDown: {
          stabilizationWindowSeconds: service.hpa.scaleDownStabilizationSeconds,
          selectPolicy: "Max",
          policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
        },
        // React at once, but at most double (or +4 pods) per minute.
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: "Max",
          policies: [
            { type: "Percent", value: 100, periodSeconds: 60 },
            { type: "Pods", value: 4, periodSeconds: 60 },
          ],
        },
      },
    },
  };
}

export function pdbManifest(names: WorkloadNames, service: ServiceProfile): types.input.policy.v1.PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: names.name, namespace: names.namespace, labels: serviceLabels(service.name) },
    // maxUnavailable rather than minAvailable: with hpa.min 1 (dev), minAvailable 1 would block every node drain.
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(service.name) } },
  };
}

/** `roleArn`: the IRSA role (EKS's webhook then projects a web-identity token; automounting stays off). */
export function serviceAccountManifest(
  names: WorkloadNames,
  service: ServiceProfile,
  roleArn?: Input<string>,
): types.input.core.v1.ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: names.serviceAccount,
      namespace: names.namespace,
      labels: serviceLabels(service.name),
      ...(roleArn ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {}),
    },
    automountServiceAccountToken: false,
  };
}

export function secretManifest(
  names: WorkloadNames,
  service: ServiceProfile,
  stringData: Input<Record<string, Input<string>>>,
): types.input.core.v1.Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name: names.secret, namespace: names.namespace, labels: serviceLabels(service.name) },
    stringData,
  };
}

export function configMapManifest(
  names: WorkloadNames,
  service: ServiceProfile,
  data: Input<Record<string, string>>,
): types.input.core.v1.ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: names.configMap, namespace: names.namespace, labels: serviceLabels(service.name) },
    data,
  };
}

export function targetGroupBindingManifest(names: WorkloadNames, service: ServiceProfile, targetGroupArn: Input<string>) {
  return {
    apiVersion: "elbv2.k8s.aws/v1beta1",
    kind: "TargetGroupBinding",
    metadata: { name: names.name, namespace: names.namespace, labels: serviceLabels(service.name) },
    spec: { serviceRef: { name: names.name, port: service.port }, targetGroupARN: targetGroupArn, targetType: "ip" },
  };
}
