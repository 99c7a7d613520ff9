import { DATASOURCE_UID, METRICS_PATH, SCRAPE_JOB, type MonitoringOptions, type ScrapedService } from "../../dashboards";
import { ComponentArgsError } from "../../profile/errors";
import { DNS_1123_LABEL } from "../../profile/naming";
import { METRICS_PORT_NAME, PART_OF, selectorLabels } from "./workload-spec";

/**
 * Pure decisions of the Monitoring component: kube-prometheus-stack values, ServiceMonitor specs
 * and labels. No Pulumi resources here, so all of it is testable without mocks. Secret values
 * (the Grafana password, the webhook URL) are passed through as they come (type `S`): the
 * component hands in secret Outputs, tests hand in strings.
 */

/** kube-prometheus-stack chart, pinned: upgrades are a reviewed change, never a surprise on `pulumi up`. */
export const KUBE_PROMETHEUS_STACK = {
  chart: "kube-prometheus-stack",
  version: "79.10.0",
  repo: "https://prometheus-community.github.io/helm-charts",
} as const;

/** Port name of every UAIP Kubernetes Service's HTTP port (defined by the services' manifests). */
export { METRICS_PORT_NAME };
/** Label and value the Grafana sidecar looks for on dashboard ConfigMaps. */
export const DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;
/** Annotation the sidecar reads to put a dashboard in a Grafana folder. */
export const DASHBOARD_FOLDER_ANNOTATION = "grafana_folder";
/** Receiver that drops alerts: the default route, so nothing is sent anywhere unless configured. */
export const NULL_RECEIVER = "null";
export const WEBHOOK_RECEIVER = "webhook";

/**
 * Labels for our ServiceMonitors and PrometheusRules. `release: <release name>` is what the
 * chart's default selectors match; with the `*NilUsesHelmValues: false` values Prometheus selects
 * every object anyway. Both are set, because a release-label mismatch (Prometheus silently
 * ignoring the objects) is the most reported kube-prometheus-stack failure.
 */
export function selectedByRelease(releaseName: string): Record<string, string> {
  return { release: releaseName, "app.kubernetes.io/part-of": PART_OF };
}

export interface StackValuesInput<S> {
  scrapeInterval: string;
  /** Prometheus TSDB retention, e.g. "15d". */
  retention: string;
  /** PersistentVolumeClaim size per Prometheus replica, e.g. "20Gi". */
  storageSize: string;
  storageClassName: string;
  /**
   * Keep Prometheus' claims when its StatefulSet is deleted or scaled down. Kubernetes keeps them
   * by default, and with them their EBS volumes: false sets the StatefulSet's
   * persistentVolumeClaimRetentionPolicy to Delete, so a `pulumi destroy` leaves no billed disk.
   */
  retainVolumes: boolean;
  /** Prometheus and Alertmanager replicas. */
  replicas: number;
  grafanaAdminPassword: S;
  /** Alertmanager webhook for critical and warning alerts; absent: everything goes to the null receiver. */
  alertWebhookUrl?: S;
}

function alertmanagerConfig<S>(webhookUrl: S | undefined): Record<string, unknown> {
  const routes: Record<string, unknown>[] = [{ receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"'] }];
  const receivers: Record<string, unknown>[] = [{ name: NULL_RECEIVER }];
  if (webhookUrl !== undefined) {
    routes.push({ receiver: WEBHOOK_RECEIVER, matchers: ['severity =~ "critical|warning"'] });
    receivers.push({ name: WEBHOOK_RECEIVER, webhook_configs: [{ url: webhookUrl, send_resolved: true }] });
  }
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: NULL_RECEIVER,
      group_by: ["alertname", "service", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes,
    },
    receivers,
    // A page already covers the same service: do not also send its ticket.
    inhibit_rules: [
      { source_matchers: ['severity = "critical"'], target_matchers: ['severity = "warning"'], equal: ["alertname", "service"] },
    ],
    templates: ["/etc/alertmanager/config/*.tmpl"],
  };
}

/**
 * Components kube-prometheus-stack scrapes by default that EKS does not expose: the managed
 * control plane hides kube-scheduler, kube-controller-manager and etcd, and kube-proxy serves its
 * metrics on 127.0.0.1 only. Left on, their *Down alerts fire forever. `enabled: false` also
 * drops their recording and alerting rules (the chart's rule templates test the same flag).
 */
export const EKS_UNSCRAPEABLE_COMPONENTS = ["kubeScheduler", "kubeControllerManager", "kubeEtcd", "kubeProxy"] as const;

/** A StatefulSet's claim policy: the claims (and, by the StorageClass, their disks) go with it unless retained. */
export function pvcRetentionPolicy(retain: boolean): { whenDeleted: "Retain" | "Delete"; whenScaled: "Retain" | "Delete" } {
  const policy = retain ? "Retain" : "Delete";
  return { whenDeleted: policy, whenScaled: policy };
}

/** Helm values of kube-prometheus-stack from the profile. */
export function kubePrometheusStackValues<S>(input: StackValuesInput<S>): Record<string, unknown> {
  return {
    ...Object.fromEntries(EKS_UNSCRAPEABLE_COMPONENTS.map((c) => [c, { enabled: false }])),
    prometheus: {
      prometheusSpec: {
        replicas: input.replicas,
        retention: input.retention,
        scrapeInterval: input.scrapeInterval,
        // Select ServiceMonitors/PodMonitors/PrometheusRules/Probes regardless of their labels.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        // Kubernetes >= 1.27 (the chart's own note); EKS runs no older version.
        persistentVolumeClaimRetentionPolicy: pvcRetentionPolicy(input.retainVolumes),
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: input.storageClassName,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: input.storageSize } },
            },
          },
        },
      },
    },
    alertmanager: {
      alertmanagerSpec: { replicas: input.replicas },
      config: alertmanagerConfig(input.alertWebhookUrl),
    },
    grafana: {
      adminPassword: input.grafanaAdminPassword,
      sidecar: {
        dashboards: {
          enabled: true,
          label: Object.keys(DASHBOARD_LABEL)[0],
          labelValue: Object.values(DASHBOARD_LABEL)[0],
          searchNamespace: "ALL",
          folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
          provider: { foldersFromFilesStructure: true },
        },
        // The datasource every generated panel refers to by uid.
        datasources: { enabled: true, defaultDatasourceEnabled: true, isDefaultDatasource: true, uid: DATASOURCE_UID },
      },
    },
  };
}

