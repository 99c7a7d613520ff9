import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgsError } from "../../profile/errors";
import { assertApiReachable } from "./cluster-access";
import { irsaAssumeRolePolicy, policyDocument, serviceAssumeRolePolicy, type PolicyDocument } from "./iam";
import { mergeTags } from "../../profile/tags";

export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
export type ControlPlaneLogType = (typeof CONTROL_PLANE_LOG_TYPES)[number];

export const CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler";
/** Pinned chart; the image tag is pinned separately to the cluster's minor version (see ClusterArgs.clusterAutoscaler). */
export const CLUSTER_AUTOSCALER_CHART_VERSION = "9.47.0";
export const CLUSTER_AUTOSCALER_NAMESPACE = "kube-system";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

/** Graviton families have a "g" right after the generation digit: t4g, m7g, c7gn, r6gd, x2gd. */
const GRAVITON = /^[a-z]+\d+g[a-z-]*\./;

/** EKS AMI type for the node group: ARM for Graviton types, x86 otherwise; a mix cannot share one AMI. */
export function amiTypeFor(instanceTypes: string[]): "AL2023_ARM_64_STANDARD" | "AL2023_x86_64_STANDARD" {
  if (instanceTypes.length === 0) throw new ComponentArgsError("ClusterArgs.instanceTypes", "list at least one instance type");
  const arm = instanceTypes.filter((t) => GRAVITON.test(t));
  if (arm.length > 0 && arm.length < instanceTypes.length) {
    throw new ComponentArgsError(
      "ClusterArgs.instanceTypes",
      `mixes Graviton (${arm.join(", ")}) and x86 types; one node group needs one architecture`,
    );
  }
  return arm.length > 0 ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

export interface NodeCounts {
  min: number;
  desired: number;
  max: number;
}

export function validateNodeCounts(nodes: NodeCounts): NodeCounts {
  const ints = [nodes.min, nodes.desired, nodes.max].every((n) => Number.isInteger(n));
  if (!ints || nodes.min < 1 || nodes.min > nodes.desired || nodes.desired > nodes.max) {
    throw new ComponentArgsError(
      "ClusterArgs.nodes",
      `needs whole numbers with 1 <= min <= desired <= max (got min=${nodes.min}, desired=${nodes.desired}, max=${nodes.max})`,
    );
  }
  return nodes;
}

/** Default image tag: cluster-autoscaler's minor must match the Kubernetes minor ("1.35" -> "v1.35.0"). */
export function clusterAutoscalerImageTag(kubernetesVersion: string): string {
  if (!/^1\.\d+$/.test(kubernetesVersion))
    throw new ComponentArgsError("ClusterArgs.version", `"${kubernetesVersion}" is not a Kubernetes minor like "1.33"`);
  return `v${kubernetesVersion}.0`;
}

export interface AutoscalerPolicyInput {
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
  autoscalingGroupNames: string[];
}

/**
 * Least privilege for cluster-autoscaler. Describe* calls do not support resource-level
 * permissions, so they stay on "*" (read-only). The two mutating calls are limited to this node
 * group's ASGs by ARN (any ASG id, exact group name) AND to ASGs tagged
 * `k8s.io/cluster-autoscaler/<cluster>=owned` (EKS puts that tag on managed node group ASGs):
 * the autoscaler cannot resize or terminate instances of any other group in the account.
 */
export function clusterAutoscalerPolicy(input: AutoscalerPolicyInput): PolicyDocument {
  const { partition, region, accountId, clusterName } = input;
  return policyDocument([
    {
      Sid: "Describe",
      Effect: "Allow",
      Action: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup",
      ],
      Resource: "*",
    },
    {
      Sid: "ScaleOwnNodeGroup",
      Effect: "Allow",
      Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      Resource: input.autoscalingGroupNames.map(
        (asg) => `arn:${partition}:autoscaling:${region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/${asg}`,
      ),
      Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
    },
  ]);
}

export interface KubeconfigInput {
  clusterName: string;
  endpoint: string;
  certificateAuthorityData: string;
  region: string;
}

