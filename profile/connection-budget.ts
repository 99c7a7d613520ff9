import {
  connectionArithmetic,
  MIGRATION_JOB_CONNECTIONS,
  PLAIN_POSTGRES_RESERVED,
  POSTGRES_RESERVED_DEFAULTS,
  ROLLOUT_MAX_SURGE,
  rolloutPods,
  serviceConnectionLimit,
  type ConnectionArithmetic,
  type OtherTerm,
  type PoolTerm,
} from "./connection-arithmetic";
import { maxConnectionsForClass } from "./instance-classes";
import type { Profile } from "./schema";

export interface ServiceConnections {
  name: string;
  poolMax: number;
  hpaMax: number;
  /** The most pods at once: a rolling update at hpa.max adds maxSurge (rolloutPods). */
  rolloutPods: number;
  /** pool.max × rolloutPods: what the service opens at full scale during a rollout, its share of the budget and its role's CONNECTION LIMIT. */
  connections: number;
}

export interface ConnectionBudget {
  /** Σ pool.max × rolloutPods + others + reserved + serverReserved: what max_connections must hold at full scale during a rollout. */
  required: number;
  /** What the parameter group sets: database.maxConnections, or exactly `required`. */
  maxConnections: number;
  /** RDS's ceiling for the instance class. */
  classLimit: number;
  /** database.reservedConnections: admins, psql sessions, monitoring. */
  reserved: number;
  /** The server's own superuser reservations (PostgreSQL's, and RDS's on AWS), by parameter name. */
  serverReserved: Readonly<Record<string, number>>;
  /** Σ of serverReserved. */
  serverReservedTotal: number;
  /** The Deployments' maxSurge the pods are counted with. */
  maxSurge: string;
  /** Clients outside the pools: the migration Job. */
  others: readonly OtherTerm[];
  /** Σ of others. */
  othersTotal: number;
  /** Σ pool.max × rolloutPods. */
  pooled: number;
  /** What the pools may use: maxConnections − serverReserved − reserved − others. */
  availableToPools: number;
  /**
   * What reaches the writer outside the services' pools, with or without RDS Proxy: the server's
   * reservations, database.reservedConnections and the migration Job (it connects to the direct
   * host: an advisory lock through the proxy would pin). writerArithmetic spreads it into every check.
   */
  outsidePools: OutsidePools;
  /** pooled <= availableToPools (connectionArithmetic, shared with the policy rule). */
  ok: boolean;
  perService: ServiceConnections[];
}

/** The terms of connectionArithmetic that are not pools: who holds writer connections besides them. */
export interface OutsidePools {
  serverReserved: Readonly<Record<string, number>>;
  opsReserved: number;
  others: readonly OtherTerm[];
}

/**
 * The one rule for the writer instance: `pools` (the services' pools directly, or the RDS Proxy's
 * server connections) next to everything outside them (budget.outsidePools) against max_connections.
 * The direct budget, the proxy's server budget and the max_connections the stack sets all call it,
 * so none of them can leave out a term (the proxy check once left out the migration Job).
 */
export function writerArithmetic(
  outsidePools: OutsidePools,
  pools: readonly PoolTerm[],
  maxConnections: number,
): ConnectionArithmetic {
  return connectionArithmetic({ pools, maxConnections, ...outsidePools });
}

/**
 * The database connection budget of the profile: computed once (servicePlan) and read by the
 * checks, the roles' CONNECTION LIMIT and both platforms. The stats refresher is not a term: it
 * borrows a connection from its own pod's pool (runtime/src/db/stats-refresher.ts), inside pool.max.
 */
export function connectionBudget(p: Profile): ConnectionBudget {
  const maxSurge = ROLLOUT_MAX_SURGE;
  const perService = p.services.map((s) => ({
    name: s.name,
    poolMax: s.pool.max,
    hpaMax: s.hpa.max,
    rolloutPods: rolloutPods(s.hpa.max, maxSurge),
    connections: serviceConnectionLimit(s.pool.max, s.hpa.max, maxSurge),
  }));
  const reserved = p.database.reservedConnections;
  const serverReserved = p.platform === "aws" ? POSTGRES_RESERVED_DEFAULTS : PLAIN_POSTGRES_RESERVED;
  const others: OtherTerm[] = [{ name: "migration Job", connections: MIGRATION_JOB_CONNECTIONS }];
  const pools = perService.map((s) => ({ name: s.name, poolMax: s.poolMax, replicas: s.rolloutPods }));
  const outsidePools: OutsidePools = { serverReserved, opsReserved: reserved, others };
  const sized = writerArithmetic(outsidePools, pools, 0);
  const maxConnections = p.database.maxConnections ?? sized.required;
  const a = writerArithmetic(outsidePools, pools, maxConnections);
  return {
    required: a.required,
    maxConnections,
    classLimit: maxConnectionsForClass(p.database.instanceClass),
    reserved,
    serverReserved,
    serverReservedTotal: a.serverReserved,
    maxSurge,
    others,
    othersTotal: a.others,
    pooled: a.pooled,
    availableToPools: a.availableToPools,
    outsidePools,
    ok: a.ok,
    perService,
  };
}
