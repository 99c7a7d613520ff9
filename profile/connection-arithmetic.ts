/**
 * The connection-budget arithmetic, in one place: the plan's check (profile/checks.ts, from the
 * profile), the roles' CONNECTION LIMIT (components/k8s/db-migration.ts) and the policy pack's rule
 * (policy/rules/connection-budget.ts, from the planned resources) all call these functions, so they
 * cannot disagree. No imports: the policy pack compiles on its own.
 *
 * max_connections is shared by four kinds of users:
 * - the server's own reservations (`serverReserved`): PostgreSQL keeps `superuser_reserved_connections`
 *   (default 3) and RDS adds `rds.rds_superuser_reserved_connections` (default 2), whatever the
 *   parameter group says, so the pools can never use those;
 * - the profile's `database.reservedConnections` (`opsReserved`): admins, psql sessions, monitoring;
 * - one-off clients outside any pool (`others`): the migration Job, which runs again on every image
 *   change while the old pods still serve at full scale;
 * - the services' pools: Σ pool size × the most pods that hold one at once, which is during a
 *   rolling update at full scale: hpa.max + maxSurge (`rolloutPods`).
 */

/** PostgreSQL's and RDS's superuser reservations with their defaults (RDS PostgreSQL has both). */
export const POSTGRES_RESERVED_DEFAULTS: Readonly<Record<string, number>> = {
  superuser_reserved_connections: 3,
  "rds.rds_superuser_reserved_connections": 2,
};

/** Only PostgreSQL's own reservation (a plain PostgreSQL server, e.g. the local stack's). */
export const PLAIN_POSTGRES_RESERVED: Readonly<Record<string, number>> = { superuser_reserved_connections: 3 };

/**
 * The services' Deployments roll with this maxSurge (components/k8s/workload-spec.ts sets it from
 * here), and the budget counts it: one value, so the manifest and the arithmetic cannot drift.
 */
export const ROLLOUT_MAX_SURGE = "25%";
/** What Kubernetes uses when a Deployment's RollingUpdate sets no maxSurge. */
export const KUBERNETES_DEFAULT_MAX_SURGE = "25%";

/**
 * Connections the migration Job holds: runMigrations (runtime/src/db/migrate.ts) opens one pg
 * Client, and the Job runs one pod at a time (no `parallelism`), a retry only after the last failed.
 */
export const MIGRATION_JOB_CONNECTIONS = 1;

/** A Deployment's maxSurge as Kubernetes takes it: a whole number of pods, or a whole percentage ("25%"). */
export type MaxSurge = number | string;

/**
 * The extra pods a rolling update may add to `replicas`, as Kubernetes computes it: an integer as
 * is, a percentage of replicas rounded up (a string is always a percentage). undefined when
 * `maxSurge` is neither (the API server would refuse it).
 */
export function surgePods(replicas: number, maxSurge: MaxSurge): number | undefined {
  if (typeof maxSurge === "number") return Number.isInteger(maxSurge) && maxSurge >= 0 ? maxSurge : undefined;
  const percent = /^(\d+)%$/.exec(maxSurge);
  if (!percent) return undefined;
  // Integers only: percent × replicas / 100 is exact when it is whole, so ceil never rounds a whole number up.
  return Math.ceil((Number(percent[1]) * replicas) / 100);
}

/**
 * The most pods of a Deployment at once: during a rolling update at `replicas`, replicas + the
 * surge (ceil(replicas × (1 + maxSurge)) for a percentage). Throws on a maxSurge Kubernetes refuses.
 */
export function rolloutPods(replicas: number, maxSurge: MaxSurge = ROLLOUT_MAX_SURGE): number {
  const surge = surgePods(replicas, maxSurge);
  if (surge === undefined)
    throw new RangeError(`maxSurge ${JSON.stringify(maxSurge)}: expected a whole number or a whole percentage like "25%"`);
  return replicas + surge;
}

/**
 * A service's slice of the budget and its role's CONNECTION LIMIT: pool.max × its pods during a
 * rollout at hpa.max. The limit must hold the surge pods too, or PostgreSQL refuses them, they fail
 * readiness and the rollout stalls at peak load.
 */
export function serviceConnectionLimit(poolMax: number, hpaMax: number, maxSurge: MaxSurge = ROLLOUT_MAX_SURGE): number {
  return poolMax * rolloutPods(hpaMax, maxSurge);
}

export interface PoolTerm {
  name: string;
  poolMax: number;
  /** The most pods that hold this pool at once (rolloutPods of hpa.max for a Deployment with an HPA). */
  replicas: number;
}

/** A client outside the pools (the migration Job): its connections while it runs. */
export interface OtherTerm {
  name: string;
  connections: number;
}

export interface ConnectionArithmetic {
  /** Σ poolMax × replicas. */
  pooled: number;
  /** Σ of the other clients' connections. */
  others: number;
  /** Σ of the server's reservations. */
  serverReserved: number;
  opsReserved: number;
  /** What max_connections must be at least: pooled + others + opsReserved + serverReserved. */
  required: number;
  /** What the pools may use: maxConnections − serverReserved − opsReserved − others. */
  availableToPools: number;
  ok: boolean;
}

export function connectionArithmetic(args: {
  pools: readonly PoolTerm[];
  maxConnections: number;
  serverReserved: Readonly<Record<string, number>>;
  opsReserved: number;
  /** @default [] */
  others?: readonly OtherTerm[];
}): ConnectionArithmetic {
  const pooled = args.pools.reduce((sum, p) => sum + p.poolMax * p.replicas, 0);
  const others = (args.others ?? []).reduce((sum, o) => sum + o.connections, 0);
  const serverReserved = Object.values(args.serverReserved).reduce((sum, n) => sum + n, 0);
  const availableToPools = args.maxConnections - serverReserved - args.opsReserved - others;
  return {
    pooled,
    others,
    serverReserved,
    opsReserved: args.opsReserved,
    required: pooled + others + args.opsReserved + serverReserved,
    availableToPools,
    ok: pooled <= availableToPools,
  };
}
