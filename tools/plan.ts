/**
 * Offline plan: runs the real index.ts of a stack under Pulumi mocks (no CLI, no cloud) and
 * prints what `pulumi preview` would create, the cross-layer checks and the outputs.
 *
 *   npm run plan -- --stack dev [--json plan.json]
 *   npm run plan -- --stack dev --diff base.json [--diff-md diff.md] [--diff-json diff.json]
 *   npm run plan -- --stack dev --graph dev.svg [--diff base.json]
 *   npm run plan -- --stack dev --cost          (monthly cost estimate; tools/cost/)
 *   npm run plan -- --stack dev --capacity-dir d  (capacity files from d instead of capacity/)
 *   npm run plan -- --all
 *
 * The policy pack (policy/rules) runs over the planned resources; its violations print next to
 * the checks. With --diff, the plan is compared with a saved one (e.g. the base branch's).
 * With --graph, the architecture is drawn to an SVG (tools/graph/), the diff's changes highlighted.
 * Exit code 0 when the stack plans and every check passes, 1 otherwise.
 */
// First, so that the modules below load without source maps too (see the file).
import "./source-maps-off";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { checkNameCollisions, providerRuleChecks } from "../components/aws/provider-rules";
import type { Check } from "../profile/checks";
import { kubernetesPlanChecks, type PlanResource } from "./checks/k8s";
import { plannedResources, runRules, type Violation } from "../policy/rules";
import { diffFailedPlan, diffPlans, type PlanDiff } from "./diff/diff";
import { renderMarkdown } from "./diff/markdown";
import { installMocks, redactSecrets, REGION, unwrapSecrets, type RecordedResource } from "./mocks";
import { evaluatePlan, formatViolation, readPlan } from "./policy";
import { countByType, renderTree } from "./render";
import { listStacks, readStackConfig, SECRET_PLACEHOLDER } from "./stack-file";
import { StackError } from "../profile/errors";
import { loadConfig } from "../config";
import { deliberateRetentions } from "../profile/retentions";
import { checkDestroyLeftovers } from "./checks/destroy";
import { checkEksAddonConfigurations } from "./checks/eks-addon-config";
import { costOfPlan } from "./cost/for-profile";
import { budgetCheck } from "./cost/budget";
import type { CostReport } from "./cost/estimate";
import { renderCost } from "./cost/render";
import { isoDay } from "../profile/support-calendar";
import { capacitySummary, type ServiceCapacity } from "../profile/capacity-checks";
import { CAPACITY_DIR_ENV, readCapacityFiles } from "./capacity-files";

const ROOT = resolve(__dirname, "..");
const USAGE =
  "usage: npm run plan -- --stack <name> [--cost] [--capacity-dir <dir>] [--json <file>] [--stack-file <file>] [--graph <file.svg>] [--diff <base.json> [--diff-md <file>] [--diff-json <file>]] | --all [--json <prefix>]";

export interface PlanJson {
  stack: string;
  resources: PlanResource[];
  outputs: Record<string, unknown>;
  checks: Check[];
  /**
   * The policy pack's verdict over the inputs as the real analyzer sees them: `pulumi preview
   * --policy-pack` hands policies secret values unwrapped, while this file's inputs show a secret
   * top-level property (a distribution's `origins`, which carry the origin-verify header) as
   * "[secret]", hiding e.g. its originProtocolPolicy from a re-run. Messages name resources and
   * settings, never a secret's value. Absent in plans written before it existed.
   */
  violations?: Violation[];
  /** The monthly cost estimate of an AWS stack (tools/cost/); printed with --cost. Absent in older plans. */
  cost?: CostReport;
  /** Each service with a capacity file: its measured knee and the throughput numbers (the plan diff compares them). Absent in older plans. */
  capacity?: ServiceCapacity[];
}

