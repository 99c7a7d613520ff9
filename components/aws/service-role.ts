import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { irsaAssumeRolePolicy, policyDocument, type PolicyDocument } from "./iam";

/**
 * The only AWS call the runtime makes is CloudFront's CreateInvalidation (runtime/src/cache/
 * cloudfront.ts; aws/provider-rules/permissions.ts keeps that list in step with the source), so a
 * service's role allows exactly that, on its own distribution only.
 */
export function cdnPurgePolicy(distributionArn: string): PolicyDocument {
  return policyDocument([
    { Sid: "PurgeOwnDistribution", Effect: "Allow", Action: ["cloudfront:CreateInvalidation"], Resource: distributionArn },
  ]);
}

export interface ServiceRoleArgs {
  /** Namespace and name of the service's ServiceAccount: the only identity that may assume the role. */
  namespace: string;
  serviceAccount: string;
  /** The cluster's IAM OIDC provider and issuer (IRSA). */
  oidcProviderArn: pulumi.Input<string>;
  oidcIssuerUrl: pulumi.Input<string>;
  /** ARN of the CloudFront distribution the service purges. */
  cdnDistributionArn: pulumi.Input<string>;
  /** @default {} */
  tags?: Record<string, string>;
}

/** One service's IRSA role: trusted by its ServiceAccount only, allowed to purge its own distribution only. */
export class ServiceRole extends pulumi.ComponentResource {
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: ServiceRoleArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:ServiceRole", name, {}, opts);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcIssuerUrl])
          .apply(([arn, issuer]) => JSON.stringify(irsaAssumeRolePolicy(arn, issuer, args.namespace, args.serviceAccount))),
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-cdn-purge`,
      { role: role.id, policy: pulumi.output(args.cdnDistributionArn).apply((arn) => JSON.stringify(cdnPurgePolicy(arn))) },
      { parent: this },
    );
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
