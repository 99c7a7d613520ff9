/**
 * The cost estimate of a planned stack under its profile: the profile's usage assumptions
 * (cost.assumptions), EKS's calendar for the cluster's version, the stack's region, and the
 * services' measured capacity (capacity/<service>.json) for the dollars-per-request report.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EC2_INSTANCE_CAPACITY, EKS_CALENDAR } from "../../profile/aws-catalog";
import { capacityFilePath, capacityFileSchema, type CapacityFile } from "../../profile/capacity-file";
import type { Profile } from "../../profile/schema";
import { supportPhase } from "../../profile/support-calendar";
import { estimateCost, type CostInput, type CostReport } from "./estimate";
import { requestCosts } from "./per-request";
import { loadSnapshot, type PriceSnapshot } from "./prices";

/** The repository root, where capacity/<service>.json live. */
export const REPO_ROOT = join(__dirname, "..", "..");

/** vCPUs of an EC2 instance type, from the vendored catalog (vendor/aws/ec2-instance-capacity.json), or undefined for a type it lacks. */
export function instanceVcpus(instanceType: string): number | undefined {
  return EC2_INSTANCE_CAPACITY.get(instanceType)?.vcpu;
}

/** Whether EKS bills `version` at the extended-support rate on `today`. */
export function eksExtendedSupportOn(today: string): (version: string) => boolean {
  return (version) => {
    const window = EKS_CALENDAR.releases.find((w) => w.cycle === version);
    return window !== undefined && supportPhase(window, today) === "extended";
  };
}

/**
 * The capacity files of `services`, parsed through the shared schema; a file that does not parse
 * is named with its first issues (the report says why the service has no per-request figure).
 */
export function readCapacityFiles(
  services: readonly string[],
  root = REPO_ROOT,
): { files: Map<string, CapacityFile>; errors: Map<string, string> } {
  const files = new Map<string, CapacityFile>();
  const errors = new Map<string, string>();
  for (const service of services) {
    const path = capacityFilePath(service);
    if (!existsSync(join(root, path))) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(root, path), "utf8"));
    } catch (err) {
      errors.set(service, `${path} is not JSON: ${(err as Error).message}`);
      continue;
    }
    const parsed = capacityFileSchema.safeParse(raw);
    if (parsed.success) files.set(service, parsed.data);
    else
      errors.set(
        service,
        `${path} does not match profile/capacity-file.ts: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
      );
  }
  return { files, errors };
}

export function costOfPlan(args: {
  stack: string;
  region: string;
  profile: Pick<Profile, "cost" | "services">;
  resources: CostInput["resources"];
  today: string;
  snapshot?: PriceSnapshot;
  /** Where capacity/<service>.json are read from (tests point it at fixtures). */
  capacityRoot?: string;
}): CostReport {
  const snapshot = args.snapshot ?? loadSnapshot();
  const report = estimateCost({
    stack: args.stack,
    region: args.region,
    resources: args.resources,
    assumptions: args.profile.cost.assumptions,
    eksExtendedSupport: eksExtendedSupportOn(args.today),
    snapshot,
    today: args.today,
  });
  const targeted = args.profile.services.filter((s) => s.targetRps !== undefined);
  if (targeted.length === 0) return report;
  const { files, errors } = readCapacityFiles(
    targeted.map((s) => s.name),
    args.capacityRoot,
  );
  const perRequest = requestCosts({
    report,
    services: targeted,
    capacity: files,
    capacityErrors: errors,
    vcpus: instanceVcpus,
  });
  return { ...report, perRequest };
}
