/**
 * Runs the policy pack's rules over saved plan JSON, offline (no CLI, no cloud):
 *
 *   npm run policy -- plan.json [more.json ...]
 *
 * Uses the verdict the plan recorded over its unredacted inputs when there is one (a secret
 * property is "[secret]" in the file), else runs the rules over the file's inputs.
 * Prints each violation (level, rule, resource, message). Exit code 1 when any violation is
 * mandatory, 2 on unreadable input, 0 otherwise (advisory findings are printed, not fatal).
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

function main(files: string[]): number {
  if (files.length === 0 || files.some((f) => f.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  let mandatory = 0;
  for (const file of files) {
    const plan = readPlan(file);
    // npm run plan records the verdict over the unredacted inputs (secret properties hide what some rules read).
    const violations = plan.violations ?? runRules(plannedResources(plan));
    console.log(`Policy pack over ${file} (stack ${plan.stack}): ${violations.length} violation(s)`);
    for (const v of violations) console.log(`    ${formatViolation(v)}`);
    mandatory += violations.filter((v) => v.enforcementLevel === "mandatory").length;
  }
  if (mandatory) console.error(`\nPolicy failed: ${mandatory} mandatory violation(s).`);
  return mandatory ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (err) {
    console.error(`Policy failed: ${(err as Error).message}`);
    process.exit(2);
  }
}
