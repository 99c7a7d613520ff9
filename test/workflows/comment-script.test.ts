import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { COMMENT_MARKER } from "../../tools/diff/markdown";
import { ROOT } from "../helpers/plan";

/**
 * Runs the comment workflow's github-script body as actions/github-script would (an async
 * function of github, context, core, require), against an in-memory GitHub.
 */
const workflow = parse(readFileSync(join(ROOT, ".github", "workflows", "pr-plan-comment.yml"), "utf8"));
const script: string = workflow.jobs.comment.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/github-script"))
  .with.script;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

interface Comment {
  id: number;
  body: string;
  user: { type: string };
  html_url: string;
}

function fakeGitHub(headSha: string, comments: Comment[]) {
  const calls: string[] = [];
  const pages = (all: Comment[]) => [all.slice(0, 100), all.slice(100, 200), all.slice(200)];
  const github = {
    rest: {
      pulls: {
        get: async ({ pull_number }: { pull_number: number }) => (
          calls.push(`get ${pull_number}`),
          { data: { head: { sha: headSha } } }
        ),
      },
      issues: {
        // Called directly, the API returns only the first page.
        listComments: async () => ({ data: pages(comments)[0] }),
        updateComment: async ({ comment_id, body }: { comment_id: number; body: string }) => (
          calls.push(`update ${comment_id}`),
          (comments.find((c) => c.id === comment_id)!.body = body),
          { data: {} }
        ),
        createComment: async ({ issue_number, body }: { issue_number: number; body: string }) => (
          calls.push(`create on ${issue_number}`),
          comments.push({ id: 999, body, user: { type: "Bot" }, html_url: "u" }),
          { data: { html_url: "u" } }
        ),
      },
    },
    paginate: async (fn: unknown) => {
      expect(fn).toBe(github.rest.issues.listComments);
      return pages(comments).flat();
    },
  };
  return { github, calls };
}

async function runScript(prNumber: string, runHeadSha: string, prHeadSha: string, comments: Comment[]) {
  const dir = mkdtempSync(join(tmpdir(), "uaip-comment-"));
  writeFileSync(join(dir, "pr-number"), prNumber);
  // What the trusted renderer wrote (outside the artifact); a comment.md in the artifact is never read.
  const rendered = join(mkdtempSync(join(tmpdir(), "uaip-rendered-")), "comment.md");
  writeFileSync(rendered, `${COMMENT_MARKER}\n## Offline plan diff\nnew body\n`);
  writeFileSync(join(dir, "comment.md"), "fork's own markdown: all checks passed @org/admins");
  const { github, calls } = fakeGitHub(prHeadSha, comments);
  const notices: string[] = [];
  const core = { notice: (m: string) => notices.push(m), info: () => undefined };
  Object.assign(process.env, { DIFF_DIR: dir, COMMENT_FILE: rendered, RUN_HEAD_SHA: runHeadSha });
  await new AsyncFunction("github", "context", "core", "require", script)(
    github,
    { repo: { owner: "o", repo: "r" } },
    core,
    require,
  );
  return { calls, notices };
}

const filler = (n: number): Comment[] =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, body: `comment ${i}`, user: { type: "User" }, html_url: "" }));

describe("PR plan comment script", () => {
  it("updates its own comment even when it is on the third page, instead of posting a duplicate", async () => {
    const comments = [...filler(230), { id: 500, body: `${COMMENT_MARKER}\nold`, user: { type: "Bot" }, html_url: "" }];
    const { calls } = await runScript("42", "abc", "abc", comments);
    expect(calls).toEqual(["get 42", "update 500"]);
    expect(comments.find((c) => c.id === 500)!.body).toContain("new body");
    expect(comments.find((c) => c.id === 500)!.body).not.toContain("fork's own markdown");
  });

  it("creates the comment when there is none; a user quoting the marker is not mistaken for it", async () => {
    const comments = [...filler(3), { id: 7, body: `${COMMENT_MARKER} quoted by a human`, user: { type: "User" }, html_url: "" }];
    const { calls } = await runScript("42", "abc", "abc", comments);
    expect(calls).toEqual(["get 42", "create on 42"]);
  });

  it("does nothing when the PR's head moved on (or the artifact names another PR)", async () => {
    const { calls, notices } = await runScript("42", "abc", "def", filler(1));
    expect(calls).toEqual(["get 42"]);
    expect(notices[0]).toMatch(/PR #42 is at def, not abc: skipping/);
  });

  it("refuses an artifact whose pr-number is not a number", async () => {
    await expect(runScript("42; rm -rf /", "abc", "abc", [])).rejects.toThrow("plan-diff/pr-number is not a pull request number");
  });
});
