/**
 * policy/rules/guard.ts: a rule that throws leaves a violation naming itself, under both runners (the offline plan's
 * `runRules` and the policy pack's validators), and the other rules still run. malformed-props.test.ts checks that
 * no rule throws on the shapes that crashed them; this is the backstop for a shape nobody foresaw.
 */
import { toPolicy } from "../../policy/policies";
import { RULES, runRules } from "../../policy/rules";
import type { PlannedResource, Rule } from "../../policy/rules";

describe("a rule that throws anyway", () => {
  const resource: PlannedResource = { type: "aws:s3/bucket:Bucket", name: "logs", urn: "urn:logs", props: {} };
  const nullProto = Object.create(null) as object;
  const throwing = (thrown: unknown): Rule[] => [
    {
      kind: "resource",
      name: "throws-per-resource",
      description: "",
      enforcementLevel: "mandatory",
      check: () => {
        throw thrown;
      },
    },
    {
      kind: "stack",
      name: "throws-per-stack",
      description: "",
      enforcementLevel: "advisory",
      check: () => {
        throw thrown;
      },
    },
  ];

  it("leaves one violation per resource and one for the stack, at the rule's level, naming the rule and the error", () => {
    for (const [thrown, text] of [
      [new TypeError("x is not iterable"), "TypeError: x is not iterable"],
      // Anything else as written (runtime/src/errors.ts' thrownText, shared with the runtime's own messages).
      ["plain string", '"plain string"'],
      [nullProto, "[Object: null prototype] {}"],
      [undefined, "undefined"],
    ] as const) {
      const violations = runRules([resource, { ...resource, name: "data", urn: "urn:data" }], throwing(thrown));
      expect(violations.map((v) => [v.rule, v.enforcementLevel, v.urn])).toEqual([
        ["throws-per-resource", "mandatory", "urn:logs"],
        ["throws-per-resource", "mandatory", "urn:data"],
        ["throws-per-stack", "advisory", ""],
      ]);
      expect(violations[0].message).toContain("rule throws-per-resource could not check aws:s3/bucket:Bucket logs");
      expect(violations[2].message).toContain("rule throws-per-stack could not check the stack");
      for (const v of violations) expect(v.message).toContain(`(${text})`);
    }
  });

  it("does not stop the rules after it", () => {
    const [perResource] = throwing(new Error("boom"));
    const s3Rules = RULES.filter((r) => r.name.startsWith("s3-"));
    const alone = runRules([resource], s3Rules);
    expect(alone.length).toBeGreaterThan(0);
    expect(runRules([resource], [perResource, ...s3Rules]).slice(1)).toEqual(alone);
  });

  it("under `pulumi preview` (the policy pack's validators) reports the same violation instead of throwing", () => {
    const [perResource, perStack] = throwing(new RangeError("bad"));
    const reported: unknown[][] = [];
    const report = (...args: unknown[]) => reported.push(args);
    const r = toPolicy(perResource) as unknown as { validateResource: (args: unknown, report: unknown) => void };
    const s = toPolicy(perStack) as unknown as { validateStack: (args: unknown, report: unknown) => void };
    r.validateResource(resource, report);
    s.validateStack({ resources: [resource] }, report);
    expect(reported).toEqual([
      [expect.stringContaining("rule throws-per-resource could not check aws:s3/bucket:Bucket logs (RangeError: bad)")],
      [expect.stringContaining("rule throws-per-stack could not check the stack (RangeError: bad)"), undefined],
    ]);
  });
});
