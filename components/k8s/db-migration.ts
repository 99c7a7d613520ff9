import * as k8s from "@pulumi/kubernetes";
import type * as types from "@pulumi/kubernetes/types";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { rolePasswordEnv } from "@uaip/runtime/db";
import { serviceConnectionLimit } from "../../profile/connection-arithmetic";
import { ComponentArgsError } from "../../profile/errors";
import { MIGRATION_JOB_RESOURCES } from "../../profile/system-pods";
import type { ServiceProfile } from "../../profile/schema";
import { RDS_CA_CONFIGMAP, RDS_CA_FILE, rdsCaVolume, rdsCaVolumeMount } from "./rds-ca";
import { PART_OF } from "./workload-spec";

/**
 * Per-service database roles and the migration Job.
 *
 * Each service logs in as its own role whose CONNECTION LIMIT is its slice of the connection
 * budget, pool.max × its pods during a rollout at hpa.max (serviceConnectionLimit, with the
 * Deployments' maxSurge): the number the `connection-budget` check adds up (plus the reserve)
 * against max_connections. The check proves the slices fit at plan time; the roles make
 * PostgreSQL enforce each slice at run time, so one service that scales past its profile (a
 * bigger pool, a hand-edited HPA) is refused its extra sessions instead of starving the others.
 * Only the migration Job holds the master password.
 */

/**
 * The migration CLI in the service image (examples/Dockerfile: WORKDIR /app, the packed runtime in
 * node_modules): plain `node`, no npm or TypeScript in the image. The Job and the local stack's
 * migration container both run it; the image test runs the same path.
 */
export const MIGRATE_COMMAND = ["node", "node_modules/@uaip/runtime/dist/db/migrate-cli.js"] as const;

/** The PostgreSQL role of a service: its name with `-` as `_` ("agent-intelligence" -> "agent_intelligence"). */
export function serviceDbRole(serviceName: string): string {
  const role = serviceName.replaceAll("-", "_");
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role))
    throw new ComponentArgsError(
      "DatabaseMigrationArgs.services",
      `service name "${serviceName}" does not make a PostgreSQL role name (got "${role}"); use lower-case letters, digits and -`,
    );
  return role;
}

export interface ServiceRoleSlice {
  service: string;
  role: string;
  /** pool.max × rolloutPods(hpa.max): the role's CONNECTION LIMIT and its term in the connection budget. */
  connectionLimit: number;
}

/** One role per service with its slice of the budget (the same serviceConnectionLimit connectionBudget() sums). */
export function serviceRoleSlices(services: readonly Pick<ServiceProfile, "name" | "pool" | "hpa">[]): ServiceRoleSlice[] {
  return services.map((s) => ({
    service: s.name,
    role: serviceDbRole(s.name),
    connectionLimit: serviceConnectionLimit(s.pool.max, s.hpa.max),
  }));
}

/** The CLI arguments that create or update the roles: `--role <role>:<limit>` each. */
export function migrationArgs(slices: readonly ServiceRoleSlice[]): string[] {
  return slices.flatMap((s) => ["--role", `${s.role}:${s.connectionLimit}`]);
}

/** postgres:// URL of the master user, verify-full against the RDS CA bundle when `tls`. */
export function masterUrl(db: {
  host: string;
  port: number;
  name: string;
  user: string;
  password: string;
  tls: boolean;
}): string {
  const base = `postgres://${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}@${db.host}:${db.port}/${encodeURIComponent(db.name)}`;
  return db.tls ? `${base}?sslmode=verify-full&sslrootcert=${encodeURIComponent(RDS_CA_FILE)}` : base;
}

export interface MigrationJobInput {
  name: string;
  namespace: pulumi.Input<string>;
  image: pulumi.Input<string>;
  command: string[];
  slices: readonly ServiceRoleSlice[];
  secretName: string;
  /** ConfigMap with the RDS CA bundle (global-bundle.pem), or undefined for no TLS. */
  caConfigMapName?: string;
}