/**
 * A kubeconfig (JSON, which is valid YAML) that authenticates with `aws eks get-token`, so no
 * long-lived credential is embedded; whoever uses it needs the AWS CLI and IAM access to the cluster.
 */
export function renderKubeconfig(input: KubeconfigInput): string {
  const name = input.clusterName;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: input.endpoint, "certificate-authority-data": input.certificateAuthorityData } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", name, "--region", input.region, "--output", "json"],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

export interface ClusterArgs {
  /** Private subnets for the nodes and the control plane ENIs (Network.privateSubnetIds). Required. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Our node security group (SecurityGroups.nodeSecurityGroupId): what lets the ALB reach the
   * pods. The launch template attaches it next to the EKS-managed cluster security group. Required.
   */
  nodeSecurityGroupId: pulumi.Input<string>;
  /**
   * EKS cluster name (also used in subnet and ASG discovery tags).
   * @default the component name
   */
  clusterName?: string;
  /**
   * Kubernetes minor version.
   * @default "1.35"
   */
  version?: string;
  /**
   * EKS support the cluster gets once `version` leaves standard support (its upgradePolicy):
   * "STANDARD" has EKS upgrade the control plane at the end of standard support; "EXTENDED" keeps
   * the version, billed at 6× the control-plane price (profile/support-calendar.ts).
   * @default "STANDARD"
   */
  supportType?: "STANDARD" | "EXTENDED";
  /**
   * Node instance types (one architecture).
   * @default ["t3.medium"]
   */
  instanceTypes?: string[];
  /**
   * Managed node group size. Once cluster-autoscaler runs, it owns `desired` (Pulumi ignores drift there).
   * @default { min: 1, desired: 2, max: 4 }
   */
  nodes?: NodeCounts;
  /**
   * "ON_DEMAND" or "SPOT".
   * @default "ON_DEMAND"
   */
  capacityType?: "ON_DEMAND" | "SPOT";
  /**
   * Root volume per node, GiB (gp3, encrypted).
   * @default 50
   */
  nodeDiskSizeGib?: number;
  /**
   * Kubernetes API reachable from the internet (restricted by `publicAccessCidrs`).
   * @default true
   */
  endpointPublicAccess?: boolean;
  /**
   * Kubernetes API reachable from inside the VPC (nodes use it).
   * @default true
   */
  endpointPrivateAccess?: boolean;
  /**
   * CIDRs allowed to reach the public API endpoint (where `pulumi up` and kubectl run from).
   * Required when `endpointPublicAccess` is true; the whole internet is refused.
   * @default [] (an error when the endpoint is public)
   */
  publicAccessCidrs?: string[];
  /**
   * IAM roles given cluster-admin (AmazonEKSClusterAdminPolicy, cluster scope) through access
   * entries, besides the identity that creates the cluster: whoever deploys next (CI, on-call)
   * must not depend on the creator's credentials.
   * @default []
   */
  adminRoleArns?: string[];
  /**
   * KMS key for the control-plane log group (customer-managed; prod).
   * @default undefined (CloudWatch Logs' own encryption)
   */
  logKmsKeyArn?: pulumi.Input<string>;
  /**
   * Control-plane log types sent to CloudWatch Logs.
   * @default all five: api, audit, authenticator, controllerManager, scheduler
   */
  logTypes?: ControlPlaneLogType[];
  /**
   * Retention of the control-plane log group, days.
   * @default 30
   */
  logRetentionDays?: number;
  /**
   * KMS key for envelope encryption of Kubernetes secrets.
   * @default undefined (a dedicated key with rotation is created)
   */
  secretsKmsKeyArn?: pulumi.Input<string>;
  /**
   * cluster-autoscaler (Helm chart from kubernetes.github.io/autoscaler) with an IRSA role scoped to this node group's ASG.
   * @default { enabled: true, chartVersion: "9.47.0", imageTag: "v<version>.0" }
   */
  clusterAutoscaler?: { enabled?: boolean; chartVersion?: string; imageTag?: string };
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/**
 * EKS with a managed node group in private subnets, IRSA, encrypted secrets, control-plane logs,
 * a kubeconfig-based k8s.Provider for the Kubernetes components, and cluster-autoscaler.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly certificateAuthorityData: pulumi.Output<string>;
  /** Secret: exec-auth kubeconfig (`aws eks get-token`). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** For every Kubernetes resource of the platform. */
  public readonly provider: k8s.Provider;
  public readonly oidcProviderArn: pulumi.Output<string>;
  public readonly oidcIssuerUrl: pulumi.Output<string>;
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  public readonly nodeRoleArn: pulumi.Output<string>;
  public readonly nodeGroupName: pulumi.Output<string>;
  /** The managed node group: whatever waits for pods must depend on it (see k8s/wait-for-nodes.ts). */
  public readonly nodeGroup: aws.eks.NodeGroup;
  public readonly autoscalingGroupNames: pulumi.Output<string[]>;
  public readonly secretsKmsKeyArn: pulumi.Output<string>;
  /** Undefined when cluster-autoscaler is disabled. */
  public readonly autoscalerRoleArn: pulumi.Output<string> | undefined;

