import fc from "fast-check";
import { ciDeployIssues, exampleCiIssues } from "../../profile/ci-deploys";
import { parseConfig } from "../../profile/parse";
import { ORIGIN_TLS_YAML, runPlan, stackFile } from "../helpers/plan";

const ROLE = "arn:aws:iam::123456789012:role/uaip-ci";
const CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-0000-4000-8000-000000000000";
const profile = (deploys: Record<string, unknown>, adminRoleArns: string[] = []) =>
  parseConfig({
    environment: "dev",
    cluster: { adminRoleArns },
    ci: { deploys: { enabled: true, githubRepo: "my-org/uaip", roleArn: ROLE, connectionArn: CONNECTION, ...deploys } },
  });

describe("CI deploys (profile rule)", () => {
  it("a CI-enabled stack must list its CI role among the cluster admins, whatever else is listed", () => {
    const other = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).map((n) => `arn:aws:iam::123456789012:role/${n}`);
    fc.assert(
      fc.property(fc.uniqueArray(other, { maxLength: 4 }), fc.boolean(), (admins, listed) => {
        const list = listed ? [...admins.filter((a) => a !== ROLE), ROLE] : admins.filter((a) => a !== ROLE);
        const issues = ciDeployIssues(profile({}, list));
        expect(issues.length).toBe(listed ? 0 : 1);
        if (!listed)
          expect(issues[0]).toEqual({
            path: "cluster.adminRoleArns",
            message: expect.stringContaining(`pulumi config set --path 'uaip:cluster.adminRoleArns[${list.length}]' ${ROLE}`),
          });
      }),
    );
  });

  it("names every empty key of an enabled stack at once; a disabled stack needs none", () => {
    const issues = ciDeployIssues(profile({ githubRepo: "", roleArn: "", connectionArn: "" }));
    expect(issues.map((i) => i.path)).toEqual(["ci.deploys.githubRepo", "ci.deploys.roleArn", "ci.deploys.connectionArn"]);
    expect(ciDeployIssues(profile({ enabled: false, githubRepo: "", roleArn: "", connectionArn: "" }))).toEqual([]);
  });

  it("refuses malformed values by name, and the stack files' examples at a real preview", () => {
    expect(() => profile({ roleArn: "arn:aws:iam::123:role/x" }, [])).toThrow(/ci\.deploys\.roleArn/);
    expect(() => profile({ githubRepo: "-bad/repo" })).toThrow(/ci\.deploys\.githubRepo/);
    expect(() => profile({ connectionArn: "arn:aws:s3:::bucket" })).toThrow(/ci\.deploys\.connectionArn/);
    const example = profile({ githubRepo: "example/uaip", roleArn: "arn:aws:iam::111122223333:role/uaip-ci-dev" }, [
      "arn:aws:iam::111122223333:role/uaip-ci-dev",
    ]);
    expect(exampleCiIssues(example).map((i) => i.path)).toEqual(["ci.deploys.roleArn", "ci.deploys.githubRepo"]);
    expect(exampleCiIssues(profile({}, [ROLE]))).toEqual([]);
  });

  it("the plan fails a CI-enabled stack without its CI role among the admins, with the fix", async () => {
    const yaml = `config:\n  uaip:environment: dev\n  uaip:tags: { team: platform }\n${ORIGIN_TLS_YAML}  uaip:ci:\n    deploys: { enabled: true, githubRepo: my-org/uaip, roleArn: "${ROLE}", connectionArn: "${CONNECTION}" }\n`;
    const run = await runPlan(["--stack", "test", "--stack-file", stackFile(yaml)]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`cluster.adminRoleArns: does not list the CI role "${ROLE}"`);
    expect(run.stderr).toContain(`pulumi config set --path 'uaip:cluster.adminRoleArns[0]' ${ROLE}`);
    const fixed = await runPlan([
      "--stack",
      "test",
      "--stack-file",
      stackFile(`${yaml}  uaip:cluster:\n    adminRoleArns: ["${ROLE}"]\n`),
    ]);
    expect(fixed.code).toBe(0);
    expect(fixed.json!.outputs.ciRunnerProject).toBe("uaip-test-deploy");
  }, 60_000);
});
