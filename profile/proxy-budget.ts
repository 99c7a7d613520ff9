import { connectionArithmetic, type ConnectionArithmetic } from "./connection-arithmetic";
import { writerArithmetic, type ConnectionBudget, type ServiceConnections } from "./connection-budget";
import { readReplicaOf } from "./data-tier";
import type { Profile } from "./schema";

/**
 * The connection budget through RDS Proxy and on the read replicas. It adds no arithmetic of its
 * own: every "does it fit max_connections" goes through connectionArithmetic (the one function the
 * direct budget and the policy rule call), with the pools that reach each server.
 *
 * Through the proxy there are two limits instead of one:
 * - clients: every pod's pool connects to the proxy. The proxy opens at most
 *   floor(max_connections × maxConnectionsPercent / 100) server connections and lends them per
 *   transaction; a client finding none free waits up to connectionBorrowTimeout, then fails. AWS
 *   publishes no client ceiling, so the profile states the multiplexing it accepts
 *   (clientsPerServerConnection): client limit = server connections × that ratio >= Σ pool × pods.
 * - servers: the proxy's server connections are a pool of their own on the instance, next to what
 *   connects directly (the migration Job, the operators' reservation, the server's own superuser
 *   slots): writerArithmetic, the direct budget's rule, with the proxy as the one pool.
 *
 * Read replicas: each replica serves the reader pools of its services (readReplicaOf), each pod
 * opening up to pool.max there; a replica has the primary's max_connections (a hot standby needs at
 * least the primary's), so each replica is connectionArithmetic with its own services' pools, the
 * operators' reservation and the server's; not the migration Job, which writes, so only the writer sees it.
 */

export interface ProxyBudget {
  /** The instance's max_connections (the parameter group's). */
  maxConnections: number;
  maxConnectionsPercent: number;
  /** floor(maxConnections × maxConnectionsPercent / 100): what the proxy may open on the instance. */
  serverConnections: number;
  clientsPerServerConnection: number;
  /** floor(serverConnections × clientsPerServerConnection): the client connections the profile allows. */
  clientLimit: number;
  /** Σ pool.max × pods at full scale: the client connections the services open to the proxy. */
  clients: number;
  clientsOk: boolean;
  /** The proxy's server connections + operators + the server's reservations against max_connections. */
  server: ConnectionArithmetic;
}

export interface ReplicaBudget {
  /** 0-based, in the order the stack creates them. */
  index: number;
  services: ServiceConnections[];
  arithmetic: ConnectionArithmetic;
}

/** The server connections the proxy needs so that `clients` fit its client limit. */
function serverConnectionsNeeded(clients: number, ratio: number): number {
  return Math.ceil(clients / ratio);
}

/**
 * The max_connections the parameter group sets: database.maxConnections when given; else, with a
 * proxy, the least that lets the proxy open the server connections the clients need while leaving
 * the reservations outside its share (and at least what each replica's services need, since the
 * replicas share it); without a proxy, the direct budget's (connectionBudget's) own number.
 */
export function instanceMaxConnections(p: Profile, budget: ConnectionBudget): number {
  if (p.database.maxConnections !== undefined) return p.database.maxConnections;
  const replicaNeeds = replicaBudgetsAt(p, budget, 0).map((r) => r.arithmetic.required);
  const proxy = p.database.proxy;
  if (!proxy) return Math.max(budget.maxConnections, ...replicaNeeds);
  const pct = proxy.maxConnectionsPercent;
  const needed = serverConnectionsNeeded(budget.pooled, proxy.clientsPerServerConnection);
  // Everything outside the proxy's share: writerArithmetic with no pool at all.
  const reserved = writerArithmetic(budget.outsidePools, [], 0).required;
  // floor(M × pct / 100) >= needed exactly when M >= needed × 100 / pct; the reservations' condition
  // floor(M × pct / 100) + reserved <= M holds from some M on (each step adds at most 1 on the left),
  // so the least M is the first from there that also holds it. At 100 % it never does: the check says so.
  const forClients = Math.ceil((needed * 100) / pct);
  const start = Math.max(10, forClients, ...replicaNeeds);
  if (pct === 100) return start + reserved;
  let m = start;
  while (Math.floor((m * pct) / 100) + reserved > m) m++;
  return m;
}

export function proxyBudget(p: Profile, budget: ConnectionBudget): ProxyBudget | undefined {
  const proxy = p.database.proxy;
  if (!proxy) return undefined;
  const maxConnections = instanceMaxConnections(p, budget);
  const serverConnections = Math.floor((maxConnections * proxy.maxConnectionsPercent) / 100);
  const clientLimit = Math.floor(serverConnections * proxy.clientsPerServerConnection);
  const server = writerArithmetic(
    budget.outsidePools,
    [{ name: "rds-proxy", poolMax: serverConnections, replicas: 1 }],
    maxConnections,
  );
  return {
    maxConnections,
    maxConnectionsPercent: proxy.maxConnectionsPercent,
    serverConnections,
    clientsPerServerConnection: proxy.clientsPerServerConnection,
    clientLimit,
    clients: budget.pooled,
    clientsOk: budget.pooled <= clientLimit,
    server,
  };
}

function replicaBudgetsAt(p: Profile, budget: ConnectionBudget, maxConnections: number): ReplicaBudget[] {
  const n = p.database.readReplicas;
  return Array.from({ length: n }, (_, index) => {
    const services = budget.perService.filter((_, i) => readReplicaOf(i, n) === index);
    return {
      index,
      services,
      arithmetic: connectionArithmetic({
        pools: services.map((s) => ({ name: s.name, poolMax: s.poolMax, replicas: s.connections / s.poolMax })),
        maxConnections,
        serverReserved: budget.serverReserved,
        opsReserved: budget.reserved,
      }),
    };
  });
}

/** Each read replica's budget: its services' reader pools against the max_connections it shares with the primary. */
export function replicaBudgets(p: Profile, budget: ConnectionBudget): ReplicaBudget[] {
  return replicaBudgetsAt(p, budget, instanceMaxConnections(p, budget));
}