interface Args {
  stacks: string[];
  all: boolean;
  json?: string;
  /** Read the stack's config from this file instead of Pulumi.<stack>.yaml (tests, PR checks). */
  stackFile?: string;
  /** A saved plan to diff against, and where to write the diff. */
  diff?: string;
  diffMd?: string;
  diffJson?: string;
  /** Draw the architecture to this SVG file (changes highlighted with --diff). */
  graph?: string;
  /** Print the monthly cost estimate (always in the JSON of an AWS stack). */
  cost: boolean;
  /** Read capacity/<service>.json files from this directory instead of the repository's capacity/. */
  capacityDir?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { stacks: [], all: false, cost: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--stack" || a === "-s") args.stacks.push(argv[++i] ?? "");
    else if (a === "--json") args.json = argv[++i];
    else if (a === "--stack-file") args.stackFile = argv[++i];
    else if (a === "--diff") args.diff = argv[++i];
    else if (a === "--diff-md") args.diffMd = argv[++i];
    else if (a === "--diff-json") args.diffJson = argv[++i];
    else if (a === "--graph") args.graph = argv[++i];
    else if (a === "--all") args.all = true;
    else if (a === "--cost") args.cost = true;
    else if (a === "--capacity-dir") args.capacityDir = argv[++i];
    else throw new StackError("UAIP_PLAN_USAGE", `unknown argument "${a}"; ${USAGE}`);
  }
  if (!args.all && args.stacks.length !== 1) throw new StackError("UAIP_PLAN_USAGE", USAGE);
  if ((args.diffMd || args.diffJson) && !args.diff)
    throw new StackError("UAIP_PLAN_USAGE", `--diff-md/--diff-json need --diff <base.json>; ${USAGE}`);
  if (args.all && args.diff) throw new StackError("UAIP_PLAN_USAGE", `--diff compares one stack; use --stack <name>; ${USAGE}`);
  if (args.all && args.graph) throw new StackError("UAIP_PLAN_USAGE", `--graph draws one stack; use --stack <name>; ${USAGE}`);
  if (args.graph !== undefined && !/\.svg$/.test(args.graph))
    throw new StackError("UAIP_PLAN_USAGE", `--graph "${args.graph ?? ""}": expected a file name ending in .svg; ${USAGE}`);
  return args;
}

/** Resolves a stack output; secret ones are replaced by the marker and never printed. */
async function resolveOutput(value: unknown): Promise<unknown> {
  if (!pulumi.Output.isInstance(value)) return value;
  if (await pulumi.isSecret(value)) return SECRET_PLACEHOLDER;
  return redactSecrets(await new Promise((r) => value.apply(r)));
}

/** Plans one stack in this process (Pulumi's runtime state is per process). */
async function planStack(stack: string, stackFile?: string): Promise<{ plan: PlanJson; recorded: RecordedResource[] }> {
  const { project, config, secretKeys } = readStackConfig(ROOT, stack, stackFile);
  pulumi.runtime.setAllConfig(config, secretKeys);
  // The mocked cloud answers for the stack's own Region (zones, ARNs, endpoints), as AWS would.
  const mocks = installMocks(project, stack, config["aws:region"] ?? REGION);
  let failure: unknown;
  process.on("unhandledRejection", (err) => (failure ??= err));

  let exports: Record<string, unknown> = {};
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      // index.ts is CommonJS (`export =`); the module's exports are the ESM default.
      const mod = await import(join(ROOT, "index.ts"));
      exports = { ...(mod.default ?? mod) };
      return exports;
    });
    // Internal but stable: waits until every resource registration has reached the mocks.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  } catch (err) {
    failure ??= err;
  }
  if (failure) throw failure;

  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exports)) {
    if (key === "__esModule" || typeof value === "function" || value === undefined) continue;
    outputs[key] = await resolveOutput(value);
  }
  delete outputs.checks;
  // Wire inputs: a secret inside a Helm release's values hides only that field, not all values.
  const resources = mocks.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent,
    dependsOn: r.dependsOn,
    inputs: redactSecrets(r.wireInputs ?? r.inputs) as Record<string, unknown>,
    ...(r.protect ? { protect: true } : {}),
    ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
  }));
  const checks = [...((exports.checks as Check[] | undefined) ?? []), ...kubernetesPlanChecks(resources)];
  // The providers' real rules (name limits, version pins, IAM, IMDS, CDN routes): what mocks accept but AWS would not.
  // They read the inputs behind secrets too (a listener rule's conditions hold the origin secret, and with it its
  // paths); their details name resources, paths and actions, never a secret's value.
  const unwrapped = mocks.resources.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs) }));
  checks.push(...providerRuleChecks({ stack, resources: unwrapped }));
  // What a destroy would leave, against what the profile deliberately keeps (the config the program just read).
  const { profile } = loadConfig();
  let cost: CostReport | undefined;
  if (profile.platform === "aws") {
    checks.push(checkDestroyLeftovers(resources, deliberateRetentions(profile)));
    checks.push(checkEksAddonConfigurations(resources));
    const region = config["aws:region"] ?? REGION;
    cost = costOfPlan({ stack, region, profile, resources, today: isoDay(new Date()) });
    const budget = budgetCheck(cost, profile.cost.monthlyBudget);
    if (budget) checks.push(budget);
  }
  // The policy pack sees what the real analyzer sees (see PlanJson.violations).
  const violations = runRules(plannedResources({ resources: unwrapped }));
  // The same files index.ts checked, for the diff's capacity section.
  const capacity = capacitySummary(
    profile,
    readCapacityFiles(
      ROOT,
      profile.services.map((s) => s.name),
    ),
  );
  return {
    plan: { stack, resources, outputs, checks, violations, ...(cost ? { cost } : {}), capacity },
    recorded: mocks.resources,
  };
}

