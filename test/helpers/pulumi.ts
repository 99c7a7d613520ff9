import * as pulumi from "@pulumi/pulumi";
import { installMocks, unwrapSecrets, type PlatformMocks, type RecordedResource } from "../../tools/mocks";

/**
 * Component tests: call `setupMocks()` in `beforeAll`, then `await import(...)` the component,
 * so that Pulumi is in mock mode before any resource module loads.
 */
export function setupMocks(stack = "test", config: Record<string, string> = {}): PlatformMocks {
  pulumi.runtime.setAllConfig(config);
  return installMocks("uaip", stack);
}

/** Resolves an Output (secrets included) to its plain value. */
export function promiseOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** True if the Output is marked secret. */
export const isSecret = pulumi.isSecret;

/** Lets pending registrations reach the mocks (resources register asynchronously). */
export function settle(ms = 50): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The recorded resources of one type, with secret wrappers removed from their inputs. */
export function resourcesOfType(mocks: PlatformMocks, type: string): RecordedResource[] {
  return mocks.resources
    .filter((r) => r.type === type)
    .map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs) as Record<string, unknown> }));
}
