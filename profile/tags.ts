/** Tags every UAIP resource carries; a component's `args.tags` win on conflicts. */
export const defaultTags: Readonly<Record<string, string>> = Object.freeze({
  project: "uaip",
  "managed-by": "pulumi",
});

/** `{ ...defaultTags, ...tags }`: the caller wins, so a stack can override e.g. `project`. */
export function mergeTags(tags: Record<string, string> | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return { ...defaultTags, ...extra, ...tags };
}
