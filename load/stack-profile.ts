/**
 * The parsed performance profile of a stack, read from its Pulumi.<stack>.yaml the way the
 * Pulumi CLI hands it to the program (project defaults applied, `secure:` values masked).
 * The load tooling needs the profile without running the Pulumi program.
 */
import { join } from "node:path";
import { SECRET_KEYS } from "../config";
import { parseConfig } from "../profile/parse";
import type { Profile } from "../profile/schema";
import { readStackConfig } from "../tools/stack-file";

export const REPO_ROOT = join(__dirname, "..");

export function stackProfile(stack: string, root = REPO_ROOT): Profile {
  const { project, config } = readStackConfig(root, stack);
  const prefix = `${project}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(prefix)) continue;
    if ((SECRET_KEYS as readonly string[]).includes(key.slice(prefix.length))) continue;
    try {
      raw[key.slice(prefix.length)] = JSON.parse(value);
    } catch {
      raw[key.slice(prefix.length)] = value;
    }
  }
  if (raw.environment === undefined || raw.environment === "") raw.environment = stack;
  return parseConfig(raw);
}
