import * as pulumi from "@pulumi/pulumi";
import { isSecretValue, redactSecrets, type PlatformMocks, type RecordedResource } from "../../../tools/mocks";
import { promiseOf, resourcesOfType, settle, setupMocks } from "../../helpers/pulumi";
import { buildRuleGroups, DATASOURCE_UID, PLATFORM_OVERVIEW_UID, SERVICE_OVERVIEW_UID } from "../../../dashboards";
import { selectorLabels, serviceManifest, workloadNames } from "../../../components/k8s/workload-spec";
import type { ServiceProfile } from "../../../profile/schema";
import {
  KUBE_PROMETHEUS_STACK,
  kubePrometheusStackValues,
  METRICS_PORT_NAME,
  serviceMonitorSpec,
  validateMonitoringArgs,
} from "../../../components/k8s/monitoring-values";

const PASSWORD = "grafana-Pa55-do-not-leak";
const DEV_PASSWORD = "dev-grafana-plain-string-pw";
const WEBHOOK = "https://hooks.example.com/services/T000/B000/webhook-token-do-not-leak";
const SERVICES = ["agent-intelligence", "orchestration-pipeline", "capability-registry"];

const T = {
  release: "kubernetes:helm.sh/v3:Release",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  rule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  configMap: "kubernetes:core/v1:ConfigMap",
  namespace: "kubernetes:core/v1:Namespace",
};

describe("kube-prometheus-stack values (pure)", () => {
  const base = {
    scrapeInterval: "15s",
    retention: "30d",
    storageSize: "100Gi",
    storageClassName: "gp3",
    retainVolumes: false,
    replicas: 2,
    grafanaAdminPassword: "pw",
  };

  it.each([
    [false, "Delete"],
    [true, "Retain"],
  ])("retainVolumes %s: Prometheus' claims are %sd with their StatefulSet (and when it scales down)", (retainVolumes, policy) => {
    const spec = (kubePrometheusStackValues({ ...base, retainVolumes }) as any).prometheus.prometheusSpec;
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: policy, whenScaled: policy });
  });

  it("selects every ServiceMonitor and PrometheusRule regardless of labels", () => {
    const spec = (kubePrometheusStackValues(base) as any).prometheus.prometheusSpec;
    expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.ruleSelectorNilUsesHelmValues).toBe(false);
    expect(spec.podMonitorSelectorNilUsesHelmValues).toBe(false);
  });

  it.each([
    ["dev", { retention: "15d", storageSize: "20Gi", replicas: 1 }],
    ["prod", { retention: "30d", storageSize: "100Gi", replicas: 2 }],
  ])("takes %s retention, storage and replicas from the profile", (_env, env) => {
    const values = kubePrometheusStackValues({ ...base, ...env }) as any;
    const spec = values.prometheus.prometheusSpec;
    expect(spec.retention).toBe(env.retention);
    expect(spec.replicas).toBe(env.replicas);
    expect(spec.scrapeInterval).toBe("15s");
    expect(spec.storageSpec.volumeClaimTemplate.spec).toEqual({
      storageClassName: "gp3",
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: env.storageSize } },
    });
    expect(values.alertmanager.alertmanagerSpec.replicas).toBe(env.replicas);
  });

  it("turns on the dashboard sidecar for label grafana_dashboard in ALL namespaces, with the fixed datasource uid", () => {
    const sidecar = (kubePrometheusStackValues(base) as any).grafana.sidecar;
    expect(sidecar.dashboards).toMatchObject({
      enabled: true,
      label: "grafana_dashboard",
      labelValue: "1",
      searchNamespace: "ALL",
    });
    expect(sidecar.datasources).toMatchObject({ enabled: true, defaultDatasourceEnabled: true, uid: DATASOURCE_UID });
  });

  it("routes everything to the null receiver without a webhook", () => {
    const config = (kubePrometheusStackValues(base) as any).alertmanager.config;
    expect(config.route.receiver).toBe("null");
    expect(config.receivers).toEqual([{ name: "null" }]);
    expect(JSON.stringify(config.route.routes)).not.toContain("webhook");
  });

  it("sends critical and warning alerts to the webhook when one is given; the default stays null", () => {
    const config = (kubePrometheusStackValues({ ...base, alertWebhookUrl: "https://x" }) as any).alertmanager.config;
    expect(config.route.receiver).toBe("null");
    expect(config.receivers).toContainEqual({ name: "webhook", webhook_configs: [{ url: "https://x", send_resolved: true }] });
    expect(config.route.routes).toContainEqual({ receiver: "webhook", matchers: ['severity =~ "critical|warning"'] });
  });

  it("builds a ServiceMonitor spec that matches the service's labels and metrics port", () => {
    expect(serviceMonitorSpec({ name: "agent-intelligence", port: 3001 }, "uaip", "15s")).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "agent-intelligence", "app.kubernetes.io/part-of": "uaip" } },
      namespaceSelector: { matchNames: ["uaip"] },
      endpoints: [
        {
          port: "http-metrics",
          path: "/metrics",
          interval: "15s",
          honorLabels: true,
          relabelings: [{ action: "replace", targetLabel: "job", replacement: "uaip-services" }],
        },
      ],
    });
  });
});

