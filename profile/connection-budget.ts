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
  /** Σ pool.max × hpa.max + reserved: what the services can open at full scale. */
  required: number;
  /** What the parameter group sets: database.maxConnections, or exactly `required`. */
  maxConnections: number;
  /** RDS's ceiling for the instance class. */
  classLimit: number;
  reserved: number;
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
  const required = perService.reduce((sum, s) => sum + s.connections, reserved);
  return {
    required,
    maxConnections: p.database.maxConnections ?? required,
    classLimit: maxConnectionsForClass(p.database.instanceClass),
    reserved,
    perService,
  };
}
