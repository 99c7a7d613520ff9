import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, readFileSync } from "node:fs";
import type { PlanDiff, PlanLike } from "../../tools/diff/diff";
import {
  diffFailedPlan,
  diffPlans,
  diffValues,
  failedChecksIn,
  MASK,
  nameSubstitution,
  pairRenames,
} from "../../tools/diff/diff";
import { flatten } from "../../tools/diff/flatten";
import { COMMENT_LIMIT, COMMENT_MARKER, renderComment, renderMarkdown } from "../../tools/diff/markdown";
import { replacingKey } from "../../tools/diff/replace-on-change";
import { ORIGIN_TLS_YAML, runPlan, stackFile } from "../helpers/plan";

const plan = (
  resources: PlanLike["resources"],
  checks: PlanLike["checks"] = [],
  outputs: Record<string, unknown> = {},
): PlanLike => ({ stack: "t", resources, outputs, checks });
const res = (type: string, name: string, inputs: unknown) => ({
  urn: `urn:pulumi:t::uaip::${type}::${name}`,
  type,
  name,
  inputs,
});

/** The markdown as GitHub shows its text: character references decoded, zero-width spaces gone (escape.ts). */
const shown = (md: string) => md.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/\u200b/g, "");

describe("flatten", () => {
  it("keys arrays of named objects by name, so an inserted parameter is one added key", () => {
    const before = flatten({ parameters: [{ name: "max_connections", value: "55" }] });
    const after = flatten({
      parameters: [
        { name: "rds.force_ssl", value: "1" },
        { name: "max_connections", value: "55" },
      ],
    });
    expect(before.get("parameters[max_connections].value")).toBe("55");
    expect(after.get("parameters[max_connections].value")).toBe("55");
    expect(after.get("parameters[rds.force_ssl].value")).toBe("1");
  });

  it("quotes keys that are not identifiers and descends into JSON strings", () => {
    const flat = flatten({
      metadata: { labels: { "app.kubernetes.io/name": "a" } },
      policy: JSON.stringify({ Statement: [{ Effect: "Allow" }] }),
    });
    expect(flat.get('metadata.labels["app.kubernetes.io/name"]')).toBe("a");
    expect(flat.get("policy(json).Statement[0].Effect")).toBe("Allow");
  });
});

