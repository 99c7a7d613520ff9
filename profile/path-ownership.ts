import { PROFILE_ADMIN_PATH } from "@uaip/runtime/profiler";
import { DEFAULT_EXEMPT_PATHS } from "@uaip/runtime/resources";
import type { ProfileIssue } from "./errors";
import type { Profile } from "./schema";

/**
 * Each URL path belongs to exactly one owner:
 * - a service's API: `/<service>` and `/<service>/*` (the ALB routes them, CloudFront caches them
 *   with the API policy: the origin's Cache-Control, cookies forwarded);
 * - CDN static: `cdn.staticPaths`, strict parts of a service's prefix (long TTLs, GET/HEAD only);
 * - the pod's own endpoints: health, readiness and metrics (`DEFAULT_EXEMPT_PATHS`) and the admin
 *   endpoint, answered by every pod and never routed publicly.
 * So a service may not be named after a pod-owned path's first segment (the ALB would route
 * `/metrics` to it: its metrics, public), and a static path may not cover a service's whole API
 * (POSTs refused at CloudFront, one user's GET served to all for a day).
 */
export const POD_OWNED_PATHS: readonly string[] = [...DEFAULT_EXEMPT_PATHS, PROFILE_ADMIN_PATH];

const firstSegment = (path: string) => path.split("/")[1] ?? "";

export function pathOwnershipIssues(p: Pick<Profile, "services" | "cdn">): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const reserved = new Map(POD_OWNED_PATHS.map((path) => [firstSegment(path), path]));
  p.services.forEach((s, i) => {
    const path = reserved.get(s.name);
    if (path)
      issues.push({
        path: `services[${i}].name`,
        message: `${JSON.stringify(s.name)} would route ${path} (every pod's own endpoint) publicly through the ALB as this service's API; pick another name`,
      });
  });
  p.cdn.staticPaths.forEach((pattern, i) => {
    const owner = p.services.find((s) => pattern.startsWith(`/${s.name}/`));
    if (!owner) return;
    // What follows the prefix must narrow it: a pattern made of wildcards and slashes only matches the whole API.
    const rest = pattern.slice(owner.name.length + 2);
    if (!/[^*?/]/.test(rest))
      issues.push({
        path: `cdn.staticPaths[${i}]`,
        message: `${JSON.stringify(pattern)} covers the whole API of ${owner.name} (/${owner.name}/*), which would be cached as static (POST refused, one user's GET served to everyone); give a part of it, e.g. "/${owner.name}/static/*"`,
      });
  });
  return issues;
}
