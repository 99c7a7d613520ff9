/**
 * CacheManager's options on both sides of every bound (issue #22): each bad value refused by its key, the
 * lowest good value accepted, the seed's top-level shape moved under `config`, and the defaults a caller
 * gets when an option is left out. Pure: parseCacheOptions / normalizeCacheOptions, no Redis.
 */
import { getHeapStatistics } from "node:v8";
import { CacheOptionsError } from "../../src/cache/errors";
import { DEFAULT_CACHE_KEY_PREFIX, normalizeCacheOptions, parseCacheOptions } from "../../src/cache/options";
import { MAX_TIMER_MS } from "../../src/options";

const parse = (options: unknown) => parseCacheOptions(normalizeCacheOptions(options) as never);

/** The keys of every problem a bad input reported (the error names the first; `problems` carries them all). */
function refusedKeys(options: unknown): string[] {
  try {
    parse(options);
  } catch (error) {
    expect(error).toBeInstanceOf(CacheOptionsError);
    const problems = (error as { problems?: { key: string }[] }).problems;
    return problems ? problems.map((p) => p.key) : [(error as CacheOptionsError).key];
  }
  return [];
}

describe("CacheManager options: both sides of each bound", () => {
  it.each([
    // [key, refused value, accepted value]
    ["jitter", -0.01, 0],
    ["jitter", 1, 0.999],
    ["maxKeyLength", 0, 1],
    ["maxKeyLength", 1_000_001, 1_000_000],
    ["scanCount", 0, 1],
    ["scanCount", 1_000_001, 1_000_000],
    ["invalidateCommandTimeoutMs", 0, 1],
    ["invalidateCommandTimeoutMs", MAX_TIMER_MS + 1, MAX_TIMER_MS],
    ["busHeartbeatMs", -1, 0],
    ["staleIfErrorMs", -1, 0],
    ["instanceId", "", "a"],
    ["bus", "yes", false],
    ["exactBackfillTtl", 1, true],
    ["maxBytes", 0, 1],
    ["onEvent", "log", () => undefined],
    ["password", 5, "secret"],
  ] as [string, unknown, unknown][])("%s: %j refused, %j accepted", (key, bad, good) => {
    expect(refusedKeys({ [key]: bad })).toEqual([key]);
    expect(refusedKeys({ [key]: good })).toEqual([]);
  });

  it.each([
    ["redis://cache:6379", true],
    ["rediss://cache:6380", true],
    ["REDIS://cache", true],
    ["redis://", true],
    ["http://cache:6379", false],
    ["xredis://cache", false],
    ["redis://ca che", false],
    ["redis://cache\n", false],
    ["redis://[::1", false],
  ])("url %j accepted: %s", (url, accepted) => {
    expect(refusedKeys({ url })).toEqual(accepted ? [] : ["url"]);
  });

  it("an injected client needs get(); a serializer needs both serialize and deserialize", () => {
    expect(refusedKeys({ client: {} })).toEqual(["client"]);
    expect(refusedKeys({ serializer: { serialize: String } })).toEqual(["serializer"]);
    expect(refusedKeys({ serializer: { deserialize: String } })).toEqual(["serializer"]);
    expect(refusedKeys({ serializer: { serialize: String, deserialize: String } })).toEqual([]);
  });

  it("the TTLs and the command timeout are durations a timer can wait (1 ms to MAX_TIMER_MS)", () => {
    for (const key of ["memory.ttl", "redis.ttl", "redis.commandTimeoutMs"]) {
      const [tier, field] = key.split(".");
      expect(refusedKeys({ config: { [tier]: { [field]: MAX_TIMER_MS + 1 } } })).toEqual([`config.${key}`]);
      expect(refusedKeys({ config: { [tier]: { [field]: MAX_TIMER_MS } } })).toEqual([]);
    }
  });

  it("memory.maxSize must fit in a quarter of the heap at 64 bytes an entry (computed from V8's limit here)", () => {
    const heap = getHeapStatistics().heap_size_limit;
    // Far over and far under the cap, whichever of V8's limit or --max-old-space-size it uses.
    expect(refusedKeys({ config: { memory: { maxSize: Math.ceil(heap / 64) } } })).toEqual(["config.memory.maxSize"]);
    expect(refusedKeys({ config: { memory: { maxSize: Math.floor(heap / 64 / 100) } } })).toEqual([]);
  });

  it("names every bad key at once, with the hint for an option that belongs elsewhere", () => {
    expect(refusedKeys({ jitter: 2, scanCount: 0, cdnPaths: () => [], config: { redis: { port: 0 } } }).sort()).toEqual(
      ["cdnPaths", "config.redis.port", "jitter", "scanCount"].sort(),
    );
    expect(() => parse({ keyPrefix: "x:" })).toThrow(/config\.redis\.keyPrefix/);
    expect(() => parse({ purger: {} })).toThrow(/CacheInvalidator/);
  });
});

describe("CacheManager options: shapes and defaults", () => {
  it("the seed's top-level { memory, redis, cdn } is read as config; other keys stay options", () => {
    const seed = { memory: { maxSize: 7 }, redis: { keyPrefix: "s:" }, jitter: 0 };
    expect(normalizeCacheOptions(seed)).toEqual({ jitter: 0, config: { memory: { maxSize: 7 }, redis: { keyPrefix: "s:" } } });
    const parsed = parse(seed);
    expect([parsed.settings.memory.maxSize, parsed.keyPrefix, parsed.jitter]).toEqual([7, "s:", 0]);
    expect(normalizeCacheOptions(undefined)).toEqual({});
    expect(normalizeCacheOptions({ jitter: 0 })).toEqual({ jitter: 0 });
  });

  it("a seed key next to config is refused, naming the seed key", () => {
    for (const k of ["memory", "redis", "cdn"]) {
      expect(() => normalizeCacheOptions({ [k]: {}, config: {} })).toThrow(expect.objectContaining({ key: k }));
    }
  });

  it("defaults: prefix uaip:, jitter 0.1, maxKeyLength 1024, bus on", () => {
    expect(parse({})).toMatchObject({
      keyPrefix: DEFAULT_CACHE_KEY_PREFIX,
      jitter: 0.1,
      maxKeyLength: 1_024,
      bus: true,
      maxBytes: undefined,
    });
    expect(DEFAULT_CACHE_KEY_PREFIX).toBe("uaip:");
  });

  it("the bus needs a second connection: on at maxConnections 2, off at 1, and off when asked", () => {
    expect(parse({ config: { redis: { maxConnections: 2 } } }).bus).toBe(true);
    expect(parse({ config: { redis: { maxConnections: 1 } } }).bus).toBe(false);
    expect(parse({ bus: false }).bus).toBe(false);
    expect(parse({ bus: true }).bus).toBe(true);
  });

  it("an injected client with its own keyPrefix is refused (pattern invalidation would miss its keys); without one it is taken", () => {
    const client = (keyPrefix?: string) => ({ get: () => undefined, options: keyPrefix === undefined ? {} : { keyPrefix } });
    expect(() => parse({ client: client("p:") })).toThrow(expect.objectContaining({ key: "client" }));
    expect(refusedKeys({ client: client() })).toEqual([]);
    expect(refusedKeys({ client: client("") })).toEqual([]);
  });
});
