import { isKind } from "./match";
import type { PlannedResource, StackRule } from "./types";

const namespaceOf = (r: PlannedResource): string => r.props.metadata?.namespace ?? "default";

/** HPAs by the workload they scale: `namespace/Kind/name` -> HPA. */
export function hpasByTarget(resources: PlannedResource[]): Map<string, PlannedResource> {
  const map = new Map<string, PlannedResource>();
  for (const hpa of resources.filter((r) => isKind(r, "autoscaling:HorizontalPodAutoscaler"))) {
    const target = hpa.props.spec?.scaleTargetRef;
    if (target?.name) map.set(`${namespaceOf(hpa)}/${target.kind ?? "Deployment"}/${target.name}`, hpa);
  }
  return map;
}

export const workloadKey = (r: PlannedResource, kind: string): string =>
  `${namespaceOf(r)}/${kind}/${r.props.metadata?.name ?? r.name}`;

/**
 * A Deployment an HPA owns leaves `replicas` unset: every `pulumi up` would otherwise reset the
 * replica count the HPA chose (a scale-down in the middle of a peak).
 */
export const noReplicasUnderHpa: StackRule = {
  kind: "stack",
  name: "no-replicas-under-hpa",
  description: "A Deployment or StatefulSet that an HPA scales must not set spec.replicas.",
  enforcementLevel: "mandatory",
  check(resources) {
    const hpas = hpasByTarget(resources);
    return resources.flatMap((r) => {
      const kind = isKind(r, "apps:Deployment") ? "Deployment" : isKind(r, "apps:StatefulSet") ? "StatefulSet" : undefined;
      if (!kind || r.props.spec?.replicas === undefined) return [];
      const hpa = hpas.get(workloadKey(r, kind));
      return hpa
        ? [
            {
              resource: r,
              message: `spec.replicas=${r.props.spec.replicas} while HPA ${hpa.props.metadata?.name ?? hpa.name} owns the replica count; remove replicas`,
            },
          ]
        : [];
    });
  },
};
