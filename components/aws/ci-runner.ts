import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, serviceAssumeRolePolicy, type PolicyDocument } from "./iam";

export interface CiRunnerArgs {
  /** The CodeBuild project's name; workflows run on it with `runs-on: codebuild-<name>-<run id>-<attempt>`. */
  projectName: string;
  /** "owner/name" of the repository whose workflow jobs start builds. */
  githubRepo: string;
  /** CodeConnections GitHub connection the project reads the repository and registers runners through. */
  connectionArn: string;
  vpcId: pulumi.Input<string>;
  /** Private subnets (egress through the NAT gateways): where the builds run, next to the cluster. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The EKS cluster security group: it gains one rule, HTTPS from the runner, so the private API endpoint answers it. */
  clusterSecurityGroupId: pulumi.Input<string>;
  /**
   * Run builds privileged: Docker inside the build, which `pulumi up` needs when the stack builds
   * images (@pulumi/docker). Each build is its own ephemeral VM. @default false
   */
  dockerBuilds?: boolean;
  /** @default "BUILD_GENERAL1_MEDIUM" (4 GiB, 2 vCPUs: tsc and the plan fit) */
  computeType?: string;
  /** @default "aws/codebuild/amazonlinux-x86_64-standard:5.0" */
  image?: string;
  /** Minutes before a build (one workflow job) is stopped. @default 60 (deploy.yml's job timeout) */
  buildTimeoutMinutes?: number;
  /** Days the build logs are kept. @default 30 */
  logRetentionDays?: number;
  /** Customer-managed KMS key for the build logs. @default CloudWatch Logs' own encryption */
  logKmsKeyArn?: pulumi.Input<string>;
  /** @default {} */
  tags?: Record<string, string>;
}

/**
 * The build role's permissions, least privilege: write its own log group, manage the network
 * interfaces a VPC build needs (EC2 allows no resource scoping for the Describe and Create calls;
 * the interface permission is limited to these subnets and to CodeBuild), and use the one GitHub
 * connection. Nothing else: the deploy's own AWS access comes from the CI role the job assumes
 * over GitHub's OIDC, never from the runner.
 */
