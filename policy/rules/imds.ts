import { isType } from "./match";
import type { ResourceRule } from "./types";

/**
 * Nodes require IMDSv2 tokens and a hop limit of 1 (Checkov CKV_AWS_341): with 2, any pod can
 * reach the node role's credentials through the metadata service. In-pod AWS clients then need
 * their region and IRSA credentials set explicitly (LB controller, EBS CSI).
 */
export const imdsV2HopLimit: ResourceRule = {
  kind: "resource",
  name: "imdsv2-hop-limit-1",
  description: "Launch templates and instances must require IMDSv2 tokens with httpPutResponseHopLimit 1.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance")) return [];
    const m = (r.props.metadataOptions ?? {}) as { httpTokens?: string; httpPutResponseHopLimit?: number; httpEndpoint?: string };
    if (m.httpEndpoint === "disabled") return [];
    const problems: string[] = [];
    if (m.httpTokens !== "required")
      problems.push(`metadataOptions.httpTokens is ${m.httpTokens ?? "unset (IMDSv1 allowed)"}; set "required"`);
    if (Number(m.httpPutResponseHopLimit) !== 1)
      problems.push(
        `metadataOptions.httpPutResponseHopLimit is ${m.httpPutResponseHopLimit ?? "unset"}; set 1 so pods cannot reach the node's credentials`,
      );
    return problems.map((p) => `${p}`);
  },
};
