import { isKind, isType, recordsIn, resolveRef } from "./match";
import { hpasByTarget, workloadKey } from "./hpa-replicas";
import type { PlannedResource, StackFinding, StackRule } from "./types";
import {
  connectionArithmetic,
  KUBERNETES_DEFAULT_MAX_SURGE,
  MIGRATION_JOB_CONNECTIONS,
  POSTGRES_RESERVED_DEFAULTS,
  surgePods,
  type MaxSurge,
} from "../../profile/connection-arithmetic";

/** The env var a service's pool size arrives in (the @uaip/runtime env contract). */
export const POOL_MAX_KEY = "UAIP_POOL_MAX";

/** The server's reservations the budget counts (PostgreSQL's and RDS's), from the one budget arithmetic. */
export { POSTGRES_RESERVED_DEFAULTS };

/** The label the migration Job carries (components/k8s/db-migration.ts): each such Job holds MIGRATION_JOB_CONNECTIONS. */
export const MIGRATION_COMPONENT_LABEL = { "app.kubernetes.io/component": "db-migration" } as const;

export interface PoolUser {
  workload: PlannedResource;
  configMap: string;
  /** The data of that ConfigMap (the pod's UAIP_* variables); {} for a literal env value. */
  env: Record<string, string>;
  poolMax: number;
  maxReplicas: number;
  /** Where maxReplicas came from. */
  replicasFrom: string;
  /** The workload's rollout surge as written (a Deployment's maxSurge, Kubernetes's 25% when unset; 0 for a StatefulSet or Recreate). */
  maxSurge: MaxSurge;
  /** maxReplicas + the surge: the most pods holding a pool at once; undefined when maxSurge is not valid. */
  rolloutPods: number | undefined;
}

/**
 * A workload's surge as Kubernetes applies it: a Deployment's RollingUpdate maxSurge (25% unset),
 * none for `Recreate` (old pods go first) or a StatefulSet (it replaces pods one by one).
 */
function maxSurgeOf(w: PlannedResource): MaxSurge {
  if (!isKind(w, "apps:Deployment")) return 0;
  const strategy = w.props.spec?.strategy;
  if (strategy?.type === "Recreate") return 0;
  return strategy?.rollingUpdate?.maxSurge ?? KUBERNETES_DEFAULT_MAX_SURGE;
}

function parameter(group: PlannedResource | undefined, name: string): string | undefined {
  return recordsIn<{ name?: unknown; value?: string }>(group?.props.parameters).find((p) => p.name === name)?.value;
}

type Container = { env?: unknown; envFrom?: unknown };

/** The pool size a container gets: a literal env value, or a key of a ConfigMap it reads. */
function poolMaxOf(
  container: Container,
  configMaps: Map<string, Record<string, string>>,
  namespace: string,
): { poolMax: number; configMap: string } | undefined {
  for (const e of recordsIn(container.env)) {
    if (e.name !== POOL_MAX_KEY) continue;
    if (e.value !== undefined) return { poolMax: Number(e.value), configMap: "(env)" };
    const ref = e.valueFrom?.configMapKeyRef;
    const data = ref && configMaps.get(`${namespace}/${ref.name}`);
    if (data?.[ref.key] !== undefined) return { poolMax: Number(data[ref.key]), configMap: ref.name };
  }
  for (const from of recordsIn(container.envFrom)) {
    const name = from.configMapRef?.name;
    const data = name && configMaps.get(`${namespace}/${name}`);
    const key = `${from.prefix ?? ""}${POOL_MAX_KEY}`;
    if (data && data[POOL_MAX_KEY] !== undefined && key === POOL_MAX_KEY)
      return { poolMax: Number(data[POOL_MAX_KEY]), configMap: name };
  }
  return undefined;
}

