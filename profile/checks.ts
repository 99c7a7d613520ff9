import { DEFAULT_METRIC } from "@uaip/runtime/metrics";
import { capacityChecks, type CapacityInputs } from "./capacity-checks";
import { type Check, result } from "./check-result";
import { StackError } from "./errors";
import { dataTierChecks } from "./data-tier-checks";
import { checkMonitoringWindows } from "./monitoring-windows";
import { checkPodConfig } from "./pod-config";
import { memoryToMiB } from "./quantity";
import type { Profile } from "./schema";
import { servicePlan, type ServicePlan } from "./service-settings";

/**
 * The cross-layer checks: what no single-layer module checks, because each layer is
 * configured on its own. All pure; the plan reports them and fails on any that is not ok.
 */
export type { Check };

/** Cache-friendly eviction policies: every key may be evicted, by recency or frequency. */
export const CACHE_EVICTION_POLICIES = ["allkeys-lru", "allkeys-lfu"] as const;
/** Share of the container memory limit the V8 heap may take; the rest is buffers, code, stacks. */
export const HEAP_SHARE_OF_MEMORY_LIMIT = 0.75;

/** `left op right` with the operator that held: `[whenOk, whenNot]`, e.g. [">", "<="]. */
function compare(left: string, ok: boolean, [whenOk, whenNot]: readonly [string, string], right: string): string {
  return `${left} ${ok ? whenOk : whenNot} ${right}`;
}

export function checkConnectionBudget(p: Profile, plan: ServicePlan = servicePlan(p)): Check {
  const b = plan.budget;
  const cls = p.database.instanceClass;
  const terms = b.perService.map(
    (s, i) =>
      `services[${i}] ${s.name}: pool.max=${s.poolMax} × ${s.rolloutPods} pods in a rollout (hpa.max=${s.hpaMax} + maxSurge ${b.maxSurge} → ${s.rolloutPods - s.hpaMax}) = ${s.connections}`,
  );
  const server = Object.entries(b.serverReserved)
    .map(([k, v]) => `${k} ${v}`)
    .join(" + ");
  const others = b.others.map((o) => ` + ${o.name} ${o.connections}`).join("");
  const sum = `${terms.join("; ")}${others} + stats refresher 0 (borrows from its pod's pool) + database.reservedConnections ${b.reserved} + server-reserved ${b.serverReservedTotal} (${server}) = ${b.required}`;
  const name = "connection-budget";
  if (b.maxConnections > b.classLimit) {
    const over = `${sum}; max_connections ${b.maxConnections} exceeds what ${cls} holds (${b.classLimit})`;
    return result(name, false, over, "lower pool.max or hpa.max, or pick a larger database.instanceClass");
  }
  if (!b.ok) {
    const largest = b.perService.reduce((a, s) => (s.connections > a.connections ? s : a));
    const budget = `budget for services ${b.availableToPools} = max_connections ${b.maxConnections} − reserved ${b.reserved} − server-reserved ${b.serverReservedTotal} − others ${b.othersTotal}`;
    return result(
      name,
      false,
      `${sum} exceeds max_connections ${b.maxConnections} (${budget})`,
      `lower pool.max or hpa.max (largest: ${largest.name}), or raise database.maxConnections / pick a larger database.instanceClass (a rollout at hpa.max runs maxSurge ${b.maxSurge} more pods, each with its own pool)`,
    );
  }
  return result(name, true, `${sum} <= max_connections ${b.maxConnections} <= ${cls} limit ${b.classLimit}`, "");
}

export function checkTimeouts(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  const idleMs = p.loadBalancer.idleTimeout * 1000;
  const idle = `loadBalancer.idleTimeout ${idleMs} ms`;
  return plan.services.flatMap(({ profile: s, runtime: rt }, i) => {
    const heartbeatOk = idleMs > rt.ws.heartbeatInterval;
    const keepAliveOk = rt.http.keepAliveTimeout > idleMs;
    return [
      result(
        `alb-idle-vs-ws-heartbeat:${s.name}`,
        heartbeatOk,
        compare(idle, heartbeatOk, [">", "<="], `services[${i}] ws.heartbeatInterval ${rt.ws.heartbeatInterval} ms`),
        "idle WebSockets would be cut: raise loadBalancer.idleTimeout or lower runtime.ws.heartbeatInterval",
      ),
      result(
        `keepalive-vs-alb-idle:${s.name}`,
        keepAliveOk,
        compare(`services[${i}] http.keepAliveTimeout ${rt.http.keepAliveTimeout} ms`, keepAliveOk, [">", "<="], idle),
        "the service would close connections the ALB still reuses (502s): raise runtime.http.keepAliveTimeout above the idle timeout",
      ),
    ];
  });
}

export function checkRedisEviction(p: Profile): Check {
  const policy = `redis.maxmemoryPolicy ${p.redis.maxmemoryPolicy}`;
  const ok = (CACHE_EVICTION_POLICIES as readonly string[]).includes(p.redis.maxmemoryPolicy);
  return result(
    "redis-eviction",
    ok,
    ok
      ? `${policy} evicts any key when memory is full`
      : `${policy} does not suit a cache (writes fail or only TTL keys go when full)`,
    `use ${CACHE_EVICTION_POLICIES.join(" or ")}`,
  );
}

