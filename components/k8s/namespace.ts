import type { types } from "@pulumi/kubernetes";
import { PART_OF } from "./workload-spec";

/**
 * The label that makes the AWS Load Balancer Controller inject a readiness gate into every pod of
 * the namespace whose Service a TargetGroupBinding points at: a new pod counts as Ready only once
 * its ALB target is healthy, so a rolling update never removes old pods before the new ones get
 * traffic (without it, rolling updates drop requests).
 */
export const POD_READINESS_GATE_LABEL = { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" } as const;

/** The namespace the UAIP services share. */
export function servicesNamespaceManifest(name: string): types.input.core.v1.Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "app.kubernetes.io/part-of": PART_OF, ...POD_READINESS_GATE_LABEL } },
  };
}
