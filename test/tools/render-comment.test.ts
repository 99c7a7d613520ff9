import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { PlanDiff } from "../../tools/diff/diff";
import { inert } from "../../tools/diff/escape";
import { COMMENT_MARKER } from "../../tools/diff/markdown";
import { readDiffs, renderPrComment } from "../../tools/diff/render-comment";
import { ROOT } from "../helpers/plan";

/**
 * What a fork controls in the artifact: every string of its diff files. Whatever they hold, the
 * posted comment contains no markup of theirs: no mention, link, image, heading, HTML tag, code
 * span or table cell they chose. Checked on the rendered text independently of the escaper:
 * the characters that start markup must not appear raw in any fork-supplied run of text.
 */
const hostile = [
  "@octocat please approve",
  "@org/admins",
  "#1",
  "**✓ all checks passed**",
  "`code` and ```fence```",
  "[click](https://evil.example/steal) ![img](https://evil.example/x.png)",
  "<img src=x onerror=alert(1)><script>alert(1)</script>",
  "a | b | c",
  "line1\n## Heading\n> quote\n- item",
  "\u202eevil\u202c",
  "https://evil.example/login",
];

function diffWith(s: string): PlanDiff {
  const ref = { urn: `urn:${s}`, type: `aws:${s}`, name: s };
  const change = { path: s, before: s, after: { [s]: s }, masked: false };
  const check = { name: s, ok: false, detail: s };
  const violation = { rule: s, enforcementLevel: "mandatory" as const, urn: s, resource: s, message: s };
  return {
    stack: s,
    added: [ref],
    removed: [ref],
    updated: [{ ...ref, changes: [change], replaceReasons: [s] }],
    replaced: [{ ...ref, changes: [change], replaceReasons: [s] }],
    renamed: [{ type: s, before: ref, after: ref, changes: [change] }],
    unchanged: 1,
    checks: [{ name: s, before: { ...check, ok: true }, after: check, kind: "broken" }],
    failedChecks: [check],
    outputs: [change],
    policy: { introduced: [violation], resolved: [violation], atHead: [violation] },
    capacity: [{ service: s, before: capacity(200), after: capacity(150) }],
    failure: s,
    noChanges: false,
  };
}

/** A service's capacity numbers as the diff carries them (its service name is the fork's string). */
function capacity(rateRpsPerCore: number): NonNullable<PlanDiff["capacity"]>[number]["after"] & object {
  return {
    service: "x",
    path: "capacity/x.json",
    commit: "abcdef1",
    measuredAt: "2026-12-06T08:00:00.000Z",
    rateRpsPerCore,
    cpuLimitCores: 1,
    coresPerPod: 1,
    perPodRps: rateRpsPerCore,
    hpaMax: 3,
    headroom: 0.3,
    servesRps: 3 * rateRpsPerCore * 0.7,
    targetRps: 420,
    cpuAtKneePercentOfRequest: 80,
    cpuTarget: 70,
    dbHoldsPerRequest: 1,
    dbBusyConnections: 2,
    poolMax: 5,
  };
}

/** The comment with this file's own markup removed: what is left came from the data. */
function dataText(comment: string): string {
  return comment
    .replace(/<\/?(code|pre|sub|details|summary)>/g, " ")
    .replace(/<!-- uaip-offline-plan-diff -->/, " ")
    .replace(/^(#{2,3} |\*\*|- [+−] |- |\|)/gm, " ")
    .replace(/\*\*|\||\[(mandatory|advisory)\]/g, " ");
}

describe("PR comment renderer (trusted workflow)", () => {
  it.each(hostile)("a fork's %j is posted as inert text", (s) => {
    const comment = renderPrComment([diffWith(s)], "a".repeat(40));
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
    // Character references are the escaper's own output; what remains must hold no markup.
    const data = dataText(comment).replace(/&#\d+;/g, " ");
    expect(data).not.toMatch(/@[A-Za-z0-9]/); // no mention
    expect(data).not.toMatch(/#\d/); // no issue reference
    expect(data).not.toMatch(/[`<>[\]]|https?:\/\//); // no code span, tag, link or autolink
    expect(data).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    // Each fork string stays on one line: no heading, quote or list of theirs. (A failure message
    // keeps its lines inside <pre>, an HTML block: raw text, and its `<` cannot close the block.)
    expect(comment.replace(/<pre>[^]*?<\/pre>/g, "")).not.toMatch(/^(## Heading|> quote|- item)/m);
    expect(comment.match(/<\/pre>/g)).toHaveLength(1);
    // Still readable: the text decodes to what the fork wrote (minus the zero-width spaces).
    const decoded = comment.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/\u200b/g, "");
    for (const word of s.replace(/[\u202a-\u202e]/g, "").split(/\s+/)) expect(decoded).toContain(word);
  });

  it("no generated string keeps markup characters raw or a mention working", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        const out = inert(s);
        expect(out).not.toMatch(/[`*_[\]<>|~:\n\r\\]/);
        expect(out).not.toMatch(/@[^\u200b]|@$/);
        expect(out).not.toMatch(/(^|[^&])#[^\u200b\d]|#$/);
        // Every & starts a character reference the escaper wrote.
        expect(out.replace(/&#\d+;/g, "")).not.toContain("&");
      }),
      { numRuns: 500 },
    );
  });

  it("renders from the artifact's diff JSON only: a fork's comment.md is never read", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-artifact-"));
    writeFileSync(join(dir, "comment.md"), "**✓ All checks passed** @org/admins");
    writeFileSync(join(dir, "diff.dev.json"), JSON.stringify(diffWith("@octocat **ok**")));
    const out = join(dir, "out.md");
    const run = spawnSync(
      join(ROOT, "node_modules", ".bin", "tsx"),
      [join(ROOT, "tools", "diff", "render-comment.ts"), dir, out],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, RUN_HEAD_SHA: "b".repeat(40) } },
    );
    expect(run.status).toBe(0);
    const comment = readFileSync(out, "utf8");
    expect(comment).not.toContain("All checks passed");
    expect(comment).not.toContain("@octocat");
    expect(comment).toContain("@\u200boctocat");
    expect(comment).toContain(`head ${"b".repeat(12)}`);
  });

  it("keeps the capacity section through the artifact (numbers only), and refuses a capacity entry that is not numbers", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-artifact-"));
    writeFileSync(join(dir, "diff.dev.json"), JSON.stringify(diffWith("svc")));
    const [diff] = readDiffs(dir);
    expect(diff.capacity).toEqual([
      expect.objectContaining({ service: "svc", after: expect.objectContaining({ rateRpsPerCore: 150 }) }),
    ]);
    expect(renderPrComment([diff])).toContain("| 200 → 150 |");
    const bad = diffWith("svc");
    bad.capacity![0].after = { ...bad.capacity![0].after!, rateRpsPerCore: "**fast**" as unknown as number };
    writeFileSync(join(dir, "diff.dev.json"), JSON.stringify(bad));
    expect(() => readDiffs(dir)).toThrow(/not a plan diff: capacity\.0\.after\.rateRpsPerCore: /);
  });

  it("refuses a diff file that is not a plan diff, naming the file and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-artifact-"));
    writeFileSync(join(dir, "diff.dev.json"), JSON.stringify({ ...diffWith("x"), added: "**not a list**" }));
    expect(() => readDiffs(dir)).toThrow(/diff\.dev\.json: not a plan diff: added: /);
    const empty = mkdtempSync(join(tmpdir(), "uaip-artifact-"));
    expect(() => readDiffs(empty)).toThrow(/no diff\.<stack>\.json files/);
  });
});
