import { estimateCost, type CostInput, type CostReport } from "../../tools/cost/estimate";
import { loadSnapshot } from "../../tools/cost/prices";
import type { UsageAssumptions } from "../../tools/cost/resource-prices";

/**
 * Every usage assumption at zero: a cost test prices only what bills by the hour unless it sets a
 * usage itself. Typed as the profile's assumptions, so a new assumption key fails to compile here,
 * once, instead of in each test file.
 */
export const NO_USAGE: Readonly<UsageAssumptions> = {
  requestsPerMonth: 0,
  gbOutPerMonth: 0,
  logGbPerMonth: 0,
  natGbPerMonth: 0,
  s3GbStored: 0,
  s3PutRequestsPerMonth: 0,
  ecrGbStored: 0,
  ciBuildMinutesPerMonth: 0,
  cacheGbStored: 0,
  cacheEcpuPerRequest: 0,
};

/** The day cost tests price on: the snapshot's prices are no older than 90 days then. */
export const COST_TODAY = "2026-12-06";

/**
 * A cost test's estimate of hand-built resources: the test stack in us-east-1 at the committed
 * snapshot's prices on COST_TODAY, no usage and no EKS extended support unless `over` says so.
 */
export function testEstimate(resources: CostInput["resources"], over: Partial<CostInput> = {}): CostReport {
  return estimateCost({
    stack: "test",
    region: "us-east-1",
    resources,
    assumptions: NO_USAGE,
    eksExtendedSupport: () => false,
    snapshot: loadSnapshot(),
    today: COST_TODAY,
    ...over,
  });
}
