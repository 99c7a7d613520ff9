import type { Check } from "../../../profile/checks";
import { inputsOf, type PlannedStack } from "./types";

/**
 * Engine version pins that survive automatic minor upgrades. With `autoMinorVersionUpgrade`, AWS
 * moves the engine forward on its own; a program that pins "16.4" then plans a downgrade to a
 * version AWS refuses (or has retired). So pin what AWS lets you pin without the automatic part:
 * - RDS PostgreSQL: the major only ("16"); the provider reports the running minor separately
 *   (`engineVersionActual`).
 * - ElastiCache: Redis OSS/Valkey 7+ need "major.minor" (the API's granularity, "7.1"), and
 *   6 takes "6.x"; never a patch level ("7.1.0"), which auto minor upgrades move.
 */
export const VERSION_PIN_RULES: Readonly<Record<string, { field: string; allowed: RegExp; example: string }>> = {
  "aws:rds/instance:Instance": { field: "engineVersion", allowed: /^\d+$/, example: '"16"' },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    field: "engineVersion",
    allowed: /^(?:6\.x|\d+\.\d+)$/,
    example: '"7.1" (or "6.x")',
  },
};

export function checkVersionPins(plan: PlannedStack): Check {
  const problems: string[] = [];
  let pinned = 0;
  for (const r of plan.resources) {
    const rule = VERSION_PIN_RULES[r.type];
    if (!rule) continue;
    const inputs = inputsOf(r);
    // Minor upgrades are automatic unless explicitly turned off (AWS's default is on).
    if (inputs.autoMinorVersionUpgrade === false) continue;
    const version = inputs[rule.field];
    pinned++;
    if (typeof version !== "string" || !rule.allowed.test(version)) {
      problems.push(
        `${r.type} "${r.name}" ${rule.field} ${JSON.stringify(version)} pins below what automatic minor upgrades move; pin ${rule.example}`,
      );
    }
  }
  return {
    name: "engine-version-pins",
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${pinned} engine version(s) of ${plan.stack} pin only what minor upgrades keep`,
  };
}
