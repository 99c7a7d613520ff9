import type { Check } from "./checks";
import { redisClientMode } from "./data-tier";
import { proxyBudget, replicaBudgets } from "./proxy-budget";
import type { Profile } from "./schema";
import type { ServicePlan } from "./service-settings";
import limits from "../vendor/aws/data-tier-limits.json";

/**
 * The plan's checks of the data tier's scale-out modes, each printing its arithmetic: the budget
 * through RDS Proxy (clients, then servers), each read replica's budget, and the cache's topology.
 * Pure; crossLayerChecks reports them with the others.
 */

function check(name: string, ok: boolean, compared: string, fix: string): Check {
  return { name, ok, detail: ok ? compared : `${compared}; ${fix}` };
}

const serviceTerms = (plan: ServicePlan, indexes?: readonly number[]) =>
  plan.budget.perService
    .map((s, i) => ({ s, i }))
    .filter(({ i }) => !indexes || indexes.includes(i))
    .map(({ s, i }) => `services[${i}] ${s.name}: pool.max=${s.poolMax} × pods=${s.connections / s.poolMax} = ${s.connections}`)
    .join("; ");

/** RDS Proxy: the services' clients against the proxy's client limit, and the proxy's servers against max_connections. */
export function checkProxyBudget(p: Profile, plan: ServicePlan): Check[] {
  const b = proxyBudget(p, plan.budget);
  if (!b) return [];
  const cls = p.database.instanceClass;
  const shares = `server connections ${b.serverConnections} = floor(max_connections ${b.maxConnections} × database.proxy.maxConnectionsPercent ${b.maxConnectionsPercent} %)`;
  const limit = `client limit ${b.clientLimit} = ${b.serverConnections} × database.proxy.clientsPerServerConnection ${b.clientsPerServerConnection}`;
  const clients = check(
    "proxy-client-budget",
    b.clientsOk,
    `${serviceTerms(plan)} = ${b.clients} client connections ${b.clientsOk ? "<=" : ">"} proxy ${limit} (${shares})`,
    `the proxy would make ${b.clients - b.clientLimit} of them wait up to connectionBorrowTimeout and then fail: lower pool.max or hpa.max, raise database.maxConnections or maxConnectionsPercent, or (if pools are mostly idle) clientsPerServerConnection`,
  );
  const a = b.server;
  const reserved = Object.entries(plan.budget.serverReserved)
    .map(([k, v]) => `${k} ${v}`)
    .join(" + ");
  const direct = plan.budget.outsidePools.others.map((o) => `${o.name} ${o.connections}`).join(" + ");
  const serverTerms = `proxy ${shares} + ${direct} (direct) + database.reservedConnections ${a.opsReserved} (admins: direct) + server-reserved ${a.serverReserved} (${reserved}) = ${a.required}`;
  const overClass = b.maxConnections > plan.budget.classLimit;
  const server = check(
    "proxy-server-budget",
    a.ok && !overClass,
    overClass
      ? `max_connections ${b.maxConnections} exceeds what ${cls} holds (${plan.budget.classLimit})`
      : `${serverTerms} ${a.ok ? "<=" : ">"} max_connections ${b.maxConnections} <= ${cls} limit ${plan.budget.classLimit}`,
    overClass
      ? "pick a larger database.instanceClass, or lower pool.max / hpa.max or raise clientsPerServerConnection"
      : `the proxy could take the slots the direct connections need: lower database.proxy.maxConnectionsPercent to at most ${Math.floor(((b.maxConnections - a.others - a.opsReserved - a.serverReserved) * 100) / b.maxConnections)} or raise database.maxConnections`,
  );
  return [clients, server];
}

/** Each read replica: its services' reader pools (pool.max per pod) against the max_connections it shares with the primary. */
export function checkReplicaBudgets(p: Profile, plan: ServicePlan): Check[] {
  return replicaBudgets(p, plan.budget).map((r) => {
    const a = r.arithmetic;
    const indexes = plan.budget.perService.flatMap((s, i) => (r.services.includes(s) ? [i] : []));
    const terms = r.services.length ? serviceTerms(plan, indexes) : "no service reads here";
    const max = a.availableToPools + a.opsReserved + a.serverReserved;
    return check(
      `replica-budget:${r.index}`,
      a.ok,
      `read replica ${r.index}: ${terms}; + reserved ${a.opsReserved} + server-reserved ${a.serverReserved} = ${a.required} ${a.ok ? "<=" : ">"} max_connections ${max} (the primary's)`,
      "lower those services' pool.max or hpa.max, add database.readReplicas to spread them, or raise database.maxConnections",
    );
  });
}

const range = (l: { minimum?: number; maximum: number }) =>
  l.minimum !== undefined ? `${l.minimum}..${l.maximum}` : `up to ${l.maximum}`;

/** The cache's topology with its arithmetic: cluster mode's nodes against the quota, or serverless' limits. */
export function checkRedisTopology(p: Profile): Check[] {
  const r = p.redis;
  const mode = `UAIP_REDIS_MODE=${redisClientMode(p)}`;
  if (r.serverless) {
    const s = r.serverless;
    return [
      check(
        "redis-topology",
        true,
        `ElastiCache Serverless ${r.engine} ${r.engineVersion}: data storage ${range(s.dataStorageGb)} GB, ${range(s.ecpuPerSecond)} ECPU/s (billed for what it uses within them; redis.maxmemoryPolicy does not apply: no parameter group); ${mode}`,
        "",
      ),
    ];
  }
  if (r.mode !== "cluster") return [];
  const shards = r.shards ?? 3;
  const replicas = r.replicasPerShard ?? r.replicas;
  const nodes = shards * (1 + replicas);
  const { max, defaultQuota } = limits.elasticache.nodesPerCluster;
  return [
    check(
      "redis-topology",
      nodes <= max,
      `cluster mode: redis.shards ${shards} × (1 + replicasPerShard ${replicas}) = ${nodes} nodes ${nodes <= max ? "<=" : ">"} ${max} per cluster${nodes > defaultQuota && nodes <= max ? ` (above the default quota of ${defaultQuota}: request an increase first)` : ""}; ${mode}`,
      "lower redis.shards or replicasPerShard, or pick a larger redis.nodeType",
    ),
  ];
}

/** Every data-tier check, in report order. */
export function dataTierChecks(p: Profile, plan: ServicePlan): Check[] {
  return [...checkProxyBudget(p, plan), ...checkReplicaBudgets(p, plan), ...checkRedisTopology(p)];
}
