import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  dashboardJson,
  DATASOURCE_UID,
  prometheusRuleSpec,
  resolveMonitoringOptions,
  type MonitoringOptions,
} from "../../dashboards";
import {
  DASHBOARD_FOLDER_ANNOTATION,
  DASHBOARD_LABEL,
  KUBE_PROMETHEUS_STACK,
  kubePrometheusStackValues,
  selectedByRelease,
  serviceMonitorSpec,
  validateMonitoringArgs,
} from "./monitoring-values";

/**
 * Prometheus, Alertmanager and Grafana (kube-prometheus-stack) on the cluster, with the UAIP
 * ServiceMonitors, alert rules and dashboards generated from the runtime's metric names.
 * The Kubernetes provider comes through `opts.provider`/`opts.providers` and reaches every child.
 */
export interface MonitoringArgs extends MonitoringOptions {
  /** Grafana admin password. Kept secret: it only reaches the Helm values as a Pulumi secret. */
  grafanaAdminPassword: pulumi.Input<string>;
  /** Alertmanager webhook for critical and warning alerts (kept secret). @default undefined (all alerts go to the "null" receiver) */
  alertWebhookUrl?: pulumi.Input<string>;
  /** Namespace of the monitoring stack; created by the component. @default "monitoring" */
  namespace?: string;
  /** Helm release name, also the `release` label on our ServiceMonitors and PrometheusRule. @default "kube-prometheus-stack" */
  releaseName?: string;
  /** kube-prometheus-stack chart version. @default KUBE_PROMETHEUS_STACK.version ("79.10.0") */
  chartVersion?: string;
  /** Prometheus TSDB retention. @default "15d" (the profile: 15d dev, 30d prod) */
  retention?: string;
  /** Prometheus PersistentVolumeClaim size per replica. @default "20Gi" (the profile: 20Gi dev, 100Gi prod) */
  storageSize?: string;
  /** StorageClass of the Prometheus volumes. @default "gp3" */
  storageClassName?: string;
  /**
   * Keep Prometheus' claims when its StatefulSet goes (persistentVolumeClaimRetentionPolicy Retain);
   * with the StorageClass' reclaimPolicy, whether `pulumi destroy` leaves its disks. @default false
   */
  retainVolumes?: boolean;
  /** Prometheus and Alertmanager replicas. @default 1 (the profile: 1 dev, 2 prod) */
  replicas?: number;
}

export class Monitoring extends pulumi.ComponentResource {
  /** Namespace of the monitoring stack. */
  public readonly namespace: pulumi.Output<string>;
  /** Helm release name (the value of the `release` label Prometheus selects). */
  public readonly releaseName: pulumi.Output<string>;
  /** Uid of the Prometheus datasource every dashboard uses. */
  public readonly datasourceUid: pulumi.Output<string>;
  /** Uids of the provisioned dashboards. */
  public readonly dashboardUids: pulumi.Output<string[]>;
  /** Names of the ServiceMonitors, one per service. */
  public readonly serviceMonitorNames: pulumi.Output<string[]>;

  constructor(name: string, args: MonitoringArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:Monitoring", name, {}, opts);
    validateMonitoringArgs(args);
    const options = resolveMonitoringOptions(args);
    const namespaceName = args.namespace ?? "monitoring";
    const releaseName = args.releaseName ?? "kube-prometheus-stack";
    const selected = selectedByRelease(releaseName);

    const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespaceName } }, { parent: this });
    const namespace = ns.metadata.name;

    const values = kubePrometheusStackValues<pulumi.Output<string>>({
      scrapeInterval: options.scrapeInterval,
      retention: args.retention ?? "15d",
      storageSize: args.storageSize ?? "20Gi",
      storageClassName: args.storageClassName ?? "gp3",
      retainVolumes: args.retainVolumes ?? false,
      replicas: args.replicas ?? 1,
      grafanaAdminPassword: pulumi.secret(args.grafanaAdminPassword),
      alertWebhookUrl: args.alertWebhookUrl === undefined ? undefined : pulumi.secret(args.alertWebhookUrl),
    });

    const release = new k8s.helm.v3.Release(
      `${name}-stack`,
      {
        // An explicit name: an auto-named release would get a random suffix and miss the `release` label.
        name: releaseName,
        chart: KUBE_PROMETHEUS_STACK.chart,
        version: args.chartVersion ?? KUBE_PROMETHEUS_STACK.version,
        repositoryOpts: { repo: KUBE_PROMETHEUS_STACK.repo },
        namespace,
        values,
      },
      { parent: this },
    );

    // ServiceMonitor and PrometheusRule are CRDs the chart installs: create them after it.
    const afterChart = { parent: this, dependsOn: [release] };
    const monitors = options.services.map(
      (service) =>
        new k8s.apiextensions.CustomResource(
          `${name}-servicemonitor-${service.name}`,
          {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: `uaip-${service.name}`, namespace, labels: selected },
            spec: serviceMonitorSpec(service, options.servicesNamespace, options.scrapeInterval),
          },
          afterChart,
        ),
    );

    new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "uaip-rules", namespace, labels: selected },
        spec: prometheusRuleSpec(args),
      },
      afterChart,
    );

    // The sidecar finds these in any namespace (searchNamespace: ALL) by their label.
    const dashboards = dashboardJson(args);
    for (const [file, json] of Object.entries(dashboards)) {
      const uid = file.replace(/\.json$/, "");
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${uid}`,
        {
          metadata: {
            namespace,
            labels: { ...DASHBOARD_LABEL, ...selected },
            annotations: { [DASHBOARD_FOLDER_ANNOTATION]: "UAIP" },
          },
          data: { [file]: json },
        },
        { parent: this },
      );
    }

    this.namespace = namespace;
    this.releaseName = release.name.apply((n) => n ?? releaseName);
    this.datasourceUid = pulumi.output(DATASOURCE_UID);
    this.dashboardUids = pulumi.output(Object.keys(dashboards).map((f) => f.replace(/\.json$/, "")));
    this.serviceMonitorNames = pulumi.all(monitors.map((m) => m.metadata.name));
    this.registerOutputs({
      namespace: this.namespace,
      releaseName: this.releaseName,
      datasourceUid: this.datasourceUid,
      dashboardUids: this.dashboardUids,
      serviceMonitorNames: this.serviceMonitorNames,
    });
  }
}
