import { connectionArithmetic, PLAIN_POSTGRES_RESERVED, POSTGRES_RESERVED_DEFAULTS } from "./connection-arithmetic";
import { maxConnectionsForClass } from "./instance-classes";
import type { Profile } from "./schema";

export interface ServiceConnections {
  name: string;
  poolMax: number;
  hpaMax: number;
  /** pool.max × hpa.max: what the service opens at full scale, its share of the budget. */
  connections: number;
}

export interface ConnectionBudget {
  /** Σ pool.max × hpa.max + reserved + serverReserved: what max_connections must hold at full scale. */
  required: number;
  /** What the parameter group sets: database.maxConnections, or exactly `required`. */
  maxConnections: number;
  /** RDS's ceiling for the instance class. */
  classLimit: number;
  /** database.reservedConnections: admins, migrations, monitoring. */
  reserved: number;
  /** The server's own superuser reservations (PostgreSQL's, and RDS's on AWS), by parameter name. */
  serverReserved: Readonly<Record<string, number>>;
  /** Σ of serverReserved. */
  serverReservedTotal: number;
  /** Σ pool.max × hpa.max. */
  pooled: number;
  /** What the pools may use: maxConnections − serverReserved − reserved. */
  availableToPools: number;
  /** pooled <= availableToPools (connectionArithmetic, shared with the policy rule). */
  ok: boolean;
  perService: ServiceConnections[];
}

/** The database connection budget of the profile: computed once (servicePlan) and read by the checks and both platforms. */
export function connectionBudget(p: Profile): ConnectionBudget {
  const perService = p.services.map((s) => ({
    name: s.name,
    poolMax: s.pool.max,
    hpaMax: s.hpa.max,
    connections: s.pool.max * s.hpa.max,
  }));
  const reserved = p.database.reservedConnections;
  const serverReserved = p.platform === "aws" ? POSTGRES_RESERVED_DEFAULTS : PLAIN_POSTGRES_RESERVED;
  const pools = perService.map((s) => ({ name: s.name, poolMax: s.poolMax, replicas: s.hpaMax }));
  const sized = connectionArithmetic({ pools, maxConnections: 0, serverReserved, opsReserved: reserved });
  const maxConnections = p.database.maxConnections ?? sized.required;
  const a = connectionArithmetic({ pools, maxConnections, serverReserved, opsReserved: reserved });
  return {
    required: a.required,
    maxConnections,
    classLimit: maxConnectionsForClass(p.database.instanceClass),
    reserved,
    serverReserved,
    serverReservedTotal: a.serverReserved,
    pooled: a.pooled,
    availableToPools: a.availableToPools,
    ok: a.ok,
    perService,
  };
}
