import * as pulumi from "@pulumi/pulumi";

/**
 * Resource types that wait for pods to become ready when Pulumi creates them: a Helm release
 * (Helm's --wait), an EKS add-on that runs a Deployment, the workload kinds Pulumi awaits, a Job
 * (Pulumi waits for it to complete) and a Service (Pulumi waits until its selector has ready endpoints).
 * On a first deploy they must come after the node group, or they wait with nowhere to schedule
 * and time out. The plan check `ordering:pods-after-nodes` (tools/checks/k8s/ordering.ts) verifies it.
 */
const POD_WAITING_TYPES = new Set([
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:core/v1:Service",
  "aws:eks/addon:Addon",
]);
/** Add-ons the nodes need in order to become Ready: they must not wait for the nodes. */
const NODE_LEVEL_ADDONS = new Set(["vpc-cni", "kube-proxy", "eks-pod-identity-agent"]);

/**
 * A transformation for a component's options: every pod-waiting resource below it also depends
 * on `nodes` (and on `also`, e.g. the StorageClass its volumes need). Needed because a component's
 * own `dependsOn` does not hold back its children; transformations reach every descendant.
 */
export function waitForNodes(nodes: pulumi.Resource, ...also: pulumi.Resource[]): pulumi.ResourceTransformation {
  return (args) => {
    if (!POD_WAITING_TYPES.has(args.type)) return undefined;
    if (args.type === "aws:eks/addon:Addon" && NODE_LEVEL_ADDONS.has(String((args.props as { addonName?: unknown }).addonName)))
      return undefined;
    return { props: args.props, opts: pulumi.mergeOptions(args.opts, { dependsOn: [nodes, ...also] }) };
  };
}
