/** What the provider-rule checks read from a plan: the planned resources as the offline plan records them. */
export interface PlannedResource {
  type: string;
  /** Pulumi logical name (what auto-naming starts from). */
  name: string;
  urn?: string;
  parent?: string;
  inputs: unknown;
}

export interface PlannedStack {
  stack: string;
  resources: PlannedResource[];
}

export function inputsOf(r: PlannedResource): Record<string, unknown> {
  return (typeof r.inputs === "object" && r.inputs !== null ? r.inputs : {}) as Record<string, unknown>;
}
