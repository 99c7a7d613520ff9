import { ProfileError, type ProfileIssue } from "../../profile/errors";
import { crossLayerChecks } from "../../profile/checks";
import { parseConfig } from "../../profile/parse";
import { servicePlan } from "../../profile/service-settings";

/** The ProfileError parseConfig throws for a raw stack config; a config it accepts, or any other error, fails the test. */
export function parseError(raw: unknown): ProfileError {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

/** The issues parseConfig reports for a raw stack config (none: []); any other error is the test's failure. */
export function parseIssues(raw: Record<string, unknown>): ProfileIssue[] {
  try {
    parseConfig(raw);
    return [];
  } catch (err) {
    if (err instanceof ProfileError) return err.issues;
    throw err;
  }
}

/**
 * What the plan reports for a raw profile before any resource exists, as index.ts runs it: the parse
 * issues as "key: message", else the failed cross-layer checks as "check: detail".
 */
export function planProblems(raw: Record<string, unknown>): string[] {
  try {
    const p = parseConfig(raw);
    return crossLayerChecks(p, servicePlan(p))
      .filter((c) => !c.ok)
      .map((c) => `${c.name}: ${c.detail}`);
  } catch (err) {
    if (err instanceof ProfileError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
}
