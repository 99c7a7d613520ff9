import type { Check } from "../../../profile/checks";
import { StackError } from "../../../profile/errors";
import { inputsOf, type PlannedResource, type PlannedStack } from "./types";

/**
 * Every AWS API call the runtime makes, the IAM action it needs, and the ConfigMap settings that
 * turn it on and name its resource. `awsCallsInSource` scans the runtime's source so a new SDK
 * call without an entry here fails its test.
 */
export interface RuntimeAwsCall {
  /** `@aws-sdk/client-<client>`. */
  client: string;
  /** SDK command without the "Command" suffix. */
  command: string;
  /** IAM action it needs. */
  action: string;
  /** Env var (ConfigMap key) that must be "true" for the runtime to make the call. */
  enabledBy: string;
  /** Env var holding the id of the resource the call acts on. */
  resourceIdFrom: string;
  /** Plan type of that resource (the role's policy must name its ARN). */
  resourceType: string;
}

export const RUNTIME_AWS_CALLS: readonly RuntimeAwsCall[] = [
  {
    client: "cloudfront",
    command: "CreateInvalidation",
    action: "cloudfront:CreateInvalidation",
    enabledBy: "UAIP_CDN_ENABLED",
    resourceIdFrom: "UAIP_CDN_DISTRIBUTION_ID",
    resourceType: "aws:cloudfront/distribution:Distribution",
  },
];

/** `{ client, command }` of every AWS SDK v3 command a source file sends. */
export function awsCallsInSource(source: string): { client: string; command: string }[] {
  const clients = [...source.matchAll(/["']@aws-sdk\/client-([a-z0-9-]+)["']/g)].map((m) => m[1]!);
  if (clients.length === 0) return [];
  const commands = [...new Set([...source.matchAll(/\b([A-Z][A-Za-z0-9]+)Command\b/g)].map((m) => m[1]!))];
  const client = [...new Set(clients)];
  if (client.length > 1)
    throw new StackError(
      "UAIP_RUNTIME_AWS_CLIENTS_MIXED",
      `awsCallsInSource: one SDK client per file expected, found ${client.join(", ")}; put each client's calls in its own file so each call maps to one IAM service`,
    );
  return commands.map((command) => ({ client: client[0]!, command }));
}

const ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

/** An offline plan records references as the mock's id ("<name>-id") or ARN (ending in the logical name). */
function refersTo(value: unknown, target: PlannedResource): boolean {
  return (
    typeof value === "string" &&
    (value === `${target.name}-id` ||
      value === target.name ||
      value.endsWith(`:${target.name}`) ||
      value.endsWith(`/${target.name}`))
  );
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

function statements(doc: unknown): Statement[] {
  try {
    const parsed = typeof doc === "string" ? JSON.parse(doc) : doc;
    const s = (parsed as { Statement?: Statement | Statement[] })?.Statement;
    return Array.isArray(s) ? s : s ? [s] : [];
  } catch {
    return [];
  }
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const metadata = (r: PlannedResource) =>
  (inputsOf(r).metadata ?? {}) as {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };

/**
 * For every UAIP service whose ConfigMap turns on a runtime AWS call: its ServiceAccount carries
 * an IRSA role; the role trusts exactly that ServiceAccount; its policies allow the call's action
 * on the ARN of the resource the ConfigMap names, and allow nothing the runtime doesn't call.
 */
export function checkRuntimePermissions(plan: PlannedStack, calls: readonly RuntimeAwsCall[] = RUNTIME_AWS_CALLS): Check {
  const byType = (type: string) => plan.resources.filter((r) => r.type === type);
  const configMaps = byType("kubernetes:core/v1:ConfigMap").filter(
    (r) => metadata(r).labels?.["app.kubernetes.io/component"] === "api",
  );
  const problems: string[] = [];
  let granted = 0;
  for (const cm of configMaps) {
    const data = (inputsOf(cm).data ?? {}) as Record<string, string>;
    const service = metadata(cm).labels?.["app.kubernetes.io/name"] ?? cm.name;
    const needed = calls.filter((c) => data[c.enabledBy] === "true");
    if (needed.length === 0) continue;
    const sa = byType("kubernetes:core/v1:ServiceAccount").find(
      (r) => metadata(r).namespace === metadata(cm).namespace && metadata(r).labels?.["app.kubernetes.io/name"] === service,
    );
    const roleArn = sa ? metadata(sa).annotations?.[ROLE_ANNOTATION] : undefined;
    const role = byType("aws:iam/role:Role").find((r) => refersTo(roleArn, r));
    if (!sa || !role) {
      problems.push(
        `service ${service} calls ${needed.map((c) => c.action).join(", ")} but its ServiceAccount has no ${ROLE_ANNOTATION} annotation naming a role of the plan; give it an IRSA role`,
      );
      continue;
    }
    // The SDK needs a region before it signs anything; with IMDS hop limit 1 it cannot look it up.
    if (!data.AWS_REGION)
      problems.push(
        `service ${service} calls AWS but its ConfigMap sets no AWS_REGION; with IMDS hop limit 1 the SDK cannot find one`,
      );
    const subject = `system:serviceaccount:${metadata(sa).namespace}:${metadata(sa).name}`;
    const trusted = statements(inputsOf(role).assumeRolePolicy).some(
      (s) =>
        s.Effect === "Allow" &&
        list(s.Action).includes("sts:AssumeRoleWithWebIdentity") &&
        Object.entries(s.Condition?.StringEquals ?? {}).some(
          ([k, v]) => k.endsWith(":sub") && list(v).length === 1 && list(v)[0] === subject,
        ),
    );
    if (!trusted) problems.push(`role ${role.name} of service ${service} does not trust exactly ${subject} (IRSA sub condition)`);
    if (byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").some((a) => refersTo(inputsOf(a).role, role))) {
      problems.push(
        `role ${role.name} of service ${service} has a managed policy attached; grant only the runtime's calls inline`,
      );
    }
    const allows = byType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => refersTo(inputsOf(p).role, role))
      .flatMap((p) => statements(inputsOf(p).policy))
      .filter((s) => s.Effect === "Allow");
    for (const call of needed) {
      const target = byType(call.resourceType).find((r) => refersTo(data[call.resourceIdFrom], r));
      if (!target) {
        problems.push(
          `service ${service}: ${call.resourceIdFrom}=${JSON.stringify(data[call.resourceIdFrom])} names no ${call.resourceType} of the plan`,
        );
        continue;
      }
      const ok = allows.some(
        (s) =>
          list(s.Action).includes(call.action) &&
          list(s.Resource).length > 0 &&
          list(s.Resource).every((res) => refersTo(res, target)),
      );
      if (ok) granted++;
      else
        problems.push(
          `service ${service} calls ${call.action} on ${target.name}, but role ${role.name} does not allow exactly that action on that resource's ARN`,
        );
    }
    const allowedActions = new Set(needed.map((c) => c.action));
    const extra = [...new Set(allows.flatMap((s) => list(s.Action)).filter((a) => !allowedActions.has(a)))];
    if (extra.length)
      problems.push(
        `role ${role.name} of service ${service} also allows ${extra.join(", ")}, which the runtime never calls; remove them`,
      );
  }
  return {
    name: "runtime-iam-permissions",
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${granted} runtime AWS call(s) of ${plan.stack} granted to the calling service's own role, nothing more`,
  };
}
