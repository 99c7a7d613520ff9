import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { UaipError } from "../errors";
import {
  boolean,
  duration,
  fieldProblem,
  func,
  integer,
  object,
  required,
  size,
  string,
  showValue,
  validateOptions,
  type Field,
  type OptionProblem,
  type SpecFor,
} from "../options";
import { HTTP_DURATION_BUCKETS, LABEL, METRIC } from "./names";
import { readDiskIo, NetworkTracker } from "./resources";
import { bucketsProblem, ExtraLabels, labelNameProblem, type LabelExtractor } from "./extra-labels";
import { normalizeMethod, RouteGuard } from "./route";
import { registerSeriesHistogram, SeriesTable } from "./series";
import { SlidingWindow } from "./window";

/**
 * The seed's ServiceMetrics, field by field. Units:
 * - requestRate: requests per second over the sliding window;
 * - errorRate: fraction (0..1) of the window's requests answered 5xx;
 * - response times: milliseconds over the sliding window (avg, nearest-rank p95/p99, max);
 * - cpuUsage: percent of one CPU core used by the process since the previous snapshot()
 *   (since createMetrics for the first call; can exceed 100 on several cores);
 * - memoryUsage: resident set size, bytes;
 * - diskIO: bytes read + written by the process at the storage layer since it started
 *   (/proc/self/io; 0 where absent);
 * - networkIO: bytes received + sent on instrumented HTTP sockets since createMetrics.
 * totalRequests counts every finished request since createMetrics; activeRequests is in flight now.
 */
export interface ServiceMetrics {
  requestMetrics: {
    totalRequests: number;
    activeRequests: number;
    requestRate: number;
    errorRate: number;
  };
  responseMetrics: {
    averageResponseTime: number;
    p95ResponseTime: number;
    p99ResponseTime: number;
    maxResponseTime: number;
  };
  resourceMetrics: {
    cpuUsage: number;
    memoryUsage: number;
    diskIO: number;
    networkIO: number;
  };
}

export interface CreateMetricsOptions {
  /** Value of the `service` label on every metric of the registry. */
  serviceName: string;
  /** Registry to register into (one createMetrics per registry). @default a new Registry */
  registry?: Registry;
  /** Register prom-client's default process/Node.js metrics. @default true */
  collectDefault?: boolean;
  /** Sliding window of snapshot(), ms. @default 60000 */
  window?: number;
  /** Step the window slides by, ms. @default 1000 */
  bucketMs?: number;
  /** Raw durations kept per bucket for exact percentiles. @default 1000 */
  samplesPerBucket?: number;
  /** Distinct undeclared route labels before the rest become "__other__". @default 100 */
  maxRoutes?: number;
  /**
   * Route templates declared up front (`/users/:id`; a `:name` segment matches any one segment). They
   * always keep their label, whatever came first: `maxRoutes` caps only the routes not declared, so
   * unknown paths (scanners) can never crowd a declared route into "__other__". @default none
   */
  routes?: readonly string[];
  /** Upper bounds of the request-duration histogram, seconds, increasing (+Inf is implicit). @default HTTP_DURATION_BUCKETS */
  buckets?: readonly number[];
  /**
   * Extra labels on the HTTP request metrics: name -> function of the request giving the value
   * (`{ tenant: (req) => String(req.headers["x-tenant"] ?? "") }`). Names follow Prometheus' rules and
   * may not be a built-in label (service, method, route, status_code, le). Each label keeps at most
   * 100 distinct values; later ones are "__other__". `observe()` takes them as a record. @default none
   */
  labels?: Readonly<Record<string, LabelExtractor>>;
  /** Monotonic clock in ms, for durations and the window (tests inject one). @default performance.now */
  now?: () => number;
}

/** A createMetrics option is malformed; `key` names it. */
export class MetricsOptionsError extends UaipError {
  static readonly CODE = "UAIP_METRICS_OPTIONS_INVALID";
  readonly key: string;

  constructor(key: string, message: string) {
    super(MetricsOptionsError.CODE, `metrics option ${key}: ${message}`);
    this.key = key;
  }
}

/** Status label of a request whose client went away before the response finished (nginx' convention). */
export const CLIENT_CLOSED_STATUS = 499;

type Req = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; originalUrl?: string };
type Res = ServerResponse & Record<symbol, number | undefined>;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const metricsError = (key: string, message: string) => new MetricsOptionsError(key, message);

/** Most window buckets: each costs a few typed-array slots and a sample array when used. */
const MAX_BUCKETS = 100_000;

