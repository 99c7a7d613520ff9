import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import fc from "fast-check";
import { HttpMetrics } from "@uaip/runtime";
import { EMPTY_WHEN, type RunFacts } from "../../dashboards/expected-empty";
import { dashboardQueries, recordingRuleQueries, type DashboardQueries } from "../../dashboards/queries";
import { SERVICE_OVERVIEW_UID } from "../../dashboards/service-overview";
import { parse } from "yaml";
import { stackProfile } from "../../load/stack-profile";
import {
  loopbackPrometheusFiles,
  profileMonitoringOptions,
  runScrapeInterval,
  startRunPrometheus,
  SAMPLES_PER_WINDOW,
  ScrapeIntervalError,
} from "../../load/runner/prometheus";
import {
  checkQueries,
  classify,
  QueryCheckError,
  grafanaRateIntervalS,
  promDurationSeconds,
  queryFailures,
  rangeWindowsS,
  substitute,
} from "../../load/runner/query-check";
import { PROMETHEUS_CONFIG_PATH } from "../../dashboards/files";
import { PrometheusServer } from "../../tools/local-servers/prometheus-server";
import { freePort } from "../helpers/redis";

const QUIET: RunFacts = { failedRequests: 0, limiterRejections: 0, cacheReads: false, redisFaults: false, kubernetes: false };

describe("the verdict on one query", () => {
  const value = fc.oneof(fc.double({ noNaN: true }).map(String), fc.constantFrom("+Inf", "-Inf", "0"));
  const series = (values: string[]) => ({ metric: {}, values: values.map((v, i) => [i, v] as [number, string]) });

  it("is data as soon as one point is a number, whatever else the series hold", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constant("NaN"), { maxLength: 5 }), { maxLength: 3 }),
        value,
        fc.boolean(),
        (nans, v, allowed) => {
          expect(classify([...nans.map(series), series(["NaN", v])], allowed)).toBe("data");
        },
      ),
    );
  });

  it("fails when empty or only NaN, unless the declared condition holds", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }), fc.boolean(), (lengths, allowed) => {
        const result = lengths.map((n) => series(Array(n).fill("NaN")));
        const empty = lengths.every((n) => n === 0);
        expect(classify(result, allowed)).toBe(allowed ? "expected-empty" : empty ? "empty" : "nan");
      }),
    );
  });

  it("allows an error series to be missing only in a run where nothing failed", () => {
    expect(EMPTY_WHEN.noFailedRequests.holds(QUIET)).toBe(true);
    expect(EMPTY_WHEN.noFailedRequests.holds({ ...QUIET, failedRequests: 1 })).toBe(false);
    expect(EMPTY_WHEN.notKubernetes.holds({ ...QUIET, kubernetes: true })).toBe(false);
    expect(EMPTY_WHEN.noRedisFaults.holds({ ...QUIET, redisFaults: true })).toBe(false);
    expect(EMPTY_WHEN.noCacheReads.holds({ ...QUIET, cacheReads: true })).toBe(false);
  });

  it("allows the limiter's rejection series to be missing in a run whose failures were not 429s, not in one with a 429", () => {
    const rejections = dashboardQueries()
      .flatMap((d) => d.panels)
      .find((p) => p.title === "Rate-limiter rejections")!.targets[0].emptyWhen!;
    // Requests failed (5xx, timeouts) but the limiter rejected none: the series was never created, and that is right.
    expect(rejections.holds({ ...QUIET, failedRequests: 5, limiterRejections: 0 })).toBe(true);
    expect(rejections.holds({ ...QUIET, failedRequests: 1, limiterRejections: 1 })).toBe(false);
  });

  it("declares expected-empty next to the queries: the error series and the HPA panel, not the request rate", () => {
    const targets = dashboardQueries().flatMap((d) => d.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, ...t }))));
    const declared = new Set(targets.filter((t) => t.emptyWhen).map((t) => t.panel));
    expect(declared).toContain("HPA replicas vs max");
    expect(declared).not.toContain("Request rate");
    expect(
      recordingRuleQueries()
        .filter((r) => r.emptyWhen)
        .map((r) => r.record),
    ).toEqual(["service:uaip_http_request_errors:rate5m", "service_tier:uaip_cache_requests:hit_ratio_rate5m"]);
  });
});

