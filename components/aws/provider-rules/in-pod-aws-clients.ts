import type { Check } from "../../../profile/checks";
import { inputsOf, type PlannedResource, type PlannedStack } from "./types";

/**
 * IMDS hop limit 1 keeps pods away from the node role's credentials (the node's IMDS answer
 * dies one hop short of a pod). Everything in a pod that calls AWS must then get its region and
 * its credentials elsewhere: IRSA for credentials, an explicit region (LBC#2231/#4307,
 * ebs-csi#2031). `aws-node` runs on the host network and is unaffected.
 */
export const REQUIRED_HOP_LIMIT = 1;

/** How each in-pod AWS client of the platform is told its region and its IRSA role. */
interface InPodClient {
  describe: string;
  matches(r: PlannedResource): boolean;
  region(r: PlannedResource): unknown;
  role(r: PlannedResource): unknown;
}

const ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";
/** Helm values and add-on configuration are free-form JSON; the clients below read known paths of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const values = (r: PlannedResource) => (inputsOf(r).values ?? {}) as Json;
const chart = (name: string) => (r: PlannedResource) => r.type === "kubernetes:helm.sh/v3:Release" && inputsOf(r).chart === name;
const parseJson = (v: unknown): Json => {
  try {
    return typeof v === "string" ? JSON.parse(v) : {};
  } catch {
    return {};
  }
};

export const IN_POD_AWS_CLIENTS: readonly InPodClient[] = [
  {
    describe: "aws-load-balancer-controller (values region/vpcId = --aws-region/--aws-vpc-id, serviceAccount role)",
    matches: chart("aws-load-balancer-controller"),
    region: (r) => values(r).region && values(r).vpcId,
    role: (r) => values(r).serviceAccount?.annotations?.[ROLE_ANNOTATION],
  },
  {
    describe: "cluster-autoscaler (values awsRegion, rbac.serviceAccount role)",
    matches: chart("cluster-autoscaler"),
    region: (r) => values(r).awsRegion,
    role: (r) => values(r).rbac?.serviceAccount?.annotations?.[ROLE_ANNOTATION],
  },
  {
    describe: "aws-ebs-csi-driver add-on (configurationValues controller.env AWS_REGION, serviceAccountRoleArn)",
    matches: (r) => r.type === "aws:eks/addon:Addon" && inputsOf(r).addonName === "aws-ebs-csi-driver",
    // The add-on's schema has no controller.region (the chart's); the region goes in as an env entry.
    region: (r) => {
      const env: unknown = parseJson(inputsOf(r).configurationValues).controller?.env;
      return Array.isArray(env) ? (env as Json[]).find((e) => e?.name === "AWS_REGION")?.value : undefined;
    },
    role: (r) => inputsOf(r).serviceAccountRoleArn,
  },
];

export function checkInPodAwsClients(plan: PlannedStack): Check {
  const problems: string[] = [];
  const templates = plan.resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate");
  for (const t of templates) {
    const hop = (inputsOf(t).metadataOptions as { httpPutResponseHopLimit?: number; httpTokens?: string } | undefined) ?? {};
    if (hop.httpPutResponseHopLimit !== REQUIRED_HOP_LIMIT)
      problems.push(
        `launch template ${t.name} sets IMDS hop limit ${hop.httpPutResponseHopLimit ?? "(AWS default)"}: pods could take the node role's credentials; set metadataOptions.httpPutResponseHopLimit ${REQUIRED_HOP_LIMIT}`,
      );
    if (hop.httpTokens !== "required")
      problems.push(`launch template ${t.name} allows IMDSv1; set metadataOptions.httpTokens "required"`);
  }
  let clients = 0;
  for (const client of IN_POD_AWS_CLIENTS) {
    for (const r of plan.resources.filter(client.matches)) {
      clients++;
      if (!client.region(r))
        problems.push(`${r.name}: ${client.describe} has no explicit region; with hop limit 1 it cannot ask IMDS`);
      if (!client.role(r))
        problems.push(`${r.name}: ${client.describe} has no IRSA role; with hop limit 1 it has no credentials`);
    }
  }
  return {
    name: "imds-hop-limit-and-in-pod-clients",
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${templates.length} launch template(s) with IMDSv2 hop limit ${REQUIRED_HOP_LIMIT}; ${clients} in-pod AWS client(s) each with a region and an IRSA role`,
  };
}
