/** IAM and KMS policy documents as pure functions, so tests can read the exact statements. */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy letting an AWS service (e.g. "eks.amazonaws.com") assume a role. */
export function serviceAssumeRolePolicy(service: string, condition?: PolicyStatement["Condition"]): PolicyDocument {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
      ...(condition ? { Condition: condition } : {}),
    },
  ]);
}

/**
 * IRSA trust policy: only the given Kubernetes service account (namespace/name) of this cluster
 * may assume the role, and only with the STS audience. `issuerUrl` is the cluster's OIDC issuer
 * (with or without https://).
 */
export function irsaAssumeRolePolicy(
  oidcProviderArn: string,
  issuerUrl: string,
  namespace: string,
  serviceAccount: string,
): PolicyDocument {
  const issuer = issuerUrl.replace(/^https:\/\//, "");
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
          [`${issuer}:aud`]: "sts.amazonaws.com",
        },
      },
    },
  ]);
}

/**
 * Key policy for a KMS key that encrypts CloudWatch log groups: the account administers the
 * key, and the regional CloudWatch Logs service may use it only for log groups of this account.
 */
export function logsKmsKeyPolicy(accountId: string, region: string, partition = "aws"): PolicyDocument {
  return policyDocument([
    {
      Sid: "AccountAdmin",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "CloudWatchLogs",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` },
      },
    },
  ]);
}
