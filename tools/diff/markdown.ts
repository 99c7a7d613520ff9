/**
 * Markdown for a PR comment: one section per stack, long input lists folded in <details>.
 * Every string from the diff (names, types, paths, values, details, messages) is data a fork's
 * pull request may have chosen, so it goes through inert()/inertCode() (escape.ts); only this
 * file's own words are markup.
 */
import type { Violation } from "../../policy/rules";
import { costChanged, type CostDelta } from "../cost/delta";
import type { CapacityChange, CheckChange, PlanDiff, ResourceChange, ValueChange } from "./diff";
import { num } from "../../profile/capacity-checks";
import { inert, inertCode, inertLines } from "./escape";

/** Marks the comment the workflow updates instead of posting a new one. */
export const COMMENT_MARKER = "<!-- uaip-offline-plan-diff -->";
/** GitHub refuses comments over 65536 characters. */
export const COMMENT_LIMIT = 65_000;
const VALUE_WIDTH = 80;

/** A value as a monospace table cell, shortened when long (dashboards are whole JSON files). */
export function formatValue(value: unknown, present: boolean): string {
  if (!present) return "—";
  let text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) text = String(value);
  if (text.length > VALUE_WIDTH) text = `${text.slice(0, VALUE_WIDTH - 1)}… (${text.length} chars)`;
  return inertCode(text);
}

function changeRows(changes: ValueChange[]): string[] {
  return [
    "| Input | Before | After |",
    "|---|---|---|",
    ...changes.map((c) => {
      const note = c.masked ? " (secret, changed)" : c.replaces ? " ⚠ replaces" : "";
      return `| ${inertCode(c.path)}${note} | ${formatValue(c.before, "before" in c)} | ${formatValue(c.after, "after" in c)} |`;
    }),
  ];
}

function resourceDetails(symbol: string, r: ResourceChange): string[] {
  const n = r.changes.length;
  return [
    `<details><summary>${symbol} ${inertCode(r.name)} ${inert(r.type)} (${n} input${n === 1 ? "" : "s"})</summary>`,
    "",
    ...changeRows(r.changes),
    "",
    "</details>",
  ];
}

function checkState(c: CheckChange["before"]): string {
  return c ? `${c.ok ? "✓" : "✗"} ${inert(c.detail)}` : "—";
}

const CHECK_LABEL: Record<CheckChange["kind"], string> = {
  fixed: "✓ fixed",
  broken: "✗ broken",
  added: "+ new",
  removed: "- gone",
  detail: "~ numbers",
};

function violationLine(v: Violation): string {
  return `- ${inertCode(v.rule)} [${inert(v.enforcementLevel)}] ${inert(v.resource)}: ${inert(v.message)}`;
}

const money = (n: number) => `$${n.toFixed(2)}`;
const signed = (n: number) => `${n < 0 ? "−" : "+"}${money(Math.abs(n))}`;

/** The monthly cost of the change, per resource and in total (list prices; tools/cost/). */
function costLines(d: CostDelta): string[] {
  const lines = [`**Monthly cost**: ${money(d.before)} → ${money(d.after)} (${signed(d.delta)} a month)`, ""];
  if (d.changed.length) {
    lines.push("| Resource | Type | Before | After | Δ / month |", "|---|---|---|---|---|");
    for (const c of d.changed)
      lines.push(`| ${inertCode(c.resource)} | ${inert(c.type)} | ${money(c.before)} | ${money(c.after)} | ${signed(c.delta)} |`);
    lines.push("");
  }
  if (d.unpricedAdded.length)
    lines.push(`Unpriced at head (not in the estimate): ${d.unpricedAdded.map(inertCode).join(", ")}`, "");
  if (d.unpricedRemoved.length) lines.push(`No longer unpriced: ${d.unpricedRemoved.map(inertCode).join(", ")}`, "");
  return lines;
}

/** `before → after`, or the one value when both are the same; "—" for a side without it. */
function change(before: number | undefined, after: number | undefined, unit = ""): string {
  const show = (n: number | undefined) => (n === undefined ? "—" : `${num(n)}${unit}`);
  return before === after ? show(after) : `${show(before)} → ${show(after)}`;
}

/** The throughput check's verdict from the numbers: ✓ serves targetRps, ✗ does not, — without a target or a file. */
function throughputVerdict(c: CapacityChange["before"]): string {
  if (!c || c.targetRps === undefined) return "—";
  return c.servesRps >= c.targetRps ? "✓" : "✗";
}

/** The capacity files' change and what it does to the throughput check (hpa.max × per pod × (1 − headroom) vs targetRps). */
function capacityLines(changes: CapacityChange[]): string[] {
  const lines = [
    "**Capacity** (measured knee per service; serves = hpa.max × req/s per pod × (1 − headroom), checked against targetRps)",
    "",
    "| Service | Capacity file | req/s per core | req/s per pod | hpa.max | serves (req/s) | targetRps | Throughput |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const c of changes) {
    const { before: b, after: a } = c;
    const file = [b, a].map((x) => (x ? `${x.commit.slice(0, 12)}` : "none"));
    lines.push(
      `| ${inertCode(c.service)} | ${file[0] === file[1] ? inertCode(file[1]) : `${inertCode(file[0])} → ${inertCode(file[1])}`} | ${change(b?.rateRpsPerCore, a?.rateRpsPerCore)} | ${change(b?.perPodRps, a?.perPodRps)} | ${change(b?.hpaMax, a?.hpaMax)} | ${change(b?.servesRps, a?.servesRps)} | ${change(b?.targetRps, a?.targetRps)} | ${throughputVerdict(b)} → ${throughputVerdict(a)} |`,
    );
  }
  lines.push("");
  return lines;
}

