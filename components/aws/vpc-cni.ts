import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The vpc-cni add-on, managed so that its network policy agent runs: without
 * `enableNetworkPolicy` EKS accepts NetworkPolicies and silently enforces none of them.
 * EKS installs vpc-cni itself; OVERWRITE adopts that installation. The nodes need the CNI to
 * become Ready, so this must NOT depend on the node group (plan check ordering:pods-after-nodes).
 */
export const VPC_CNI_ADDON = "vpc-cni";
export const VPC_CNI_CONFIGURATION = { enableNetworkPolicy: "true" } as const;

export function vpcCniAddon(
  name: string,
  clusterName: pulumi.Input<string>,
  tags: Record<string, string> | undefined,
  opts: pulumi.CustomResourceOptions,
): aws.eks.Addon {
  return new aws.eks.Addon(
    name,
    {
      clusterName,
      addonName: VPC_CNI_ADDON,
      configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION),
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      tags,
    },
    opts,
  );
}
