/**
 * The monitoring inputs that come from the performance profile. Rules, dashboards, the static
 * Prometheus config and the Monitoring component all read the same resolved options, so the
 * numbers in an alert and on a dashboard cannot drift apart.
 */
import { SEED_SERVICES } from "../profile/presets";

/** A service Prometheus scrapes. In Kubernetes its Service carries `app.kubernetes.io/name: <name>`. */
export interface ScrapedService {
  /** Service name: also the metric `service` label and the Kubernetes Service name. */
  name: string;
  /** HTTP port serving `/metrics` (the seed: 3001, 3002, 3003). */
  port: number;
}

/** The seed's three services and ports (defined once, with the presets). */
export const DEFAULT_SERVICES: readonly ScrapedService[] = SEED_SERVICES;

/** Fixed uid of the Prometheus datasource; every dashboard panel and query refers to it. */
export const DATASOURCE_UID = "prometheus";
/** The datasource reference every panel and query carries. */
export const DATASOURCE = { type: "prometheus", uid: DATASOURCE_UID } as const;

/** Job name of the seed's static config; the ServiceMonitors relabel to it, so `up{job=...}` works in both. */
export const SCRAPE_JOB = "uaip-services";
/** Metrics path of every UAIP service. */
export const METRICS_PATH = "/metrics";

export interface MonitoringOptions {
  /** Services to scrape. @default DEFAULT_SERVICES (the seed's three) */
  services?: readonly ScrapedService[];
  /** Namespace of the UAIP services' Kubernetes Services. @default "uaip" */
  servicesNamespace?: string;
  /** Prometheus scrape interval (the seed: 15 s). @default "15s" */
  scrapeInterval?: string;
  slo?: {
    /** p95 latency objective, ms (the seed's k6 threshold p95<500). @default 500 */
    latencyP95Ms?: number;
    /** Error-rate objective, fraction (the seed's http_req_failed rate<0.01); the error budget. @default 0.01 */
    errorRate?: number;
  };
  /** Heap used / heap limit above which the heap alert fires: the memory monitor's threshold. @default 0.85 */
  heapThreshold?: number;
  /** WebSocket connections / max connections above which the near-max alert fires. @default 0.9 */
  wsNearMaxFraction?: number;
  /** p99 event-loop lag, seconds, above which the lag alert fires. @default 0.2 */
  eventLoopLagSeconds?: number;
  /** Cache hit ratio (per service and tier) below which the collapse alert fires. @default 0.5 */
  cacheHitRatioMin?: number;
  /** Cache (Redis) errors per second, per service, above which the cache-errors alert fires. @default 0.1 */
  cacheErrorsPerSecond?: number;
  /** Share of rate-limited requests that are rejected above which the spike alert fires. @default 0.1 */
  rateLimitRejectedRatio?: number;
  /** Base of every alert's runbook_url; the anchor is appended after `#`. @default "docs/runbooks.md" */
  runbookBaseUrl?: string;
}

export type ResolvedMonitoringOptions = Required<Omit<MonitoringOptions, "slo">> & {
  slo: { latencyP95Ms: number; errorRate: number };
};

/** Applies every default once (each with `??`, documented on its field). */
export function resolveMonitoringOptions(options: MonitoringOptions = {}): ResolvedMonitoringOptions {
  return {
    services: options.services ?? DEFAULT_SERVICES,
    servicesNamespace: options.servicesNamespace ?? "uaip",
    scrapeInterval: options.scrapeInterval ?? "15s",
    slo: {
      latencyP95Ms: options.slo?.latencyP95Ms ?? 500,
      errorRate: options.slo?.errorRate ?? 0.01,
    },
    heapThreshold: options.heapThreshold ?? 0.85,
    wsNearMaxFraction: options.wsNearMaxFraction ?? 0.9,
    eventLoopLagSeconds: options.eventLoopLagSeconds ?? 0.2,
    cacheHitRatioMin: options.cacheHitRatioMin ?? 0.5,
    cacheErrorsPerSecond: options.cacheErrorsPerSecond ?? 0.1,
    rateLimitRejectedRatio: options.rateLimitRejectedRatio ?? 0.1,
    runbookBaseUrl: options.runbookBaseUrl ?? "docs/runbooks.md",
  };
}
