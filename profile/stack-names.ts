import { createHash } from "node:crypto";
import { ComponentArgsError } from "./errors";
import { slug } from "./naming";

/**
 * Physical names of the resources AWS wants unique per account and region, scoped per stack so a
 * second stack (staging next to dev) never collides with the first. Short and explicit where
 * pulumi-aws's auto-name (logical name + "-" + 7 characters) would not fit AWS's limit.
 */

/** AWS's limit for target group and load balancer names. */
export const ELB_NAME_MAX = 32;
/** Hex characters of the hash that keeps a target group's name unique per stack and port. */
const TARGET_GROUP_HASH_LENGTH = 6;
/** Longest service name whose target group name fits: 32 − "-" − 6 hex. */
export const MAX_SERVICE_NAME_FOR_TARGET_GROUP = ELB_NAME_MAX - 1 - TARGET_GROUP_HASH_LENGTH;

/** `<project>-<stack>`: the prefix of every stack-scoped physical name, e.g. "uaip-dev". */
export function stackScope(project: string, stack: string): string {
  return `${slug(project)}-${slug(stack)}`;
}

/**
 * The ALB's name: the stack scope. AWS allows 32 characters; the stack name is what the user
 * controls, so a long one fails here naming the stack and how long it may be.
 */
export function loadBalancerName(project: string, stack: string): string {
  const name = stackScope(project, stack);
  if (name.length > ELB_NAME_MAX) {
    throw new ComponentArgsError(
      "stack",
      `the load balancer is named after the stack ("${name}", ${name.length} characters) and AWS allows ${ELB_NAME_MAX}; use a stack name of at most ${ELB_NAME_MAX - slug(project).length - 1} characters`,
    );
  }
  return name;
}

/**
 * A target group's name: `<service>-<hash of stack scope, port>`. The hash scopes it per stack;
 * the port is in it because a port change replaces the target group, and Pulumi creates the new
 * one before deleting the old: a fixed name would clash ("already exists").
 */
export function targetGroupName(scope: string, service: string, port: number): string {
  if (service.length > MAX_SERVICE_NAME_FOR_TARGET_GROUP) {
    throw new ComponentArgsError(
      "services[].name",
      `"${service}" (${service.length} characters) is too long for its ALB target group name (AWS allows ${ELB_NAME_MAX}: the service name + "-" + ${TARGET_GROUP_HASH_LENGTH} hash characters); use at most ${MAX_SERVICE_NAME_FOR_TARGET_GROUP} characters`,
    );
  }
  const hash = createHash("sha256").update(`${scope}:${port}`).digest("hex").slice(0, TARGET_GROUP_HASH_LENGTH);
  return `${service}-${hash}`;
}
