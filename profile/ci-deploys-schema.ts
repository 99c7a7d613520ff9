import { z } from "zod";
import { IAM_ROLE_ARN_SHAPE } from "./aws-identifiers";

/** The `ci.deploys` keys of the profile: the in-VPC runner for deploys from CI (profile/ci-deploys.ts says why and checks them). */

/** A GitHub App connection (CodeConnections, or its former CodeStar Connections name). */
const CONNECTION_ARN = /^arn:aws[-a-z]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[-a-f0-9]+$/;
/** GitHub's owner/repository: owner up to 39 characters, no leading hyphen; names of letters, digits, `.-_`. */
const GITHUB_REPO = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

const orEmpty = (pattern: RegExp, message: string) =>
  z.string().refine((v) => v === "" || pattern.test(v), { message: `${message} or an empty string` });

export const ciDeploysSchema = z.strictObject({
  /** Provision the in-VPC runner the deploy and preview workflows run on. */
  enabled: z.boolean(),
  /** The repository whose workflows use the runner, "owner/name". */
  githubRepo: orEmpty(GITHUB_REPO, 'expected a GitHub repository like "my-org/uaip"'),
  /** The role the workflows assume over GitHub's OIDC (configure-aws-credentials); it must be in cluster.adminRoleArns. */
  roleArn: orEmpty(IAM_ROLE_ARN_SHAPE, 'expected an IAM role ARN like "arn:aws:iam::123456789012:role/uaip-ci"'),
  /** The CodeConnections GitHub connection (created once in the console, then authorised in GitHub). */
  connectionArn: orEmpty(
    CONNECTION_ARN,
    'expected a connection ARN like "arn:aws:codeconnections:us-east-1:123456789012:connection/<id>"',
  ),
});
export type CiDeploys = z.output<typeof ciDeploysSchema>;