/** `spec` of the ServiceMonitor for one service. */
export function serviceMonitorSpec(
  service: ScrapedService,
  servicesNamespace: string,
  interval: string,
): Record<string, unknown> {
  return {
    // The services' own stable selector labels, so the ServiceMonitor and the Service cannot drift.
    selector: { matchLabels: selectorLabels(service.name) },
    namespaceSelector: { matchNames: [servicesNamespace] },
    endpoints: [
      {
        port: METRICS_PORT_NAME,
        path: METRICS_PATH,
        interval,
        // Keep the `service` label the runtime sets (registry default label) over the target's.
        honorLabels: true,
        // Same job name as the seed's static config, so `up{job="uaip-services"}` works in both.
        relabelings: [{ action: "replace", targetLabel: "job", replacement: SCRAPE_JOB }],
      },
    ],
  };
}

/** The profile numbers the Monitoring component needs, as the component receives them. */
export interface MonitoringNumbers extends MonitoringOptions {
  retention?: string;
  storageSize?: string;
  replicas?: number;
}

const DURATION = /^\d+(ms|s|m|h|d|w|y)$/;
const FRACTIONS = ["heapThreshold", "wsNearMaxFraction", "cacheHitRatioMin", "rateLimitRejectedRatio"] as const;

/**
 * Rejects args that would produce rules or values Prometheus refuses or alerts that never (or
 * always) fire, naming the arg and the fix. Throws ComponentArgsError; returns nothing.
 */
export function validateMonitoringArgs(args: MonitoringNumbers): void {
  const fail = (key: string, message: string): never => {
    throw new ComponentArgsError(`MonitoringArgs.${key}`, message);
  };
  if (args.services !== undefined) {
    if (args.services.length === 0)
      fail("services", "is empty; list at least one { name, port } or leave it unset for the seed's three services");
    const seen = new Set<string>();
    args.services.forEach((s, i) => {
      if (!DNS_1123_LABEL.test(s.name))
        fail(`services[${i}].name`, `"${s.name}" is not a DNS-1123 label (lowercase letters, digits, '-')`);
      if (seen.has(s.name)) fail(`services[${i}].name`, `"${s.name}" appears twice; each service gets one ServiceMonitor`);
      if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)
        fail(`services[${i}].port`, `${s.port} is not a TCP port (1-65535)`);
      seen.add(s.name);
    });
  }
  for (const key of ["scrapeInterval", "retention"] as const) {
    const value = args[key];
    if (value !== undefined && !DURATION.test(value)) fail(key, `"${value}" is not a Prometheus duration like "15s" or "15d"`);
  }
  if (args.storageSize !== undefined && !/^\d+(Mi|Gi|Ti)$/.test(args.storageSize))
    fail("storageSize", `"${args.storageSize}" is not a volume size like "20Gi"`);
  if (args.replicas !== undefined && (!Number.isInteger(args.replicas) || args.replicas < 1))
    fail("replicas", `${args.replicas} must be a whole number of at least 1`);
  if (args.slo?.latencyP95Ms !== undefined && !(args.slo.latencyP95Ms > 0))
    fail("slo.latencyP95Ms", `${args.slo.latencyP95Ms} must be a positive number of milliseconds (the seed: 500)`);
  if (args.slo?.errorRate !== undefined && !(args.slo.errorRate > 0 && args.slo.errorRate < 1)) {
    fail("slo.errorRate", `${args.slo.errorRate} must be a fraction between 0 and 1 (the seed: 0.01 for 1%)`);
  }
  for (const key of FRACTIONS) {
    const value = args[key];
    if (value !== undefined && !(value > 0 && value <= 1)) fail(key, `${value} must be a fraction in (0, 1], e.g. 0.9 for 90%`);
  }
}