/** One stack's section. */
export function renderMarkdown(diff: PlanDiff): string {
  const replacements = diff.replaced.length + diff.renamed.length;
  const counts = [
    `${diff.updated.length} to update`,
    `${replacements} to replace`,
    `${diff.added.length} to create`,
    `${diff.removed.length} to delete`,
    `${diff.unchanged} unchanged`,
  ];
  const title = diff.failure ? "✗ the plan failed" : diff.noChanges ? "no changes" : counts.join(", ");
  const lines: string[] = [`### Stack ${inertCode(diff.stack)}: ${title}`, ""];
  if (diff.failure) lines.push(`<pre>${inertLines(diff.failure.trim())}</pre>`, "");

  if (replacements) {
    lines.push(
      "**Replacements** (delete and create: data on these resources does not carry over)",
      "",
      "| Resource | Type | Why |",
      "|---|---|---|",
    );
    for (const r of diff.renamed)
      lines.push(`| ${inertCode(r.before.name)} → ${inertCode(r.after.name)} | ${inert(r.type)} | renamed: new URN |`);
    for (const r of diff.replaced)
      lines.push(
        `| ${inertCode(r.name)} | ${inert(r.type)} | ${r.replaceReasons.map(inertCode).join(", ")} changes (replace-on-change) |`,
      );
    lines.push("");
  }
  if (diff.updated.length || diff.replaced.length) {
    lines.push("**Changed inputs**", "");
    for (const r of diff.replaced) lines.push(...resourceDetails("±", r));
    for (const r of diff.updated) lines.push(...resourceDetails("~", r));
    lines.push("");
  }
  if (diff.added.length) lines.push("**Created**", "", ...diff.added.map((r) => `- + ${inertCode(r.name)} ${inert(r.type)}`), "");
  if (diff.removed.length)
    lines.push("**Deleted**", "", ...diff.removed.map((r) => `- − ${inertCode(r.name)} ${inert(r.type)}`), "");
  if (diff.checks.length) {
    lines.push("**Checks that changed**", "", "| | Check | Before | After |", "|---|---|---|---|");
    for (const c of diff.checks)
      lines.push(
        `| ${CHECK_LABEL[c.kind] ?? inert(c.kind)} | ${inert(c.name)} | ${checkState(c.before)} | ${checkState(c.after)} |`,
      );
    lines.push("");
  }
  if (diff.failedChecks.length && !diff.failure) {
    lines.push(
      `**✗ ${diff.failedChecks.length} check(s) fail at head; the plan fails:**`,
      "",
      ...diff.failedChecks.map((c) => `- ${inert(c.name)}: ${inert(c.detail)}`),
      "",
    );
  }
  if (diff.policy) {
    const { introduced, resolved, atHead } = diff.policy;
    const mandatory = atHead.filter((v) => v.enforcementLevel === "mandatory").length;
    lines.push(
      `**Policy pack**: ${atHead.length} violation(s) at head (${mandatory} mandatory), ${introduced.length} introduced, ${resolved.length} resolved by this change`,
      "",
    );
    if (introduced.length) lines.push("Introduced:", ...introduced.map(violationLine), "");
    if (resolved.length) lines.push("Resolved:", ...resolved.map(violationLine), "");
  }
  if (diff.outputs.length) lines.push("**Outputs**", "", ...changeRows(diff.outputs), "");
  if (diff.capacity?.length) lines.push(...capacityLines(diff.capacity));
  if (diff.cost && costChanged(diff.cost)) lines.push(...costLines(diff.cost), "");
  return lines.join("\n").trimEnd() + "\n";
}

/** The whole PR comment: a marker the workflow finds it by, then one section per stack. */
export function renderComment(diffs: PlanDiff[], footer = ""): string {
  const failing = diffs.filter((d) => d.failedChecks.length || d.failure).map((d) => d.stack);
  const head = [
    COMMENT_MARKER,
    "## Offline plan diff",
    "",
    failing.length
      ? `✗ The plan or a cross-layer check fails in: ${failing.map(inertCode).join(", ")}`
      : "✓ Every stack plans and every cross-layer check passes at head.",
    "",
  ];
  let body = [...head, ...diffs.map(renderMarkdown), footer].join("\n");
  if (body.length > COMMENT_LIMIT) {
    const cut = body.slice(0, COMMENT_LIMIT - 200);
    body = `${cut.slice(0, cut.lastIndexOf("\n"))}\n\n… truncated: the full diff is in the workflow run's \`plan-diff\` artifact.\n`;
  }
  return body;
}
