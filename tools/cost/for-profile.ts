/**
 * The cost estimate of a planned stack under its profile: the profile's usage assumptions
 * (cost.assumptions), EKS's calendar for the cluster's version, the stack's region.
 */
import { EKS_CALENDAR } from "../../profile/aws-catalog";
import type { Profile } from "../../profile/schema";
import { supportPhase } from "../../profile/support-calendar";
import { estimateCost, type CostInput, type CostReport } from "./estimate";
import { loadSnapshot, type PriceSnapshot } from "./prices";

/** Whether EKS bills `version` at the extended-support rate on `today`. */
export function eksExtendedSupportOn(today: string): (version: string) => boolean {
  return (version) => {
    const window = EKS_CALENDAR.releases.find((w) => w.cycle === version);
    return window !== undefined && supportPhase(window, today) === "extended";
  };
}

export function costOfPlan(args: {
  stack: string;
  region: string;
  profile: Pick<Profile, "cost">;
  resources: CostInput["resources"];
  today: string;
  snapshot?: PriceSnapshot;
}): CostReport {
  return estimateCost({
    stack: args.stack,
    region: args.region,
    resources: args.resources,
    assumptions: args.profile.cost.assumptions,
    eksExtendedSupport: eksExtendedSupportOn(args.today),
    snapshot: args.snapshot ?? loadSnapshot(),
    today: args.today,
  });
}
