/**
 * The pods the platform runs besides the services, with the CPU and memory they request: what the
 * node-fit check (node-fit.ts) adds to the services' pods. Requests are what the scheduler
 * reserves; a pod that requests nothing still takes one of the node's pod slots, so it is counted
 * as a pod with 0 CPU and 0 memory (and said so in the check's detail).
 *
 * Sources of the numbers (each upstream default, as the stack deploys it without overrides):
 * - aws-node (vpc-cni add-on, components/aws/vpc-cni.ts): 25m CPU, from amazon-vpc-cni-k8s
 *   `config/master/aws-k8s-cni.yaml`;
 * - kube-proxy and CoreDNS (EKS installs them with every cluster): kube-proxy 100m CPU per node;
 *   CoreDNS 2 replicas of 100m CPU / 70Mi (the EKS CoreDNS Deployment);
 * - aws-ebs-csi-driver add-on (components/aws/storage.ts): its driver containers request 10m / 40Mi
 *   (chart `controller.resources` / `node.resources`); its sidecars request nothing; the
 *   controller runs 2 replicas;
 * - metrics-server add-on (components/aws/metrics-server.ts): 100m / 200Mi (upstream
 *   `components.yaml`), counted at 2 replicas (the EKS add-on's high-availability default);
 * - the AWS Load Balancer Controller (components/k8s/lb-controller.ts: replicaCount 2),
 *   cluster-autoscaler (components/aws/cluster.ts: 1 replica) and kube-prometheus-stack
 *   (components/k8s/monitoring.ts: Prometheus and Alertmanager at monitoring.replicas, Grafana,
 *   kube-state-metrics, the operator, node-exporter on every node): their vendored chart values
 *   (vendor/charts/) set `resources: {}`, so they request nothing and count as pods only.
 * - the migration Job (components/k8s/db-migration.ts takes MIGRATION_JOB_RESOURCES from here).
 */

/** A container's requests as Kubernetes quantities. */
export interface PodRequests {
  cpu: string;
  memory: string;
}

/** The migration Job's requests and memory limit (the Job runs while the old pods still serve). */
export const MIGRATION_JOB_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { memory: "256Mi" },
} as const;

export interface SystemPod {
  name: string;
  /** DaemonSet: one pod per node. Deployment/StatefulSet/Job: `replicas` pods. */
  kind: "DaemonSet" | "Deployment" | "StatefulSet" | "Job";
  /** Pods of a Deployment/StatefulSet/Job (ignored for a DaemonSet). */
  replicas: number;
  /** Requests of one pod (all its containers); 0 when its chart sets none. */
  requests: PodRequests;
}

const NONE: PodRequests = { cpu: "0", memory: "0" };

/** The system pods of an AWS stack; `monitoringReplicas` is monitoring.replicas (Prometheus, Alertmanager). */
export function awsSystemPods(monitoringReplicas: number): SystemPod[] {
  return [
    { name: "aws-node", kind: "DaemonSet", replicas: 1, requests: { cpu: "25m", memory: "0" } },
    { name: "kube-proxy", kind: "DaemonSet", replicas: 1, requests: { cpu: "100m", memory: "0" } },
    { name: "ebs-csi-node", kind: "DaemonSet", replicas: 1, requests: { cpu: "10m", memory: "40Mi" } },
    { name: "prometheus-node-exporter", kind: "DaemonSet", replicas: 1, requests: NONE },
    { name: "coredns", kind: "Deployment", replicas: 2, requests: { cpu: "100m", memory: "70Mi" } },
    { name: "ebs-csi-controller", kind: "Deployment", replicas: 2, requests: { cpu: "10m", memory: "40Mi" } },
    { name: "metrics-server", kind: "Deployment", replicas: 2, requests: { cpu: "100m", memory: "200Mi" } },
    { name: "aws-load-balancer-controller", kind: "Deployment", replicas: 2, requests: NONE },
    { name: "cluster-autoscaler", kind: "Deployment", replicas: 1, requests: NONE },
    { name: "prometheus", kind: "StatefulSet", replicas: monitoringReplicas, requests: NONE },
    { name: "alertmanager", kind: "StatefulSet", replicas: monitoringReplicas, requests: NONE },
    { name: "grafana", kind: "Deployment", replicas: 1, requests: NONE },
    { name: "kube-state-metrics", kind: "Deployment", replicas: 1, requests: NONE },
    { name: "prometheus-operator", kind: "Deployment", replicas: 1, requests: NONE },
    { name: "db-migration Job", kind: "Job", replicas: 1, requests: { ...MIGRATION_JOB_RESOURCES.requests } },
  ];
}
