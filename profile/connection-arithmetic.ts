/**
 * The connection-budget arithmetic, in one function: the plan's check (profile/checks.ts, from the
 * profile) and the policy pack's rule (policy/rules/connection-budget.ts, from the planned
 * resources) both call `connectionArithmetic`, so they cannot disagree. No imports: the policy pack
 * compiles on its own.
 *
 * max_connections is shared by three kinds of users:
 * - the server's own reservations (`serverReserved`): PostgreSQL keeps `superuser_reserved_connections`
 *   (default 3) and RDS adds `rds.rds_superuser_reserved_connections` (default 2), whatever the
 *   parameter group says, so the pools can never use those;
 * - the profile's `database.reservedConnections` (`opsReserved`): admins, migrations, monitoring;
 * - the services' pools: Σ pool size × most replicas.
 */

/** PostgreSQL's and RDS's superuser reservations with their defaults (RDS PostgreSQL has both). */
export const POSTGRES_RESERVED_DEFAULTS: Readonly<Record<string, number>> = {
  superuser_reserved_connections: 3,
  "rds.rds_superuser_reserved_connections": 2,
};

/** Only PostgreSQL's own reservation (a plain PostgreSQL server, e.g. the local stack's). */
export const PLAIN_POSTGRES_RESERVED: Readonly<Record<string, number>> = { superuser_reserved_connections: 3 };

export interface PoolTerm {
  name: string;
  poolMax: number;
  replicas: number;
}

export interface ConnectionArithmetic {
  /** Σ poolMax × replicas. */
  pooled: number;
  /** Σ of the server's reservations. */
  serverReserved: number;
  opsReserved: number;
  /** What max_connections must be at least: pooled + opsReserved + serverReserved. */
  required: number;
  /** What the pools may use: maxConnections − serverReserved − opsReserved. */
  availableToPools: number;
  ok: boolean;
}

export function connectionArithmetic(args: {
  pools: readonly PoolTerm[];
  maxConnections: number;
  serverReserved: Readonly<Record<string, number>>;
  opsReserved: number;
}): ConnectionArithmetic {
  const pooled = args.pools.reduce((sum, p) => sum + p.poolMax * p.replicas, 0);
  const serverReserved = Object.values(args.serverReserved).reduce((sum, n) => sum + n, 0);
  const availableToPools = args.maxConnections - serverReserved - args.opsReserved;
  return {
    pooled,
    serverReserved,
    opsReserved: args.opsReserved,
    required: pooled + args.opsReserved + serverReserved,
    availableToPools,
    ok: pooled <= availableToPools,
  };
}
