/**
 * Physical names that AWS requires to be unique per account and region.
 *
 * Parameter groups are replaced (not updated) when their family changes, e.g. redis7 -> valkey8
 * or postgres16 -> postgres17. Pulumi replaces create-before-delete, so a fixed physical name
 * would make the new group collide with the old one ("already exists"). Putting the family in
 * the name makes the new group's name differ from the old one exactly when a replacement is
 * needed, while keeping a stable, readable name otherwise (random suffixes would hide which
 * family a group belongs to in the console).
 */
export function familyScopedName(base: string, family: string, maxLength = 255): string {
  const suffix = `-${slug(family)}`;
  let head = slug(base);
  if (!/^[a-z]/.test(head)) head = `g-${head}`;
  // A slug has no run of hyphens, so a cut leaves at most one at its end.
  head = head.slice(0, Math.max(1, maxLength - suffix.length)).replace(/-$/, "");
  return `${head}${suffix}`;
}

/**
 * A name part as AWS's physical names take it: lowercase letters and digits, each run of anything else one hyphen,
 * none at either end ("Team_A.staging" -> "team-a-staging"). After the runs are folded, an end has at most one hyphen.
 */
export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/**
 * A DNS-1123 label (lowercase letters, digits and '-', starting with a letter and ending with a
 * letter or digit): what a service name must be, as a Kubernetes object name, an ALB path and a
 * metric label value. The length limits differ per use and are checked where they apply.
 */
export const DNS_1123_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
