import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/plan";

/** `npm run policy -- plan.json` as a user runs it. */
function policy(...files: string[]) {
  const run = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "tools", "policy.ts"), ...files], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "uaip-policy-"));
function planFile(name: string, resources: { type: string; name: string; inputs: Record<string, unknown> }[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      stack: "t",
      resources: resources.map((r) => ({ ...r, urn: `urn:pulumi:t::uaip::${r.type}::${r.name}`, parent: "" })),
      outputs: {},
      checks: [],
    }),
  );
  return file;
}
const tags = { project: "uaip", environment: "dev", "managed-by": "pulumi", team: "platform" };

describe("npm run policy", () => {
  it("names each violation (level, rule, resource) and exits 1 on a mandatory one", () => {
    const file = planFile("bad.json", [
      {
        type: "aws:ec2/launchTemplate:LaunchTemplate",
        name: "nodes",
        inputs: { tags, metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } },
      },
    ]);
    const run = policy(file);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "[mandatory] imdsv2-hop-limit-1 (aws:ec2/launchTemplate:LaunchTemplate nodes): metadataOptions.httpPutResponseHopLimit is 2",
    );
    expect(run.stderr).toContain("Policy failed: 1 mandatory violation(s).");
  });

  it("prints advisory findings but exits 0 when none is mandatory", () => {
    const file = planFile("advisory.json", [{ type: "aws:cloudwatch/logGroup:LogGroup", name: "logs", inputs: { tags } }]);
    const run = policy(file);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("[advisory] log-group-kms (aws:cloudwatch/logGroup:LogGroup logs)");
  });

  it("uses the verdict npm run plan recorded over the unredacted inputs: a secret property hides what a rule reads", () => {
    const file = join(dir, "recorded.json");
    const distribution = {
      type: "aws:cloudfront/distribution:Distribution",
      name: "cdn",
      urn: "urn:pulumi:t::uaip::aws:cloudfront/distribution:Distribution::cdn",
      parent: "",
    };
    const violation = {
      rule: "cloudfront-tls",
      enforcementLevel: "mandatory",
      urn: distribution.urn,
      resource: "aws:cloudfront/distribution:Distribution cdn",
      message: "origin alb uses originProtocolPolicy http-only; set https-only (and an HTTPS listener on the origin)",
    };
    writeFileSync(
      file,
      JSON.stringify({
        stack: "t",
        resources: [{ ...distribution, inputs: { tags, origins: "[secret]" } }],
        outputs: {},
        checks: [],
        violations: [violation],
      }),
    );
    const run = policy(file);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "[mandatory] cloudfront-tls (aws:cloudfront/distribution:Distribution cdn): origin alb uses originProtocolPolicy http-only",
    );
  });

  it("evaluates the resources of a tampered plan (encryption off, SSH open to the world, violations: [])", () => {
    const file = join(dir, "tampered.json");
    const urn = (type: string, name: string) => `urn:pulumi:t::uaip::${type}::${name}`;
    const db = { type: "aws:rds/instance:Instance", name: "db" };
    const sg = { type: "aws:ec2/securityGroup:SecurityGroup", name: "nodes" };
    writeFileSync(
      file,
      JSON.stringify({
        stack: "t",
        resources: [
          { ...db, urn: urn(db.type, db.name), parent: "", inputs: { tags, storageEncrypted: false } },
          {
            ...sg,
            urn: urn(sg.type, sg.name),
            parent: "",
            inputs: { tags, ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] },
          },
        ],
        outputs: {},
        checks: [],
        violations: [],
      }),
    );
    const run = policy(file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /\[mandatory\] rds-storage-encrypted \(aws:rds\/instance:Instance db\): storageEncrypted is false/,
    );
    expect(run.stdout).toMatch(/\[mandatory\] [-a-z]+ \(aws:ec2\/securityGroup:SecurityGroup nodes\): .*0\.0\.0\.0\/0/);
    expect(run.stderr).toMatch(/recorded "violations" omit [1-9]\d* violation\(s\) its resources show/);
    // The same file without the record fails on the same violations: the record only ever adds.
    const untampered = join(dir, "untampered.json");
    const { violations: _ignored, ...rest } = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(untampered, JSON.stringify(rest));
    const plain = policy(untampered);
    expect(plain.code).toBe(1);
    expect(plain.stdout.split("\n").slice(1)).toEqual(run.stdout.split("\n").slice(1));
  });

  it("refuses input that is not a plan, naming the file and the fix", () => {
    const notPlan = join(dir, "not-plan.json");
    writeFileSync(notPlan, JSON.stringify({ hello: 1 }));
    expect(policy(notPlan)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${notPlan}: not a plan: expected { stack, resources: [...] }`),
    });
    expect(policy(join(dir, "missing.json"))).toMatchObject({ code: 2, stderr: expect.stringContaining("cannot read") });
    expect(policy()).toMatchObject({ code: 2, stderr: expect.stringContaining("usage: npm run policy -- <plan.json>") });
  });
});
