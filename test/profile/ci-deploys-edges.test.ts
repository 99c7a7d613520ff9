import fc from "fast-check";
import { ciDeployIssues, ciDeploysSchema, ciRunnerProjectName, ciRunsOn, exampleCiIssues } from "../../profile/ci-deploys";
import { EXAMPLE_ACCOUNT_ID } from "../../profile/provider-rules";
import type { Profile } from "../../profile/schema";
import { stackScope } from "../../profile/stack-names";

// Direct tests of the CI-deploy rules, without a plan (ci-deploys.test.ts runs the plan end to end).
const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"] as const;
const ACCOUNT = "123456789012";
const role = (account = ACCOUNT) => `arn:aws:iam::${account}:role/uaip-ci`;
const connection = (region: string, account = ACCOUNT) =>
  `arn:aws:codeconnections:${region}:${account}:connection/0a1b2c3d-0000-4000-8000-000000000000`;
const KEYS = ["githubRepo", "roleArn", "connectionArn"] as const;

/** Only what the rules read; every value as the schema would accept it. */
const profile = (deploys: Record<string, unknown>, adminRoleArns: string[] = [role()], platform = "aws") =>
  ({
    platform,
    cluster: { adminRoleArns },
    ci: {
      deploys: { enabled: true, githubRepo: "my-org/uaip", roleArn: role(), connectionArn: connection("us-east-1"), ...deploys },
    },
  }) as unknown as Profile;

describe("ciDeploysSchema: each key is its pattern or empty", () => {
  const valid = { enabled: true, githubRepo: "my-org/uaip", roleArn: role(), connectionArn: connection("eu-west-1") };
  it.each(KEYS)("%s: empty and well-formed accepted, anything else refused naming both ways", (key) => {
    expect(ciDeploysSchema.safeParse(valid).success).toBe(true);
    expect(ciDeploysSchema.safeParse({ ...valid, [key]: "" }).success).toBe(true);
    for (const bad of [" ", "x", `${valid[key]} `, `-${valid[key]}`]) {
      const r = ciDeploysSchema.safeParse({ ...valid, [key]: bad });
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => [i.path.join("."), /or an empty string$/.test(i.message)])).toEqual([[key, true]]);
    }
  });
});

describe("the runner's names", () => {
  it("the CodeBuild project is the stack scope plus -deploy; a job's label adds the run id and attempt", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), (project, stack) => {
        const name = ciRunnerProjectName(project, stack);
        expect(name).toBe(`${stackScope(project, stack)}-deploy`);
        expect(ciRunsOn(name)).toBe(`codebuild-${name}-\${{ github.run_id }}-\${{ github.run_attempt }}`);
      }),
      { numRuns: 20 },
    );
  });
});

