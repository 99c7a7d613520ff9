import table from "../vendor/aws/cloudfront-origin-shield-regions.json";
import type { ProfileIssue } from "./errors";

/**
 * Origin Shield's Region for an origin in `region`, by AWS's own table (vendored with its source in
 * vendor/aws/cloudfront-origin-shield-regions.json): the same Region where CloudFront offers Origin
 * Shield, else the one AWS maps it to. Undefined for a Region the table does not list.
 */
export function originShieldRegionFor(region: string): string | undefined {
  if (table.offeredIn.includes(region)) return region;
  return (table.nearestFor as Record<string, string>)[region];
}

/** cdn.originShield in a Region the table does not map: refused by name, with both ways out. */
export function originShieldIssue(enabled: boolean, region: string): ProfileIssue | undefined {
  if (!enabled || originShieldRegionFor(region)) return undefined;
  return {
    path: "cdn.originShield",
    message: `AWS's Origin Shield table (vendor/aws/cloudfront-origin-shield-regions.json) has no Region for an origin in ${region}; set it false (pulumi config set --path 'uaip:cdn.originShield' false), or add ${region}'s row from the CloudFront Developer Guide's "Choosing the AWS Region for Origin Shield"`,
  };
}
