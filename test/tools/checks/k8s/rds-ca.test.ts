import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { Deployment } from "kubernetes-models/apps/v1";
import { ConfigMap } from "kubernetes-models/v1";
import { DB_SSL_CA_FILE_ENV, RDS_CA_BUNDLE_FILE, RDS_CA_PATH, rdsCaConfigMapManifest, readRdsCaBundle, withRdsCaBundle } from "../../../../components/k8s/rds-ca";
import { caCertificates, checkRdsCaBundle } from "../../../../tools/checks/k8s/rds-ca";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";
import type { PlanJson } from "../../../../tools/plan";
import { runPlan } from "../../../helpers/plan";

let plan: PlanJson;
beforeAll(async () => {
  const run = await runPlan(["--stack", "dev"]);
  expect(run.code).toBe(0);
  plan = run.json!;
}, 60_000);

const clone = (): PlanResource[] => structuredClone(plan.resources);
const deployment = (rs: PlanResource[]) => rs.find((r) => r.type === "kubernetes:apps/v1:Deployment")! as PlanResource & { inputs: any };

describe("vendored RDS CA bundle", () => {
  const pem = readRdsCaBundle();
  const certs = caCertificates(pem);

  it("is the file vendor/README.md names (sha256) and only self-signed Amazon RDS root CAs", () => {
    expect(createHash("sha256").update(readFileSync(RDS_CA_BUNDLE_FILE)).digest("hex")).toBe("05c6b4a9bf4daa95c888711481e19cc8e2e11aed4de8db759f51f4a6fce64917");
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
  const base = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" }, spec: { selector: { matchLabels: { a: "a" } }, template: { metadata: { labels: { a: "a" } }, spec: { containers: [{ name: "a", image: "a:1", env: [{ name: "X", value: "1" }], volumeMounts: [{ name: "tmp", mountPath: "/tmp" }] }], volumes: [{ name: "tmp", emptyDir: {} }] } } } };

  it("adds the read-only mount and the env variable, keeping what was there; both objects pass the Kubernetes schema", () => {
    const out = withRdsCaBundle(base as any) as any;
    const c = out.spec.template.spec.containers[0];
    expect(c.env).toEqual([{ name: "X", value: "1" }, { name: DB_SSL_CA_FILE_ENV, value: "/etc/uaip/rds-ca/global-bundle.pem" }]);
    expect(RDS_CA_PATH).toBe("/etc/uaip/rds-ca/global-bundle.pem");
    expect(c.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }, { name: "rds-ca", mountPath: "/etc/uaip/rds-ca", readOnly: true }]);
    expect(out.spec.template.spec.volumes.at(-1)).toEqual({ name: "rds-ca", configMap: { name: "rds-ca", items: [{ key: "global-bundle.pem", path: "global-bundle.pem" }] } });
    expect(() => new Deployment(out).validate()).not.toThrow();
    expect(() => new ConfigMap(rdsCaConfigMapManifest("uaip") as any).validate()).not.toThrow();
    expect((base.spec.template.spec.containers[0].env as unknown[]).length).toBe(1); // the input is not mutated
  });

  it("every service Deployment of the dev plan verifies RDS against the bundle", () => {
    expect(checkRdsCaBundle(plan.resources)).toMatchObject({ ok: true, detail: expect.stringContaining("3 PostgreSQL clients") });
  });

  it.each([
    ["no UAIP_DB_SSL_CA_FILE (the defect before the fix)", (d: any) => (d.inputs.spec.template.spec.containers[0].env = d.inputs.spec.template.spec.containers[0].env.filter((e: any) => e.name !== DB_SSL_CA_FILE_ENV)), "has no UAIP_DB_SSL_CA_FILE"],
    ["the file not mounted", (d: any) => (d.inputs.spec.template.spec.containers[0].volumeMounts = []), "is not a file mounted from a ConfigMap"],
    ["a path that misses the mounted key", (d: any) => (d.inputs.spec.template.spec.containers[0].env.find((e: any) => e.name === DB_SSL_CA_FILE_ENV).value = "/etc/uaip/rds-ca/bundle.pem"), "is not a file mounted from a ConfigMap"],
  ])("catches %s", (_label, mutate, message) => {
    const rs = clone();
    mutate(deployment(rs));
    expect(checkRdsCaBundle(rs)).toMatchObject({ ok: false, detail: expect.stringContaining(message) });
  });

  it("catches a bundle without RDS roots", () => {
    const rs = clone();
    const cm = rs.find((r) => r.name === "uaip-services-rds-ca")! as any;
    cm.inputs.data["global-bundle.pem"] = "";
    expect(checkRdsCaBundle(rs)).toMatchObject({ ok: false, detail: expect.stringContaining("holds no Amazon RDS root CA") });
  });
});
