import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  ADDON_SCHEMA_DIR,
  addonConfigProblems,
  checkEksAddonConfigurations,
  vendoredAddonSchemas,
} from "../../../tools/checks/eks-addon-config";
import type { PlanResource } from "../../../tools/checks/k8s/plan-resource";
import { planFixture } from "./k8s/plan-fixture";

const dev = planFixture("dev");
const schemas = vendoredAddonSchemas();
const vpcCni = schemas.get("vpc-cni")!;
// The keys the vendored schema itself allows at the top (read from the file, not from the checker).
const raw = JSON.parse(readFileSync(join(ADDON_SCHEMA_DIR, "vpc-cni.v1.15.1-eksbuild.1.schema.json"), "utf8"));
const TOP_KEYS = Object.keys(raw.definitions.VpcCni.properties as Record<string, unknown>);

const withVpcCni = (values: unknown): PlanResource[] =>
  dev
    .clone()
    .map((r) =>
      r.type === "aws:eks/addon:Addon" && r.inputs.addonName === "vpc-cni"
        ? { ...r, inputs: { ...r.inputs, configurationValues: JSON.stringify(values) } }
        : r,
    );

describe("EKS add-on configurationValues against the add-on's own schema", () => {
  it("the stack's vpc-cni configuration is within vpc-cni's schema; the plan says what it could not validate", () => {
    const check = dev.plan.checks.find((c) => c.name === "eks-addon-configuration")!;
    expect(check.ok).toBe(true);
    expect(check.detail).toContain("vpc-cni (v1.15.1-eksbuild.1 schema)");
    expect(check.detail).toMatch(/NOT validated, no add-on schema vendored: aws-ebs-csi-driver/);
  });

  it.each<[string, unknown, RegExp[]]>([
    [
      "a misspelt key",
      { enableNetworkPolicies: "true" },
      [/vpc-cni configurationValues enableNetworkPolicies: must NOT have additional properties/],
    ],
    ["a boolean EKS does not accept", { enableNetworkPolicy: "yes" }, [/enableNetworkPolicy: must match format "boolean"/]],
    ["a real boolean instead of EKS's string", { enableNetworkPolicy: true }, [/enableNetworkPolicy: must be string/]],
    [
      "an env variable the add-on does not take (the chart does), and a second bad key: both listed",
      {
        enableNetworkPolicy: "true",
        env: { POD_SECURITY_GROUP_ENFORCING_MODEE: "standard" },
        nodeAgent: { enablePolicyEventLogs: "1" },
      },
      [
        /env\.POD_SECURITY_GROUP_ENFORCING_MODEE: must NOT have additional properties/,
        /nodeAgent\.enablePolicyEventLogs: must match format "boolean"/,
      ],
    ],
  ])("fails the plan on %s, naming the key and the schema file", (_what, values, messages) => {
    const check = checkEksAddonConfigurations(withVpcCni(values), schemas);
    expect(check.ok).toBe(false);
    for (const m of messages) expect(check.detail).toMatch(m);
    expect(check.detail).toContain("vendor/aws/eks-addons/vpc-cni.v1.15.1-eksbuild.1.schema.json");
  });

  it("accepts what the schema defines, at its edges", () => {
    expect(
      addonConfigProblems("vpc-cni", JSON.stringify({ enableNetworkPolicy: "false", env: { WARM_IP_TARGET: "0" } }), vpcCni),
    ).toEqual([]);
    expect(addonConfigProblems("vpc-cni", JSON.stringify({ env: { WARM_IP_TARGET: "1.5" } }), vpcCni)).toHaveLength(1);
    expect(addonConfigProblems("vpc-cni", "{not json", vpcCni)[0]).toMatch(/not JSON/);
  });

  it("any top-level key is accepted exactly when the vendored schema lists it", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...TOP_KEYS), fc.stringMatching(/^[a-zA-Z]{1,20}$/)), (key) => {
        // A value of the right type for the listed keys is not the point here: only whether the key is known.
        const problems = addonConfigProblems("vpc-cni", JSON.stringify({ [key]: {} }), vpcCni);
        const unknown = problems.some((p) => p.includes(`configurationValues ${key}: must NOT have additional properties`));
        expect(unknown).toBe(!TOP_KEYS.includes(key));
      }),
    );
  });
});
