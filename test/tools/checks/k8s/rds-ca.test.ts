import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { Deployment } from "kubernetes-models/apps/v1";
import { ConfigMap } from "kubernetes-models/v1";
import {
  DB_SSL_CA_FILE_ENV,
  RDS_CA_BUNDLE_FILE,
  RDS_CA_FILE,
  rdsCaConfigMapManifest,
  readRdsCaBundle,
  withRdsCaBundle,
} from "../../../../components/k8s/rds-ca";
import { caCertificates, checkRdsCaBundle } from "../../../../tools/checks/k8s/rds-ca";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import { planFixture } from "./plan-fixture";

const dev = planFixture();
const clone = dev.clone;
const deployment = (rs: PlanResource[]) =>
  rs.find((r) => r.type === "kubernetes:apps/v1:Deployment")! as PlanResource & { inputs: any };
/** The runtime ConfigMap the first Deployment reads its env from (UAIP_DB_SSL_CA_FILE comes from PlatformEndpoints.dbSslCaFile). */
const runtimeConfigMap = (rs: PlanResource[]) => {
  const d = deployment(rs);
  const name = d.inputs.spec.template.spec.containers[0].envFrom.find((e: any) => e.configMapRef).configMapRef.name;
  return rs.find(
    (r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.inputs as any).metadata.name === name,
  )! as PlanResource & { inputs: any };
};

describe("vendored RDS CA bundle", () => {
  const pem = readRdsCaBundle();
  const certs = caCertificates(pem);

  it("is the file vendor/README.md names (sha256) and only self-signed Amazon RDS root CAs", () => {
    expect(createHash("sha256").update(readFileSync(RDS_CA_BUNDLE_FILE)).digest("hex")).toBe(
      "05c6b4a9bf4daa95c888711481e19cc8e2e11aed4de8db759f51f4a6fce64917",
    );
    expect(certs).toHaveLength(102);
    for (const c of certs) {
      expect(c.subject).toMatch(/O=Amazon Web Services\\, Inc\.\nOU=Amazon RDS\n/);
      expect(c.issuer).toBe(c.subject);
      expect(c.checkIssued(c)).toBe(true);
    }
  });

  it("has the RSA2048, RSA4096 and ECC384 roots of the plan's region (us-east-1), valid today and for years", () => {
    const region = certs.filter((c) => /CN=Amazon RDS us-east-1 Root CA/.test(c.subject));
    expect(region.map((c) => /Root CA (\S+) G1/.exec(c.subject)![1]).sort()).toEqual(["ECC384", "RSA2048", "RSA4096"]);
    for (const c of region) expect(new Date(c.validTo).getTime()).toBeGreaterThan(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  });

  it("loads as a TLS trust store (what node-postgres hands to tls.connect as `ca`)", () => {
    expect(() => createSecureContext({ ca: pem })).not.toThrow();
  });
});

describe("RDS CA mount", () => {
  const base = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "a" },
    spec: {
      selector: { matchLabels: { a: "a" } },
      template: {
        metadata: { labels: { a: "a" } },
        spec: {
          containers: [
            { name: "a", image: "a:1", env: [{ name: "X", value: "1" }], volumeMounts: [{ name: "tmp", mountPath: "/tmp" }] },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
    },
  };

  it("adds the read-only mount at RDS_CA_FILE, keeping what was there; both objects pass the Kubernetes schema", () => {
    const out = withRdsCaBundle(base as any) as any;
    const c = out.spec.template.spec.containers[0];
    // UAIP_DB_SSL_CA_FILE is not set here: it comes from the runtime ConfigMap (one source).
    expect(c.env).toEqual([{ name: "X", value: "1" }]);
    expect(RDS_CA_FILE).toBe("/etc/uaip/rds-ca/global-bundle.pem");
    expect(c.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "rds-ca", mountPath: "/etc/uaip/rds-ca", readOnly: true },
    ]);
    expect(out.spec.template.spec.volumes.at(-1)).toEqual({
      name: "rds-ca",
      configMap: { name: "rds-ca", items: [{ key: "global-bundle.pem", path: "global-bundle.pem" }] },
    });
    expect(() => new Deployment(out).validate()).not.toThrow();
    expect(() => new ConfigMap(rdsCaConfigMapManifest("uaip") as any).validate()).not.toThrow();
    expect(base.spec.template.spec.containers[0].volumeMounts).toHaveLength(1); // the input is not mutated
  });

  it("one rds-ca ConfigMap in the plan; the migration Job mounts it at the same path and waits for it", () => {
    const cms = dev.plan.resources.filter(
      (r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.inputs as any).metadata.name === "rds-ca",
    );
    expect(cms).toHaveLength(1);
    const jobs = dev.plan.resources.filter((r) => r.type === "kubernetes:batch/v1:Job") as (PlanResource & { inputs: any })[];
    expect(jobs).toHaveLength(1);
    const pod = jobs[0].inputs.spec.template.spec;
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "rds-ca", mountPath: "/etc/uaip/rds-ca", readOnly: true }]);
    expect(pod.volumes).toEqual([
      { name: "rds-ca", configMap: { name: "rds-ca", items: [{ key: "global-bundle.pem", path: "global-bundle.pem" }] } },
    ]);
    expect(jobs[0].dependsOn).toContain(cms[0].urn);
    for (const d of dev.plan.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment"))
      expect(d.dependsOn).toContain(cms[0].urn);
    expect(runtimeConfigMap(dev.plan.resources).inputs.data[DB_SSL_CA_FILE_ENV]).toBe(RDS_CA_FILE);
  });

  it("every service Deployment of the dev plan verifies RDS against the bundle", () => {
    expect(checkRdsCaBundle(dev.plan.resources)).toMatchObject({
      ok: true,
      detail: expect.stringContaining("3 PostgreSQL clients"),
    });
  });

  it.each([
    [
      "no UAIP_DB_SSL_CA_FILE (the defect before the fix)",
      (rs: PlanResource[]) => delete runtimeConfigMap(rs).inputs.data[DB_SSL_CA_FILE_ENV],
      "has no UAIP_DB_SSL_CA_FILE",
    ],
    [
      "the file not mounted",
      (rs: PlanResource[]) => (deployment(rs).inputs.spec.template.spec.containers[0].volumeMounts = []),
      "is not a file mounted from a ConfigMap",
    ],
    [
      "a path that misses the mounted key",
      (rs: PlanResource[]) => (runtimeConfigMap(rs).inputs.data[DB_SSL_CA_FILE_ENV] = "/etc/uaip/rds-ca/bundle.pem"),
      "is not a file mounted from a ConfigMap",
    ],
    [
      "an env entry overriding the ConfigMap with a wrong path",
      (rs: PlanResource[]) =>
        deployment(rs).inputs.spec.template.spec.containers[0].env.push({ name: DB_SSL_CA_FILE_ENV, value: "/etc/ssl/rds.pem" }),
      "is not a file mounted from a ConfigMap",
    ],
  ])("catches %s", (_label, mutate, message) => {
    const rs = clone();
    mutate(rs);
    expect(checkRdsCaBundle(rs)).toMatchObject({ ok: false, detail: expect.stringContaining(message) });
  });

  it("catches a bundle without RDS roots", () => {
    const rs = clone();
    const cm = rs.find((r) => r.name === "uaip-services-rds-ca")! as any;
    cm.inputs.data["global-bundle.pem"] = "";
    expect(checkRdsCaBundle(rs)).toMatchObject({ ok: false, detail: expect.stringContaining("holds no Amazon RDS root CA") });
  });
});