/** Every workload that opens a PostgreSQL pool, with its pool size and its most replicas. */
export function poolUsers(resources: PlannedResource[]): PoolUser[] {
  const configMaps = new Map<string, Record<string, string>>();
  for (const cm of resources.filter((r) => isKind(r, "core:ConfigMap"))) {
    configMaps.set(`${cm.props.metadata?.namespace ?? "default"}/${cm.props.metadata?.name ?? cm.name}`, cm.props.data ?? {});
  }
  const hpas = hpasByTarget(resources);
  const users: PoolUser[] = [];
  for (const w of resources) {
    const kind = isKind(w, "apps:Deployment") ? "Deployment" : isKind(w, "apps:StatefulSet") ? "StatefulSet" : undefined;
    if (!kind) continue;
    const namespace = w.props.metadata?.namespace ?? "default";
    const containers = recordsIn<Container>(w.props.spec?.template?.spec?.containers);
    const pool = containers.map((c) => poolMaxOf(c, configMaps, namespace)).find(Boolean);
    if (!pool) continue;
    const hpa = hpas.get(workloadKey(w, kind));
    const maxReplicas = hpa ? Number(hpa.props.spec?.maxReplicas) : Number(w.props.spec?.replicas ?? 1);
    const maxSurge = maxSurgeOf(w);
    const surge = surgePods(maxReplicas, maxSurge);
    users.push({
      workload: w,
      ...pool,
      env: configMaps.get(`${namespace}/${pool.configMap}`) ?? {},
      maxReplicas,
      replicasFrom: hpa ? `HPA ${hpa.props.metadata?.name ?? hpa.name} maxReplicas` : "replicas",
      maxSurge,
      rolloutPods: surge === undefined ? undefined : maxReplicas + surge,
    });
  }
  return users;
}

/** The migration Jobs of the plan: each holds MIGRATION_JOB_CONNECTIONS while it runs. */
export function migrationJobs(resources: PlannedResource[]): PlannedResource[] {
  const [[key, value]] = Object.entries(MIGRATION_COMPONENT_LABEL);
  return resources.filter((r) => isKind(r, "batch:Job") && r.props.metadata?.labels?.[key] === value);
}

/** The env var of a service's read replica host (the runtime's reader pool), and of the host its pool connects to. */
export const READ_HOST_KEY = "UAIP_DB_READ_HOST";

/** RDS host names are `<identifier>.<hash>.<region>.rds.amazonaws.com`: the instance a host names, if it is known. */
function identifierOfHost(host: string | undefined): string | undefined {
  return typeof host === "string" && host.includes(".") ? host.split(".")[0]!.toLowerCase() : undefined;
}

/**
 * What reaches one PostgreSQL instance:
 * - behind RDS Proxy (a ProxyTarget names it), the proxy's server connections, at most
 *   floor(max_connections × MaxConnectionsPercent / 100) of its default target group: the pools
 *   connect to the proxy, whose client side is the profile's check (it knows the multiplexing allowed);
 * - a read replica (replicateSourceDb), the reader pools whose UAIP_DB_READ_HOST names it, and every
 *   reader pool whose host is not known yet (conservative);
 * - otherwise every pool (one database per stack).
 */
