import fc from "fast-check";
import { originShieldIssue, originShieldRegionFor } from "../../profile/origin-shield";
import table from "../../vendor/aws/cloudfront-origin-shield-regions.json";

// Expectations read from the vendored AWS table itself, row by row.
const offered = table.offeredIn;
const mapped = Object.entries(table.nearestFor as Record<string, string>);
const unlisted = fc
  .stringMatching(/^[a-z]{2}-[a-z]{4,9}-[1-9]$/)
  .filter((r) => !offered.includes(r) && !Object.hasOwn(table.nearestFor, r));

describe("originShieldRegionFor", () => {
  it("a Region that offers Origin Shield uses itself; every other listed Region the one AWS names for it", () => {
    for (const region of offered) expect(originShieldRegionFor(region)).toBe(region);
    for (const [region, shield] of mapped) {
      expect(originShieldRegionFor(region)).toBe(shield);
      // AWS's table maps only to Regions that offer it.
      expect(offered).toContain(shield);
    }
  });

  it("a Region the table does not list has none", () => {
    fc.assert(fc.property(unlisted, (region) => expect(originShieldRegionFor(region)).toBeUndefined()));
  });
});

describe("originShieldIssue", () => {
  it("enabled in an unlisted Region: refused on cdn.originShield naming the Region and both ways out", () => {
    fc.assert(
      fc.property(unlisted, (region) => {
        const issue = originShieldIssue(true, region)!;
        expect(issue.path).toBe("cdn.originShield");
        expect(issue.message).toContain(`no Region for an origin in ${region}; set it false`);
        expect(issue.message).toContain("pulumi config set --path 'uaip:cdn.originShield' false");
        expect(issue.message).toContain(`or add ${region}'s row`);
        expect(originShieldIssue(false, region)).toBeUndefined();
      }),
      { numRuns: 30 },
    );
  });

  it("any listed Region passes, enabled or not", () => {
    for (const region of [...offered, ...mapped.map(([r]) => r)])
      for (const enabled of [true, false]) expect(originShieldIssue(enabled, region)).toBeUndefined();
  });
});
