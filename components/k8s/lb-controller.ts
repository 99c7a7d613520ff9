import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaAssumeRolePolicy, policyDocument } from "../aws/iam";

/** Pinned chart of the AWS Load Balancer Controller (eks-charts). */
export const LB_CONTROLLER_CHART_VERSION = "1.13.3";
const NAMESPACE = "kube-system";
const SERVICE_ACCOUNT = "aws-load-balancer-controller";

export interface LoadBalancerControllerArgs {
  clusterName: pulumi.Input<string>;
  /** The cluster's IAM OIDC provider (IRSA). */
  oidcProviderArn: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  oidcIssuerUrl: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** Target groups the controller may register pods with; nothing else. */
  targetGroupArns: pulumi.Input<string>[];
  /** @default LB_CONTROLLER_CHART_VERSION */
  chartVersion?: string;
  /** @default {} */
  tags?: Record<string, string>;
}

/**
 * The controller's IAM policy, scoped to what TargetGroupBinding needs: read ELB/EC2 state,
 * and register/deregister targets in our own target groups only. We bind pods to the ALB this
 * stack owns instead of letting the controller create load balancers from Ingresses.
 */
export function lbControllerPolicy(targetGroupArns: string[]) {
  return policyDocument([
    {
      Sid: "Describe",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "ec2:DescribeInstances",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeAvailabilityZones",
      ],
      Resource: "*",
    },
    {
      Sid: "RegisterTargets",
      Effect: "Allow",
      Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
      Resource: targetGroupArns,
    },
  ]);
}

/**
 * AWS Load Balancer Controller (Helm, IRSA). The services register their pods (target type ip)
 * with the ALB's target groups through TargetGroupBinding objects.
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerControllerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:LoadBalancerController", name, {}, opts);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcIssuerUrl])
          .apply(([arn, issuer]) => JSON.stringify(irsaAssumeRolePolicy(arn, issuer, NAMESPACE, SERVICE_ACCOUNT))),
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: role.id, policy: pulumi.all(args.targetGroupArns).apply((arns) => JSON.stringify(lbControllerPolicy(arns))) },
      { parent: this },
    );
    this.roleArn = role.arn;
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        chart: "aws-load-balancer-controller",
        version: args.chartVersion ?? LB_CONTROLLER_CHART_VERSION,
        namespace: NAMESPACE,
        repositoryOpts: { repo: "https://aws.github.io/eks-charts" },
        values: {
          clusterName: args.clusterName,
          region: args.region,
          vpcId: args.vpcId,
          replicaCount: 2,
          serviceAccount: { create: true, name: SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
          // We only use TargetGroupBinding; no Ingress/Service load balancers are created by it.
          enableServiceMutatorWebhook: false,
        },
      },
      { parent: this },
    );
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
