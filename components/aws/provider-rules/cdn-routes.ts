import type { Check } from "../../../profile/checks";
import { inputsOf, type PlannedStack } from "./types";

/** True when every path CloudFront sends to `behaviour` also matches the ALB's `rule` pattern. */
export function patternCovers(rule: string, behaviour: string): boolean {
  if (rule === behaviour) return true;
  if (rule.endsWith("/*")) return behaviour.startsWith(rule.slice(0, -1));
  return false;
}

/**
 * Every CloudFront cache behaviour leads to a listener rule of the ALB; a behaviour no rule
 * matches only ever gets the ALB's fixed 404 (with its own cache settings, which mislead).
 */
export function checkCdnRoutes(plan: PlannedStack): Check {
  const rulePatterns = plan.resources
    .filter((r) => r.type === "aws:lb/listenerRule:ListenerRule")
    .flatMap((r) =>
      ((inputsOf(r).conditions ?? []) as { pathPattern?: { values?: string[] } }[]).flatMap((c) => c.pathPattern?.values ?? []),
    );
  const behaviours = plan.resources
    .filter((r) => r.type === "aws:cloudfront/distribution:Distribution")
    .flatMap((r) => ((inputsOf(r).orderedCacheBehaviors ?? []) as { pathPattern: string }[]).map((b) => b.pathPattern));
  const dead = behaviours.filter((b) => !rulePatterns.some((p) => patternCovers(p, b)));
  return {
    name: "cdn-behaviours-routed",
    ok: dead.length === 0,
    detail: dead.length
      ? `CloudFront behaviour(s) ${dead.join(", ")} match no ALB listener rule (${rulePatterns.join(", ")}), so they only ever get the ALB's 404; route them to a service or remove them`
      : `${behaviours.length} CloudFront behaviour(s) of ${plan.stack} each lead to an ALB listener rule`,
  };
}