/** Declared route templates: every item a string starting with "/", every bad one named. */
const ROUTE_TEMPLATES: Field<readonly string[]> = {
  expected: 'a list of route templates starting with "/" (["/users/:id"])',
  problem: (v) => {
    if (!Array.isArray(v)) return "";
    const bad = (v as unknown[]).filter((r) => typeof r !== "string" || !r.startsWith("/"));
    return bad.length === 0 ? undefined : `each route must be a template starting with "/", got ${bad.map(showValue).join(", ")}`;
  },
};

/** Histogram upper bounds, seconds: positive, finite, strictly increasing (+Inf is implicit). */
const HISTOGRAM_BUCKETS: Field<readonly number[]> = {
  expected: "a non-empty list of increasing positive finite upper bounds, seconds",
  problem: (v) => bucketsProblem(v),
};

/** Extra labels: Prometheus names that are not built in, each mapped to a function; every bad one named. */
const EXTRA_LABELS: Field<Readonly<Record<string, LabelExtractor>>> = {
  expected: "an object { labelName: (req) => string }",
  problem: (v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return "";
    const problems: string[] = [];
    for (const [name, extract] of Object.entries(v)) {
      const problem = labelNameProblem(name);
      if (problem !== undefined) problems.push(problem);
      else if (typeof extract !== "function") problems.push(`"${name}" must map to a function (req) => string`);
    }
    return problems.length === 0 ? undefined : problems.join("; ");
  },
};

const CREATE_METRICS_OPTIONS_SPEC = {
  // A Prometheus label value, shown in every series: printable, no control characters.
  serviceName: required(
    string({ pattern: /^[\x20-\x7e]{1,128}$/, what: "a non-empty printable name of at most 128 characters" }),
  ),
  registry: object<Registry>("a prom-client Registry", (v) => typeof (v as Registry).getSingleMetric === "function"),
  collectDefault: boolean,
  window: duration(1),
  bucketMs: duration(1),
  // A full bucket keeps its samples in a Float64Array: 8 bytes each, for every bucket of the window.
  samplesPerBucket: integer(1, 10_000_000),
  maxRoutes: integer(1, 100_000),
  now: func<() => number>("a monotonic clock () => number (ms)"),
  routes: ROUTE_TEMPLATES,
  buckets: HISTOGRAM_BUCKETS,
  labels: EXTRA_LABELS,
} satisfies SpecFor<CreateMetricsOptions>;

/**
 * HTTP RED metrics, resource metrics and a sliding-window snapshot for one service.
 * Hot path per request: two clock reads, one 'close' listener (shared function), three Map
 * lookups for the label series, a few number updates and an O(1) ring write; prom-client only
 * sees the totals when it is scraped.
 */
export class HttpMetrics {
  readonly registry: Registry;
  readonly serviceName: string;
  readonly routes: RouteGuard;
  #ownsRegistry: boolean;
  #now: () => number;
  #window: SlidingWindow;
  #network = new NetworkTracker();
  #series: SeriesTable;
  readonly #extra: ExtraLabels | undefined;
  #names: string[];
  #servers: { server: Server; listener: Handler }[] = [];
  // Per-instance key: a response is counted once per HttpMetrics even if instrumented twice.
  readonly #startKey = Symbol("uaip.requestStart");
  readonly #onClose: (this: Res) => void;
  #active = 0;
  #total = 0;
  #cpu = { usage: process.cpuUsage(), at: performance.now() };