describe("Grafana variables and durations", () => {
  it("sets $__rate_interval like Grafana: at least 4 scrapes, and at least one step plus a scrape", () => {
    expect(grafanaRateIntervalS(1, 5)).toBe(20);
    expect(grafanaRateIntervalS(15, 5)).toBe(20);
    expect(grafanaRateIntervalS(16, 5)).toBe(21);
    expect(substitute('rate(x{service="$service"}[$__rate_interval])', { service: "a", rateIntervalS: 20 })).toBe(
      'rate(x{service="a"}[20s])',
    );
  });

  it("reads Prometheus durations and every range window of an expression", () => {
    expect(promDurationSeconds("1h30m")).toBe(5400);
    expect(promDurationSeconds("3d")).toBe(259_200);
    expect(() => promDurationSeconds("5 m")).toThrow(QueryCheckError);
    expect(() => promDurationSeconds("")).toThrow(/not a Prometheus duration/);
    expect(rangeWindowsS(["rate(a[5m]) / rate(b[1d])", "max_over_time(c[30m:1m])"])).toEqual([300, 86_400, 1800]);
  });

  it("shortens the scrape interval for a quick run only while every rule window holds 4 scrapes", () => {
    const exprs = ["sum(rate(x[5m]))", "sum(rate(x[1h]))"];
    expect(runScrapeInterval("15s", "quick", exprs)).toBe("5s");
    expect(runScrapeInterval("15s", "full", exprs)).toBe("15s");
    expect(runScrapeInterval("2s", "quick", exprs)).toBe("2s");
    // 5m = 300 s: 75 s gives exactly 4 scrapes per window, 76 s fewer.
    expect(runScrapeInterval("75s", "full", exprs)).toBe("75s");
    expect(() => runScrapeInterval("76s", "full", exprs)).toThrow(ScrapeIntervalError);
    expect(() => runScrapeInterval("76s", "full", exprs)).toThrow(/300s hold fewer than 4 scrapes.*at most 75s/);
    expect(SAMPLES_PER_WINDOW).toBe(4);
  });
});

/**
 * Against a real Prometheus scraping the runtime's real /metrics (HttpMetrics) every second: the
 * service overview's request-rate and response-time panels return data; the same request-rate
 * panel with a wrong label returns nothing, and the check fails naming it.
 */
