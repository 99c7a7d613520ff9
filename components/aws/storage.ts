import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaAssumeRolePolicy } from "./iam";

/**
 * The add-on version the stack installs, pinned so that its configurationValues are checked against
 * the schema EKS will apply: vendor/aws/eks-addons/aws-ebs-csi-driver.<version>.schema.json (the
 * plan's eks-addon-configuration check fails a pinned version whose schema is not vendored).
 * v1.64.0-eksbuild.1 is EKS's default for Kubernetes 1.33 to 1.36.
 */
export const EBS_CSI_ADDON_VERSION = "v1.64.0-eksbuild.1";

export interface ClusterStorageArgs {
  clusterName: pulumi.Input<string>;
  oidcProviderArn: pulumi.Input<string>;
  oidcIssuerUrl: pulumi.Input<string>;
  /** AWS region, given to the EBS CSI controller as AWS_REGION (IMDS hop limit 1 hides it from pods). */
  region: pulumi.Input<string>;
  /**
   * Keep a volume's EBS disk when its claim is deleted (reclaimPolicy Retain): deliberate only where
   * the data must outlive the stack (prod's metrics history). Otherwise disks go with their claims,
   * so `pulumi destroy` leaves no orphaned, billed volumes.
   * @default false (Delete)
   */
  retainVolumes?: boolean;
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
    const policy = new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi-policy`,
      { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy` },
      child,
    );
    const addon = new aws.eks.Addon(
      `${name}-ebs-csi`,
      {
        clusterName: args.clusterName,
        addonName: "aws-ebs-csi-driver",
        addonVersion: EBS_CSI_ADDON_VERSION,
        serviceAccountRoleArn: role.arn,
        // The controller needs its region without IMDS (hop limit 1; ebs-csi#2031). The chart's
        // `controller.region` is not in the add-on's schema (no version has it) and EKS would refuse
        // it; the add-on's `controller.env` list reaches the driver container as AWS_REGION.
        configurationValues: pulumi
          .output(args.region)
          .apply((region) => JSON.stringify({ controller: { env: [{ name: "AWS_REGION", value: region }] } })),
        resolveConflictsOnCreate: "OVERWRITE",
        tags: args.tags,
      },
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
        reclaimPolicy: args.retainVolumes ? "Retain" : "Delete",
      },
      { ...child, dependsOn: [addon] },
    );
    this.registerOutputs({ storageClassName: this.storageClassName });
  }
}