describe("ciDeployIssues", () => {
  it("a disabled stack needs nothing, whatever its keys", () => {
    fc.assert(
      fc.property(fc.subarray([...KEYS]), fc.constantFrom("aws", "docker"), (empty, platform) => {
        const emptied = Object.fromEntries(empty.map((k) => [k, ""]));
        expect(ciDeployIssues(profile({ enabled: false, ...emptied }, [], platform), "eu-west-1")).toEqual([]);
      }),
    );
  });

  it("names every empty key of an enabled stack, in order, each with its pulumi command; the others pass", () => {
    fc.assert(
      fc.property(fc.subarray([...KEYS]), (empty) => {
        const issues = ciDeployIssues(profile(Object.fromEntries(empty.map((k) => [k, ""]))));
        expect(issues.map((i) => i.path)).toEqual(empty.map((k) => `ci.deploys.${k}`));
        for (const [i, key] of empty.entries())
          expect(issues[i]!.message).toMatch(
            new RegExp(`^is empty, and CI deploys are enabled; run: pulumi config set --path 'uaip:ci\\.deploys\\.${key}' <.+>$`),
          );
      }),
    );
  });

  it("the runner is for AWS stacks: an enabled Docker stack is refused on ci.deploys.enabled", () => {
    expect(ciDeployIssues(profile({}, [role()], "docker"))).toEqual([
      {
        path: "ci.deploys.enabled",
        message: expect.stringMatching(/^the in-VPC runner is for AWS stacks; set it false on a Docker stack$/),
      },
    ]);
    expect(ciDeployIssues(profile({}, [role()], "aws"))).toEqual([]);
  });

  it("the connection must be in the stack's Region: refused exactly when both are known and differ", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REGIONS),
        fc.option(fc.constantFrom(...REGIONS), { nil: undefined }),
        (connRegion, stackRegion) => {
          const issues = ciDeployIssues(profile({ connectionArn: connection(connRegion) }), stackRegion);
          const differs = stackRegion !== undefined && stackRegion !== connRegion;
          expect(issues.map((i) => i.path)).toEqual(differs ? ["ci.deploys.connectionArn"] : []);
          if (differs)
            expect(issues[0]!.message).toMatch(
              new RegExp(`^is in ${connRegion}, the stack in ${stackRegion};.* create one in ${stackRegion}`),
            );
        },
      ),
    );
    // An empty connection has no Region to compare: only its own issue.
    expect(ciDeployIssues(profile({ connectionArn: "" }), "eu-west-1").map((i) => i.path)).toEqual(["ci.deploys.connectionArn"]);
  });

  it("the CI role must be a cluster admin: the command appends it at the list's next index; no role, no such issue", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 4 }), fc.boolean(), (others, listed) => {
        const admins = others.map((n) => `arn:aws:iam::${ACCOUNT}:role/${n}`).filter((a) => a !== role());
        const list = listed ? [...admins, role()] : admins;
        const issues = ciDeployIssues(profile({}, list));
        expect(issues.map((i) => i.path)).toEqual(listed ? [] : ["cluster.adminRoleArns"]);
        if (!listed)
          expect(issues[0]!.message).toBe(
            `does not list the CI role "${role()}" (ci.deploys.roleArn): its preview and up could not reach a single Kubernetes resource; run: pulumi config set --path 'uaip:cluster.adminRoleArns[${list.length}]' ${role()}`,
          );
        expect(ciDeployIssues(profile({ roleArn: "" }, list)).map((i) => i.path)).toEqual(["ci.deploys.roleArn"]);
      }),
    );
  });
});

describe("exampleCiIssues", () => {
  it("refuses the documentation account in the role and the connection, and an example/ repository; nothing else", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (exampleRole, exampleConnection, exampleRepo, enabled) => {
          const p = profile({
            enabled,
            roleArn: role(exampleRole ? EXAMPLE_ACCOUNT_ID : ACCOUNT),
            connectionArn: connection("us-east-1", exampleConnection ? EXAMPLE_ACCOUNT_ID : ACCOUNT),
            githubRepo: exampleRepo ? "example/uaip" : "my-example/example",
          });
          const expected = [
            ...(exampleRole ? ["ci.deploys.roleArn"] : []),
            ...(exampleConnection ? ["ci.deploys.connectionArn"] : []),
            ...(exampleRepo ? ["ci.deploys.githubRepo"] : []),
          ];
          const issues = exampleCiIssues(p);
          expect(issues.map((i) => i.path)).toEqual(enabled ? expected : []);
          for (const issue of issues) {
            const key = issue.path.split(".")[2]!;
            const value = p.ci.deploys[key as "roleArn" | "connectionArn" | "githubRepo"];
            expect(issue.message.startsWith(`${JSON.stringify(value)} is the stack file's example`)).toBe(true);
            expect(issue.message).toContain(`pulumi config set --path 'uaip:ci.deploys.${key}' <`);
          }
        },
      ),
      { numRuns: 32 },
    );
  });

  it("the documentation account anywhere but the account field is not the example", () => {
    const p = profile({ roleArn: `arn:aws:iam::${ACCOUNT}:role/${EXAMPLE_ACCOUNT_ID}`, githubRepo: "examples/uaip" });
    expect(exampleCiIssues(p)).toEqual([]);
    expect(exampleCiIssues(profile({ roleArn: "", connectionArn: "", githubRepo: "" }))).toEqual([]);
  });
});
