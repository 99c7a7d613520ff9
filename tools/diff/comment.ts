/**
 * Builds the PR comment from diff JSON files (`npm run plan -- --diff-json`):
 *
 *   tsx tools/diff/comment.ts <out.md> <diff.json> [<diff.json> ...]
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { PlanDiff } from "./diff";
import { renderComment } from "./markdown";

if (require.main === module) {
  const [out, ...files] = process.argv.slice(2);
  if (!out || files.length === 0) {
    console.error("usage: tsx tools/diff/comment.ts <out.md> <diff.json> [<diff.json> ...]");
    process.exit(2);
  }
  const diffs = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as PlanDiff);
  // HEAD_SHA: the PR's head commit (the workflow sets it; GITHUB_SHA is the merge commit).
  const head = process.env.HEAD_SHA ?? process.env.GITHUB_SHA;
  writeFileSync(
    out,
    renderComment(
      diffs,
      `<sub>${head ? `head ${head.slice(0, 12)} · ` : ""}offline plan, cloud mocked: \`npm run plan -- --stack <name> --diff base.json\`</sub>\n`,
    ),
  );
  console.log(`Wrote ${out}`);
}
