import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AWS_NAME_RULES } from "../../../../components/aws/provider-rules/aws-name-rules";
import { checkNameLimits, physicalNames } from "../../../../components/aws/provider-rules/physical-names";
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

describe("auto-names at the exact limit, with pulumi-aws's real suffix", () => {
  // pulumi-aws appends "-" and 7 random hex characters to the logical name (tfbridge AutoName): 8 characters. A
  // target group name may be 32 characters (aws-name-limits.json), so the longest logical name that fits is 24.
  const SUFFIX = 1 + 7;
  const TARGET_GROUP_MAX = AWS_LIMITS.types["aws:lb/targetGroup:TargetGroup"].max as number;
  const plan = (logicalName: string) => ({
    stack: "dev",
    resources: [{ type: "aws:lb/targetGroup:TargetGroup", name: logicalName, inputs: { port: 3001 } }],
  });

  it("a logical name of 32 - 8 = 24 passes; 25 (33 with the suffix) is refused, naming the overflow", () => {
    const longest = TARGET_GROUP_MAX - SUFFIX;
    expect(longest).toBe(24);
    const fits = checkNameLimits(plan("t".repeat(longest)));
    expect(fits).toMatchObject({ name: "aws-name-limits", ok: true });
    const over = checkNameLimits(plan("t".repeat(longest + 1)));
    expect(over.ok).toBe(false);
    expect(over.detail).toContain(`(${longest + 1 + SUFFIX} > ${TARGET_GROUP_MAX}`);
    expect(over.detail).toContain("shorten the logical name by 1");
  });

  it("the auto-name shown is the logical name plus exactly 8 characters", () => {
    const [n] = physicalNames(plan("svc").resources);
    expect(n).toMatchObject({ autoNamed: true, logicalName: "svc" });
    expect(n.value).toMatch(/^svc-[a-z0-9]{7}$/);
  });

  it("an explicit name is held to AWS's limit itself: 32 passes, 33 is refused", () => {
    const named = (length: number) => ({
      stack: "dev",
      resources: [{ type: "aws:lb/targetGroup:TargetGroup", name: "tg", inputs: { name: "n".repeat(length) } }],
    });
    expect(checkNameLimits(named(TARGET_GROUP_MAX)).ok).toBe(true);
    expect(checkNameLimits(named(TARGET_GROUP_MAX + 1)).ok).toBe(false);
  });
});
