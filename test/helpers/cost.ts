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
