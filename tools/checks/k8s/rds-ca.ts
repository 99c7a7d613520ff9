import { X509Certificate } from "node:crypto";
import type { Check } from "../../../profile/checks";
import { DB_SSL_CA_FILE_ENV } from "../../../components/k8s/rds-ca";
import { configMapData, kubernetesKind, type PlanResource } from "./plan-resource";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The certificates of a PEM bundle that are CAs (X509Certificate refuses anything malformed). */
export function caCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .map((c) => new X509Certificate(c))
    .filter((c) => c.ca);
}

/**
 * Every pod that talks TLS to PostgreSQL (UAIP_DB_SSL=true in its runtime ConfigMap) can verify
 * the RDS certificate: UAIP_DB_SSL_CA_FILE (its env or its runtime ConfigMap) names a file that a volume mounts from a ConfigMap of
 * the plan holding Amazon RDS root CAs. Without it node-postgres cannot verify (verify-full) and
 * either refuses to connect or, worse, someone turns verification off.
 */
export function checkRdsCaBundle(resources: PlanResource[]): Check {
  const name = "postgres-tls:rds-ca";
  const configMaps = configMapData(resources);
  const problems: string[] = [];
  let checked = 0;
  for (const r of resources.filter((x) => kubernetesKind(x)?.kind === "Deployment")) {
    const i = r.inputs as Obj;
    const ns = i.metadata?.namespace ?? "default";
    const pod = i.spec?.template?.spec ?? {};
    for (const c of (pod.containers ?? []) as Obj[]) {
      const fromConfigMaps = ((c.envFrom ?? []) as Obj[])
        .filter((e) => e.configMapRef)
        .map((e) => configMaps.get(`${ns}/${e.configMapRef.name}`) ?? {});
      if (!fromConfigMaps.some((data) => data.UAIP_DB_SSL === "true")) continue;
      checked++;
      const at = `Deployment "${r.name}" container ${c.name}`;
      // An explicit env entry wins over envFrom, and a later envFrom source over an earlier one.
      const fromEnv = ((c.env ?? []) as Obj[]).find((e) => e.name === DB_SSL_CA_FILE_ENV)?.value as string | undefined;
      const file =
        fromEnv ??
        (fromConfigMaps
          .map((data) => data[DB_SSL_CA_FILE_ENV])
          .filter((v) => typeof v === "string" && v !== "")
          .at(-1) as string | undefined);
      if (!file) {
        problems.push(
          `${at} connects to PostgreSQL with TLS but has no ${DB_SSL_CA_FILE_ENV} (neither in env nor in its ConfigMaps); set PlatformEndpoints.dbSslCaFile to RDS_CA_FILE and mount the bundle (components/k8s/rds-ca.ts withRdsCaBundle)`,
        );
        continue;
      }
      const mount = ((c.volumeMounts ?? []) as Obj[]).find((m) => file.startsWith(`${m.mountPath}/`));
      const volume = mount && ((pod.volumes ?? []) as Obj[]).find((v) => v.name === mount.name);
      const relative = mount ? file.slice(mount.mountPath.length + 1) : "";
      const item = volume?.configMap?.items
        ? (volume.configMap.items as Obj[]).find((it) => it.path === relative)
        : { key: relative };
      const data = volume?.configMap && configMaps.get(`${ns}/${volume.configMap.name}`);
      const pem = item && data ? data[item.key] : undefined;
      if (typeof pem !== "string") {
        problems.push(
          `${at}: ${DB_SSL_CA_FILE_ENV}=${file} is not a file mounted from a ConfigMap of the plan (mount, volume, item and key must line up)`,
        );
        continue;
      }
      let rdsRoots: number;
      try {
        rdsRoots = caCertificates(pem).filter((cert) => /Amazon RDS/.test(cert.subject) && cert.subject === cert.issuer).length;
      } catch (err) {
        problems.push(`${at}: ${file} holds a malformed certificate (${(err as Error).message})`);
        continue;
      }
      if (rdsRoots === 0)
        problems.push(
          `${at}: ${file} holds no Amazon RDS root CA; vendor the RDS global bundle (vendor/rds-ca/global-bundle.pem)`,
        );
    }
  }
  if (problems.length) return { name, ok: false, detail: problems.join("; ") };
  return {
    name,
    ok: true,
    detail: checked
      ? `${checked} PostgreSQL clients verify RDS against the mounted CA bundle (${DB_SSL_CA_FILE_ENV})`
      : "no PostgreSQL TLS client in this plan",
  };
}