describe("panels against a real Prometheus", () => {
  const SERVICE = "svc-under-check";
  let prom: PrometheusServer;
  let server: Server;
  let metrics: HttpMetrics;
  let traffic: NodeJS.Timeout;

  beforeAll(async () => {
    metrics = new HttpMetrics({ serviceName: SERVICE });
    server = createServer(metrics.metricsHandler);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    traffic = setInterval(() => metrics.observe("POST", "/svc/operations", 200, 20), 50);
    traffic.unref();
    prom = await PrometheusServer.start({
      files: loopbackPrometheusFiles({ scrapeInterval: "1s" }, [{ name: SERVICE, port }]),
      configPath: PROMETHEUS_CONFIG_PATH,
    });
    // Three scrapes: enough for rate() over $__rate_interval (4 s at a 1 s scrape).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const up = await prom.queryRange("count_over_time(up[10s])", Date.now() / 1000 - 1, Date.now() / 1000, 1).catch(() => []);
      if (Number(up[0]?.values.at(-1)?.[1] ?? 0) >= 3) break;
      if (Date.now() > deadline) throw new Error(`prometheus never scraped the target:\n${prom.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 30_000);

  afterAll(async () => {
    clearInterval(traffic);
    await prom?.stop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    metrics?.close();
  });

  function serviceOverview(breakRequestRate: boolean): DashboardQueries {
    const d = dashboardQueries().find((x) => x.uid === SERVICE_OVERVIEW_UID)!;
    const panels = d.panels
      .filter((p) => p.title === "Request rate" || p.title === "Response time")
      .map((p) =>
        p.title === "Request rate" && breakRequestRate
          ? { ...p, targets: p.targets.map((t) => ({ ...t, expr: t.expr.replace('service="$service"', 'servce="$service"') })) }
          : p,
      );
    return { ...d, panels };
  }

  const check = (dashboard: DashboardQueries) => {
    const now = Math.ceil(Date.now() / 1000);
    return checkQueries(prom, {
      dashboards: [dashboard],
      rules: [],
      services: [SERVICE],
      window: { start: now - 10, end: now, stepS: 1 },
      scrapeS: 1,
      facts: QUIET,
    });
  };

  it("refuses to check `$service` panels for no service at all (they would pass unchecked)", async () => {
    const now = Math.ceil(Date.now() / 1000);
    await expect(
      checkQueries(prom, {
        dashboards: [serviceOverview(false)],
        rules: [],
        services: [],
        window: { start: now - 10, end: now, stepS: 1 },
        scrapeS: 1,
        facts: QUIET,
      }),
    ).rejects.toThrow(QueryCheckError);
  });

  it("returns series for every target of the real panels", async () => {
    const results = await check(serviceOverview(false));
    expect(results.length).toBe(5);
    expect(queryFailures(results)).toEqual([]);
    expect(results.every((r) => r.status === "data" && r.series > 0)).toBe(true);
  }, 20_000);

  it("fails a panel whose query selects a label the series do not have, and names that panel only", async () => {
    const results = await check(serviceOverview(true));
    const failures = queryFailures(results);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain("UAIP / Service overview › Request rate [A]");
    expect(failures[0]).toContain(`service ${SERVICE}`);
    expect(failures[0]).toContain('servce="svc-under-check"');
    expect(results.filter((r) => r.name.includes("Response time")).every((r) => r.status === "data")).toBe(true);
  }, 20_000);
});

describe("the run's Prometheus", () => {
  it("gets the profile's SLO and heap threshold, the run's interval, and every service on loopback; nothing but its config and rules", () => {
    const dev = stackProfile("dev");
    const profile = {
      ...dev,
      monitoring: { ...dev.monitoring, slo: { latencyP95Ms: 321, errorRate: 0.003 } },
      runtime: {
        ...dev.runtime,
        memory: { ...dev.runtime.memory, memoryMonitoring: { ...dev.runtime.memory.memoryMonitoring, threshold: 0.77 } },
      },
    };
    const services = [
      { name: "a", port: 4101 },
      { name: "b", port: 4102 },
    ];
    const files = loopbackPrometheusFiles(profileMonitoringOptions(profile, "7s"), services);
    expect(Object.keys(files).sort()).toEqual([PROMETHEUS_CONFIG_PATH, "rules/uaip-alerts.yaml", "rules/uaip-recording.yaml"]);
    const config = parse(files[PROMETHEUS_CONFIG_PATH]!) as {
      global: { scrape_interval: string };
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(config.global.scrape_interval).toBe("7s");
    expect(config.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets))).toEqual([
      "127.0.0.1:4101",
      "127.0.0.1:4102",
    ]);
    const alerts = files["rules/uaip-alerts.yaml"]!;
    expect(alerts).toContain("p95_5m > 0.321\n");
    expect(alerts).toContain("(14.4 * 0.003)");
    expect(alerts).toContain("(uaip_memory_heap_limit_bytes) > 0.77\n");
  });

  it("names every rule window too short for the interval, shortest first, whatever order the rules hold them in", () => {
    // At 8m, 4 scrapes span 1920 s: the 30m (1800 s) and 5m (300 s) windows are too short, the 1h one is not.
    expect(() => runScrapeInterval("8m", "full", ["rate(x[1h])", "rate(x[30m])", "rate(x[5m])"])).toThrow(
      /the rule windows 300s, 1800s hold fewer than 4 scrapes at 8m; use an interval of at most 75s/,
    );
  });

  it("starts from the profile: a quick run at 5s with the profile's numbers; an interval too long for the rules is refused first", async () => {
    const dev = stackProfile("dev");
    const at = (scrapeInterval: string) => ({ ...dev, monitoring: { ...dev.monitoring, scrapeInterval } });
    // 4 scrapes of 2m span 480 s: the rules' 5m windows are too short.
    const refused = await startRunPrometheus(at("2m"), [], { mode: "full", keep: false }).then(
      async (started) => started.prometheus.stop(), // Not refused: stop it, so that the assertion below fails alone.
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ScrapeIntervalError);
    expect(String(refused)).toMatch(/scrapeInterval="2m": the rule windows 300s hold fewer than 4 scrapes/);
    const run = await startRunPrometheus(at("15s"), [{ name: "a", port: 4101 }], { mode: "quick", keep: false });
    try {
      expect(run.scrapeInterval).toBe("5s");
      expect(run.monitoring).toEqual(profileMonitoringOptions(dev, "5s"));
      expect(readFileSync(join(run.prometheus.dir, PROMETHEUS_CONFIG_PATH), "utf8")).toContain("127.0.0.1:4101");
    } finally {
      await run.prometheus.stop();
    }
  }, 30_000);

  it("removes its data directory when it stops, unless asked to keep it", async () => {
    const files = loopbackPrometheusFiles({ scrapeInterval: "1s" }, []);
    const thrown = await PrometheusServer.start({ files, configPath: PROMETHEUS_CONFIG_PATH });
    expect(existsSync(thrown.dir)).toBe(true);
    await thrown.stop();
    expect(existsSync(thrown.dir)).toBe(false);
    const kept = await PrometheusServer.start({ files, configPath: PROMETHEUS_CONFIG_PATH, keep: true });
    await kept.stop();
    expect(existsSync(`${kept.dir}/data`)).toBe(true);
    rmSync(kept.dir, { recursive: true, force: true });
  }, 30_000);
});
