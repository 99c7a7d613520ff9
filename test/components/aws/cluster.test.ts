import type { PlatformMocks } from "../../../tools/mocks";
import { isSecretValue } from "../../../tools/mocks";
import { isSecret, promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import {
  amiTypeFor,
  clusterAutoscalerImageTag,
  clusterAutoscalerPolicy,
  renderKubeconfig,
  validateNodeCounts,
} from "../../../components/aws/cluster";
import { irsaAssumeRolePolicy } from "../../../components/aws/iam";

describe("cluster pure decisions", () => {
  it.each([
    [["t3.medium"], "AL2023_x86_64_STANDARD"],
    [["m6i.large", "m6a.large"], "AL2023_x86_64_STANDARD"],
    [["g5.xlarge"], "AL2023_x86_64_STANDARD"],
    [["t4g.medium"], "AL2023_ARM_64_STANDARD"],
    [["m7g.large", "c7gn.xlarge", "r6gd.large"], "AL2023_ARM_64_STANDARD"],
  ])("%j -> %s", (types, ami) => expect(amiTypeFor(types)).toBe(ami));

  it.each([[["m6i.large", "m7g.large"]], [[]]])("rejects %j naming instanceTypes", (types) => {
    expect(() => amiTypeFor(types)).toThrow(expect.objectContaining({ key: "ClusterArgs.instanceTypes" }));
  });

  it.each([
    [{ min: 1, desired: 1, max: 1 }, true],
    [{ min: 3, desired: 3, max: 12 }, true],
    [{ min: 0, desired: 1, max: 2 }, false],
    [{ min: 2, desired: 1, max: 4 }, false],
    [{ min: 1, desired: 5, max: 4 }, false],
  ])("node counts %j ok=%s", (nodes, ok) => {
    if (ok) expect(validateNodeCounts(nodes)).toEqual(nodes);
    else expect(() => validateNodeCounts(nodes)).toThrow(expect.objectContaining({ key: "ClusterArgs.nodes" }));
  });

  it.each([
    ["1.33", "v1.33.0"],
    ["1.31", "v1.31.0"],
  ])("autoscaler image for %s is %s", (v, tag) => expect(clusterAutoscalerImageTag(v)).toBe(tag));

  it("scopes the autoscaler's mutating calls to the node group's ASG and the cluster's ownership tag", () => {
    const p = clusterAutoscalerPolicy({
      partition: "aws",
      region: "eu-west-1",
      accountId: "111122223333",
      clusterName: "uaip-prod",
      autoscalingGroupNames: ["eks-ng-1"],
    });
    const [describe, scale] = p.Statement;
    expect(describe!.Action).not.toContain("autoscaling:SetDesiredCapacity");
    expect((describe!.Action as string[]).every((a) => /:(Describe|Get)/.test(a))).toBe(true);
    expect(scale!.Action).toEqual(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]);
    expect(scale!.Resource).toEqual([
      "arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/eks-ng-1",
    ]);
    expect(scale!.Condition).toEqual({ StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/uaip-prod": "owned" } });
  });

  it("IRSA trust allows only one service account with the STS audience", () => {
    const p = irsaAssumeRolePolicy(
      "arn:aws:iam::1:oidc-provider/x",
      "https://oidc.eks.r.amazonaws.com/id/ABC",
      "kube-system",
      "cluster-autoscaler",
    );
    expect(p.Statement[0]!.Condition).toEqual({
      StringEquals: {
        "oidc.eks.r.amazonaws.com/id/ABC:sub": "system:serviceaccount:kube-system:cluster-autoscaler",
        "oidc.eks.r.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
      },
    });
  });

  it("renders an exec-auth kubeconfig without embedded credentials", () => {
    const k = JSON.parse(
      renderKubeconfig({ clusterName: "c", endpoint: "https://e", certificateAuthorityData: "Q0E=", region: "us-east-1" }),
    );
    expect(k.clusters[0].cluster).toEqual({ server: "https://e", "certificate-authority-data": "Q0E=" });
    expect(k.users[0].user.exec).toMatchObject({
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", "c", "--region", "us-east-1", "--output", "json"],
    });
    expect(k.users[0].user.token).toBeUndefined();
    expect(k["current-context"]).toBe("c");
  });
});

describe("Cluster component (mocks)", () => {
  let mocks: PlatformMocks;
  let mod: typeof import("../../../components/aws/cluster");
  let dev: InstanceType<typeof mod.Cluster>;
  let prod: InstanceType<typeof mod.Cluster>;

  beforeAll(async () => {
    mocks = setupMocks();
    mod = await import("../../../components/aws/cluster");
    const common = { subnetIds: ["subnet-a", "subnet-b"], nodeSecurityGroupId: "sg-nodes" };
    dev = new mod.Cluster("dev", {
      ...common,
      clusterName: "uaip-dev",
      version: "1.33",
      publicAccessCidrs: ["203.0.113.0/24"],
      instanceTypes: ["t3.medium"],
      nodes: { min: 1, desired: 2, max: 4 },
      clusterAutoscaler: { enabled: false },
    });
    prod = new mod.Cluster("prod", {
      ...common,
      clusterName: "uaip-prod",
      instanceTypes: ["m6i.large", "m6a.large"],
      nodes: { min: 3, desired: 3, max: 12 },
      endpointPublicAccess: false,
    });
    await Promise.all([
      promiseOf(dev.kubeconfig),
      promiseOf(prod.kubeconfig),
      promiseOf(prod.autoscalerRoleArn!),
      promiseOf(prod.autoscalingGroupNames),
    ]);
    await new Promise((r) => setTimeout(r, 50));
  });

  const of = (type: string, env: string) => resourcesOfType(mocks, type).filter((r) => r.name.startsWith(`${env}-`));
  const eks = (env: string) => of("aws:eks/cluster:Cluster", env)[0]!.inputs as Record<string, any>;
  const nodeGroup = (env: string) => of("aws:eks/nodeGroup:NodeGroup", env)[0]!.inputs as Record<string, any>;

  it.each(["dev", "prod"])("%s: secrets encrypted with a rotated KMS key, all control-plane logs, API auth", (env) => {
    const c = eks(env);
    expect(c.encryptionConfig).toEqual({
      provider: { keyArn: `arn:aws:kms:us-east-1:123456789012:${env}-secrets` },
      resources: ["secrets"],
    });
    expect(of("aws:kms/key:Key", env)[0]!.inputs.enableKeyRotation).toBe(true);
    expect(c.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(c.accessConfig).toMatchObject({ authenticationMode: "API_AND_CONFIG_MAP" });
    expect(of("aws:cloudwatch/logGroup:LogGroup", env)[0]!.inputs).toMatchObject({
      name: `/aws/eks/uaip-${env}/cluster`,
      retentionInDays: 30,
    });
  });

  it.each([
    ["dev", true, true, ["203.0.113.0/24"]],
    ["prod", false, true, undefined],
  ])("%s: endpoint public=%s private=%s cidrs=%j", (env, pub, priv, cidrs) => {
    expect(eks(env).vpcConfig).toEqual({
      subnetIds: ["subnet-a", "subnet-b"],
      endpointPublicAccess: pub,
      endpointPrivateAccess: priv,
      ...(cidrs ? { publicAccessCidrs: cidrs } : {}),
    });
  });

  it.each([
    ["dev", ["t3.medium"], { minSize: 1, desiredSize: 2, maxSize: 4 }],
    ["prod", ["m6i.large", "m6a.large"], { minSize: 3, desiredSize: 3, maxSize: 12 }],
  ])("%s: managed node group %j sized %j in the private subnets", (env, types, scaling) => {
    const ng = nodeGroup(env);
    expect(ng).toMatchObject({
      instanceTypes: types,
      scalingConfig: scaling,
      subnetIds: ["subnet-a", "subnet-b"],
      amiType: "AL2023_x86_64_STANDARD",
      clusterName: `uaip-${env}`,
    });
    expect(ng.launchTemplate).toEqual({ id: `${env}-nodes-id`, version: "1" });
  });

  it("attaches our node SG next to the EKS cluster SG, requires IMDSv2 and encrypts the root volume", () => {
    const lt = of("aws:ec2/launchTemplate:LaunchTemplate", "prod")[0]!.inputs as Record<string, any>;
    expect(lt.vpcSecurityGroupIds).toEqual(["sg-eks-prod-eks", "sg-nodes"]);
    // Hop limit 1: IMDS answers never reach a pod, so pods cannot take the node role's credentials.
    expect(lt.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(lt.blockDeviceMappings[0].ebs).toMatchObject({ encrypted: "true", volumeType: "gp3" });
  });

  it("gives the cluster and nodes their roles with the EKS managed policies", () => {
    const attached = of("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "dev").map(
      (a) => `${a.inputs.role}:${String(a.inputs.policyArn).split("/").pop()}`,
    );
    expect(attached).toEqual(
      expect.arrayContaining([
        "dev-cluster-id:AmazonEKSClusterPolicy",
        "dev-node-id:AmazonEKSWorkerNodePolicy",
        "dev-node-id:AmazonEKS_CNI_Policy",
        "dev-node-id:AmazonEC2ContainerRegistryReadOnly",
      ]),
    );
    const trust = (n: string) =>
      JSON.parse(of("aws:iam/role:Role", "dev").find((r) => r.name === n)!.inputs.assumeRolePolicy as string).Statement[0]
        .Principal.Service;
    expect(trust("dev-cluster")).toBe("eks.amazonaws.com");
    expect(trust("dev-node")).toBe("ec2.amazonaws.com");
  });

  it("creates an OIDC provider from the cluster issuer for IRSA", async () => {
    const oidc = of("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "prod")[0]!.inputs;
    expect(oidc).toMatchObject({
      url: "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789",
      clientIdLists: ["sts.amazonaws.com"],
    });
    expect(await promiseOf(prod.oidcProviderArn)).toBe("arn:aws:iam:us-east-1:123456789012:prod-oidc");
  });

  it("builds the k8s provider from a secret exec-auth kubeconfig", async () => {
    expect(await isSecret(prod.kubeconfig)).toBe(true);
    const k = JSON.parse(await promiseOf(prod.kubeconfig));
    expect(k.clusters[0].cluster.server).toBe("https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com");
    expect(k.users[0].user.exec.args).toEqual([
      "eks",
      "get-token",
      "--cluster-name",
      "uaip-prod",
      "--region",
      "us-east-1",
      "--output",
      "json",
    ]);
    const provider = mocks.resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === "prod-k8s")!;
    expect(isSecretValue(provider.inputs.kubeconfig)).toBe(true);
  });

  it("installs cluster-autoscaler (pinned chart) with an IRSA role scoped to the node group's ASG", () => {
    const release = of("kubernetes:helm.sh/v3:Release", "prod")[0]!.inputs as Record<string, any>;
    expect(release).toMatchObject({
      chart: "cluster-autoscaler",
      version: "9.47.0",
      namespace: "kube-system",
      repositoryOpts: { repo: "https://kubernetes.github.io/autoscaler" },
    });
    expect(release.values).toMatchObject({
      autoDiscovery: { clusterName: "uaip-prod" },
      awsRegion: "us-east-1",
      image: { tag: "v1.35.0" },
      rbac: {
        serviceAccount: {
          name: "cluster-autoscaler",
          annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam:us-east-1:123456789012:prod-cluster-autoscaler" },
        },
      },
    });
    const role = of("aws:iam/role:Role", "prod").find((r) => r.name === "prod-cluster-autoscaler")!;
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0];
    expect(trust.Principal.Federated).toBe("arn:aws:iam:us-east-1:123456789012:prod-oidc");
    expect(trust.Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789:sub"]).toBe(
      "system:serviceaccount:kube-system:cluster-autoscaler",
    );
    const policy = JSON.parse(
      of("aws:iam/rolePolicy:RolePolicy", "prod").find((r) => r.name === "prod-cluster-autoscaler")!.inputs.policy as string,
    );
    expect(policy.Statement[1].Resource).toEqual([
      "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/eks-prod-nodes-asg",
    ]);
    expect(policy.Statement[1].Condition.StringEquals).toEqual({
      "aws:ResourceTag/k8s.io/cluster-autoscaler/uaip-prod": "owned",
    });
  });

  it("skips the autoscaler when disabled", () => {
    expect(of("kubernetes:helm.sh/v3:Release", "dev")).toHaveLength(0);
    expect(dev.autoscalerRoleArn).toBeUndefined();
  });

  it("refuses a cluster with neither endpoint enabled", () => {
    expect(
      () =>
        new mod.Cluster("bad", {
          subnetIds: [],
          nodeSecurityGroupId: "sg",
          endpointPublicAccess: false,
          endpointPrivateAccess: false,
        }),
    ).toThrow(expect.objectContaining({ key: "ClusterArgs.endpointPrivateAccess" }));
    // A public API endpoint open to the whole internet, or with no CIDRs at all, is refused.
    for (const publicAccessCidrs of [undefined, [], ["0.0.0.0/0"], ["10.0.0.0/8", "::/0"]]) {
      expect(() => new mod.Cluster("open", { subnetIds: [], nodeSecurityGroupId: "sg", publicAccessCidrs })).toThrow(
        expect.objectContaining({ key: "ClusterArgs.publicAccessCidrs" }),
      );
    }
  });

  it("names every child prod-<role> and parents it to the component", () => {
    const children = mocks.resources.filter((r) => r.custom && r.name.startsWith("prod-"));
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const c of children) expect(c.parent.endsWith("uaip:aws:Cluster::prod")).toBe(true);
  });
});