describe("contract with the services' Kubernetes manifests", () => {
  it.each(SERVICES.map((s, i) => [s, 3001 + i]))(
    "the ServiceMonitor of %s selects its Service and names one of its ports",
    (name, port) => {
      // Plain values (the builders take Inputs but return plain objects for plain input).
      const service = serviceManifest(workloadNames(name, "uaip"), { name, port } as ServiceProfile) as any;
      const spec = serviceMonitorSpec({ name, port }, "uaip", "15s") as any;
      expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
      expect(spec.namespaceSelector.matchNames).toContain(service.metadata.namespace);
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(spec.endpoints[0].port);
      // ...and a different service is not selected.
      const other = serviceManifest(workloadNames("other", "uaip"), { name: "other", port } as ServiceProfile) as any;
      expect(other.metadata.labels).not.toMatchObject(spec.selector.matchLabels);
    },
  );
});

describe("validateMonitoringArgs", () => {
  it("accepts the defaults and a prod-like profile", () => {
    expect(() => validateMonitoringArgs({})).not.toThrow();
    expect(() =>
      validateMonitoringArgs({
        retention: "30d",
        storageSize: "100Gi",
        replicas: 2,
        slo: { latencyP95Ms: 500, errorRate: 0.01 },
        heapThreshold: 0.85,
      }),
    ).not.toThrow();
  });

  it.each([
    [{ services: [] }, "MonitoringArgs.services"],
    [
      {
        services: [
          { name: "a", port: 1 },
          { name: "a", port: 2 },
        ],
      },
      "MonitoringArgs.services[1].name",
    ],
    [{ services: [{ name: "Agent", port: 3001 }] }, "MonitoringArgs.services[0].name"],
    [{ services: [{ name: "a", port: 70000 }] }, "MonitoringArgs.services[0].port"],
    [{ scrapeInterval: "15 seconds" }, "MonitoringArgs.scrapeInterval"],
    [{ retention: "30" }, "MonitoringArgs.retention"],
    [{ storageSize: "100GB" }, "MonitoringArgs.storageSize"],
    [{ replicas: 0 }, "MonitoringArgs.replicas"],
    [{ slo: { errorRate: 1 } }, "MonitoringArgs.slo.errorRate"],
    [{ slo: { latencyP95Ms: 0 } }, "MonitoringArgs.slo.latencyP95Ms"],
    [{ heapThreshold: 85 }, "MonitoringArgs.heapThreshold"],
    [{ wsNearMaxFraction: 0 }, "MonitoringArgs.wsNearMaxFraction"],
  ])("rejects %j naming %s", (args, key) => {
    expect(() => validateMonitoringArgs(args)).toThrow(expect.objectContaining({ key, code: "UAIP_COMPONENT_ARGS_INVALID" }));
  });
});

