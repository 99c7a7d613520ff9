import fc from "fast-check";
import { parseConfig } from "../../profile/parse";
import { deliberateRetentions, LEFTOVER_KINDS } from "../../profile/retentions";
import type { Profile } from "../../profile/schema";

/** The three keys that decide a retention, each a boolean of the profile. */
const SETTINGS = ["database.deletionProtection", "loadBalancer.deletionProtection", "monitoring.retainVolumes"] as const;

const read = (p: unknown, path: string): unknown => path.split(".").reduce((o, key) => (o as Record<string, unknown>)[key], p);

describe("deliberateRetentions", () => {
  let base: Profile;
  beforeAll(() => {
    base = parseConfig({ environment: "dev" });
  });
  const withSettings = (on: readonly boolean[]) => {
    const p = structuredClone(base);
    SETTINGS.forEach((path, i) => {
      const [section, key] = path.split(".") as [string, string];
      (p as unknown as Record<string, Record<string, boolean>>)[section]![key] = on[i]!;
    });
    return p;
  };

  it("each retention is a known kind, says what stays and why, and is listed exactly when the key it names is on", () => {
    fc.assert(
      fc.property(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), (on) => {
        const p = withSettings(on);
        const retentions = deliberateRetentions(p);
        for (const r of retentions) {
          expect(Object.keys(LEFTOVER_KINDS)).toContain(r.kind);
          expect(r.what.length).toBeGreaterThan(10);
          expect(r.why.length).toBeGreaterThan(10);
          expect(r.setting === "always" || read(p, r.setting) === true).toBe(true);
        }
        // Each setting that is on brings its own retentions (two kinds for the ALB and for the volumes), off brings none.
        SETTINGS.forEach((setting, i) =>
          expect(retentions.filter((r) => r.setting === setting).length).toBe(on[i] ? (i === 0 ? 1 : 2) : 0),
        );
        expect(retentions.filter((r) => r.setting === "always").map((r) => r.kind)).toEqual(["rds-final-snapshot"]);
        // No kind twice: the destroy check matches each leftover to one promise.
        expect(new Set(retentions.map((r) => r.kind)).size).toBe(retentions.length);
      }),
      { numRuns: 16 },
    );
  });

  it("the kinds follow what the setting keeps: deletion protection, the ALB's log bucket, the EBS volumes and their claims", () => {
    const kinds = (on: boolean[]) => deliberateRetentions(withSettings(on)).map((r) => r.kind);
    expect(kinds([true, false, false])).toEqual(["rds-final-snapshot", "rds-deletion-protection"]);
    expect(kinds([false, true, false])).toEqual(["rds-final-snapshot", "alb-deletion-protection", "s3-retained"]);
    expect(kinds([false, false, true])).toEqual(["rds-final-snapshot", "ebs-retained", "pvc-retained"]);
  });
});
