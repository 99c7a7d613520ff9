/**
 * The provider-rule checks on the plans of every committed stack, and one deliberate mutation per
 * check (most of them the defect issue #11 found) to prove the check catches it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PlanJson } from "../../../../tools/plan";
import { listStacks } from "../../../../tools/stack-file";
import { ORIGIN_TLS_YAML, ROOT, committedPlan, runPlan, stackFile } from "../../../helpers/plan";
import {
  checkNameCollisions,
  providerRuleChecks,
  type PlannedResource,
  type PlannedStack,
} from "../../../../components/aws/provider-rules";
import { checkCdnRoutes } from "../../../../components/aws/provider-rules/cdn-routes";
import { checkInPodAwsClients } from "../../../../components/aws/provider-rules/in-pod-aws-clients";
import { EBS_CSI_ADDON_VERSION } from "../../../../components/aws/storage";
import {
  awsCallsInSource,
  checkRuntimePermissions,
  RUNTIME_AWS_CALLS,
} from "../../../../components/aws/provider-rules/permissions";
import { checkNameLimits, physicalNames } from "../../../../components/aws/provider-rules/physical-names";
import { checkVersionPins } from "../../../../components/aws/provider-rules/version-pins";

const STACKS = listStacks(ROOT);
const plans = new Map<string, PlanJson>();

beforeAll(async () => {
  // One process per stack (Pulumi's runtime state is per process), in sequence: the machine is shared.
  for (const stack of STACKS) {
    const run = await committedPlan(stack);
    if (run.code !== 0 || !run.json) throw new Error(`plan of ${stack} failed:\n${run.stderr}`);
    plans.set(stack, run.json);
  }
}, 120_000);

/**
 * The plan JSON as the checks see it in the plan process. Plans written before field-level
 * redaction showed a listener rule's conditions (they hold the origin secret) as a whole "[secret]";
 * this restores them for such a plan (current plans show them with only the header value redacted); its path patterns are the ones
 * listenerRulePlan gives each service (rule names are "<alb>-<service>").
 */
function asChecked(plan: PlannedStack): PlannedStack {
  for (const r of plan.resources) {
    const inputs = r.inputs as Record<string, any>;
    if (r.type === "aws:lb/listenerRule:ListenerRule" && inputs.conditions === "[secret]") {
      const service = r.name.replace(/^uaip-alb-/, "");
      inputs.conditions = [
        { pathPattern: { values: [`/${service}`, `/${service}/*`] } },
        { httpHeader: { httpHeaderName: "X-Origin-Verify", values: ["[secret]"] } },
      ];
    }
  }
  return plan;
}

/** A deep copy of a stack's plan with `mutate` applied to the first resource `pick` selects. */
function mutated(
  stack: string,
  pick: (r: PlannedResource) => boolean,
  mutate: (inputs: Record<string, any>, r: PlannedResource) => void,
): PlannedStack {
  const plan = asChecked(JSON.parse(JSON.stringify(plans.get(stack)!)) as PlannedStack);
  const target = plan.resources.find(pick);
  if (!target) throw new Error(`no resource to mutate in ${stack}`);
  mutate(target.inputs as Record<string, any>, target);
  return plan;
}
const ofType = (type: string) => (r: PlannedResource) => r.type === type;

