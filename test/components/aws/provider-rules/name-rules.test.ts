import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AWS_NAME_RULES } from "../../../../components/aws/provider-rules/aws-name-rules";
import { EKS_UNSUPPORTED_ZONE_IDS } from "../../../../components/aws/network";

const vendored = (file: string) =>
  JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "..", "vendor", "aws", file), "utf8"));
const AWS_LIMITS = vendored("aws-name-limits.json");
const PULUMI_AUTONAMING = vendored("pulumi-aws-autonaming.json");

describe("the name-rule table agrees with the vendored upstream rules", () => {
  const rows = Object.entries(AWS_NAME_RULES).flatMap(([type, rules]) => rules.map((rule, i) => [type, i, rule] as const));

  it.each(rows)("%s rule %i: AWS's limit", (type, i, rule) => {
    const limit = AWS_LIMITS.types[i === 0 ? type : `${type}#${rule.field}`];
    expect({ field: limit.field, max: limit.max }).toEqual({ field: rule.field, max: rule.awsMax });
  });

  it.each(rows.filter(([, , rule]) => rule.autoNameMax !== undefined))(
    "%s rule %i: pulumi-aws's auto-name cap and case",
    (type, _i, rule) => {
      const auto = PULUMI_AUTONAMING.types[type];
      expect({ field: auto.field, maxLength: auto.maxLength, lowercase: auto.lowercase ?? false }).toEqual({
        field: rule.field,
        maxLength: rule.autoNameMax,
        lowercase: rule.autoNameLowercase ?? false,
      });
    },
  );

  it("every vendored type has a rule (nothing vendored is unused)", () => {
    expect(Object.keys(PULUMI_AUTONAMING.types).filter((t) => !AWS_NAME_RULES[t])).toEqual([]);
    expect(
      Object.keys(AWS_LIMITS.types)
        .map((k) => k.split("#")[0])
        .filter((t) => !AWS_NAME_RULES[t!]),
    ).toEqual([]);
  });

  it("the AZ filter excludes exactly the zone ids EKS documents as unsupported", () => {
    expect([...EKS_UNSUPPORTED_ZONE_IDS]).toEqual(AWS_LIMITS.eksUnsupportedZoneIds.ids);
  });
});
