/**
 * CacheMetrics (issue #22): the hot path bumps plain numbers and prom-client sees them at scrape time. Each
 * rule on both sides: counted once (not again on the next scrape), every instance sharing a registry flushed,
 * nothing pushed after close, zero-valued error and invalidation series from the start.
 */
import { Counter, Registry } from "prom-client";
import { CACHE_OPERATION, CacheMetrics } from "../../src/cache/metrics";
import { LABEL, METRIC } from "../../src/metrics/names";

/** Every sample of a metric as "label=value,...": value, read through a scrape (which runs the flush hooks). */
async function samples(registry: Registry, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const labels = Object.entries(v.labels)
      .map(([k, x]) => `${k}=${x}`)
      .sort()
      .join(",");
    out[labels] = v.value;
  }
  return out;
}

const req = (tier: string, result: string) => `${LABEL.result}=${result},${LABEL.tier}=${tier}`;
const op = (operation: string) => `${LABEL.operation}=${operation}`;

describe("CacheMetrics", () => {
  it("every operation's error and invalidation series exists at 0 before anything happened", async () => {
    const registry = new Registry();
    new CacheMetrics(registry);
    const zeros = Object.fromEntries(Object.values(CACHE_OPERATION).map((o) => [op(o), 0]));
    expect(await samples(registry, METRIC.cacheErrorsTotal)).toEqual(zeros);
    expect(await samples(registry, METRIC.cacheInvalidationsTotal)).toEqual(zeros);
  });

  it("pushes each tier/result count, error and invalidation at the scrape, once", async () => {
    const registry = new Registry();
    const m = new CacheMetrics(registry);
    m.l1Hit += 3;
    m.l1Miss += 2;
    m.l2Hit += 1;
    m.l2Miss += 4;
    m.error(CACHE_OPERATION.get);
    m.error(CACHE_OPERATION.get);
    m.error(CACHE_OPERATION.publish);
    m.invalidation(CACHE_OPERATION.remote);
    const requests = await samples(registry, METRIC.cacheRequestsTotal);
    expect(requests).toMatchObject({
      [req("l1", "hit")]: 3,
      [req("l1", "miss")]: 2,
      [req("l2", "hit")]: 1,
      [req("l2", "miss")]: 4,
    });
    expect(await samples(registry, METRIC.cacheErrorsTotal)).toMatchObject({
      [op("get")]: 2,
      [op("publish")]: 1,
      [op("set")]: 0,
    });
    expect(await samples(registry, METRIC.cacheInvalidationsTotal)).toMatchObject({ [op("remote")]: 1, [op("invalidate")]: 0 });
    // A second scrape with nothing new counts nothing twice; new bumps add to the totals.
    m.l1Hit += 1;
    m.error(CACHE_OPERATION.get);
    expect((await samples(registry, METRIC.cacheRequestsTotal))[req("l1", "hit")]).toBe(4);
    expect((await samples(registry, METRIC.cacheRequestsTotal))[req("l2", "miss")]).toBe(4);
    expect((await samples(registry, METRIC.cacheErrorsTotal))[op("get")]).toBe(3);
    expect((await samples(registry, METRIC.cacheInvalidationsTotal))[op("remote")]).toBe(1);
  });

  it("flushes every instance on a shared registry at one scrape, and keeps a collect hook set by someone else", async () => {
    const registry = new Registry();
    let theirs = 0;
    const shared = new Counter({
      name: METRIC.cacheRequestsTotal,
      help: "h",
      labelNames: [LABEL.tier, LABEL.result],
      registers: [registry],
      collect() {
        theirs++;
      },
    });
    const a = new CacheMetrics(registry);
    const b = new CacheMetrics(registry);
    a.l2Hit += 2;
    b.l2Hit += 5;
    expect((await samples(registry, METRIC.cacheRequestsTotal))[req("l2", "hit")]).toBe(7);
    expect(theirs).toBe(1);
    expect(shared).toBe(registry.getSingleMetric(METRIC.cacheRequestsTotal));
  });

  it("close() pushes what is pending and detaches: later bumps of a closed instance never reach the registry", async () => {
    const registry = new Registry();
    const closed = new CacheMetrics(registry);
    const open = new CacheMetrics(registry);
    closed.l1Miss += 2;
    closed.error(CACHE_OPERATION.connection);
    closed.close();
    closed.l1Miss += 10;
    closed.error(CACHE_OPERATION.connection);
    open.l1Miss += 1;
    expect((await samples(registry, METRIC.cacheRequestsTotal))[req("l1", "miss")]).toBe(3);
    expect((await samples(registry, METRIC.cacheErrorsTotal))[op("connection")]).toBe(1);
  });

  it("without a registry it counts nothing anywhere and never throws", () => {
    const m = new CacheMetrics();
    m.l1Hit++;
    m.error(CACHE_OPERATION.get);
    m.invalidation(CACHE_OPERATION.invalidate);
    expect(() => m.flush()).not.toThrow();
    expect(() => m.close()).not.toThrow();
  });
});