describe("every committed stack's plan passes the provider-rule checks", () => {
  it("finds dev, staging, prod and local", () =>
    expect(STACKS).toEqual(expect.arrayContaining(["dev", "staging", "prod", "local"])));

  it.each(["dev", "staging", "prod"])("%s: name limits, version pins, runtime IAM, IMDS, CDN routes", (stack) => {
    const checks = providerRuleChecks(asChecked(JSON.parse(JSON.stringify(plans.get(stack)!))));
    expect(checks.map((c) => c.name)).toEqual([
      "aws-name-limits",
      "engine-version-pins",
      "runtime-iam-permissions",
      "imds-hop-limit-and-in-pod-clients",
      "cdn-behaviours-routed",
    ]);
    for (const c of checks) expect(c).toMatchObject({ ok: true });
    // The offline plan itself carries them (so `npm run plan` fails on them too).
    expect(plans.get(stack)!.checks.map((c) => c.name)).toEqual(expect.arrayContaining(checks.map((c) => c.name)));
  });

  it("the Docker-only local stack has no AWS resources to check", () =>
    expect(providerRuleChecks(plans.get("local")!)).toEqual([]));

  it("has no mandatory policy violation, judged on the unredacted inputs (the origin secret header is [secret] in the file)", () => {
    for (const stack of STACKS) {
      const plan = plans.get(stack)!;
      expect(plan.violations).toBeDefined();
      expect([stack, plan.violations!.filter((v) => v.enforcementLevel === "mandatory")]).toEqual([stack, []]);
      const distribution = plan.resources.find((r) => r.type === "aws:cloudfront/distribution:Distribution");
      // Only the secret field is redacted (field-level redaction, tools/mocks.ts wire inputs): the origin's protocol stays reviewable.
      if (distribution)
        expect((distribution.inputs as Record<string, any>).origins[0]).toMatchObject({
          customHeaders: [{ name: "X-Origin-Verify", value: "[secret]" }],
          customOriginConfig: { originProtocolPolicy: "https-only" },
        });
    }
  });

  it("no two stacks share a physical name in one account and region", () => {
    const check = checkNameCollisions([...plans.values()]);
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain(
      "dev, staging, prod, local".split(", ").sort().join(", ") === "" ? "" : "no explicit physical name",
    );
  });
});