  constructor(name: string, args: ClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:Cluster", name, {}, opts);
    const tags = mergeTags(args.tags);
    const clusterName = args.clusterName ?? name;
    const version = args.version ?? "1.35";
    const instanceTypes = args.instanceTypes ?? ["t3.medium"];
    const amiType = amiTypeFor(instanceTypes);
    const nodes = validateNodeCounts(args.nodes ?? { min: 1, desired: 2, max: 4 });
    const endpointPublicAccess = args.endpointPublicAccess ?? true;
    const endpointPrivateAccess = args.endpointPrivateAccess ?? true;
    const publicAccessCidrs = args.publicAccessCidrs ?? [];
    if (
      endpointPublicAccess &&
      (publicAccessCidrs.length === 0 || publicAccessCidrs.some((c) => c === "0.0.0.0/0" || c === "::/0"))
    ) {
      throw new ComponentArgsError(
        "ClusterArgs.publicAccessCidrs",
        `a public API endpoint needs the CIDRs of your CI/VPN egress, not ${JSON.stringify(publicAccessCidrs)}; list them or set endpointPublicAccess false`,
      );
    }
    if (!endpointPublicAccess && !endpointPrivateAccess) {
      throw new ComponentArgsError(
        "ClusterArgs.endpointPrivateAccess",
        "at least one of endpointPublicAccess/endpointPrivateAccess must be true, or nothing can reach the API",
      );
    }
    const autoscaler = {
      enabled: true,
      chartVersion: CLUSTER_AUTOSCALER_CHART_VERSION,
      imageTag: clusterAutoscalerImageTag(version),
      ...args.clusterAutoscaler,
    };
    const parent = { parent: this };
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const managedPolicy = (policy: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;

    // Secrets envelope encryption.
    const secretsKeyArn = args.secretsKmsKeyArn
      ? pulumi.output(args.secretsKmsKeyArn)
      : new aws.kms.Key(
          `${name}-secrets`,
          { description: `${clusterName} Kubernetes secrets`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
          parent,
        ).arn;

    const clusterRole = new aws.iam.Role(
      `${name}-cluster`,
      { assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("eks.amazonaws.com")), tags },
      parent,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      { role: clusterRole.id, policyArn: managedPolicy("AmazonEKSClusterPolicy") },
      parent,
    );
    const clusterKms = new aws.iam.RolePolicy(
      `${name}-cluster-kms`,
      {
        role: clusterRole.id,
        policy: secretsKeyArn.apply((arn) =>
          JSON.stringify(
            policyDocument([
              { Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], Resource: arn },
            ]),
          ),
        ),
      },
      parent,
    );
    // Created before the cluster so it gets a retention (EKS would create it without one).
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      {
        name: `/aws/eks/${clusterName}/cluster`,
        retentionInDays: args.logRetentionDays ?? 30,
        ...(args.logKmsKeyArn ? { kmsKeyId: args.logKmsKeyArn } : {}),
        tags,
      },
      parent,
    );

    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: clusterName,
        version,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: args.subnetIds,
          endpointPublicAccess,
          endpointPrivateAccess,
          publicAccessCidrs: endpointPublicAccess ? publicAccessCidrs : undefined,
        },
        encryptionConfig: { provider: { keyArn: secretsKeyArn }, resources: ["secrets"] },
        enabledClusterLogTypes: [...(args.logTypes ?? CONTROL_PLANE_LOG_TYPES)],
        // Access entries (API) plus the aws-auth ConfigMap for tools that still use it; the deployer is admin.
        accessConfig: { authenticationMode: "API_AND_CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: true },
        // AWS's default is EXTENDED (billed 6× after standard support ends): say which one the stack chose.
        upgradePolicy: { supportType: args.supportType ?? "STANDARD" },
        tags,
      },
      { parent: this, dependsOn: [clusterPolicy, clusterKms, logGroup] },
    );

    // IRSA: pods assume IAM roles through the cluster's OIDC issuer.
    const issuer = cluster.identities.apply((ids) => ids[0]!.oidcs[0]!.issuer);
    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags },
      parent,
    );

    const nodeRole = new aws.iam.Role(
      `${name}-node`,
      { assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("ec2.amazonaws.com")), tags },
      parent,
    );
    const nodePolicies = [
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
      "AmazonEC2ContainerRegistryReadOnly",
      "AmazonSSMManagedInstanceCore",
    ].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${policy}`,
          { role: nodeRole.id, policyArn: managedPolicy(policy) },
          parent,
        ),
    );

    const clusterSecurityGroupId = cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId);
    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        description: `${clusterName} managed nodes: IMDSv2, encrypted gp3 root, node + cluster security groups`,
        updateDefaultVersion: true,
        // IMDSv2 only, hop limit 1: the answer never reaches a pod, so no pod can take the node role's
        // credentials. Every in-pod AWS client gets IRSA and an explicit region instead
        // (provider-rules/in-pod-aws-clients.ts checks it; aws-node runs on the host network).
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: { volumeSize: args.nodeDiskSizeGib ?? 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
          },
        ],
        // The EKS cluster SG carries control-plane <-> node and node <-> node traffic (and egress);
        // ours adds the ALB -> pod service ports.
        vpcSecurityGroupIds: [clusterSecurityGroupId, args.nodeSecurityGroupId],
        tagSpecifications: [
          { resourceType: "instance", tags: { ...tags, Name: `${clusterName}-node` } },
          { resourceType: "volume", tags },
        ],
        tags,
      },
      parent,
    );

    const nodeGroup = new aws.eks.NodeGroup(
      `${name}-nodes`,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: args.subnetIds,
        instanceTypes,
        amiType,
        capacityType: args.capacityType ?? "ON_DEMAND",
        scalingConfig: { minSize: nodes.min, desiredSize: nodes.desired, maxSize: nodes.max },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply((v) => String(v)) },
        labels: { "uaip/node-group": "default" },
        tags,
      },
      {
        parent: this,
        dependsOn: nodePolicies,
        // cluster-autoscaler moves desiredSize; re-applying the profile's value would undo its work.
        ignoreChanges: autoscaler.enabled ? ["scalingConfig.desiredSize"] : [],
      },
    );
    const asgNames = nodeGroup.resources.apply((rs) => rs.flatMap((r) => r.autoscalingGroups.map((g) => g.name)));

    const kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority, region])
        .apply(([n, endpoint, ca, r]) =>
          renderKubeconfig({ clusterName: n, endpoint, certificateAuthorityData: ca.data ?? "", region: r }),
        ),
    );
    const admins = (args.adminRoleArns ?? []).map((principalArn, i) => {
      const entry = new aws.eks.AccessEntry(
        `${name}-admin-${i}`,
        { clusterName: cluster.name, principalArn, type: "STANDARD", tags },
        parent,
      );
      return new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn,
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        { parent: this, dependsOn: [entry] },
      );
    });
    // The provider's kubeconfig waits for a probe of the API from this host during `pulumi up`, so
    // an unreachable endpoint fails in seconds with the fix instead of every Kubernetes resource
    // timing out (cluster-access.ts). Previews skip it: a new cluster has no endpoint yet.
    const access = { endpointPublicAccess, publicAccessCidrs };
    const reachableKubeconfig = pulumi.secret(
      pulumi.all([kubeconfig, cluster.endpoint]).apply(async ([config, endpoint]) => {
        if (!pulumi.runtime.isDryRun()) await assertApiReachable(endpoint, access);
        return config;
      }),
    );
    const provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: reachableKubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: admins },
    );

    let autoscalerRoleArn: pulumi.Output<string> | undefined;
    if (autoscaler.enabled) {
      const role = new aws.iam.Role(
        `${name}-cluster-autoscaler`,
        {
          assumeRolePolicy: pulumi
            .all([oidc.arn, issuer])
            .apply(([arn, url]) =>
              JSON.stringify(irsaAssumeRolePolicy(arn, url, CLUSTER_AUTOSCALER_NAMESPACE, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT)),
            ),
          tags,
        },
        parent,
      );
      new aws.iam.RolePolicy(
        `${name}-cluster-autoscaler`,
        {
          role: role.id,
          policy: pulumi
            .all([partition, region, accountId, cluster.name, asgNames])
            .apply(([p, r, a, c, names]) =>
              JSON.stringify(
                clusterAutoscalerPolicy({ partition: p, region: r, accountId: a, clusterName: c, autoscalingGroupNames: names }),
              ),
            ),
        },
        parent,
      );
      new k8s.helm.v3.Release(
        `${name}-cluster-autoscaler`,
        {
          name: "cluster-autoscaler",
          chart: "cluster-autoscaler",
          version: autoscaler.chartVersion,
          repositoryOpts: { repo: CLUSTER_AUTOSCALER_REPO },
          namespace: CLUSTER_AUTOSCALER_NAMESPACE,
          values: {
            fullnameOverride: "cluster-autoscaler",
            cloudProvider: "aws",
            awsRegion: region,
            autoDiscovery: { clusterName: cluster.name },
            image: { tag: autoscaler.imageTag },
            rbac: {
              serviceAccount: {
                create: true,
                name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                annotations: { "eks.amazonaws.com/role-arn": role.arn },
              },
            },
            extraArgs: { "balance-similar-node-groups": true, "skip-nodes-with-system-pods": false, expander: "least-waste" },
            priorityClassName: "system-cluster-critical",
          },
        },
        { parent: this, provider, dependsOn: [nodeGroup] },
      );
      autoscalerRoleArn = role.arn;
    }

    this.clusterName = cluster.name;
    this.endpoint = cluster.endpoint;
    this.certificateAuthorityData = cluster.certificateAuthority.apply((ca) => ca.data ?? "");
    this.kubeconfig = kubeconfig;
    this.provider = provider;
    this.oidcProviderArn = oidc.arn;
    this.oidcIssuerUrl = issuer;
    this.clusterSecurityGroupId = clusterSecurityGroupId;
    this.nodeRoleArn = nodeRole.arn;
    this.nodeGroupName = nodeGroup.nodeGroupName;
    this.nodeGroup = nodeGroup;
    this.autoscalingGroupNames = asgNames;
    this.secretsKmsKeyArn = secretsKeyArn;
    this.autoscalerRoleArn = autoscalerRoleArn;
    this.registerOutputs({
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidcProviderArn,
      oidcIssuerUrl: this.oidcIssuerUrl,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      nodeRoleArn: this.nodeRoleArn,
      nodeGroupName: this.nodeGroupName,
      autoscalingGroupNames: this.autoscalingGroupNames,
      autoscalerRoleArn: this.autoscalerRoleArn,
    });
  }
}
