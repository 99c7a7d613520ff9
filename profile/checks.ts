import { DEFAULT_METRIC } from "@uaip/runtime";
import { StackError } from "./errors";
import { memoryToMiB } from "./quantity";
import type { Profile } from "./schema";
import { servicePlan, type ServicePlan } from "./service-settings";

/**
 * The cross-layer checks: what no single-layer module checks, because each layer is
 * configured on its own. All pure; the plan reports them and fails on any that is not ok.
 */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Cache-friendly eviction policies: every key may be evicted, by recency or frequency. */
export const CACHE_EVICTION_POLICIES = ["allkeys-lru", "allkeys-lfu"] as const;
/** Share of the container memory limit the V8 heap may take; the rest is buffers, code, stacks. */
export const HEAP_SHARE_OF_MEMORY_LIMIT = 0.75;

export function checkConnectionBudget(p: Profile, plan: ServicePlan = servicePlan(p)): Check {
  const b = plan.budget;
  const terms = b.perService.map((s, i) => `services[${i}] ${s.name}: pool.max=${s.poolMax} × hpa.max=${s.hpaMax} = ${s.connections}`).join("; ");
  const sum = `${terms}; + reserved ${b.reserved} = ${b.required}`;
  const name = "connection-budget";
  if (b.maxConnections > b.classLimit) {
    return { name, ok: false, detail: `${sum}; max_connections ${b.maxConnections} exceeds what ${p.database.instanceClass} holds (${b.classLimit}); lower pool.max or hpa.max, or pick a larger database.instanceClass` };
  }
  if (b.required > b.maxConnections) {
    const largest = b.perService.reduce((a, s) => (s.connections > a.connections ? s : a));
    return {
      name,
      ok: false,
      detail: `${sum} exceeds max_connections ${b.maxConnections} (budget for services ${b.maxConnections - b.reserved} = max_connections ${b.maxConnections} − reserved ${b.reserved}); lower pool.max or hpa.max (largest: ${largest.name}), or raise database.maxConnections / pick a larger database.instanceClass`,
    };
  }
  return { name, ok: true, detail: `${sum} <= max_connections ${b.maxConnections} <= ${p.database.instanceClass} limit ${b.classLimit}` };
}

export function checkTimeouts(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  const idleMs = p.loadBalancer.idleTimeout * 1000;
  return plan.services.flatMap(({ profile: s, runtime: rt }, i) => {
    return [
      {
        name: `alb-idle-vs-ws-heartbeat:${s.name}`,
        ok: idleMs > rt.ws.heartbeatInterval,
        detail: `loadBalancer.idleTimeout ${idleMs} ms ${idleMs > rt.ws.heartbeatInterval ? ">" : "<="} services[${i}] ws.heartbeatInterval ${rt.ws.heartbeatInterval} ms${idleMs > rt.ws.heartbeatInterval ? "" : "; idle WebSockets would be cut: raise loadBalancer.idleTimeout or lower runtime.ws.heartbeatInterval"}`,
      },
      {
        name: `keepalive-vs-alb-idle:${s.name}`,
        ok: rt.http.keepAliveTimeout > idleMs,
        detail: `services[${i}] http.keepAliveTimeout ${rt.http.keepAliveTimeout} ms ${rt.http.keepAliveTimeout > idleMs ? ">" : "<="} loadBalancer.idleTimeout ${idleMs} ms${rt.http.keepAliveTimeout > idleMs ? "" : "; the service would close connections the ALB still reuses (502s): raise runtime.http.keepAliveTimeout above the idle timeout"}`,
      },
    ];
  });
}

export function checkRedisEviction(p: Profile): Check {
  const ok = (CACHE_EVICTION_POLICIES as readonly string[]).includes(p.redis.maxmemoryPolicy);
  return {
    name: "redis-eviction",
    ok,
    detail: ok
      ? `redis.maxmemoryPolicy ${p.redis.maxmemoryPolicy} evicts any key when memory is full`
      : `redis.maxmemoryPolicy ${p.redis.maxmemoryPolicy} does not suit a cache (writes fail or only TTL keys go when full); use ${CACHE_EVICTION_POLICIES.join(" or ")}`,
  };
}

export function checkCacheTtlVsCdn(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  const cdnMaxMs = p.cdn.apiTtl.max * 1000;
  return plan.services.map(({ profile: s, runtime: rt }, i) => {
    const name = `cache-ttl-vs-cdn:${s.name}`;
    if (!p.cdn.enabled) return { name, ok: true, detail: "cdn disabled: no CDN layer to keep in step" };
    if (rt.cache.cdn.enabled) return { name, ok: true, detail: `services[${i}] purges the CDN on invalidation (runtime.cache.cdn.enabled)` };
    const longest = Math.max(rt.cache.memory.ttl, rt.cache.redis.ttl);
    const ok = longest <= cdnMaxMs;
    return {
      name,
      ok,
      detail: `services[${i}] cache TTL ${longest} ms ${ok ? "<=" : ">"} cdn.apiTtl.max ${cdnMaxMs} ms without a CDN purge${ok ? "" : "; enable runtime.cache.cdn.enabled or lower runtime.cache TTLs"}`,
    };
  });
}

export function checkHeapFitsMemoryLimit(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  return plan.services.map(({ profile: s, runtime: rt }, i) => {
    const limitMiB = memoryToMiB(s.resources.limits.memory) ?? 0;
    const allowed = Math.floor(limitMiB * HEAP_SHARE_OF_MEMORY_LIMIT);
    const ok = rt.memory.heapSizeLimit <= allowed;
    return {
      name: `heap-vs-memory-limit:${s.name}`,
      ok,
      detail: `services[${i}] memory.heapSizeLimit ${rt.memory.heapSizeLimit} MiB (--max-old-space-size, ${DEFAULT_METRIC.heapUsedBytes} alert base) ${ok ? "<=" : ">"} ${HEAP_SHARE_OF_MEMORY_LIMIT * 100}% of resources.limits.memory ${s.resources.limits.memory} (${allowed} MiB)${ok ? "" : "; raise services[].resources.limits.memory or lower runtime.memory.heapSizeLimit"}`,
    };
  });
}

/** Every cross-layer check, in report order; `plan` is the one servicePlan(p) the platforms also take. */
export function crossLayerChecks(p: Profile, plan: ServicePlan = servicePlan(p)): Check[] {
  return [checkConnectionBudget(p, plan), ...checkTimeouts(p, plan), checkRedisEviction(p), ...checkCacheTtlVsCdn(p, plan), ...checkHeapFitsMemoryLimit(p, plan)];
}

export class CrossLayerCheckError extends StackError {
  static readonly CODE = "UAIP_CROSS_LAYER_CHECK_FAILED";
  constructor(readonly failed: Check[]) {
    super(CrossLayerCheckError.CODE, `cross-layer checks failed:\n${failed.map((c) => `  ✗ ${c.name}: ${c.detail}`).join("\n")}`);
  }
}

/** Throws when any check fails, so `pulumi preview` and the offline plan stop before any change. */
export function assertChecks(checks: Check[]): void {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new CrossLayerCheckError(failed);
}
