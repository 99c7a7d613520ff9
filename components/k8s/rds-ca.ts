import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { types } from "@pulumi/kubernetes";
import { StackError } from "../../profile/errors";
import { PART_OF } from "./workload-spec";

/**
 * The Amazon RDS CA bundle for the pods: node-postgres verifies the server certificate (chain and
 * host name, libpq's sslmode=verify-full) only against CAs it is given, and RDS certificates are
 * not signed by a public CA. The bundle (vendor/rds-ca/global-bundle.pem, every region's RDS
 * root CAs; see vendor/README.md) ships as one ConfigMap, `rds-ca`, in the services' namespace,
 * mounted read-only into every service pod and into the migration Job (db-migration.ts). The
 * services find it through UAIP_DB_SSL_CA_FILE in their runtime ConfigMap
 * (PlatformEndpoints.dbSslCaFile = RDS_CA_FILE); the Job through sslrootcert in its URL.
 * These constants are the only place the names and the path are spelled.
 */
export const RDS_CA_BUNDLE_FILE = join(__dirname, "..", "..", "vendor", "rds-ca", "global-bundle.pem");
export const RDS_CA_CONFIGMAP = "rds-ca";
export const RDS_CA_KEY = "global-bundle.pem";
export const RDS_CA_MOUNT_DIR = "/etc/uaip/rds-ca";
/** Where the bundle is inside a pod that mounts it. */
export const RDS_CA_FILE = `${RDS_CA_MOUNT_DIR}/${RDS_CA_KEY}`;
/** The runtime's env variable naming the CA file its PostgreSQL pool verifies RDS against. */
export const DB_SSL_CA_FILE_ENV = "UAIP_DB_SSL_CA_FILE";
const VOLUME = "rds-ca";

/** The vendored bundle is missing or holds no certificate. */
export class RdsCaBundleError extends StackError {
  static readonly CODE = "UAIP_RDS_CA_BUNDLE_INVALID";
  constructor(file: string) {
    super(RdsCaBundleError.CODE, `${file} holds no PEM certificate; restore it from vendor/README.md's source`);
  }
}

export function readRdsCaBundle(file = RDS_CA_BUNDLE_FILE): string {
  const pem = readFileSync(file, "utf8");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new RdsCaBundleError(file);
  return pem;
}

export function rdsCaConfigMapManifest(namespace: string, pem = readRdsCaBundle()): types.input.core.v1.ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: RDS_CA_CONFIGMAP, namespace, labels: { "app.kubernetes.io/part-of": PART_OF } },
    data: { [RDS_CA_KEY]: pem },
  };
}

/** The pod volume that holds the bundle (only its one key, at RDS_CA_KEY). */
export function rdsCaVolume(configMapName = RDS_CA_CONFIGMAP): types.input.core.v1.Volume {
  return { name: VOLUME, configMap: { name: configMapName, items: [{ key: RDS_CA_KEY, path: RDS_CA_KEY }] } };
}

/** The container mount that puts the bundle at RDS_CA_FILE. */
export function rdsCaVolumeMount(): types.input.core.v1.VolumeMount {
  return { name: VOLUME, mountPath: RDS_CA_MOUNT_DIR, readOnly: true };
}

/**
 * The Deployment with the bundle mounted into every container at RDS_CA_FILE. UAIP_DB_SSL_CA_FILE
 * comes from the service's runtime ConfigMap (PlatformEndpoints.dbSslCaFile); the plan check
 * postgres-tls:rds-ca verifies that the two line up.
 */
export function withRdsCaBundle(deployment: types.input.apps.v1.Deployment): types.input.apps.v1.Deployment {
  const spec = deployment.spec as types.input.apps.v1.DeploymentSpec;
  const template = spec.template as types.input.core.v1.PodTemplateSpec;
  const pod = template.spec as types.input.core.v1.PodSpec;
  const containers = (pod.containers as types.input.core.v1.Container[]).map((c) => ({
    ...c,
    volumeMounts: [...((c.volumeMounts as types.input.core.v1.VolumeMount[] | undefined) ?? []), rdsCaVolumeMount()],
  }));
  const volumes = [...((pod.volumes as types.input.core.v1.Volume[] | undefined) ?? []), rdsCaVolume()];
  return { ...deployment, spec: { ...spec, template: { ...template, spec: { ...pod, containers, volumes } } } };
}
