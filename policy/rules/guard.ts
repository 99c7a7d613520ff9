import { thrownText } from "../../runtime/src/errors";
import { label } from "./match";
import type { PlannedResource, ResourceRule, StackFinding, StackRule } from "./types";

function failure(ruleName: string, subject: string, error: unknown): string {
  return `rule ${ruleName} could not check ${subject} (${thrownText(error)}); reported as a violation so the other rules still run; fix the input's shape or the rule`;
}

/**
 * A resource rule's messages for one resource. Props are user data and a rule may still trip over a shape nobody
 * foresaw: then the resource gets one violation that names the rule and the error, instead of the exception ending
 * the whole policy run (under `pulumi preview`) or the offline plan. Both runners go through here.
 */
export function resourceMessages(rule: ResourceRule, resource: PlannedResource): string[] {
  try {
    return rule.check(resource);
  } catch (error) {
    return [failure(rule.name, label(resource), error)];
  }
}

/** A stack rule's findings; if it throws, one stack-wide finding that names the rule and the error. */
export function stackFindings(rule: StackRule, resources: PlannedResource[]): StackFinding[] {
  try {
    return rule.check(resources);
  } catch (error) {
    return [{ message: failure(rule.name, "the stack", error) }];
  }
}
