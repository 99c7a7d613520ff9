/**
 * A refused value gets a message that helps (issue #22; the project's rule "bad input gets a clear error"):
 * it names the key and the value as written, and the example it suggests as the fix is itself accepted by
 * the same check. The examples are read out of the messages, so a message that lost its example fails too.
 */
import { CacheOptionsError, CloudFrontPurger, defaultCdnPaths } from "../../src/cache";
import { patternToPath } from "../../src/cache/cdn";

/** The error `run` throws (it must throw a CacheOptionsError). */
function refusal(run: () => unknown): CacheOptionsError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(CacheOptionsError);
    return e as CacheOptionsError;
  }
  throw new Error("expected a refusal");
}

/** The example a message suggests: the quoted or bare token after "such as" / "e.g.". */
function suggested(message: string): string {
  const m = /(?:such as|e\.g\.) ("[^"]*"|\S+?)(?=[),;]|\s|$)/.exec(message);
  if (!m) throw new Error(`no example in: ${message}`);
  return m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
}

describe("refusal messages name the value and suggest an example that is accepted", () => {
  it.each([
    ["patternToPath", "pattern", 42, (v: unknown) => patternToPath(v as string)],
    ["defaultCdnPaths", "pathPrefix", "items/", (v: unknown) => defaultCdnPaths(v as string)],
    [
      "CloudFrontPurger",
      "distributionId",
      "E-1!",
      (v: unknown) =>
        new CloudFrontPurger({ distributionId: v as string, client: { send: async () => ({}), destroy: () => undefined } }),
    ],
  ] as [string, string, unknown, (v: unknown) => unknown][])("%s: %s", (where, key, bad, run) => {
    const error = refusal(() => run(bad));
    expect(error.key).toBe(key);
    expect(error.message).toContain(`${where}: ${key}`);
    expect(error.message).toContain(typeof bad === "string" ? JSON.stringify(bad) : String(bad));
    const example = suggested(error.message);
    expect(() => run(example)).not.toThrow();
  });
});
