import { isKind, isType, recordsIn, UNKNOWN } from "./match";
import type { ResourceRule } from "./types";

/** The tag of an image reference; undefined when it has none (Kubernetes then pulls :latest). */
export function imageTag(image: string): { tag?: string; digest: boolean } {
  if (image.includes("@")) return { digest: true };
  const lastSegment = image.slice(image.lastIndexOf("/") + 1); // a registry port ("host:5000/") is not a tag
  const colon = lastSegment.indexOf(":");
  return { tag: colon >= 0 ? lastSegment.slice(colon + 1) : undefined, digest: false };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped JSON here
function podSpecOf(kind: string, props: Record<string, any>): Record<string, any> | undefined {
  if (kind === "Pod") return props.spec;
  if (kind === "CronJob") return props.spec?.jobTemplate?.spec?.template?.spec;
  return props.spec?.template?.spec;
}

const WORKLOADS = [
  "apps:Deployment",
  "apps:StatefulSet",
  "apps:DaemonSet",
  "apps:ReplicaSet",
  "batch:Job",
  "batch:CronJob",
  "core:Pod",
];

function unpinned(image: unknown): string | undefined {
  if (typeof image !== "string" || image === UNKNOWN) return undefined; // unknown during preview (built image)
  const { tag, digest } = imageTag(image);
  return digest || (tag && tag !== "latest") ? undefined : `${image}${tag ? "" : " (no tag = latest)"}`;
}

/**
 * Workloads pin their images: `:latest` (or no tag) makes a rollout pull whatever was pushed
 * last. Kubernetes workloads, and the local stack's Docker containers and pulled images.
 */
export const noLatestImages: ResourceRule = {
  kind: "resource",
  name: "images-not-latest",
  description: "Kubernetes workloads and Docker containers/images must use an explicit tag other than latest, or a digest.",
  enforcementLevel: "mandatory",
  check(r) {
    if (isType(r, "docker:index/container:Container", "docker:index/remoteImage:RemoteImage")) {
      const bad = unpinned(r.props.image ?? r.props.name);
      return bad ? [`uses ${bad}; pin a version tag or a digest`] : [];
    }
    if (!isKind(r, ...WORKLOADS)) return [];
    const kind = r.type.slice(r.type.lastIndexOf(":") + 1);
    const spec = podSpecOf(kind, r.props);
    const containers = [spec?.initContainers, spec?.containers].flatMap((list) =>
      recordsIn<{ name?: string; image?: unknown }>(list),
    );
    return containers.flatMap((c) => {
      const bad = unpinned(c.image);
      return bad ? [`container ${c.name ?? "?"} uses ${bad}; pin a version tag or a digest`] : [];
    });
  },
};