function print(plan: PlanJson, resources: RecordedResource[], violations: Violation[]): void {
  const custom = resources.filter((r) => r.custom && !r.type.startsWith("pulumi:"));
  console.log(`Previewing update (${plan.stack}) — offline plan, cloud mocked\n`);
  console.log(renderTree(resources));
  console.log(`\nResources:\n    + ${resources.length} to create (${custom.length} cloud/Kubernetes resources)`);
  for (const [type, n] of countByType(custom)) console.log(`      ${String(n).padStart(3)} ${type}`);
  console.log("\nChecks (cross-layer and provider rules):");
  for (const c of plan.checks) console.log(`    ${c.ok ? (c.warning ? "⚠" : "✓") : "✗"} ${c.name}: ${c.detail}`);
  console.log(`\nPolicy pack (policy/): ${violations.length ? `${violations.length} violation(s)` : "no violations"}`);
  for (const v of violations) console.log(`    ${formatViolation(v)}`);
  console.log("\nOutputs:");
  for (const [k, v] of Object.entries(plan.outputs)) console.log(`    ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
}

function writeDiff(args: Args, diff: PlanDiff): void {
  const markdown = renderMarkdown(diff);
  console.log(`\nDiff against ${args.diff}:\n\n${markdown}`);
  if (args.diffMd) writeFileSync(args.diffMd, markdown);
  if (args.diffJson) writeFileSync(args.diffJson, JSON.stringify(diff, null, 2) + "\n");
}

/** --all: each stack in its own process, since Pulumi's runtime state is global; then the cross-stack name check. */
function planAll(json?: string): number {
  let status = 0;
  const prefix = json ?? join(mkdtempSync(join(tmpdir(), "uaip-plan-all-")), "plan.json");
  const plans: PlanJson[] = [];
  for (const stack of listStacks(ROOT)) {
    const file = prefix.replace(/(\.json)?$/, `.${stack}.json`);
    const run = spawnSync(process.execPath, [...process.execArgv, __filename, "--stack", stack, "--json", file], {
      stdio: "inherit",
    });
    console.log(`\n== ${stack}: ${run.status === 0 ? "ok" : "FAILED"}\n`);
    if (run.status !== 0) status = 1;
    else plans.push(JSON.parse(readFileSync(file, "utf8")) as PlanJson);
  }
  // Stacks share an account and region in the worst case: no explicit physical name may repeat.
  const collisions = checkNameCollisions(plans);
  console.log(`${collisions.ok ? "✓" : "✗"} ${collisions.name}: ${collisions.detail}`);
  return collisions.ok ? status : 1;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // One place both readers look (index.ts's checks and this file's summary), and --all's child processes inherit it.
  if (args.capacityDir !== undefined) process.env[CAPACITY_DIR_ENV] = resolve(args.capacityDir);
  if (args.all) return planAll(args.json);
  const stack = args.stacks[0];
  const base = args.diff ? (readPlan(args.diff) as PlanJson) : undefined;
  let planned: Awaited<ReturnType<typeof planStack>>;
  try {
    planned = await planStack(stack, args.stackFile);
  } catch (err) {
    // The PR still gets a diff that names the checks this change broke.
    if (base) writeDiff(args, diffFailedPlan(base, stack, err instanceof Error ? err.message : String(err)));
    throw err;
  }
  const { plan, recorded } = planned;
  const violations = plan.violations ?? [];
  print(plan, recorded, violations);
  if (args.cost) console.log(`\n${plan.cost ? renderCost(plan.cost) : "Cost: no estimate for a local (Docker) stack."}`);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(plan, null, 2) + "\n");
    console.log(`\nWrote ${args.json}`);
  }
  const diff = base ? diffPlans(base, plan, { base: evaluatePlan(base).violations, head: violations }) : undefined;
  if (diff) writeDiff(args, diff);
  if (args.graph) {
    // Loaded only when asked for: Graphviz's WebAssembly has no business in every plan's start-up.
    const { planGraphSvg } = await import("./graph");
    writeFileSync(args.graph, await planGraphSvg(stack, plan.resources, diff));
    console.log(`\nWrote ${args.graph}${diff ? " (changes against the base highlighted)" : ""}`);
  }
  const failed = plan.checks.filter((c) => !c.ok);
  if (failed.length) {
    console.error(`\nPlan failed: ${failed.length} cross-layer check(s) failed.`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`Plan failed:\n${message}`);
    process.exit(1);
  },
);
