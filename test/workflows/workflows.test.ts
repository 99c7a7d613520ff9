import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { ROOT } from "../helpers/plan";

/** Workflow files, validated against GitHub's workflow schema vendored from SchemaStore (vendor/README.md). */
const DIR = join(ROOT, ".github", "workflows");
const FILES = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const schema = JSON.parse(readFileSync(join(ROOT, "vendor", "github", "github-workflow.schema.json"), "utf8"));
const pins = JSON.parse(readFileSync(join(ROOT, "vendor", "github", "action-pins.json"), "utf8")) as Record<
  string,
  { tag: string; sha: string }
>;

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  needs?: string | string[];
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(DIR, file), "utf8");
const workflow = (file: string) => parse(text(file)) as Workflow;
const usesOf = (job: Job) => (job.steps ?? []).map((s) => s.uses?.split("@")[0]).filter((u): u is string => !!u);

describe("GitHub workflows", () => {
  it("exist: PR plan, its comment, cloud preview, deploy, mutation testing", () => {
    expect(FILES).toEqual(["deploy.yml", "mutation.yml", "pr-plan-comment.yml", "pr-plan.yml", "preview.yml"]);
  });

  it("mutation testing runs weekly or by hand (never on pull requests), every core folder, and keeps each report", () => {
    const mutation = workflow("mutation.yml");
    expect(Object.keys(mutation.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    const job = mutation.jobs.mutate as Job & { strategy: { matrix: { include: { name: string; path: string }[] } } };
    // The same folders as stryker.config.mjs's CORE.
    expect(job.strategy.matrix.include.map((m) => m.path).sort()).toEqual(
      [
        "dashboards/rules.ts",
        "load/runner",
        "policy/rules",
        "profile",
        "runtime/src/cache",
        "runtime/src/compression",
        "runtime/src/db",
        "runtime/src/ratelimit",
        "runtime/src/realtime",
        "runtime/src/resources",
      ].sort(),
    );
    const runs = job.steps!.map((s) => s.run ?? "");
    expect(runs).toContain('npm run mutate -- "$MUTATE_PATH"');
    const upload = job.steps!.find((s) => s.uses?.startsWith("actions/upload-artifact"))!;
    expect(upload.with).toMatchObject({ path: "reports/mutation" });
  });

  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  it.each(FILES)("%s validates against the vendored GitHub workflow schema", (file) => {
    const ok = validate(workflow(file));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the schema check catches a bad workflow (not a schema that accepts anything)", () => {
    expect(
      validate({ on: { pull_request: {} }, jobs: { a: { "runs-on": "ubuntu-24.04", steps: [{ uses: "x@y", run: "both" }] } } }),
    ).toBe(false);
    expect(
      validate({
        on: "push",
        jobs: { a: { "runs-on": "ubuntu-24.04", permissions: { contents: "admin" }, steps: [{ run: "true" }] } },
      }),
    ).toBe(false);
  });

  it.each(FILES)(
    "%s pins every action by a full commit SHA from vendor/github/action-pins.json, with its tag in a comment",
    (file) => {
      const lines = text(file)
        .split("\n")
        .filter((l) => /^\s*(-\s+)?uses:/.test(l));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const m = /uses:\s+([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)\s*$/.exec(line);
        expect({ line, pinned: !!m }).toEqual({ line, pinned: true });
        const [, action, sha, tag] = m!;
        expect({ action, sha, tag }).toEqual({ action, ...pins[action] });
      }
    },
  );

  it.each(FILES)("%s grants nothing by default and the least each job needs", (file) => {
    const wf = workflow(file);
    expect(wf.permissions).toEqual({});
    for (const [name, job] of Object.entries(wf.jobs)) {
      const perms = job.permissions;
      expect({ job: name, perms: typeof perms }).toEqual({ job: name, perms: "object" });
      const p = perms as Record<string, string>;
      const uses = usesOf(job);
      // Writes only where a step needs them.
      expect(p.contents ?? "none").not.toBe("write");
      const oidc = uses.includes("aws-actions/configure-aws-credentials") || uses.includes("pulumi/auth-actions");
      expect({ job: name, "id-token": p["id-token"] === "write" }).toEqual({ job: name, "id-token": oidc });
      const comments =
        uses.includes("actions/github-script") || (job.steps ?? []).some((s) => s.with?.["comment-on-pr"] === true);
      expect({ job: name, "pull-requests": p["pull-requests"] === "write" }).toEqual({ job: name, "pull-requests": comments });
      for (const level of Object.values(p)) expect(["read", "write", "none"]).toContain(level);
    }
  });

  it("never runs PR code with a write token: no pull_request_target, and the comment job checks out only the default branch", () => {
    for (const file of FILES) expect(Object.keys(workflow(file).on)).not.toContain("pull_request_target");
    const comment = workflow("pr-plan-comment.yml");
    expect(comment.on).toEqual({ workflow_run: { workflows: [workflow("pr-plan.yml").name], types: ["completed"] } });
    const steps = comment.jobs.comment.steps!;
    expect(usesOf(comment.jobs.comment)).toEqual([
      "actions/checkout",
      "actions/setup-node",
      "actions/download-artifact",
      "actions/github-script",
    ]);
    // No ref and no repository: workflow_run checks out the default branch, never the PR's head.
    expect(steps[0].with).toEqual({ "persist-credentials": false });
    const runs = steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("npx tsx tools/diff/render-comment.ts");
    // The comment comes from the trusted renderer's output, never from a file in the artifact.
    const script = String(steps.find((s) => s.uses?.startsWith("actions/github-script"))!.with!.script);
    expect(script).toContain("fs.readFileSync(process.env.COMMENT_FILE");
    expect(script).not.toMatch(/comment\.md/);
    expect(script).toContain("github.paginate(github.rest.issues.listComments");
    expect(script).toContain("pr.head.sha !== process.env.RUN_HEAD_SHA");
    expect(script).toContain("<!-- uaip-offline-plan-diff -->");
  });

  it("the PR plan plans every stack at base and head and uploads the diff the comment job downloads", () => {
    const plan = workflow("pr-plan.yml");
    expect(plan.on).toEqual({ pull_request: { branches: ["main"] } });
    expect(Object.keys(plan.jobs).sort()).toEqual(["load", "plan", "test"]);
    expect(plan.jobs.load.steps!.map((s) => s.run).filter(Boolean)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^npm run load -- --quick --out /)]),
    );
    expect(plan.jobs.test.steps!.map((s) => s.run).filter(Boolean)).toEqual(
      expect.arrayContaining(["npm ci --no-audit --no-fund", "npm test"]),
    );
    const steps = plan.jobs.plan.steps!;
    const refs = steps.filter((s) => s.uses?.startsWith("actions/checkout")).map((s) => s.with);
    expect(refs).toEqual([
      expect.objectContaining({ path: "head" }),
      expect.objectContaining({ path: "base", ref: "${{ github.event.pull_request.base.sha }}" }),
    ]);
    const script = steps.map((s) => s.run ?? "").join("\n");
    expect(script).toContain("for file in head/Pulumi.*.yaml");
    expect(script).toMatch(/cd base && npm run --silent plan -- --stack "\$stack" --json/);
    expect(script).toMatch(/--diff "\$base_plan" --diff-md .* --diff-json/);
    expect(script).toContain("npm run policy --");
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))!;
    const download = workflow("pr-plan-comment.yml").jobs.comment.steps!.find((s) =>
      s.uses?.startsWith("actions/download-artifact"),
    )!;
    expect(upload.with!.name).toBe(download.with!.name);
  });

  it("previews with pulumi/actions only where credentials exist, over OIDC, with no long-lived keys", () => {
    const preview = workflow("preview.yml").jobs.preview;
    expect(preview.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(preview.if).toContain("vars.AWS_ROLE_ARN != ''");
    const pulumi = preview.steps!.find((s) => s.uses?.startsWith("pulumi/actions"))!;
    expect(pulumi.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy" });
    for (const file of FILES)
      expect(text(file)).not.toMatch(/aws-access-key-id|aws-secret-access-key|secrets\.AWS_|PULUMI_ACCESS_TOKEN/);
  });

  it("deploys staging, then prod in the protected production environment", () => {
    const { jobs } = workflow("deploy.yml");
    expect(workflow("deploy.yml").on).toEqual({ push: { branches: ["main"] } });
    expect(jobs.staging.environment).toBe("staging");
    expect(jobs.prod).toMatchObject({ needs: "staging", environment: "production" });
    for (const [stack, job] of [
      ["staging", jobs.staging],
      ["prod", jobs.prod],
    ] as const) {
      expect(job.steps!.find((s) => s.uses?.startsWith("pulumi/actions"))!.with).toMatchObject({
        command: "up",
        "stack-name": `\${{ vars.PULUMI_ORG }}/uaip/${stack}`,
        policyPacks: "policy",
      });
    }
  });
});
