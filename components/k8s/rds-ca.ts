import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { types } from "@pulumi/kubernetes";

/**
 * The Amazon RDS CA bundle for the pods: node-postgres verifies the server certificate (chain and
 * host name, libpq's sslmode=verify-full) only against CAs it is given, and RDS certificates are
 * not signed by a public CA. The bundle (vendor/rds-ca/global-bundle.pem, every region's RDS
 * root CAs; see vendor/README.md) ships as a ConfigMap mounted read-only into every service pod,
 * and UAIP_DB_SSL_CA_FILE tells the runtime's pool where it is.
 */
export const RDS_CA_BUNDLE_FILE = join(__dirname, "..", "..", "vendor", "rds-ca", "global-bundle.pem");
export const RDS_CA_CONFIGMAP = "rds-ca";
export const RDS_CA_KEY = "global-bundle.pem";
export const RDS_CA_MOUNT_DIR = "/etc/uaip/rds-ca";
export const RDS_CA_PATH = `${RDS_CA_MOUNT_DIR}/${RDS_CA_KEY}`;
/** The runtime's env variable naming the CA file its PostgreSQL pool verifies RDS against. */
export const DB_SSL_CA_FILE_ENV = "UAIP_DB_SSL_CA_FILE";
const VOLUME = "rds-ca";

export function readRdsCaBundle(file = RDS_CA_BUNDLE_FILE): string {
  const pem = readFileSync(file, "utf8");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${file} holds no PEM certificate; restore it from vendor/README.md's source`);
  return pem;
}

export function rdsCaConfigMapManifest(namespace: string, pem = readRdsCaBundle()): types.input.core.v1.ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: RDS_CA_CONFIGMAP, namespace, labels: { "app.kubernetes.io/part-of": "uaip" } },
    data: { [RDS_CA_KEY]: pem },
  };
}

/** The Deployment with the bundle mounted into every container and UAIP_DB_SSL_CA_FILE pointing at it. */
export function withRdsCaBundle(deployment: types.input.apps.v1.Deployment): types.input.apps.v1.Deployment {
  const spec = deployment.spec as types.input.apps.v1.DeploymentSpec;
  const template = spec.template as types.input.core.v1.PodTemplateSpec;
  const pod = template.spec as types.input.core.v1.PodSpec;
  const containers = (pod.containers as types.input.core.v1.Container[]).map((c) => ({
    ...c,
    env: [...((c.env as types.input.core.v1.EnvVar[] | undefined) ?? []), { name: DB_SSL_CA_FILE_ENV, value: RDS_CA_PATH }],
    volumeMounts: [...((c.volumeMounts as types.input.core.v1.VolumeMount[] | undefined) ?? []), { name: VOLUME, mountPath: RDS_CA_MOUNT_DIR, readOnly: true }],
  }));
  const volumes = [...((pod.volumes as types.input.core.v1.Volume[] | undefined) ?? []), { name: VOLUME, configMap: { name: RDS_CA_CONFIGMAP, items: [{ key: RDS_CA_KEY, path: RDS_CA_KEY }] } }];
  return { ...deployment, spec: { ...spec, template: { ...template, spec: { ...pod, containers, volumes } } } };
}
