import { runPlan, stackFile } from "../helpers/plan";

/**
 * The offline plan, run as a user runs it, on stack files that mocks would accept and AWS would
 * not (issue #21's "AWS rules not yet encoded"): every bad key is listed at once, with its value
 * as written; nothing is planned.
 */
describe("offline plan: AWS's real rules", () => {
  it("lists every bad AWS value of one stack file at once, aws:region included", async () => {
    const file = stackFile(
      [
        "config:",
        "  aws:region: mars-north-1",
        "  uaip:environment: dev",
        "  uaip:network: { cidr: 127.0.0.0/16 }",
        '  uaip:cluster: { version: "1.0", instanceTypes: [t3.gigantic], adminRoleArns: [arn:aws:iam::123456789012:role/a, arn:aws:iam::123456789012:role/a] }',
        '  uaip:redis: { nodeType: cache.t9.bogus, engineVersion: "99.0" }',
        '  uaip:database: { engineVersion: "99", username: a_very_long_master_name, name: postgres }',
        "  uaip:loadBalancer:",
        "    certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d",
        "    domainName: 10.0.0.1",
        "",
      ].join("\n"),
    );
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).not.toBe(0);
    expect(run.json).toBeUndefined();
    const keys = [
      ["network.cidr", '"127.0.0.0/16" overlaps 127.0.0.0/8'],
      ["cluster.instanceTypes[0]", '"t3.gigantic" is not an EC2 instance type'],
      ["redis.nodeType", '"cache.t9.bogus" is not an ElastiCache node type'],
      ["cluster.version", '"1.0" is not a version AWS offers for EKS'],
      ["database.engineVersion", '"99" is not a version AWS offers for RDS for PostgreSQL'],
      ["redis.engineVersion", '"99.0" is not a Redis OSS version ElastiCache creates'],
      ["database.username", '"a_very_long_master_name" has 23 characters'],
      ["database.name", '"postgres" is a database every RDS for PostgreSQL instance already has'],
      [
        "loadBalancer.certificateArn",
        '"arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d" has certificate id "0a1b2c3d"; ACM ids are lowercase UUIDs',
      ],
      ["loadBalancer.domainName", '"10.0.0.1" is an IP address'],
      ["cluster.adminRoleArns[1]", '"arn:aws:iam::123456789012:role/a" is listed twice (also cluster.adminRoleArns[0])'],
      ["aws:region", '"mars-north-1" is not an AWS region'],
    ];
    for (const [key, text] of keys) expect(run.stderr).toContain(`${key}: ${text}`);
  }, 120_000);

  it("refuses environment local on AWS", async () => {
    const file = stackFile("config:\n  uaip:environment: local\n  uaip:platform: aws\n");
    const run = await runPlan(["--stack", "test", "--stack-file", file]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('platform: "aws" contradicts environment "local", whose preset is built for "docker"');
  }, 120_000);
});