describe("diffValues", () => {
  it("masks secrets by key name and by the plan's marker, but still reports that they changed", () => {
    const changes = diffValues(
      { password: "old-pw", authToken: MASK, port: 1 },
      { password: "new-pw", authToken: MASK, port: 2 },
      "aws:rds/instance:Instance",
    );
    expect(changes).toEqual([
      { path: "password", before: MASK, after: MASK, masked: true },
      { path: "port", before: 1, after: 2, masked: false },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/old-pw|new-pw/);
  });

  it("masks every value of a Kubernetes Secret, but not the httpTokens IMDS setting", () => {
    const [secret] = diffValues(
      { stringData: { UAIP_DB_URL: "postgres://a" } },
      { stringData: { UAIP_DB_URL: "postgres://b" } },
      "kubernetes:core/v1:Secret",
    );
    expect(secret).toMatchObject({ masked: true, before: MASK, after: MASK });
    const [imds] = diffValues(
      { metadataOptions: { httpTokens: "optional" } },
      { metadataOptions: { httpTokens: "required" } },
      "aws:ec2/launchTemplate:LaunchTemplate",
    );
    expect(imds).toMatchObject({ masked: false, before: "optional", after: "required" });
  });
});

describe("replace-on-change table", () => {
  it.each([
    ["aws:rds/instance:Instance", "engine", "engine"],
    ["aws:rds/instance:Instance", "storageEncrypted", "storageEncrypted"],
    ["aws:rds/instance:Instance", "instanceClass", undefined],
    ["aws:rds/instance:Instance", "dbSubnetGroupName", undefined],
    ["aws:rds/subnetGroup:SubnetGroup", "name", "name"],
    ["aws:elasticache/replicationGroup:ReplicationGroup", "subnetGroupName", "subnetGroupName"],
    ["aws:elasticache/replicationGroup:ReplicationGroup", "atRestEncryptionEnabled", "atRestEncryptionEnabled"],
    ["aws:elasticache/replicationGroup:ReplicationGroup", "nodeType", undefined],
    ["aws:alb/targetGroup:TargetGroup", "port", "port"],
    ["kubernetes:apps/v1:Deployment", "spec.selector.matchLabels.app", "spec.selector"],
    ["kubernetes:core/v1:ConfigMap", "metadata.name", "metadata.name"],
    ["kubernetes:core/v1:ConfigMap", "data.UAIP_POOL_MAX", undefined],
  ])("%s %s -> %s", (type, path, expected) => {
    expect(replacingKey(type, path)).toBe(expected);
  });
});

describe("diffPlans", () => {
  it("an in-place change of a replace-on-change input is a replacement, naming the input", () => {
    const base = plan([res("aws:rds/instance:Instance", "db", { engine: "postgres", instanceClass: "db.t4g.micro" })]);
    const head = plan([res("aws:rds/instance:Instance", "db", { engine: "mysql", instanceClass: "db.t4g.small" })]);
    const diff = diffPlans(base, head);
    expect(diff.replaced).toHaveLength(1);
    expect(diff.replaced[0].replaceReasons).toEqual(["engine"]);
    expect(diff.updated).toEqual([]);
    expect(shown(renderMarkdown(diff))).toContain(
      "<code>db</code> | aws:rds/instance:Instance | <code>engine</code> changes (replace-on-change)",
    );
  });

  it("pairs renamed resources by their shared name substitution, and leaves unrelated ones alone", () => {
    expect(nameSubstitution("svc-a-deployment", "svc-b-deployment")).toEqual(["a", "b"]);
    const removed = [
      res("k:apps/v1:Deployment", "svc-a-deployment", {}),
      res("k:core/v1:Service", "svc-a-service", {}),
      res("k:core/v1:Service", "svc-z-service", {}),
    ];
    const added = [
      res("k:apps/v1:Deployment", "svc-b-deployment", {}),
      res("k:core/v1:Service", "svc-b-service", {}),
      res("k:core/v1:Service", "other", {}),
    ];
    const pairs = pairRenames(removed, added).map(([r, a]) => `${r.name}->${a.name}`);
    expect(pairs.sort()).toEqual(["svc-a-deployment->svc-b-deployment", "svc-a-service->svc-b-service"]);
  });

  it("reports checks that changed state, and a failed check at head", () => {
    const base = plan(
      [],
      [
        { name: "budget", ok: true, detail: "45 <= 55" },
        { name: "gone", ok: true, detail: "x" },
      ],
    );
    const head = plan(
      [],
      [
        { name: "budget", ok: false, detail: "90 > 55" },
        { name: "new", ok: true, detail: "y" },
      ],
    );
    const diff = diffPlans(base, head);
    expect(diff.checks.map((c) => [c.name, c.kind])).toEqual([
      ["budget", "broken"],
      ["gone", "removed"],
      ["new", "added"],
    ]);
    expect(diff.failedChecks.map((c) => c.name)).toEqual(["budget"]);
  });

  it("a failed head plan still yields the broken checks, parsed from the plan's error", () => {
    const message = "cross-layer checks failed:\n  ✗ connection-budget: 185 exceeds max_connections 60\n";
    expect(failedChecksIn(message)).toEqual([{ name: "connection-budget", ok: false, detail: "185 exceeds max_connections 60" }]);
    const diff = diffFailedPlan(plan([], [{ name: "connection-budget", ok: true, detail: "45 <= 45" }]), "t", message);
    expect(diff.checks[0].kind).toBe("broken");
    expect(renderMarkdown(diff)).toContain("✗ the plan failed");
  });

  it("the PR comment carries the marker the workflow finds it by, and stays under GitHub's size limit", () => {
    const huge = "x".repeat(200);
    const resources = Array.from({ length: 800 }, (_, i) => res("aws:s3/bucket:Bucket", `b${i}`, { v: huge }));
    const diff = diffPlans(plan(resources), plan(resources.map((r) => ({ ...r, inputs: { v: `${huge}!` } }))));
    const comment = renderComment([diff]);
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(comment).toContain("truncated: the full diff is in the workflow run's `plan-diff` artifact");
  });
});

/** The offline plan end to end: a base plan of a small stack file, then changed copies of it. */
describe("npm run plan -- --diff", () => {
  const dir = mkdtempSync(join(tmpdir(), "uaip-diff-"));
  const baseFile = join(dir, "base.json");
  // Pools of at least 8 (the dev preset): the plan's Little's-law check against capacity/agent-intelligence.json
  // asks for pool.max >= 6 at its knee, so a pool of 5 fails the plan.
  const services = (first: string, pool: number) =>
    `config:\n  uaip:environment: dev\n  uaip:tags: { team: platform }\n  uaip:services:\n    - { name: ${first}, port: 3001, pool: { min: 1, max: ${pool} }, hpa: { min: 1, max: 4 } }\n    - { name: orchestration-pipeline, port: 3002 }\n${ORIGIN_TLS_YAML}`;

  async function diffAgainstBase(yaml: string): Promise<{ code: number; diff: PlanDiff; markdown: string }> {
    const out = mkdtempSync(join(dir, "run-"));
    const run = await runPlan([
      "--stack",
      "test",
      "--stack-file",
      stackFile(yaml),
      "--diff",
      baseFile,
      "--diff-md",
      join(out, "diff.md"),
      "--diff-json",
      join(out, "diff.json"),
    ]);
    return {
      code: run.code,
      diff: JSON.parse(readFileSync(join(out, "diff.json"), "utf8")),
      markdown: readFileSync(join(out, "diff.md"), "utf8"),
    };
  }

  beforeAll(async () => {
    const run = await runPlan(["--stack", "test", "--stack-file", stackFile(services("agent-intelligence", 8))]);
    expect(run.code).toBe(0);
    writeFileSync(baseFile, JSON.stringify(run.json));
  }, 60_000);

  it("an unchanged stack shows no changes", async () => {
    const { code, diff, markdown } = await diffAgainstBase(services("agent-intelligence", 8));
    expect(code).toBe(0);
    expect(diff.noChanges).toBe(true);
    expect(shown(markdown)).toMatch(/^### Stack <code>test<\/code>: no changes/);
  }, 60_000);

  it("a changed pool size shows the max_connections change, the ConfigMap and the budget check's new numbers", async () => {
    const { code, diff, markdown } = await diffAgainstBase(services("agent-intelligence", 12));
    expect(code).toBe(0);
    const params = diff.updated.find((r) => r.type === "aws:rds/parameterGroup:ParameterGroup")!;
    // pool.max 8 -> 12 at hpa.max 4, 5 pods during a rollout (4 + 25% rounded up): (12 - 8) x 5 = 20 more connections, whatever the reserved ones are.
    expect(params.changes).toEqual([
      { path: "parameters[max_connections].value", before: expect.any(String), after: expect.any(String), masked: false },
    ]);
    const [{ before, after }] = params.changes as { before: string; after: string }[];
    expect(Number(after) - Number(before)).toBe((12 - 8) * (4 + Math.ceil(4 / 4)));
    expect(diff.updated.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!.changes).toEqual([
      { path: "data.UAIP_POOL_MAX", before: "8", after: "12", masked: false },
    ]);
    expect(diff.replaced).toEqual([]);
    expect(diff.checks.find((c) => c.name === "connection-budget")!.kind).toBe("detail");
    expect(shown(markdown)).toContain(
      `| <code>parameters[max_connections].value</code> | <code>${before}</code> | <code>${after}</code> |`,
    );
  }, 60_000);

  it("a renamed service shows the replacements of everything named after it", async () => {
    const { code, diff, markdown } = await diffAgainstBase(services("agent-insights", 8));
    expect(code).toBe(0);
    const renamed = diff.renamed.map((r) => `${r.type} ${r.before.name} -> ${r.after.name}`);
    expect(renamed).toEqual(
      expect.arrayContaining([
        "kubernetes:apps/v1:Deployment uaip-services-agent-intelligence-deployment -> uaip-services-agent-insights-deployment",
        "kubernetes:core/v1:ConfigMap uaip-services-agent-intelligence-runtime -> uaip-services-agent-insights-runtime",
        "aws:lb/targetGroup:TargetGroup uaip-alb-agent-intelligence -> uaip-alb-agent-insights",
      ]),
    );
    // Nothing of the renamed service is left as a bare delete or create.
    expect([...diff.added, ...diff.removed].filter((r) => /agent-in/.test(r.name))).toEqual([]);
    expect(markdown).toMatch(/\*\*Replacements\*\*/);
    expect(shown(markdown)).toContain(
      "<code>uaip-services-agent-intelligence-deployment</code> → <code>uaip-services-agent-insights-deployment</code>",
    );
  }, 60_000);

  it("exits non-zero when a check fails at head, and the diff names the broken check", async () => {
    const yaml = services("agent-intelligence", 40) + "  uaip:database:\n    maxConnections: 60\n";
    const { code, diff, markdown } = await diffAgainstBase(yaml);
    expect(code).not.toBe(0);
    expect(diff.checks).toEqual([expect.objectContaining({ name: "connection-budget", kind: "broken" })]);
    expect(markdown).toContain("| ✗ broken | connection-budget |");
  }, 60_000);

  it("refuses --diff-md without --diff", async () => {
    const run = await runPlan(["--stack", "dev", "--diff-md", join(dir, "x.md")]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--diff-md/--diff-json need --diff <base.json>");
  });
});