export function checkCacheTtlVsCdn(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  const cdnMaxMs = p.cdn.apiTtl.max * 1000;
  return plan.services.map(({ profile: s, runtime: rt }, i) => {
    const name = `cache-ttl-vs-cdn:${s.name}`;
    if (!p.cdn.enabled) return result(name, true, "cdn disabled: no CDN layer to keep in step", "");
    if (rt.cache.cdn.enabled)
      return result(name, true, `services[${i}] purges the CDN on invalidation (runtime.cache.cdn.enabled)`, "");
    const longest = Math.max(rt.cache.memory.ttl, rt.cache.redis.ttl);
    const ok = longest <= cdnMaxMs;
    return result(
      name,
      ok,
      `${compare(`services[${i}] cache TTL ${longest} ms`, ok, ["<=", ">"], `cdn.apiTtl.max ${cdnMaxMs} ms`)} without a CDN purge`,
      "enable runtime.cache.cdn.enabled or lower runtime.cache TTLs",
    );
  });
}

export function checkHeapFitsMemoryLimit(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  return plan.services.map(({ profile: s, runtime: rt }, i) => {
    const limit = s.resources.limits.memory;
    const allowed = Math.floor((memoryToMiB(limit) ?? 0) * HEAP_SHARE_OF_MEMORY_LIMIT);
    const ok = rt.memory.heapSizeLimit <= allowed;
    const heap = `services[${i}] memory.heapSizeLimit ${rt.memory.heapSizeLimit} MiB (--max-old-space-size, ${DEFAULT_METRIC.heapUsedBytes} alert base)`;
    return result(
      `heap-vs-memory-limit:${s.name}`,
      ok,
      compare(heap, ok, ["<=", ">"], `${HEAP_SHARE_OF_MEMORY_LIMIT * 100}% of resources.limits.memory ${limit} (${allowed} MiB)`),
      "raise services[].resources.limits.memory or lower runtime.memory.heapSizeLimit",
    );
  });
}

/**
 * The memory monitor's pressure point (heapSizeLimit × memoryMonitoring.threshold, where the service
 * starts answering 503 and fails readiness) must come after its GC hint (gcThreshold) and before
 * the heap can no longer fit the container (the heap share of resources.limits.memory).
 */
export function checkMemoryPressurePoint(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  return plan.services.map(({ profile: s, runtime: rt }, i) => {
    const { heapSizeLimit, gcThreshold, memoryMonitoring } = rt.memory;
    const point = Math.floor(heapSizeLimit * memoryMonitoring.threshold);
    const fits = Math.floor((memoryToMiB(s.resources.limits.memory) ?? 0) * HEAP_SHARE_OF_MEMORY_LIMIT);
    const terms = `services[${i}] memory.heapSizeLimit ${heapSizeLimit} MiB × memoryMonitoring.threshold ${memoryMonitoring.threshold} = ${point} MiB`;
    const name = `memory-pressure-point:${s.name}`;
    const share = `${HEAP_SHARE_OF_MEMORY_LIMIT * 100}% of resources.limits.memory ${s.resources.limits.memory} (${fits} MiB)`;
    if (point > fits) {
      return result(
        name,
        false,
        `${terms} > ${share}: the container is killed before the monitor sheds load`,
        "lower memoryMonitoring.threshold or heapSizeLimit, or raise the memory limit",
      );
    }
    if (gcThreshold >= point) {
      return result(
        name,
        false,
        `${terms} <= memory.gcThreshold ${gcThreshold} MiB: the service would shed load before it ever hints a GC`,
        `lower runtime.memory.gcThreshold below ${point}`,
      );
    }
    return result(
      name,
      true,
      `gcThreshold ${gcThreshold} MiB < ${terms} <= ${fits} MiB (${HEAP_SHARE_OF_MEMORY_LIMIT * 100}% of ${s.resources.limits.memory})`,
      "",
    );
  });
}

/**
 * Every cross-layer check, in report order; `plan` is the one servicePlan(p) the platforms also take;
 * `capacity` the services' capacity files as read (tools/capacity-files.ts), none by default.
 */
export function crossLayerChecks(p: Profile, plan: ServicePlan = servicePlan(p), capacity: CapacityInputs = new Map()): Check[] {
  return [
    // Through RDS Proxy the pools count against the proxy's client limit, not max_connections (data-tier-checks.ts).
    ...(p.database.proxy ? [] : [checkConnectionBudget(p, plan)]),
    ...capacityChecks(p, capacity),
    ...dataTierChecks(p, plan),
    ...checkTimeouts(p, plan),
    checkRedisEviction(p),
    ...checkCacheTtlVsCdn(p, plan),
    ...checkHeapFitsMemoryLimit(p, plan),
    ...checkMemoryPressurePoint(p, plan),
    ...checkPodConfig(p, plan),
    ...checkMonitoringWindows(p),
  ];
}

export class CrossLayerCheckError extends StackError {
  static readonly CODE = "UAIP_CROSS_LAYER_CHECK_FAILED";
  constructor(readonly failed: Check[]) {
    const lines = failed.map((c) => `  ✗ ${c.name}: ${c.detail}`);
    super(CrossLayerCheckError.CODE, `cross-layer checks failed:\n${lines.join("\n")}`);
  }
}

/** Throws when any check fails, so `pulumi preview` and the offline plan stop before any change. */
export function assertChecks(checks: Check[]): void {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new CrossLayerCheckError(failed);
}
