import type { OptionProblem } from "./options";

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
