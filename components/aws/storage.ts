import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaAssumeRolePolicy } from "./iam";

export interface ClusterStorageArgs {
  clusterName: pulumi.Input<string>;
  oidcProviderArn: pulumi.Input<string>;
  oidcIssuerUrl: pulumi.Input<string>;
  /** Name of the StorageClass made here (Prometheus' volumes use it). @default "gp3" */
  storageClassName?: string;
  /** @default {} */
  tags?: Record<string, string>;
}

/**
 * Persistent volumes for the cluster: the EBS CSI driver as an EKS add-on (IRSA role with
 * AWS's managed policy) and an encrypted gp3 StorageClass. EKS only ships a gp2 class, and
 * the in-tree provisioner cannot make gp3 volumes.
 */
export class ClusterStorage extends pulumi.ComponentResource {
  public readonly storageClassName: string;

  constructor(name: string, args: ClusterStorageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:ClusterStorage", name, {}, opts);
    const child = { parent: this };
    const role = new aws.iam.Role(
      `${name}-ebs-csi-role`,
      {
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcIssuerUrl])
          .apply(([arn, issuer]) => JSON.stringify(irsaAssumeRolePolicy(arn, issuer, "kube-system", "ebs-csi-controller-sa"))),
        tags: args.tags,
      },
      child,
    );
    const partition = aws.getPartitionOutput({}, child).partition;
    const policy = new aws.iam.RolePolicyAttachment(`${name}-ebs-csi-policy`, { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy` }, child);
    const addon = new aws.eks.Addon(
      `${name}-ebs-csi`,
      { clusterName: args.clusterName, addonName: "aws-ebs-csi-driver", serviceAccountRoleArn: role.arn, resolveConflictsOnCreate: "OVERWRITE", tags: args.tags },
      { ...child, dependsOn: [policy] },
    );
    this.storageClassName = args.storageClassName ?? "gp3";
    new k8s.storage.v1.StorageClass(
      `${name}-gp3`,
      {
        metadata: { name: this.storageClassName },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true" },
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: "Retain",
      },
      { ...child, dependsOn: [addon] },
    );
    this.registerOutputs({ storageClassName: this.storageClassName });
  }
}
