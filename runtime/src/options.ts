/**
 * Strict options: every public constructor and factory checks the keys it was given against the
 * keys it honours, so a misspelt or misplaced option fails at start-up instead of being ignored.
 */

/** Builds the area's typed error (CacheOptionsError, RateLimitOptionsError, ...) for one bad key. */
export type OptionsErrorFactory = (key: string, message: string) => Error;

/**
 * Returns `options` as a record after checking that it is a plain object (or undefined) whose own
 * keys are all in `known`. An unknown key throws `makeError(key, ...)` with the hint for that key, if
 * any, else the list of known keys. `__proto__` is refused both as an own key (JSON.parse) and as a
 * literal that replaced the prototype (`{ __proto__: {...} }`), so nothing reaches the options unseen.
 */
export function checkOptions(
  where: string,
  options: unknown,
  known: readonly string[],
  makeError: OptionsErrorFactory,
  hints: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw makeError(
      "options",
      `${where} expects an options object, got ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options}`,
    );
  }
  const proto = Object.getPrototypeOf(options) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw makeError(
      "__proto__",
      `${where}: unknown option "__proto__"; pass a plain object literal (its prototype is ignored, so options set through it would be lost)`,
    );
  }
  for (const key of Object.getOwnPropertyNames(options)) {
    if (known.includes(key)) continue;
    const hint = hints[key] ?? `known options are ${known.join(", ")}`;
    throw makeError(key, `${where}: unknown option "${key}"; ${hint}`);
  }
  return options as Record<string, unknown>;
}
