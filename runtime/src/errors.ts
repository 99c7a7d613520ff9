import { showValue, type OptionProblem } from "./options";

/**
 * Every error the runtime throws on purpose is a UaipError with a stable `code`,
 * so callers can branch on `err.code` instead of parsing messages.
 */
export class UaipError extends Error {
  readonly code: string;
  /** For an options error: every refused option (key and message), when more than one may be wrong. */
  declare readonly problems?: readonly OptionProblem[];

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The text of a thrown value for a message: `Name: message` for an Error, the message of an object that has a
 * string one, the value as written (showValue) for anything else. Never throws: a client or a purger may reject
 * with null, a string, or an object without a prototype, and the message about it must still be written.
 */
export function thrownText(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  const message = typeof value === "object" && value !== null ? (value as { message?: unknown }).message : undefined;
  return typeof message === "string" ? message : showValue(value);
}

/** A runtime setting (environment variable or options object) is missing or malformed. */
export class RuntimeConfigError extends UaipError {
  static readonly CODE = "UAIP_RUNTIME_CONFIG_INVALID";
  /** The environment variable (or option path) that is wrong. */
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(RuntimeConfigError.CODE, message, options);
    this.key = key;
  }
}
