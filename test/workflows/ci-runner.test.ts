import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ciRunsOn } from "../../profile/ci-deploys";
import type { PlanJson } from "../../tools/plan";
import { ROOT, committedPlan } from "../helpers/plan";

/**
 * The workflows run on the in-VPC runner each stack provisions: the CodeBuild project name in the
 * plan (not a name retyped here) is the one the workflows' runs-on labels name.
 */
const STACKS = ["dev", "staging", "prod"] as const;
const plans: Partial<Record<(typeof STACKS)[number], PlanJson>> = {};
const workflow = (file: string) => parse(readFileSync(join(ROOT, ".github", "workflows", file), "utf8"));

beforeAll(async () => {
  for (const stack of STACKS) {
    const run = await committedPlan(stack);
    expect({ stack, code: run.code }).toEqual({ stack, code: 0 });
    plans[stack] = run.json!;
  }
}, 120_000);

const projectOf = (stack: (typeof STACKS)[number]) => {
  const projects = plans[stack]!.resources.filter((r) => r.type === "aws:codebuild/project:Project");
  expect(projects).toHaveLength(1);
  return projects[0];
};

describe("CI runs on the stack's in-VPC runner", () => {
  it.each(STACKS)("%s: preview runs on the runner the plan provisions", (stack) => {
    const name = projectOf(stack).inputs.name as string;
    expect(plans[stack]!.outputs.ciRunnerProject).toBe(name);
    const job = workflow("preview.yml").jobs.preview;
    expect(job.strategy.matrix.stack).toContain(stack);
    expect(String(job["runs-on"]).replace("${{ matrix.stack }}", stack)).toBe(ciRunsOn(name));
  });

  it.each(["staging", "prod"] as const)("%s: deploy runs on the runner the plan provisions", (stack) => {
    const name = projectOf(stack).inputs.name as string;
    expect(workflow("deploy.yml").jobs[stack]["runs-on"]).toBe(ciRunsOn(name));
  });

  it("the runner is one build per queued job, in the private subnets, HTTPS out only, and its role is least privilege", () => {
    const r = plans.prod!.resources;
    const project = projectOf("prod");
    const webhook = r.find((x) => x.type === "aws:codebuild/webhook:Webhook")!;
    expect(webhook.inputs.filterGroups).toEqual([{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }]);
    const privateSubnets = r
      .filter((x) => x.type === "aws:ec2/subnet:Subnet" && (x.inputs.tags as Record<string, string>).tier === "private")
      .map((x) => `${x.name}-id`);
    const vpc = project.inputs.vpcConfig as { subnets: string[]; securityGroupIds: string[] };
    expect(vpc.subnets.length).toBeGreaterThan(0);
    for (const s of vpc.subnets) expect(privateSubnets).toContain(s);
    // Its security group: no ingress, one egress rule, HTTPS.
    const sg = r.find((x) => x.type === "aws:ec2/securityGroup:SecurityGroup" && vpc.securityGroupIds.includes(`${x.name}-id`))!;
    const sgId = `${sg.name}-id`;
    const rules = r.filter((x) => x.type.startsWith("aws:vpc/securityGroup") && x.inputs.securityGroupId === sgId);
    expect(rules.map((x) => [x.type.split(":").pop(), x.inputs.fromPort, x.inputs.toPort])).toEqual([
      ["SecurityGroupEgressRule", 443, 443],
    ]);
    // The cluster's security group admits it on 443 only.
    const toApi = r.filter(
      (x) => x.type.startsWith("aws:vpc/securityGroupIngressRule") && x.inputs.referencedSecurityGroupId === sgId,
    );
    expect(toApi.map((x) => [x.inputs.fromPort, x.inputs.toPort])).toEqual([[443, 443]]);
    // Logs encrypted with prod's customer-managed key.
    const logs = r.find(
      (x) => x.type === "aws:cloudwatch/logGroup:LogGroup" && String(x.inputs.name).startsWith("/aws/codebuild/"),
    )!;
    expect(logs.inputs.kmsKeyId).toBeTruthy();
    expect(logs.inputs.name).toBe(`/aws/codebuild/${project.inputs.name}`);
    // No action wildcard; only the Describe/Create ENI calls (which EC2 cannot scope) on "*".
    const policy = JSON.parse(
      r.find((x) => x.type === "aws:iam/rolePolicy:RolePolicy" && x.name.startsWith("uaip-ci"))!.inputs.policy as string,
    );
    for (const st of policy.Statement) {
      for (const a of [st.Action].flat()) expect(a).not.toMatch(/\*/);
      if (st.Resource === "*")
        for (const a of [st.Action].flat()) expect(a).toMatch(/^ec2:(Describe|CreateNetworkInterface$|DeleteNetworkInterface$)/);
    }
  });

  it("the CI role of every stack is a cluster admin (an EKS access entry)", () => {
    for (const stack of STACKS) {
      const entries = plans[stack]!.resources.filter((x) => x.type === "aws:eks/accessEntry:AccessEntry").map(
        (x) => x.inputs.principalArn,
      );
      expect(entries).toContain(`arn:aws:iam::111122223333:role/uaip-ci-${stack}`);
    }
  });
});
