import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/**
 * metrics-server serves `metrics.k8s.io`, the API every CPU/memory HPA reads. Without it the
 * HPAs never scale (kube-prometheus-stack does not serve that API).
 *
 * Installed as the EKS community add-on `metrics-server` rather than its Helm chart: EKS offers
 * only add-on versions it has validated for the cluster's Kubernetes minor, upgrades them with
 * the cluster (`aws eks describe-addon-versions --addon-name metrics-server`), and there are no
 * chart values to pin, vendor and review. It needs no IAM role (it only talks to the kubelets).
 * It runs a Deployment, so it must come after the node group (pass it in `opts.dependsOn`).
 */
export const METRICS_SERVER_ADDON = "metrics-server";

export function metricsServerAddon(
  name: string,
  clusterName: pulumi.Input<string>,
  tags: Record<string, string> | undefined,
  opts: pulumi.CustomResourceOptions,
): aws.eks.Addon {
  return new aws.eks.Addon(
    name,
    {
      clusterName,
      addonName: METRICS_SERVER_ADDON,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "PRESERVE",
      tags,
    },
    opts,
  );
}
