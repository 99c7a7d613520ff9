/**
 * Renders the PR comment in the trusted workflow (pr-plan-comment.yml), from the structured diff
 * files a pull request's "PR plan" run uploaded:
 *
 *   tsx tools/diff/render-comment.ts <artifact-dir> <out.md>
 *
 * The artifact comes from the PR's code, a fork's included, so it is data: each `diff.<stack>.json`
 * must have the PlanDiff shape (checked here, nothing else in the folder is read, a fork's
 * `comment.md` included), and every string in it is escaped by the renderer (markdown.ts,
 * escape.ts). This file runs from the base branch's checkout, never from the PR's.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { StackError } from "../../profile/errors";
import type { PlanDiff } from "./diff";
import { renderComment } from "./markdown";

const str = z.string().max(100_000);
const ref = z.object({ urn: str, type: str, name: str });
const valueChange = z.object({
  path: str,
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  masked: z.boolean(),
  replaces: str.optional(),
});
const check = z.object({ name: str, ok: z.boolean(), detail: str });
const violation = z.object({
  rule: str,
  enforcementLevel: z.enum(["advisory", "mandatory", "remediate", "disabled"]),
  urn: str,
  resource: str,
  message: str,
});
// What markdown.ts shows of a service's capacity: finite numbers and a short commit, nothing else.
const finite = z.number().finite();
const capacitySide = z.object({
  service: str,
  commit: z.string().regex(/^[0-9a-f]{7,40}$/),
  rateRpsPerCore: finite,
  perPodRps: finite,
  hpaMax: finite,
  servesRps: finite,
  targetRps: finite.optional(),
});
const resourceChange = ref.extend({ changes: z.array(valueChange), replaceReasons: z.array(str) });
const planDiffSchema = z.object({
  stack: str,
  added: z.array(ref),
  removed: z.array(ref),
  updated: z.array(resourceChange),
  replaced: z.array(resourceChange),
  renamed: z.array(z.object({ type: str, before: ref, after: ref, changes: z.array(valueChange) })),
  unchanged: z.number().int().nonnegative(),
  checks: z.array(
    z.object({
      name: str,
      before: check.optional(),
      after: check.optional(),
      kind: z.enum(["fixed", "broken", "added", "removed", "detail"]),
    }),
  ),
  failedChecks: z.array(check),
  outputs: z.array(valueChange),
  policy: z.object({ introduced: z.array(violation), resolved: z.array(violation), atHead: z.array(violation) }).optional(),
  capacity: z.array(z.object({ service: str, before: capacitySide.optional(), after: capacitySide.optional() })).optional(),
  failure: str.optional(),
  noChanges: z.boolean(),
});

/** The artifact's diff files, parsed and shape-checked; any bad file is named with what is wrong. */
export function readDiffs(dir: string): PlanDiff[] {
  const files = readdirSync(dir)
    .filter((f) => /^diff\.[a-z0-9-]+\.json$/.test(f))
    .sort();
  if (files.length === 0)
    throw new StackError("UAIP_COMMENT_NO_DIFF", `${dir}: no diff.<stack>.json files (npm run plan -- --diff-json writes them)`);
  return files.map((f) => {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(join(dir, f), "utf8"));
    } catch (err) {
      throw new StackError("UAIP_COMMENT_BAD_DIFF", `${f}: not JSON (${(err as Error).message})`, { cause: err });
    }
    const parsed = planDiffSchema.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new StackError("UAIP_COMMENT_BAD_DIFF", `${f}: not a plan diff: ${issues.join("; ")}`);
    }
    return parsed.data as PlanDiff;
  });
}

/** The comment for these diffs; `headSha` is the commit the PR plan run tested (from the event, not the artifact). */
export function renderPrComment(diffs: PlanDiff[], headSha?: string): string {
  const sha = headSha && /^[0-9a-f]{40}$/.test(headSha) ? `head ${headSha.slice(0, 12)} · ` : "";
  return renderComment(
    diffs,
    `<sub>${sha}offline plan, cloud mocked: <code>npm run plan -- --stack &lt;name&gt; --diff base.json</code></sub>\n`,
  );
}

if (require.main === module) {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out) {
    console.error("usage: tsx tools/diff/render-comment.ts <artifact-dir> <out.md>");
    process.exit(2);
  }
  try {
    writeFileSync(out, renderPrComment(readDiffs(dir), process.env.RUN_HEAD_SHA));
    console.log(`Wrote ${out}`);
  } catch (err) {
    console.error(`PR comment not rendered: ${(err as Error).message}`);
    process.exit(1);
  }
}
