import * as pulumi from "@pulumi/pulumi";

/**
 * True under Pulumi mocks (the offline plan, the unit tests), false under the real engine
 * (`pulumi preview`, `pulumi up`). @pulumi/pulumi exports no predicate for this; its mock resource
 * monitor (runtime/mocks.ts, MockMonitor) is the one that carries the `mocks` it answers with.
 * A test pins that shape, so a Pulumi upgrade that changes it fails there, not in a real run.
 */
export function underMocks(): boolean {
  const monitor = pulumi.runtime.getMonitor() as { mocks?: unknown } | undefined;
  return monitor !== undefined && "mocks" in monitor;
}