  constructor(options: CreateMetricsOptions) {
    const o = validateOptions("createMetrics", options ?? {}, CREATE_METRICS_OPTIONS_SPEC, metricsError, {
      more: (v) => {
        const buckets = Math.ceil((v.window ?? 60_000) / (v.bucketMs ?? 1_000));
        const samples = buckets * (v.samplesPerBucket ?? 1_000);
        const problems: OptionProblem[] = [];
        if (buckets > MAX_BUCKETS)
          problems.push({
            key: "bucketMs",
            message: `window / bucketMs is ${buckets} buckets, more than ${MAX_BUCKETS}; raise bucketMs or shorten window`,
          });
        const p = fieldProblem("samplesPerBucket", samples, size("entries", 8));
        if (p)
          problems.push({
            key: "samplesPerBucket",
            message: `window / bucketMs × samplesPerBucket = ${samples} samples kept; ${p.message}`,
          });
        return problems;
      },
    });
    const windowMs = o.window ?? 60_000;
    const bucketMs = o.bucketMs ?? 1_000;
    const samplesPerBucket = o.samplesPerBucket ?? 1_000;
    const maxRoutes = o.maxRoutes ?? 100;
    this.serviceName = options.serviceName;
    this.#ownsRegistry = options.registry === undefined;
    this.registry = options.registry ?? new Registry();
    if (this.registry.getSingleMetric(METRIC.httpRequestsTotal)) {
      throw new MetricsOptionsError("registry", `already holds ${METRIC.httpRequestsTotal}; use one createMetrics per registry`);
    }
    this.registry.setDefaultLabels({ [LABEL.service]: this.serviceName });
    this.#now = options.now ?? (() => performance.now());
    this.#window = new SlidingWindow(this.#now(), { windowMs, bucketMs, samplesPerBucket });
    this.routes = new RouteGuard(maxRoutes, o.routes ?? []);
    const buckets = o.buckets ?? HTTP_DURATION_BUCKETS;
    this.#series = new SeriesTable([...buckets]);
    this.#extra = o.labels && Object.keys(o.labels).length > 0 ? new ExtraLabels(o.labels) : undefined;

    const labelNames = [LABEL.method, LABEL.route, LABEL.statusCode, ...(this.#extra?.names ?? [])];
    const r = this.registry;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    // The request series live in plain numbers (series.ts) and reach prom-client at scrape time
    // (collect), so the per-request cost is a few additions, not label hashing.
    const syncRequests = () => {
      for (const s of this.#series.all) {
        const delta = s.count - s.exported;
        if (delta === 0) continue;
        s.exported = s.count;
        requests.inc(s.labels, delta);
        if (s.isError) errors.inc(s.labels, delta);
      }
    };
    const requests = new Counter({
      name: METRIC.httpRequestsTotal,
      help: "HTTP requests finished",
      labelNames,
      registers: [r],
      collect: syncRequests,
    });
    const errors = new Counter({
      name: METRIC.httpRequestErrorsTotal,
      help: "HTTP requests answered 5xx",
      labelNames,
      registers: [r],
      collect: syncRequests,
    });
    registerSeriesHistogram(r, METRIC.httpRequestDurationSeconds, "HTTP request duration, seconds", this.#series);

    new Gauge({
      name: METRIC.httpRequestsInFlight,
      help: "HTTP requests in flight",
      registers: [r],
      collect() {
        this.set(self.#active);
      },
    });
    let net = { received: 0, sent: 0 };
    const syncNetwork = () => {
      const now = this.#network.totals();
      received.inc(now.received - net.received);
      sent.inc(now.sent - net.sent);
      net = now;
    };
    const received = new Counter({
      name: METRIC.networkReceivedBytesTotal,
      help: "Bytes received on instrumented HTTP sockets",
      registers: [r],
      collect: syncNetwork,
    });
    const sent = new Counter({
      name: METRIC.networkSentBytesTotal,
      help: "Bytes sent on instrumented HTTP sockets",
      registers: [r],
      collect: syncNetwork,
    });
    this.#names = [
      METRIC.httpRequestsTotal,
      METRIC.httpRequestErrorsTotal,
      METRIC.httpRequestDurationSeconds,
      METRIC.httpRequestsInFlight,
      METRIC.networkReceivedBytesTotal,
      METRIC.networkSentBytesTotal,
    ];

    const disk0 = readDiskIo();
    if (disk0) {
      let disk = { readBytes: 0, writeBytes: 0 };
      const syncDisk = () => {
        const now = readDiskIo();
        if (!now) return;
        diskRead.inc(Math.max(0, now.readBytes - disk.readBytes));
        diskWrite.inc(Math.max(0, now.writeBytes - disk.writeBytes));
        disk = now;
      };
      const diskRead = new Counter({
        name: METRIC.diskReadBytesTotal,
        help: "Bytes the process read from storage (/proc/self/io read_bytes)",
        registers: [r],
        collect: syncDisk,
      });
      const diskWrite = new Counter({
        name: METRIC.diskWriteBytesTotal,
        help: "Bytes the process wrote to storage (/proc/self/io write_bytes)",
        registers: [r],
        collect: syncDisk,
      });
      this.#names.push(METRIC.diskReadBytesTotal, METRIC.diskWriteBytesTotal);
    }
    if (options.collectDefault ?? true) collectDefaultMetrics({ register: r });

    this.#onClose = function (this: Res) {
      self.#end(this.req as Req, this);
    };
  }

  /** Instruments every request of a node:http server (works for an Express app passed to it too). */
  instrumentServer<S extends Server>(server: S): S {
    const listener: Handler = (req, res) => this.#begin(req, res);
    server.prependListener("request", listener);
    this.#servers.push({ server, listener });
    return server;
  }

  /** Wraps a node:http handler: `http.createServer(metrics.wrap(handler))`. */
  wrap(handler: Handler): Handler {
    return (req, res) => {
      this.#begin(req, res);
      handler(req, res);
    };
  }

  /** Express-style middleware; mount it first. The route label comes from req.route when Express matched one. */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
    return (req, res, next) => {
      this.#begin(req, res);
      next();
    };
  }

  /** Serves the registry in the Prometheus text format (mount it at /metrics). */
  readonly metricsHandler = (_req: IncomingMessage, res: ServerResponse): void => {
    this.registry.metrics().then(
      (body) => {
        res.statusCode = 200;
        res.setHeader("Content-Type", this.registry.contentType);
        res.end(body);
      },
      (err: Error) => {
        res.statusCode = 500;
        res.setHeader("Content-Type", "text/plain; charset=utf-8");
        res.end(`metrics collection failed: ${err.message}`);
      },
    );
  };

  /**
   * Records one finished request by hand (non-HTTP transports, or tests). `route` is a template;
   * it still goes through the cardinality cap.
   */
  observe(
    method: string,
    route: string,
    statusCode: number,
    durationMs: number,
    labels?: Readonly<Record<string, string>>,
  ): void {
    const extra = this.#extra?.fromRecord(labels);
    this.#record(normalizeMethod(method), this.routes.label(route), statusCode, durationMs, this.#now(), extra);
  }

  /** The seed's ServiceMetrics over the sliding window (units on the interface). */
  snapshot(): ServiceMetrics {
    const w = this.#window.summary(this.#now());
    const usage = process.cpuUsage();
    const at = performance.now();
    const cpuMicros = usage.user + usage.system - (this.#cpu.usage.user + this.#cpu.usage.system);
    const wallMs = at - this.#cpu.at;
    this.#cpu = { usage, at };
    const disk = readDiskIo();
    const net = this.#network.totals();
    return {
      requestMetrics: {
        totalRequests: this.#total,
        activeRequests: this.#active,
        requestRate: w.count / (w.spanMs / 1000),
        errorRate: w.count === 0 ? 0 : w.errors / w.count,
      },
      responseMetrics: { averageResponseTime: w.avg, p95ResponseTime: w.p95, p99ResponseTime: w.p99, maxResponseTime: w.max },
      resourceMetrics: {
        cpuUsage: wallMs > 0 ? (cpuMicros / 1000 / wallMs) * 100 : 0,
        memoryUsage: process.memoryUsage.rss(),
        diskIO: disk ? disk.readBytes + disk.writeBytes : 0,
        networkIO: net.received + net.sent,
      },
    };
  }

  /** Detaches from servers and sockets and removes this instance's metrics (clears a registry it created). */
  close(): void {
    for (const { server, listener } of this.#servers) server.off("request", listener);
    this.#servers = [];
    this.#network.close();
    this.#series.clear();
    if (this.#ownsRegistry) this.registry.clear();
    else for (const name of this.#names) this.registry.removeSingleMetric(name);
  }

  #begin(req: IncomingMessage, res: ServerResponse): void {
    const r = res as Res;
    if (r[this.#startKey] !== undefined) return;
    r[this.#startKey] = this.#now();
    this.#active++;
    this.#network.track(req.socket);
    // 'close' fires after 'finish' and also when the client aborts, so one listener covers both.
    res.on("close", this.#onClose);
  }

  #end(req: Req, res: Res): void {
    this.#active--;
    const end = this.#now();
    const route =
      req.route !== undefined && req.route.path !== undefined
        ? this.routes.label((req.baseUrl ?? "") + String(req.route.path))
        : this.routes.labelUrl(req.originalUrl ?? req.url);
    const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
    const extra = this.#extra?.fromRequest(req);
    this.#record(normalizeMethod(req.method), route, status, end - res[this.#startKey]!, end, extra);
  }

  #record(method: string, route: string, status: number, durationMs: number, end: number, extra?: string[]): void {
    this.#series.observe(this.#series.get(method, route, status, this.#extra?.names, extra), durationMs / 1000);
    this.#total++;
    this.#window.record(end, durationMs, status >= 500);
  }
}

/** Creates the metrics of one service: `createMetrics({ serviceName: "agent-intelligence" })`. */
export function createMetrics(options: CreateMetricsOptions): HttpMetrics {
  return new HttpMetrics(options);
}
