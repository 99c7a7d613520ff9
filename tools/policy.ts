/**
 * Runs the policy pack's rules over saved plan JSON, offline (no CLI, no cloud):
 *
 *   npm run policy -- plan.json [more.json ...]
 *
 * Always runs the rules over the file's resources: a plan file is an artifact that passed between
 * jobs, so its own `violations` field (the verdict `npm run plan` recorded over the unredacted
 * inputs, where a secret property is "[secret]" in the file) is compared, never trusted in their
 * place. The verdict is the union of both: the recorded one can only add what the file's redacted
 * inputs hide. A violation the resources show but the record omits means the file was edited
 * after the plan wrote it: that fails too (a record cannot clear a resource).
 * Prints each violation (level, rule, resource, message). Exit code 1 when any violation is
 * mandatory or the record disagrees, 2 on unreadable input, 0 otherwise (advisory findings are
 * printed, not fatal).
 */
import { readFileSync } from "node:fs";
import { StackError } from "../profile/errors";
import { plannedResources, runRules, type Violation } from "../policy/rules";

const USAGE = "usage: npm run policy -- <plan.json> [<plan.json> ...]";

export function formatViolation(v: Violation): string {
  return `[${v.enforcementLevel}] ${v.rule} (${v.resource}): ${v.message}`;
}

/** Reads one plan file; errors name the file and what is wrong with it. */
export function readPlan(file: string): {
  stack: string;
  resources: { urn: string; type: string; name: string; inputs: unknown }[];
  violations?: Violation[];
} {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new StackError(
      "UAIP_PLAN_UNREADABLE",
      `${file}: cannot read (${(err as Error).message}); write one with npm run plan -- --stack <name> --json ${file}`,
      { cause: err },
    );
  }
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (err) {
    throw new StackError("UAIP_PLAN_UNREADABLE", `${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!plan || typeof plan !== "object" || !Array.isArray((plan as { resources?: unknown }).resources)) {
    throw new StackError(
      "UAIP_PLAN_UNREADABLE",
      `${file}: not a plan: expected { stack, resources: [...] } as written by npm run plan -- --json`,
    );
  }
  return plan as ReturnType<typeof readPlan>;
}

/** A violation's identity for comparing the evaluated and the recorded verdicts. */
function violationKey(v: Violation): string {
  return JSON.stringify([v.rule, v.enforcementLevel, v.urn, v.message]);
}

/**
 * The plan's verdict: the rules evaluated over its resources, plus whatever its recorded
 * `violations` add (secret inputs are redacted in the file). `omitted` lists what the evaluation
 * found and the record left out: a record that clears a resource has been tampered with.
 */
export function evaluatePlan(plan: ReturnType<typeof readPlan>): { violations: Violation[]; omitted: Violation[] } {
  const evaluated = runRules(plannedResources(plan));
  const recorded = Array.isArray(plan.violations) ? plan.violations : undefined;
  if (!recorded) return { violations: evaluated, omitted: [] };
  const recordedKeys = new Set(recorded.map(violationKey));
  const evaluatedKeys = new Set(evaluated.map(violationKey));
  const omitted = evaluated.filter((v) => !recordedKeys.has(violationKey(v)));
  return { violations: [...evaluated, ...recorded.filter((v) => !evaluatedKeys.has(violationKey(v)))], omitted };
}

function main(files: string[]): number {
  if (files.length === 0 || files.some((f) => f.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  let mandatory = 0;
  let tampered = 0;
  for (const file of files) {
    const plan = readPlan(file);
    const { violations, omitted } = evaluatePlan(plan);
    console.log(`Policy pack over ${file} (stack ${plan.stack}): ${violations.length} violation(s)`);
    for (const v of violations) console.log(`    ${formatViolation(v)}`);
    mandatory += violations.filter((v) => v.enforcementLevel === "mandatory").length;
    if (omitted.length) {
      tampered += omitted.length;
      console.error(
        `${file}: its recorded "violations" omit ${omitted.length} violation(s) its resources show (the file was edited after npm run plan wrote it); re-plan with npm run plan -- --stack ${plan.stack} --json ${file}`,
      );
      for (const v of omitted) console.error(`    omitted: ${formatViolation(v)}`);
    }
  }
  if (mandatory) console.error(`\nPolicy failed: ${mandatory} mandatory violation(s).`);
  if (tampered) console.error(`\nPolicy failed: the recorded verdict omits ${tampered} violation(s) the resources show.`);
  return mandatory || tampered ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (err) {
    console.error(`Policy failed: ${(err as Error).message}`);
    process.exit(2);
  }
}