describe("mutations: each check catches the defect it exists for", () => {
  it("#1: a target group left to pulumi-aws's auto-name overflows 32 characters (uaip-alb-agent-intelligence + 8)", () => {
    const plan = mutated(
      "dev",
      (r) => r.type === "aws:lb/targetGroup:TargetGroup" && r.name === "uaip-alb-agent-intelligence",
      (i) => delete i.name,
    );
    const check = checkNameLimits(plan);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(
      'aws:lb/targetGroup:TargetGroup "uaip-alb-agent-intelligence" name "uaip-alb-agent-intelligence-xxxxxxx": pulumi-aws names it',
    );
    expect(check.detail).toContain("(35 > 32");
  });

  it("an explicit name over AWS's limit, a name AWS's characters refuse, and an unclassified AWS type", () => {
    const long = checkNameLimits(
      mutated("prod", ofType("aws:lb/loadBalancer:LoadBalancer"), (i) => (i.name = "uaip-a-stack-name-far-too-long-for-elb")),
    );
    expect(long.detail).toMatch(/"uaip-a-stack-name-far-too-long-for-elb": 38 > AWS's limit 32; shorten it by 6/);
    const chars = checkNameLimits(
      mutated("prod", ofType("aws:rds/parameterGroup:ParameterGroup"), (i) => (i.name = "uaip--db_postgres16")),
    );
    expect(chars.detail).toContain("breaks AWS's naming rule");
    const unknown = checkNameLimits(mutated("dev", ofType("aws:ec2/vpc:Vpc"), (_i, r) => (r.type = "aws:sqs/queue:Queue")));
    expect(unknown.detail).toContain("aws:sqs/queue:Queue has no entry in components/aws/provider-rules/aws-name-rules.ts");
  });

  it("#2: unscoped physical names (the old uaip-redis-redis7, uaip-db-final, /uaip/uaip-redis/...) collide across stacks", () => {
    const unscope = (stack: string) =>
      mutated(stack, ofType("aws:elasticache/parameterGroup:ParameterGroup"), (i) => (i.name = "uaip-redis-redis7"));
    const check = checkNameCollisions([unscope("staging"), unscope("prod")]);
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(
      'aws:elasticache/parameterGroup:ParameterGroup name "uaip-redis-redis7" is created by staging:uaip-redis-params and prod:uaip-redis-params',
    );
    const logGroups = (stack: string) =>
      mutated(
        stack,
        (r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && String((r.inputs as any).name).includes("redis"),
        (i) => (i.name = "/uaip/uaip-redis/redis-slow-log"),
      );
    expect(checkNameCollisions([logGroups("prod"), logGroups("prod")]).ok).toBe(false);
  });

  it("#3: an exact minor RDS pin (16.4) and a Redis patch pin (7.1.0) drift under automatic minor upgrades", () => {
    const rds = checkVersionPins(mutated("dev", ofType("aws:rds/instance:Instance"), (i) => (i.engineVersion = "16.4")));
    expect(rds.ok).toBe(false);
    expect(rds.detail).toContain('engineVersion "16.4" pins below what automatic minor upgrades move; pin "16"');
    const redis = checkVersionPins(
      mutated("dev", ofType("aws:elasticache/replicationGroup:ReplicationGroup"), (i) => (i.engineVersion = "7.1.0")),
    );
    expect(redis.detail).toContain('"7.1.0"');
    // Pins are only a problem where AWS upgrades on its own.
    expect(
      checkVersionPins(
        mutated("dev", ofType("aws:rds/instance:Instance"), (i) =>
          Object.assign(i, { engineVersion: "16.4", autoMinorVersionUpgrade: false }),
        ),
      ).ok,
    ).toBe(true);
  });

  const sa = (name: string) => (r: PlannedResource) =>
    r.type === "kubernetes:core/v1:ServiceAccount" && (r.inputs as any).metadata.name === name;
  const purgePolicy = (r: PlannedResource) =>
    r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith("agent-intelligence-iam-cdn-purge");

  it("#6: a service that purges the CDN without an IRSA role is caught", () => {
    const check = checkRuntimePermissions(mutated("dev", sa("agent-intelligence"), (i) => delete i.metadata.annotations));
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(
      "service agent-intelligence calls cloudfront:CreateInvalidation but its ServiceAccount has no eks.amazonaws.com/role-arn annotation",
    );
  });

  it.each([
    [
      "the action missing",
      (i: any) =>
        (i.policy = JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["cloudfront:GetInvalidation"], Resource: JSON.parse(i.policy).Statement[0].Resource },
          ],
        })),
      "does not allow exactly that action",
    ],
    [
      "every distribution",
      (i: any) =>
        (i.policy = JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "cloudfront:CreateInvalidation", Resource: "*" }],
        })),
      "does not allow exactly that action on that resource's ARN",
    ],
    [
      "an action the runtime never calls",
      (i: any) => {
        const d = JSON.parse(i.policy);
        d.Statement.push({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" });
        i.policy = JSON.stringify(d);
      },
      "also allows s3:GetObject, which the runtime never calls",
    ],
  ])("the service role's policy with %s is caught", (_what, mutate, message) => {
    const check = checkRuntimePermissions(mutated("prod", purgePolicy, mutate));
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(message);
  });

  it("a role trusting another ServiceAccount, or a ConfigMap without AWS_REGION, is caught", () => {
    const trust = checkRuntimePermissions(
      mutated(
        "dev",
        (r) => r.type === "aws:iam/role:Role" && r.name.endsWith("agent-intelligence-iam-role"),
        (i) => (i.assumeRolePolicy = String(i.assumeRolePolicy).replace("uaip:agent-intelligence", "uaip:capability-registry")),
      ),
    );
    expect(trust.detail).toContain("does not trust exactly system:serviceaccount:uaip:agent-intelligence");
    const region = checkRuntimePermissions(
      mutated(
        "dev",
        (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name.endsWith("agent-intelligence-runtime"),
        (i) => delete i.data.AWS_REGION,
      ),
    );
    expect(region.detail).toContain("sets no AWS_REGION");
  });

  it("the runtime's AWS calls found in its source are exactly the ones the permission check maps", () => {
    const files: string[] = [];
    const walk = (dir: string) =>
      readdirSync(dir).forEach((f) =>
        statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith(".ts") && files.push(join(dir, f)),
      );
    walk(join(ROOT, "runtime", "src"));
    const found = files.flatMap((f) => awsCallsInSource(readFileSync(f, "utf8")));
    expect(found).toEqual(RUNTIME_AWS_CALLS.map(({ client, command }) => ({ client, command })));
    // And the scan itself sees a new call.
    expect(awsCallsInSource('import { S3Client } from "@aws-sdk/client-s3"; new GetObjectCommand({});')).toEqual([
      { client: "s3", command: "GetObject" },
    ]);
  });

  it("#14: IMDS hop limit 2, and an in-pod client without its region or role, are caught", () => {
    const hop = checkInPodAwsClients(
      mutated("dev", ofType("aws:ec2/launchTemplate:LaunchTemplate"), (i) => (i.metadataOptions.httpPutResponseHopLimit = 2)),
    );
    expect(hop.ok).toBe(false);
    expect(hop.detail).toContain("sets IMDS hop limit 2: pods could take the node role's credentials");
    const lbc = checkInPodAwsClients(
      mutated(
        "dev",
        (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.inputs as any).chart === "aws-load-balancer-controller",
        (i) => delete i.values.vpcId,
      ),
    );
    expect(lbc.detail).toContain(
      "aws-load-balancer-controller (values region/vpcId = --aws-region/--aws-vpc-id, serviceAccount role) has no explicit region",
    );
    // The plan has other add-ons too (vpc-cni, metrics-server): mutate the EBS CSI driver's.
    const ebs = checkInPodAwsClients(
      mutated(
        "dev",
        (r) => r.type === "aws:eks/addon:Addon" && (r.inputs as any).addonName === "aws-ebs-csi-driver",
        (i) => delete i.configurationValues,
      ),
    );
    expect(ebs.detail).toContain("aws-ebs-csi-driver add-on");
    const ca = checkInPodAwsClients(
      mutated(
        "prod",
        (r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.inputs as any).chart === "cluster-autoscaler",
        (i) => delete i.values.rbac.serviceAccount.annotations,
      ),
    );
    expect(ca.detail).toContain("cluster-autoscaler (values awsRegion, rbac.serviceAccount role) has no IRSA role");
  });

  it("#11: a CloudFront behaviour no ALB listener rule matches (/static/*) is caught", () => {
    const check = checkCdnRoutes(
      mutated("dev", ofType("aws:cloudfront/distribution:Distribution"), (i) =>
        i.orderedCacheBehaviors.unshift({ ...i.orderedCacheBehaviors[0], pathPattern: "/static/*" }),
      ),
    );
    expect(check.ok).toBe(false);
    expect(check.detail).toContain("CloudFront behaviour(s) /static/* match no ALB listener rule");
  });
});

