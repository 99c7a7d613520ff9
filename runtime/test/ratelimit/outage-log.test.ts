/**
 * No silent fail-open: through createRuntime, a Redis outage is logged once when it starts and once
 * when it ends (however many requests it touched), and every degraded answer is counted on a metric.
 */
import { createRuntime } from "../../src/create-runtime";
import { loadRuntimeConfig } from "../../src/config/load";
import { METRIC } from "../../src/metrics/names";
import { RedisServer } from "../../../test/helpers/redis";
import { EpisodeLog } from "../../src/metrics/episode-log";

jest.setTimeout(60_000);

test("a Redis outage: one line at its start and one at its end for each part, every degraded call counted", async () => {
  const server = await RedisServer.start();
  const lines: string[] = [];
  const runtime = createRuntime(
    loadRuntimeConfig({ UAIP_REDIS_HOST: "127.0.0.1", UAIP_REDIS_PORT: String(server.port), UAIP_REPLICAS_MAX: "2" }),
    { log: (line) => lines.push(line) },
  );
  try {
    expect(await runtime.ready(5_000)).toBe(true);
    await server.stop();
    const calls = 25;
    for (let i = 0; i < calls; i++) {
      await runtime.limiter.consume("client");
      await runtime.cache.get(`k${i}`);
    }
    const starts = lines.filter((l) => l.includes("degraded"));
    expect(starts.filter((l) => l.startsWith("rate limiter"))).toHaveLength(1);
    expect(starts.filter((l) => l.startsWith("cache"))).toHaveLength(1);
    expect(starts.find((l) => l.startsWith("rate limiter"))).toMatch(/policy memory/);
    const text = await runtime.metrics.registry.metrics();
    const value = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, "gm"))].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(value(METRIC.rateLimitStoreErrorsTotal)).toBeGreaterThanOrEqual(calls);
    expect(value(METRIC.cacheErrorsTotal)).toBeGreaterThanOrEqual(calls);

    await server.start();
    expect(await runtime.ready(10_000)).toBe(true);
    const deadline = Date.now() + 10_000;
    while (lines.filter((l) => l.includes("recovered")).length < 2 && Date.now() < deadline) {
      await runtime.limiter.consume("client");
      await runtime.cache.get("after");
      await new Promise((r) => setTimeout(r, 50));
    }
    const ends = lines.filter((l) => l.includes("recovered"));
    expect(ends.filter((l) => l.startsWith("rate limiter"))).toHaveLength(1);
    expect(ends.filter((l) => l.startsWith("cache"))).toHaveLength(1);
    expect(ends.find((l) => l.startsWith("rate limiter"))).toMatch(/(\d+) calls failed open/);
  } finally {
    await runtime.close();
    await server.stop();
  }
});

test("EpisodeLog: one line per episode; the next failure after recovery (or a quiet period) opens a new one", () => {
  let now = 0;
  const lines: string[] = [];
  const log = new EpisodeLog(
    "x",
    (l) => lines.push(l),
    "m_total",
    1_000,
    () => now,
  );
  for (let i = 0; i < 5; i++) log.failed("how", new Error("down"));
  expect(lines).toEqual(["x: degraded (how): down; each call counted on m_total"]);
  now = 250;
  log.recovered();
  expect(lines[1]).toBe("x: recovered (it answers again) after 250 ms; 5 calls failed open");
  log.recovered();
  expect(lines).toHaveLength(2);
  log.failed("how");
  expect(lines).toHaveLength(3);
  log.stop();
});
