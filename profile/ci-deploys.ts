import type { ProfileIssue } from "./errors";
import { EXAMPLE_ACCOUNT_ID } from "./provider-rules";
import type { Profile } from "./schema";
import { stackScope } from "./stack-names";

/**
 * Deploys from CI. Every AWS stack's EKS endpoint is private, so `pulumi preview`/`up` must run
 * inside the VPC: the stack provisions a CodeBuild-hosted GitHub Actions runner there
 * (components/aws/ci-runner.ts), and the workflows target it with `runs-on: ciRunsOn(...)`.
 *
 * Why CodeBuild, outside the cluster, and not actions-runner-controller in it: the runner deploys
 * the cluster. A cluster upgrade replaces the node group, which drains the nodes an in-cluster
 * runner runs on, mid-`up`, and leaves the stack locked with pending operations; a control-plane
 * upgrade, a broken CNI or a bad admission webhook takes the runner down with the thing it must
 * repair; `destroy` would delete its own runner. A CodeBuild build is an ephemeral VM per job,
 * outside the cluster, with no controller to upgrade, and costs nothing while idle.
 */

// The schema lives in its own module with no imports of the profile's rules: schema.ts reads it
// while provider-rules (which this file needs) reads schema.ts, a cycle when this file loads first.
export { ciDeploysSchema, type CiDeploys } from "./ci-deploys-schema";
import type { CiDeploys } from "./ci-deploys-schema";

/** The runner's CodeBuild project: one per stack, "<project>-<stack>-deploy". */
export function ciRunnerProjectName(project: string, stack: string): string {
  return `${stackScope(project, stack)}-deploy`;
}

/**
 * The `runs-on` label of a job on that runner, as CodeBuild documents it: one build per job,
 * matched by the run id and attempt (a label shared by two jobs could hand one job's runner to the other).
 */
export function ciRunsOn(projectName: string): string {
  return `codebuild-${projectName}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

/**
 * What a stack with CI deploys enabled must also have: every key, its CI role among the cluster
 * admins, and (given the stack's Region) a GitHub connection in that Region: connections are
 * regional, and a CodeBuild project can only use one of its own Region.
 */
export function ciDeployIssues(p: Profile, region?: string): ProfileIssue[] {
  const ci = p.ci.deploys;
  if (!ci.enabled) return [];
  const issues: ProfileIssue[] = [];
  if (p.platform !== "aws")
    issues.push({ path: "ci.deploys.enabled", message: "the in-VPC runner is for AWS stacks; set it false on a Docker stack" });
  const required: [keyof CiDeploys, string][] = [
    ["githubRepo", "<owner>/<repository>"],
    ["roleArn", "<the role your workflows assume over OIDC>"],
    ["connectionArn", "<your CodeConnections GitHub connection ARN>"],
  ];
  for (const [key, example] of required)
    if (ci[key] === "")
      issues.push({
        path: `ci.deploys.${key}`,
        message: `is empty, and CI deploys are enabled; run: pulumi config set --path 'uaip:ci.deploys.${key}' ${example}`,
      });
  const connectionRegion = ci.connectionArn.split(":")[3];
  if (region && connectionRegion && connectionRegion !== region)
    issues.push({
      path: "ci.deploys.connectionArn",
      message: `is in ${connectionRegion}, the stack in ${region}; a CodeBuild project uses a connection of its own Region: create one in ${region} and run: pulumi config set --path 'uaip:ci.deploys.connectionArn' <its ARN>`,
    });
  if (ci.roleArn && !p.cluster.adminRoleArns.includes(ci.roleArn))
    issues.push({
      path: "cluster.adminRoleArns",
      message: `does not list the CI role ${JSON.stringify(ci.roleArn)} (ci.deploys.roleArn): its preview and up could not reach a single Kubernetes resource; run: pulumi config set --path 'uaip:cluster.adminRoleArns[${p.cluster.adminRoleArns.length}]' ${ci.roleArn}`,
    });
  return issues;
}

/** The stack files' example CI values (AWS's documentation account, an example owner): `pulumi preview` and `up` refuse them. */
export function exampleCiIssues(p: Profile): ProfileIssue[] {
  const ci = p.ci.deploys;
  if (!ci.enabled) return [];
  const issues: ProfileIssue[] = [];
  for (const key of ["roleArn", "connectionArn"] as const)
    if (ci[key].split(":")[4] === EXAMPLE_ACCOUNT_ID)
      issues.push({
        path: `ci.deploys.${key}`,
        message: `${JSON.stringify(ci[key])} is the stack file's example (AWS's documentation account ${EXAMPLE_ACCOUNT_ID}); run: pulumi config set --path 'uaip:ci.deploys.${key}' <yours>`,
      });
  if (ci.githubRepo.startsWith("example/"))
    issues.push({
      path: "ci.deploys.githubRepo",
      message: `${JSON.stringify(ci.githubRepo)} is the stack file's example; run: pulumi config set --path 'uaip:ci.deploys.githubRepo' <owner>/<repository>`,
    });
  return issues;
}
