import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { EBS_CSI_ADDON_VERSION } from "../../../components/aws/storage";
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
const vpcCni = schemas.get("vpc-cni")!.at(-1)!;
const ebs = schemas.get("aws-ebs-csi-driver")!.at(-1)!;
// The keys each vendored schema itself allows (read from the files, not from the checker).
const readSchema = (file: string) => JSON.parse(readFileSync(join(ADDON_SCHEMA_DIR, file), "utf8"));
const TOP_KEYS = Object.keys(readSchema("vpc-cni.v1.15.1-eksbuild.1.schema.json").definitions.VpcCni.properties);
const EBS_FILE = `aws-ebs-csi-driver.${EBS_CSI_ADDON_VERSION}.schema.json`;
const EBS_CONTROLLER_KEYS = Object.keys(readSchema(EBS_FILE).properties.controller.properties);

/** The dev plan with one add-on's inputs changed. */
const withAddon = (addonName: string, inputs: Record<string, unknown>): PlanResource[] =>
  dev
    .clone()
    .map((r) =>
      r.type === "aws:eks/addon:Addon" && r.inputs.addonName === addonName ? { ...r, inputs: { ...r.inputs, ...inputs } } : r,
    );
const withVpcCni = (values: unknown) => withAddon("vpc-cni", { configurationValues: JSON.stringify(values) });
const withEbs = (values: unknown) => withAddon("aws-ebs-csi-driver", { configurationValues: JSON.stringify(values) });
const ebsProblems = (values: unknown) => addonConfigProblems("aws-ebs-csi-driver", JSON.stringify(values), ebs);

describe("EKS add-on configurationValues against the add-on's own schema", () => {
  it("the stack's add-on configurations are within their schemas: EBS CSI's at its pinned version", () => {
    const check = dev.plan.checks.find((c) => c.name === "eks-addon-configuration")!;
    expect(check.ok).toBe(true);
    expect(check.detail).toContain("vpc-cni (v1.15.1-eksbuild.1 schema; version not pinned");
    expect(check.detail).toContain(`aws-ebs-csi-driver (${EBS_CSI_ADDON_VERSION} schema, the pinned version)`);
    expect(check.detail).not.toContain("NOT validated");
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

  it.each<[string, unknown, RegExp[]]>([
    [
      "the chart's controller.region (in the Helm chart's schema, in no add-on schema)",
      { controller: { region: "us-east-1" } },
      [/aws-ebs-csi-driver configurationValues controller\.region: must NOT have additional properties \(EKS refuses/],
    ],
    [
      "env written as a map, and an unknown top-level key: both listed",
      { controller: { env: { AWS_REGION: "us-east-1" } }, sidecar: {} },
      [/controller\.env: must be array/, /configurationValues sidecar: must NOT have additional properties/],
    ],
  ])("fails the plan on the EBS CSI add-on's %s, with the schema file to fix it against", (_what, values, messages) => {
    const check = checkEksAddonConfigurations(withEbs(values), schemas);
    expect(check.ok).toBe(false);
    for (const m of messages) expect(check.detail).toMatch(m);
    expect(check.detail).toContain(
      `fix it against vendor/aws/eks-addons/${EBS_FILE} (aws-ebs-csi-driver ${EBS_CSI_ADDON_VERSION})`,
    );
  });

  it("accepts what the schemas define, at their edges", () => {
    expect(
      addonConfigProblems("vpc-cni", JSON.stringify({ enableNetworkPolicy: "false", env: { WARM_IP_TARGET: "0" } }), vpcCni),
    ).toEqual([]);
    expect(addonConfigProblems("vpc-cni", JSON.stringify({ env: { WARM_IP_TARGET: "1.5" } }), vpcCni)).toHaveLength(1);
    expect(addonConfigProblems("vpc-cni", "{not json", vpcCni)[0]).toMatch(/not JSON/);
    // EBS CSI: replicaCount has minimum 1, node.volumeAttachLimit minimum 0 (both sides of each).
    expect(ebsProblems({ controller: { replicaCount: 1 }, node: { volumeAttachLimit: 0 } })).toEqual([]);
    expect(ebsProblems({ controller: { replicaCount: 0 } })).toEqual([
      expect.stringMatching(/controller\.replicaCount: must be >= 1/),
    ]);
    expect(ebsProblems({ node: { volumeAttachLimit: -1 } })).toEqual([
      expect.stringMatching(/node\.volumeAttachLimit: must be >= 0/),
    ]);
    expect(ebsProblems({ controller: { loggingFormat: "xml" } })).toEqual([
      expect.stringMatching(/controller\.loggingFormat: must be equal to one of the allowed values/),
    ]);
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

  it("any EBS CSI controller key is accepted exactly when the vendored schema lists it", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...EBS_CONTROLLER_KEYS, "region"), fc.stringMatching(/^[a-zA-Z]{1,20}$/)), (key) => {
        const problems = ebsProblems({ controller: { [key]: null } });
        const unknown = problems.some((p) => p.includes(`controller.${key}: must NOT have additional properties`));
        expect(unknown).toBe(!EBS_CONTROLLER_KEYS.includes(key));
      }),
    );
  });

  it("a pinned add-on version is validated against that version's schema only: any other pin fails, naming the command", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(EBS_CSI_ADDON_VERSION), fc.stringMatching(/^v1\.\d{1,2}\.\d-eksbuild\.\d$/)),
        (addonVersion) => {
          const check = checkEksAddonConfigurations(withAddon("aws-ebs-csi-driver", { addonVersion }), schemas);
          expect(check.ok).toBe(addonVersion === EBS_CSI_ADDON_VERSION);
          if (!check.ok)
            expect(check.detail).toContain(
              `aws-ebs-csi-driver pins addonVersion ${addonVersion}, whose add-on schema is not vendored (vendored: ${EBS_CSI_ADDON_VERSION}); vendor it (aws eks describe-addon-configuration --addon-name aws-ebs-csi-driver --addon-version ${addonVersion} `,
            );
        },
      ),
      { numRuns: 30 },
    );
  });

  it("an add-on with configuration but no vendored schema passes, named as NOT validated", () => {
    const check = checkEksAddonConfigurations(withAddon("aws-ebs-csi-driver", { addonName: "coredns" }), schemas);
    expect(check.ok).toBe(true);
    expect(check.detail).toMatch(
      /NOT validated, no add-on schema vendored: coredns \(vendor it: aws eks describe-addon-configuration/,
    );
  });
});
