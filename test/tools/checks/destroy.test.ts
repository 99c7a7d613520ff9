import fc from "fast-check";
import { parseConfig } from "../../../profile/parse";
import { deliberateRetentions } from "../../../profile/retentions";
import { checkDestroyLeftovers, destroyLeftovers } from "../../../tools/checks/destroy";
import type { PlanResource } from "../../../tools/checks/k8s/plan-resource";
import { planFixture } from "./k8s/plan-fixture";

const dev = planFixture("dev");
const prod = planFixture("prod");
const devRetentions = deliberateRetentions(parseConfig({ environment: "dev" }));
const prodRetentions = deliberateRetentions(parseConfig({ environment: "prod" }));

const kinds = (resources: PlanResource[]) => [...new Set(destroyLeftovers(resources).map((l) => l.kind))].sort();
const byType = (resources: PlanResource[], type: string) => resources.find((r) => r.type === type)!;

describe("what pulumi destroy leaves (plan check)", () => {
  it("dev: nothing but the database's final snapshot, which is deliberate", () => {
    expect(kinds(dev.plan.resources)).toEqual(["rds-final-snapshot"]);
    const check = dev.plan.checks.find((c) => c.name === "destroy-leaves-only-deliberate")!;
    expect(check.ok).toBe(true);
    // ECR deleted with its images, Prometheus' claims with their StatefulSet.
    expect(byType(dev.plan.resources, "aws:ecr/repository:Repository").inputs.forceDelete).toBe(true);
  });

  it("prod: exactly the deliberate retentions, each resource named", () => {
    expect(kinds(prod.plan.resources)).toEqual(
      [
        "alb-deletion-protection",
        "ebs-retained",
        "pvc-retained",
        "rds-deletion-protection",
        "rds-final-snapshot",
        "s3-retained",
      ].sort(),
    );
    expect(prodRetentions.map((r) => r.kind).sort()).toEqual(kinds(prod.plan.resources));
    const check = prod.plan.checks.find((c) => c.name === "destroy-leaves-only-deliberate")!;
    expect(check.ok).toBe(true);
    expect(check.detail).toContain("uaip-db-instance: RDS deletion protection");
  });

  it.each<[string, (r: PlanResource[]) => void, RegExp]>([
    [
      "an ECR repository without forceDelete",
      (r) => (byType(r, "aws:ecr/repository:Repository").inputs.forceDelete = false),
      /Repository uaip-services-.*-repo: ECR repository without forceDelete.*set forceDelete: true/,
    ],
    [
      "Prometheus' claims kept by the StatefulSet",
      (r) => {
        const release = r.find((x) => x.name === "uaip-monitoring-stack")!;
        delete (release.inputs as any).values.prometheus.prometheusSpec.persistentVolumeClaimRetentionPolicy;
      },
      /uaip-monitoring-stack: StatefulSet claims kept.*whenDeleted: Delete/,
    ],
    [
      "a StorageClass that retains its volumes",
      (r) => (byType(r, "kubernetes:storage.k8s.io/v1:StorageClass").inputs.reclaimPolicy = "Retain"),
      /uaip-storage-gp3: EBS volumes .* set monitoring\.retainVolumes false/,
    ],
    [
      "a protected resource",
      (r) => (byType(r, "aws:eks/cluster:Cluster").protect = true),
      /aws:eks\/cluster:Cluster .*: resource with protect/,
    ],
    [
      "a deletion-protected database the profile did not ask for",
      (r) => (byType(r, "aws:rds/instance:Instance").inputs.deletionProtection = true),
      /RDS instance with deletion protection.*set database\.deletionProtection false/,
    ],
  ])("dev fails on %s, naming the resource and the fix", (_what, mutate, message) => {
    const resources = dev.clone();
    mutate(resources);
    const check = checkDestroyLeftovers(resources, devRetentions);
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(message);
  });

  it("prod fails when a promised retention is not in the plan", () => {
    const resources = prod.clone();
    byType(resources, "kubernetes:storage.k8s.io/v1:StorageClass").inputs.reclaimPolicy = "Delete";
    const check = checkDestroyLeftovers(resources, prodRetentions);
    expect(check).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/monitoring\.retainVolumes\) is promised but no planned resource keeps it/),
    });
  });

  it("each resource rule holds on both sides of its setting, for any combination", () => {
    const bool = fc.option(fc.boolean(), { nil: undefined });
    fc.assert(
      fc.property(bool, bool, bool, bool, fc.constantFrom("Retain", "Delete", undefined), (a, b, retain, protect, reclaim) => {
        const at = (type: string, inputs: Record<string, unknown>): PlanResource => ({
          urn: `urn:${type}`,
          type,
          name: "x",
          parent: "",
          dependsOn: [],
          inputs,
          ...(retain ? { retainOnDelete: true } : {}),
          ...(protect ? { protect: true } : {}),
        });
        const rds = kinds([at("aws:rds/instance:Instance", { deletionProtection: a, skipFinalSnapshot: b })]);
        expect(rds.includes("rds-deletion-protection")).toBe(a === true);
        expect(rds.includes("rds-final-snapshot")).toBe(b !== true);
        const ecr = kinds([at("aws:ecr/repository:Repository", { forceDelete: a })]);
        expect(ecr).toEqual(
          [
            ...(retain ? ["ecr-retained"] : a === true ? [] : ["ecr-not-emptied"]),
            ...(protect && !retain ? ["protected"] : []),
          ].sort(),
        );
        const sc = kinds([at("kubernetes:storage.k8s.io/v1:StorageClass", { reclaimPolicy: reclaim })]);
        expect(sc.includes("ebs-retained")).toBe(reclaim === "Retain");
        expect(sc.includes("protected")).toBe(protect === true);
        expect(sc.includes("retained")).toBe(retain === true);
      }),
    );
  });
});