export function ciRunnerPolicy(args: {
  partition: string;
  region: string;
  accountId: string;
  logGroupName: string;
  subnetArns: string[];
  connectionArn: string;
}): PolicyDocument {
  const logGroup = `arn:${args.partition}:logs:${args.region}:${args.accountId}:log-group:${args.logGroupName}`;
  return policyDocument([
    { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroup}:*` },
    {
      Sid: "VpcNetworkInterfaces",
      Effect: "Allow",
      Action: [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
      ],
      Resource: "*",
    },
    {
      Sid: "VpcNetworkInterfacePermission",
      Effect: "Allow",
      Action: "ec2:CreateNetworkInterfacePermission",
      Resource: `arn:${args.partition}:ec2:${args.region}:${args.accountId}:network-interface/*`,
      Condition: {
        StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" },
        ArnEquals: { "ec2:Subnet": args.subnetArns },
      },
    },
    {
      Sid: "GitHubConnection",
      Effect: "Allow",
      Action: [
        "codeconnections:UseConnection",
        "codeconnections:GetConnectionToken",
        "codeconnections:GetConnection",
        "codestar-connections:UseConnection",
        "codestar-connections:GetConnectionToken",
        "codestar-connections:GetConnection",
      ],
      Resource: [args.connectionArn, args.connectionArn.replace(":codeconnections:", ":codestar-connections:")],
    },
  ]);
}

/**
 * A CodeBuild-hosted GitHub Actions runner inside the VPC (profile/ci-deploys.ts says why
 * CodeBuild and not a runner in the cluster): GitHub's WORKFLOW_JOB_QUEUED webhook starts one
 * ephemeral build per job whose `runs-on` names the project; the build registers itself as that
 * job's runner. Its security group admits nothing and sends only HTTPS (GitHub, the npm registry,
 * Pulumi Cloud and AWS APIs through the NAT gateways; the EKS API inside the VPC).
 */
export class CiRunner extends pulumi.ComponentResource {
  public readonly projectName: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: CiRunnerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:CiRunner", name, {}, opts);
    const parent = { parent: this };
    const tags = args.tags ?? {};
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const region = aws.getRegionOutput({}, parent).region;
    const partition = aws.getPartitionOutput({}, parent).partition;

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: `${args.projectName}: CI runner builds (HTTPS out only)`, tags },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-https-out`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        // GitHub's, npm's and Pulumi Cloud's addresses are not stable: HTTPS to any address, nothing else.
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS: GitHub, npm registry, Pulumi Cloud, AWS APIs, the EKS API",
        tags,
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-eks-api`,
      {
        securityGroupId: args.clusterSecurityGroupId,
        referencedSecurityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "the CI runner reaches the private EKS API endpoint",
        tags,
      },
      parent,
    );

    const logGroupName = `/aws/codebuild/${args.projectName}`;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: logGroupName,
        retentionInDays: args.logRetentionDays ?? 30,
        ...(args.logKmsKeyArn ? { kmsKeyId: args.logKmsKeyArn } : {}),
        tags,
      },
      parent,
    );

    // Only this account's project of this name may use the role (confused-deputy guard).
    const projectArn = pulumi.interpolate`arn:${partition}:codebuild:${region}:${account}:project/${args.projectName}`;
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: pulumi.all([account, projectArn]).apply(([a, arn]) =>
          JSON.stringify(
            serviceAssumeRolePolicy("codebuild.amazonaws.com", {
              StringEquals: { "aws:SourceAccount": a },
              ArnLike: { "aws:SourceArn": arn },
            }),
          ),
        ),
        tags,
      },
      parent,
    );
    const subnetArns = pulumi
      .all([partition, region, account, pulumi.output(args.subnetIds)])
      .apply(([p, r, a, ids]) => ids.map((id) => `arn:${p}:ec2:${r}:${a}:subnet/${id}`));
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi.all([partition, region, account, subnetArns]).apply(([p, r, a, subnets]) =>
          JSON.stringify(
            ciRunnerPolicy({
              partition: p,
              region: r,
              accountId: a,
              logGroupName,
              subnetArns: subnets,
              connectionArn: args.connectionArn,
            }),
          ),
        ),
      },
      parent,
    );

    const project = new aws.codebuild.Project(
      `${name}-project`,
      {
        name: args.projectName,
        description: `GitHub Actions runner in the VPC for ${args.githubRepo} (runs-on: codebuild-${args.projectName}-<run id>-<attempt>)`,
        serviceRole: role.arn,
        source: {
          type: "GITHUB",
          location: `https://github.com/${args.githubRepo}.git`,
          auth: { type: "CODECONNECTIONS", resource: args.connectionArn },
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: args.computeType ?? "BUILD_GENERAL1_MEDIUM",
          image: args.image ?? "aws/codebuild/amazonlinux-x86_64-standard:5.0",
          imagePullCredentialsType: "CODEBUILD",
          privilegedMode: args.dockerBuilds ?? false,
        },
        vpcConfig: { vpcId: args.vpcId, subnets: args.subnetIds, securityGroupIds: [sg.id] },
        logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: logGroup.name }, s3Logs: { status: "DISABLED" } },
        buildTimeout: args.buildTimeoutMinutes ?? 60,
        tags,
      },
      { parent: this, dependsOn: [policy] },
    );
    new aws.codebuild.Webhook(
      `${name}-webhook`,
      {
        projectName: project.name,
        buildType: "BUILD",
        // One build per queued workflow job whose runs-on names this project; nothing else starts a build.
        filterGroups: [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }],
      },
      parent,
    );

    this.projectName = project.name;
    this.securityGroupId = sg.id;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({
      projectName: this.projectName,
      securityGroupId: this.securityGroupId,
      roleArn: this.roleArn,
      logGroupName: this.logGroupName,
    });
  }
}