/** The Kubernetes Job that runs the migrations and the role step. Pure. */
export function migrationJobManifest(input: MigrationJobInput): types.input.batch.v1.Job {
  const labels = {
    "app.kubernetes.io/name": input.name,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/component": "db-migration",
  };
  const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: input.secretName, key } } });
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      // Retries cover a database still starting; concurrent or repeated runs are safe (advisory lock, idempotent).
      backoffLimit: 6,
      activeDeadlineSeconds: 1_800,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          // UAIP_-prefixed service links would collide with nothing here, but keep the env exactly what we set.
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "migrate",
              image: input.image,
              command: input.command,
              args: migrationArgs(input.slices),
              env: [
                fromSecret("DATABASE_URL", "DATABASE_URL"),
                ...input.slices.map((s) => fromSecret(rolePasswordEnv(s.role), rolePasswordEnv(s.role))),
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              resources: { requests: { ...MIGRATION_JOB_RESOURCES.requests }, limits: { ...MIGRATION_JOB_RESOURCES.limits } },
              ...(input.caConfigMapName ? { volumeMounts: [rdsCaVolumeMount()] } : {}),
            },
          ],
          ...(input.caConfigMapName ? { volumes: [rdsCaVolume(input.caConfigMapName)] } : {}),
        },
      },
    },
  };
}

export interface DatabaseMigrationArgs {
  namespace: pulumi.Input<string>;
  /** Image holding @uaip/runtime and its migrations (any UAIP service image). */
  image: pulumi.Input<string>;
  /** The services whose roles to create, with their pool and HPA from the profile. */
  services: readonly Pick<ServiceProfile, "name" | "pool" | "hpa">[];
  /** The database and its master user; the master password goes only into this Job's Secret. */
  database: pulumi.Input<{ host: string; port: number; name: string; user: string }>;
  masterPassword: pulumi.Input<string>;
  /** Verify the server against the RDS CA bundle mounted from this ConfigMap (rds-ca.ts). @default "rds-ca" */
  caConfigMapName?: string;
  /** Resources the Job waits for: the CA ConfigMap it mounts, the NetworkPolicy that lets it reach PostgreSQL. @default [] */
  dependsOn?: pulumi.Resource[];
  /** Connect with TLS (RDS: always). @default true */
  tls?: boolean;
  /** The migration CLI inside the image. @default MIGRATE_COMMAND (the packaged CLI of the reference image) */
  command?: string[];
}

/**
 * The migration Job and the per-service passwords. The services' Deployments depend on `job`, and
 * Pulumi waits for a Job to complete, so no pod starts against a schema or role that is not there.
 */
export class DatabaseMigration extends pulumi.ComponentResource {
  /** Each service's own database password (a Pulumi secret), by service name. */
  public readonly passwords: Record<string, pulumi.Output<string>> = {};
  /** Each service's role, by service name. */
  public readonly roles: Record<string, string> = {};
  public readonly job: k8s.batch.v1.Job;

  constructor(name: string, args: DatabaseMigrationArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:DatabaseMigration", name, {}, opts);
    const child = { parent: this };
    const slices = serviceRoleSlices(args.services);
    const secretData: Record<string, pulumi.Input<string>> = {
      DATABASE_URL: pulumi
        .all([args.database, args.masterPassword])
        .apply(([db, password]) => masterUrl({ ...db, password, tls: args.tls ?? true })),
    };
    for (const s of slices) {
      const password = new random.RandomPassword(`${name}-${s.service}-password`, { length: 40, special: false }, child).result;
      this.passwords[s.service] = pulumi.secret(password);
      this.roles[s.service] = s.role;
      secretData[rolePasswordEnv(s.role)] = password;
    }
    const namespace = args.namespace;
    const secretName = `${name}-db-migration`;
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: secretName, namespace, labels: { "app.kubernetes.io/part-of": PART_OF } },
        type: "Opaque",
        stringData: pulumi.secret(secretData),
      },
      child,
    );
    const manifest = migrationJobManifest({
      name: `${name}-db-migrate`,
      namespace,
      image: args.image,
      command: args.command ?? [...MIGRATE_COMMAND],
      slices,
      secretName,
      caConfigMapName: (args.tls ?? true) ? (args.caConfigMapName ?? RDS_CA_CONFIGMAP) : undefined,
    });
    // A Job's pod template is immutable: a new image or new roles replace the Job, i.e. run it again.
    this.job = new k8s.batch.v1.Job(`${name}-job`, manifest, {
      ...child,
      dependsOn: [secret, ...(args.dependsOn ?? [])],
      deleteBeforeReplace: true,
    });
    this.registerOutputs({ roles: this.roles });
  }
}