describe("what the plans show", () => {
  const inputs = (stack: string, type: string) =>
    plans
      .get(stack)!
      .resources.filter((r) => r.type === type)
      .map((r) => r.inputs as Record<string, any>);

  it("target groups and the ALB have explicit names within 32 characters, different per stack", () => {
    const names = (stack: string) => inputs(stack, "aws:lb/targetGroup:TargetGroup").map((i) => i.name as string);
    for (const stack of ["dev", "staging", "prod"]) for (const n of names(stack)) expect(n.length).toBeLessThanOrEqual(32);
    expect(names("dev")).not.toEqual(names("staging"));
    expect(inputs("staging", "aws:lb/loadBalancer:LoadBalancer")[0]!.name).toBe("uaip-staging");
  });

  it("physical names carry the stack: parameter groups, final snapshot, log groups, cluster", () => {
    const named = (stack: string) =>
      physicalNames(plans.get(stack)!.resources)
        .filter((n) => !n.autoNamed)
        .map((n) => n.value);
    expect(named("staging")).toEqual(
      expect.arrayContaining([
        "uaip-staging-redis-redis7",
        "uaip-staging-db-postgres16",
        "uaip-staging",
        "/aws/eks/uaip-staging/cluster",
      ]),
    );
    expect(named("prod")).toEqual(
      expect.arrayContaining([
        "/uaip/uaip-prod-redis/redis-slow-log",
        "/uaip/uaip-prod-network/vpc-flow-logs",
        expect.stringMatching(/^uaip-prod-db-final-[0-9a-f]{8}$/),
      ]),
    );
  });

  it("RDS pins the major only; Redis major.minor", () => {
    expect(inputs("prod", "aws:rds/instance:Instance")[0]).toMatchObject({ engineVersion: "16", autoMinorVersionUpgrade: true });
    expect(inputs("prod", "aws:elasticache/replicationGroup:ReplicationGroup")[0]).toMatchObject({ engineVersion: "7.1" });
  });

  it("#13: with the CDN on, only CloudFront's origin-facing prefix list reaches the ALB, on the one port it uses (443: every AWS stack has a certificate)", () => {
    const albIngress = (stack: string) =>
      plans
        .get(stack)!
        .resources.filter(
          (r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && r.name.includes("-alb-in-"),
        );
    for (const [stack, port] of [
      ["dev", 443],
      ["staging", 443],
      ["prod", 443],
    ] as const) {
      expect(albIngress(stack).map((r) => r.inputs)).toEqual([
        expect.objectContaining({ prefixListId: "pl-3b927c52", fromPort: port, toPort: port }),
      ]);
      expect(JSON.stringify(albIngress(stack))).not.toContain("0.0.0.0/0");
    }
  });

  it("#13: the origin secret never shows: listener rule conditions and CloudFront origins carry it, and only that field prints as [secret]", () => {
    for (const stack of ["dev", "prod"]) {
      for (const rule of inputs(stack, "aws:lb/listenerRule:ListenerRule")) {
        expect(rule.conditions).toContainEqual({ httpHeader: { httpHeaderName: "X-Origin-Verify", values: ["[secret]"] } });
        expect(rule.conditions).toContainEqual({ pathPattern: { values: expect.any(Array) } });
      }
      expect(inputs(stack, "aws:cloudfront/distribution:Distribution")[0]!.origins[0].customHeaders).toEqual([
        { name: "X-Origin-Verify", value: "[secret]" },
      ]);
      expect(JSON.stringify(plans.get(stack))).not.toContain("mock-uaip-origin-verify");
    }
  });

  it("#16: subnets avoid Local Zones and the zone ids EKS refuses", () => {
    const zones = (stack: string) => [...new Set(inputs(stack, "aws:ec2/subnet:Subnet").map((s) => s.availabilityZone))].sort();
    expect(zones("prod")).toEqual(["us-east-1a", "us-east-1b", "us-east-1d"]);
  });

  it("#17: prod's log groups use the customer-managed key and prod Redis keeps snapshots; dev does neither", () => {
    for (const g of inputs("prod", "aws:cloudwatch/logGroup:LogGroup")) expect(g.kmsKeyId).toMatch(/^arn:aws:kms:/);
    for (const g of inputs("dev", "aws:cloudwatch/logGroup:LogGroup")) expect(g.kmsKeyId).toBeUndefined();
    expect(inputs("prod", "aws:elasticache/replicationGroup:ReplicationGroup")[0]!.snapshotRetentionLimit).toBe(7);
    expect(inputs("dev", "aws:elasticache/replicationGroup:ReplicationGroup")[0]!.snapshotRetentionLimit).toBe(0);
  });

  it("#14/#23: the EBS CSI add-on gets its region as controller.env AWS_REGION, pinned and within its own EKS schema", () => {
    const [addon] = inputs("prod", "aws:eks/addon:Addon").filter((a) => a.addonName === "aws-ebs-csi-driver");
    // The chart's controller.region is in no add-on schema: EKS would refuse it at `pulumi up`.
    expect(JSON.parse(addon!.configurationValues)).toEqual({ controller: { env: [{ name: "AWS_REGION", value: "us-east-1" }] } });
    expect(addon!.addonVersion).toBe(EBS_CSI_ADDON_VERSION);
    const check = plans.get("prod")!.checks.find((c) => c.name === "eks-addon-configuration")!;
    expect(check.ok).toBe(true);
    expect(check.detail).toContain(`aws-ebs-csi-driver (${EBS_CSI_ADDON_VERSION} schema, the pinned version)`);
  });

  it("#17: Retain only where deliberate: prod keeps Prometheus' disks and the access-log bucket; dev leaves nothing behind", () => {
    expect(inputs("prod", "kubernetes:storage.k8s.io/v1:StorageClass")[0]!.reclaimPolicy).toBe("Retain");
    expect(inputs("dev", "kubernetes:storage.k8s.io/v1:StorageClass")[0]!.reclaimPolicy).toBe("Delete");
    expect(inputs("prod", "aws:s3/bucket:Bucket")[0]!.forceDestroy).toBe(false);
  });
});

describe("plans of deliberately bad stack files", () => {
  it.each(["dev", "prod"])("#13: an AWS stack (%s) without a certificate fails, naming the key", async (environment) => {
    const run = await runPlan([
      "--stack",
      environment,
      "--stack-file",
      stackFile(`config:\n  uaip:environment: ${environment}\n`),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `loadBalancer.certificateArn: every AWS stack (here ${environment}) needs HTTPS on the ALB and from CloudFront to it, got nothing`,
    );
  });

  it("#4: admin roles get EKS access entries with the cluster-admin policy", async () => {
    const role = "arn:aws:iam::123456789012:role/platform-admin";
    const run = await runPlan([
      "--stack",
      "dev",
      "--stack-file",
      stackFile(`config:\n  uaip:environment: dev\n  uaip:cluster:\n    adminRoleArns: ["${role}"]\n${ORIGIN_TLS_YAML}`),
    ]);
    expect(run.code).toBe(0);
    const of = (type: string) => run.json!.resources.filter((r) => r.type === type).map((r) => r.inputs as Record<string, any>);
    expect(of("aws:eks/accessEntry:AccessEntry")).toEqual([
      expect.objectContaining({ principalArn: role, type: "STANDARD", clusterName: "uaip-dev" }),
    ]);
    expect(of("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")).toEqual([
      expect.objectContaining({
        principalArn: role,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      }),
    ]);
  });

  it("a stack name too long for the ALB's 32 characters fails naming the stack and the limit", async () => {
    const run = await runPlan([
      "--stack",
      "a-very-long-stack-name-for-alb",
      "--stack-file",
      stackFile(`config:\n  uaip:environment: dev\n${ORIGIN_TLS_YAML}`),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'stack: the load balancer is named after the stack ("uaip-a-very-long-stack-name-for-alb", 35 characters) and AWS allows 32; use a stack name of at most 27 characters',
    );
  });

  // The URL's scheme is checked where the CLI decrypts it (config.ts, webhookUrlIssue, unit-tested in
  // test/profile/provider-rules.test.ts); in a stack file it may only arrive encrypted.
  it("an alert webhook written in plain text fails with the --secret line, without printing it", async () => {
    const run = await runPlan([
      "--stack",
      "dev",
      "--stack-file",
      stackFile("config:\n  uaip:environment: dev\n  uaip:alertWebhookUrl: http://hooks.internal/secret-token\n"),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      "uaip:alertWebhookUrl: a secret written in plain text (it would be stored and shown as is); remove the line and run: pulumi config set --secret uaip:alertWebhookUrl <value> -s dev",
    );
    expect(run.stderr + run.stdout).not.toContain("secret-token");
  });
});
