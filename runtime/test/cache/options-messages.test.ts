/**
 * CacheManager's refusals say what is wrong and how to fix it (issue #22; "bad input gets a clear error"):
 * each message starts with where and the key, and carries the reason or the option's right home. Pure:
 * normalizeCacheOptions / parseCacheOptions, no Redis.
 */
import { CacheOptionsError } from "../../src/cache/errors";
import { normalizeCacheOptions, parseCacheOptions } from "../../src/cache/options";

const parse = (options: unknown) => parseCacheOptions(normalizeCacheOptions(options) as never);

function refusal(options: unknown): CacheOptionsError {
  try {
    parse(options);
  } catch (e) {
    expect(e).toBeInstanceOf(CacheOptionsError);
    return e as CacheOptionsError;
  }
  throw new Error("expected a refusal");
}

describe("CacheManager refusal messages", () => {
  it.each([
    [{ url: "redis://[::1" }, "url", /not a parseable URL/],
    [{ url: "http://cache" }, "url", /a redis:\/\/ or rediss:\/\/ URL/],
    [
      { cdnPaths: () => [] },
      "cdnPaths",
      /CacheInvalidator \/ createRuntime option: new CacheInvalidator\(\{ cache, cdnPaths \}\)/,
    ],
    [{ purger: {} }, "purger", /purger is a CacheInvalidator option/],
    [{ keyPrefix: "x:" }, "keyPrefix", /config\.redis\.keyPrefix/],
    [5, "options", /expected an options object/],
    [
      { memory: { maxSize: 1 }, config: {} },
      "memory",
      /option "memory" given next to "config".*either under "config" or at the top level/,
    ],
  ] as [unknown, string, RegExp][])("%j: names CacheManager, the key %s, and the fix", (options, key, reason) => {
    const error = refusal(options);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(new RegExp(`^CacheManager: (option "${key}"|${key}\\b)`));
    expect(error.message).toMatch(reason);
  });

  it("an injected client that sets keyPrefix is listed with every other bad key, in one error", () => {
    const client = { get: () => undefined, options: { keyPrefix: "p:" } };
    const error = refusal({ client, jitter: 2 });
    const problems = (error as { problems?: { key: string }[] }).problems ?? [];
    expect(problems.map((p) => p.key).sort()).toEqual(["client", "jitter"]);
    expect(error.message).toMatch(/^CacheManager: 2 invalid options: /);
    expect(error.message).toMatch(/client: the injected ioredis client sets keyPrefix; .* use config\.redis\.keyPrefix/);
    expect(refusal({ client }).key).toBe("client");
  });
});