function poolsReaching(
  db: PlannedResource,
  resources: PlannedResource[],
  users: (PoolUser & { rolloutPods: number })[],
  max: number,
) {
  const id = String(db.props.identifier ?? "").toLowerCase();
  const target = resources.find(
    (r) => isType(r, "aws:rds/proxyTarget:ProxyTarget") && String(r.props.dbInstanceIdentifier ?? "").toLowerCase() === id,
  );
  if (target) {
    const group = resources.find(
      (r) =>
        isType(r, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup") && r.props.dbProxyName === target.props.dbProxyName,
    );
    const pct = Number(group?.props.connectionPoolConfig?.maxConnectionsPercent ?? 100);
    const opened = Math.floor((max * pct) / 100);
    return {
      pools: [{ name: `RDS Proxy ${target.props.dbProxyName ?? ""}`, poolMax: opened, replicas: 1 }],
      terms: [
        `RDS Proxy ${target.props.dbProxyName ?? ""}: floor(max_connections ${max} × MaxConnectionsPercent ${pct} %) = ${opened}`,
      ],
    };
  }
  const readers = db.props.replicateSourceDb !== undefined;
  const reaching = users.filter((u) => {
    if (!readers) return true;
    const host = u.env[READ_HOST_KEY];
    if (host === undefined || host === "") return false;
    const named = identifierOfHost(host);
    return named === undefined || named === id;
  });
  return {
    pools: reaching.map((u) => ({ name: u.workload.name, poolMax: u.poolMax, replicas: u.rolloutPods })),
    terms: reaching.map(
      (u) =>
        `${u.workload.props.metadata?.name ?? u.workload.name}: ${POOL_MAX_KEY}=${u.poolMax} (${u.configMap}${readers ? `, ${READ_HOST_KEY}` : ""}) × ${u.rolloutPods} pods in a rollout (${u.maxReplicas} (${u.replicasFrom}) + maxSurge ${u.maxSurge}) = ${u.poolMax * u.rolloutPods}`,
    ),
  };
}

/**
 * The connection budget recomputed from the resources alone, with the profile's arithmetic
 * (connection-arithmetic.ts): Σ pool.max (ConfigMap) × the pods during a rollout (HPA maxReplicas
 * + the Deployment's own maxSurge), plus the migration Jobs, must fit the RDS parameter group's
 * explicit max_connections minus PostgreSQL's superuser reservations. One database per stack is
 * assumed: every pool is counted against every PostgreSQL instance (conservative).
 */
export const connectionBudget: StackRule = {
  kind: "stack",
  name: "connection-budget",
  description:
    "Σ pool size (ConfigMap UAIP_POOL_MAX) × pods during a rollout (HPA maxReplicas + maxSurge), plus the migration Job, must fit RDS max_connections minus superuser reservations.",
  enforcementLevel: "mandatory",
  check(resources) {
    const users = poolUsers(resources);
    if (users.length === 0) return [];
    const findings: StackFinding[] = [];
    for (const u of users.filter((x) => x.rolloutPods === undefined))
      findings.push({
        resource: u.workload,
        message: `strategy.rollingUpdate.maxSurge ${JSON.stringify(u.maxSurge)} is neither a whole number nor a whole percentage like "25%", so its pods during a rollout cannot be counted; fix maxSurge`,
      });
    const counted = users.filter((x): x is PoolUser & { rolloutPods: number } => x.rolloutPods !== undefined);
    const jobs = migrationJobs(resources);
    const groups = resources.filter((r) => isType(r, "aws:rds/parameterGroup:ParameterGroup"));
    for (const db of resources.filter(
      (r) => isType(r, "aws:rds/instance:Instance") && String(r.props.engine ?? "").startsWith("postgres"),
    )) {
      const group = resolveRef(db.props.parameterGroupName, groups, "name");
      const max = Number(parameter(group, "max_connections"));
      if (!Number.isFinite(max) || max <= 0) {
        findings.push({
          resource: db,
          message: `its parameter group ${db.props.parameterGroupName ?? "(default)"} does not set max_connections, so the budget depends on instance memory; set max_connections explicitly`,
        });
        continue;
      }
      const reserved = Object.entries(POSTGRES_RESERVED_DEFAULTS).map(([name, dflt]) => ({
        name,
        value: Number(parameter(group, name) ?? dflt),
      }));
      // The same arithmetic as the plan's check; the resources do not show the profile's operator reservation.
      // The migration Job connects to the writer directly (never through the proxy, never to a replica).
      const others = (db.props.replicateSourceDb !== undefined ? [] : jobs).map((j) => ({
        name: `Job ${j.props.metadata?.name ?? j.name}`,
        connections: MIGRATION_JOB_CONNECTIONS,
      }));
      const { pools, terms } = poolsReaching(db, resources, counted, max);
      const a = connectionArithmetic({
        pools,
        maxConnections: max,
        serverReserved: Object.fromEntries(reserved.map((r) => [r.name, r.value])),
        opsReserved: 0,
        others,
      });
      if (!a.ok) {
        const proxied = pools.length === 1 && pools[0]!.name.startsWith("RDS Proxy");
        const minus = [...reserved.map((r) => `${r.name} ${r.value}`), ...others.map((o) => `${o.name} ${o.connections}`)];
        findings.push({
          resource: group ?? db,
          message: `database ${db.name}: ${proxied ? "its proxy may open" : "pools need"} ${a.pooled} connections (${terms.join("; ")}) > ${a.availableToPools} available (max_connections ${max} − ${minus.join(" − ")}); ${proxied ? "lower the proxy target group's MaxConnectionsPercent" : "lower pool sizes, maxReplicas or maxSurge"}, or raise max_connections`,
        });
      }
    }
    return findings;
  },
};