describe("Monitoring component (mocks)", () => {
  let mocks: PlatformMocks;
  const providerOf = new Map<string, string>();

  beforeAll(async () => {
    mocks = setupMocks("prod");
    const recordResource = mocks.newResource.bind(mocks);
    mocks.newResource = (args) => {
      providerOf.set(args.name, args.provider ?? "");
      return recordResource(args);
    };
    const k8s = await import("@pulumi/kubernetes");
    const { Monitoring } = await import("../../../components/k8s/monitoring");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const prod = new Monitoring(
      "prod",
      {
        grafanaAdminPassword: pulumi.secret(PASSWORD),
        alertWebhookUrl: pulumi.secret(WEBHOOK),
        releaseName: "kps",
        retention: "30d",
        storageSize: "100Gi",
        replicas: 2,
        slo: { latencyP95Ms: 300, errorRate: 0.005 },
      },
      { provider },
    );
    // A plain string password (a user's mistake) must still end up secret.
    const dev = new Monitoring("dev", { grafanaAdminPassword: DEV_PASSWORD, namespace: "monitoring-dev" }, { provider });
    await Promise.all([promiseOf(prod.serviceMonitorNames), promiseOf(dev.serviceMonitorNames), promiseOf(prod.releaseName)]);
    await settle(100);
  });

  /** Recorded children of one component instance, secrets unwrapped (for value assertions). */
  function of(type: string, component: string): RecordedResource[] {
    return resourcesOfType(mocks, type).filter((r) => r.name.startsWith(`${component}-`));
  }

  it("creates the monitoring namespace and the pinned kube-prometheus-stack release in it", () => {
    expect(of(T.namespace, "prod")[0]?.inputs.metadata).toMatchObject({ name: "monitoring" });
    expect(of(T.namespace, "dev")[0]?.inputs.metadata).toMatchObject({ name: "monitoring-dev" });
    const release = of(T.release, "prod")[0]!.inputs as any;
    expect(release).toMatchObject({
      name: "kps",
      chart: "kube-prometheus-stack",
      version: KUBE_PROMETHEUS_STACK.version,
      namespace: "monitoring",
    });
    expect(release.repositoryOpts.repo).toBe("https://prometheus-community.github.io/helm-charts");
    expect(KUBE_PROMETHEUS_STACK.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("passes the profile to the Helm values", () => {
    const values = (of(T.release, "prod")[0]!.inputs as any).values;
    const spec = values.prometheus.prometheusSpec;
    expect(spec).toMatchObject({
      retention: "30d",
      replicas: 2,
      scrapeInterval: "15s",
      serviceMonitorSelectorNilUsesHelmValues: false,
      ruleSelectorNilUsesHelmValues: false,
    });
    expect(spec.storageSpec.volumeClaimTemplate.spec).toMatchObject({
      storageClassName: "gp3",
      resources: { requests: { storage: "100Gi" } },
    });
    expect(values.grafana.sidecar.dashboards).toMatchObject({ label: "grafana_dashboard", searchNamespace: "ALL" });
    expect(values.grafana.sidecar.datasources.uid).toBe(DATASOURCE_UID);
    expect(values.grafana.adminPassword).toBe(PASSWORD);
    expect(values.alertmanager.config.route.receiver).toBe("null");
    expect(values.alertmanager.config.receivers[1].webhook_configs[0].url).toBe(WEBHOOK);
    const devValues = (of(T.release, "dev")[0]!.inputs as any).values;
    expect(devValues.prometheus.prometheusSpec).toMatchObject({ retention: "15d", replicas: 1 });
    expect(devValues.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe("20Gi");
    expect(devValues.alertmanager.config.receivers).toEqual([{ name: "null" }]);
  });

  it("keeps the Grafana password and the webhook URL secret in every recorded input", () => {
    const raw = mocks.resources.filter((r) => r.name.startsWith("prod-") || r.name.startsWith("dev-"));
    expect(raw.length).toBeGreaterThan(10);
    const visible = JSON.stringify(raw.map((r) => redactSecrets(r.inputs)));
    expect(visible).not.toContain(PASSWORD);
    expect(visible).not.toContain(DEV_PASSWORD);
    expect(visible).not.toContain("webhook-token-do-not-leak");
    // ...and they are there, as secrets (so the test above is not vacuous). Pulumi lifts a nested
    // secret to the whole input property, so the Helm values as a whole are the secret.
    const release = (name: string): RecordedResource => raw.find((r) => r.type === T.release && r.name === name)!;
    for (const name of ["prod-stack", "dev-stack"]) {
      expect(isSecretValue(release(name).inputs.values)).toBe(true);
      expect(JSON.stringify(release(name).inputs)).toContain(name === "prod-stack" ? PASSWORD : DEV_PASSWORD);
    }
    expect(JSON.stringify(release("prod-stack").inputs)).toContain("webhook-token-do-not-leak");
    // The rest of the release (chart, version, namespace) stays readable.
    expect(isSecretValue(release("prod-stack").inputs.version)).toBe(false);
  });

  it("creates one ServiceMonitor per service that matches its labels and the http-metrics port", () => {
    const monitors = of(T.serviceMonitor, "prod");
    expect(monitors.map((m) => (m.inputs as any).metadata.name).sort()).toEqual(SERVICES.map((s) => `uaip-${s}`).sort());
    for (const m of monitors) {
      const { metadata, spec } = m.inputs as any;
      const service = metadata.name.replace(/^uaip-/, "");
      expect(spec.selector.matchLabels).toEqual(selectorLabels(service));
      expect(spec.namespaceSelector.matchNames).toEqual(["uaip"]);
      expect(spec.endpoints).toHaveLength(1);
      expect(spec.endpoints[0]).toMatchObject({ port: METRICS_PORT_NAME, path: "/metrics", interval: "15s", honorLabels: true });
      expect(metadata.namespace).toBe("monitoring");
    }
  });

  it("labels the ServiceMonitors and the PrometheusRule with release=<the Helm release name>", () => {
    const releaseName = (of(T.release, "prod")[0]!.inputs as any).name;
    const objects = [...of(T.serviceMonitor, "prod"), ...of(T.rule, "prod")];
    expect(objects).toHaveLength(SERVICES.length + 1);
    for (const o of objects) expect((o.inputs as any).metadata.labels.release).toBe(releaseName);
    const devRelease = (of(T.release, "dev")[0]!.inputs as any).name;
    expect(devRelease).toBe("kube-prometheus-stack");
    for (const o of [...of(T.serviceMonitor, "dev"), ...of(T.rule, "dev")])
      expect((o.inputs as any).metadata.labels.release).toBe(devRelease);
  });

  it("ships the generated rules with the profile's SLO numbers as a PrometheusRule", () => {
    const spec = (of(T.rule, "prod")[0]!.inputs as any).spec;
    const alerts = spec.groups.flatMap((g: any) => g.rules).filter((r: any) => r.alert);
    expect(alerts.map((a: any) => a.alert)).toEqual(buildRuleGroups().alerts.rules.map((r) => r.alert));
    expect(alerts.find((a: any) => a.alert === "UaipLatencyP95AboveSlo").expr).toMatch(/> 0\.3$/);
    expect(alerts.find((a: any) => a.alert === "UaipErrorBudgetBurnFast").expr).toContain("(14.4 * 0.005)");
    const devSpec = (of(T.rule, "dev")[0]!.inputs as any).spec;
    expect(devSpec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "UaipLatencyP95AboveSlo").expr).toMatch(
      /> 0\.5$/,
    );
  });

  it("delivers each dashboard as a ConfigMap labelled for the Grafana sidecar", () => {
    const maps = of(T.configMap, "prod");
    expect(maps).toHaveLength(2);
    const byKey = new Map(maps.map((m) => [Object.keys((m.inputs as any).data)[0], m.inputs as any]));
    for (const uid of [SERVICE_OVERVIEW_UID, PLATFORM_OVERVIEW_UID]) {
      const cm = byKey.get(`${uid}.json`);
      expect(cm.metadata.labels.grafana_dashboard).toBe("1");
      expect(cm.metadata.namespace).toBe("monitoring");
      const dashboard = JSON.parse(cm.data[`${uid}.json`]);
      expect(dashboard.uid).toBe(uid);
      for (const panel of dashboard.panels.filter((p: any) => p.type !== "row"))
        expect(panel.datasource.uid).toBe(DATASOURCE_UID);
    }
  });

  it("parents every child to the component and hands them the cluster's provider", () => {
    const children = mocks.resources.filter((r) => r.name.startsWith("prod-") && r.type.startsWith("kubernetes:"));
    expect(children.length).toBe(1 + 1 + SERVICES.length + 1 + 2);
    for (const c of children) {
      expect(c.parent).toContain("uaip:k8s:Monitoring::prod");
      expect(providerOf.get(c.name)).toContain("pulumi:providers:kubernetes::cluster");
    }
  });
});
